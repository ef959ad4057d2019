"""Hang diagnosis: what every student process was doing when the grader stopped waiting for it.

"Timed out" alone is not feedback. The report shows the process tree, each
process's state, the kernel function it sleeps in (wchan), its current syscall,
its CPU time and which pipe ends it holds.
"""
from __future__ import annotations

from . import pipes, procfs


def student_processes(uid: int | None, roots: list[int] = ()) -> list[procfs.ProcessSnapshot]:
    """Every process of the student uid, plus the given roots and all their descendants."""
    pids = set(procfs.pids_of_uid(uid)) if uid is not None else set()
    parent = {}
    for p in procfs.all_pids():
        st = procfs.read_stat(p)
        if st:
            parent[p] = st.ppid
    wanted = {r for r in roots if r is not None}
    for p in parent:
        q = p
        while q in parent and q not in wanted and q > 1:
            q = parent[q]
        if q in wanted:
            pids.add(p)
    return [s for s in (procfs.snapshot(p) for p in sorted(pids | wanted)) if s is not None]


def _what(s: procfs.ProcessSnapshot) -> str:
    if s.state == "Z":
        return "a zombie: it has exited but its parent never waited for it"
    parts = [s.state_name]
    if s.state == "R":
        parts.append("using the CPU (busy, not waiting)")
    elif s.wchan or s.syscall:
        where = s.wchan or "?"
        call = f" during {s.syscall}()" if s.syscall and not s.syscall.startswith(("running", "(")) else ""
        parts.append(f"waiting in the kernel at {where}{call}")
    parts.append(f"CPU used {s.cpu_seconds:.2f} s")
    return ", ".join(parts)


def hang_report(uid: int | None, roots: list[int] = (), labels: dict[int, str] | None = None) -> str:
    """A readable snapshot of all student processes; call it *before* killing them."""
    snaps = student_processes(uid, roots)
    if not snaps:
        return "No student process was alive."
    labels = dict(labels or {})
    for s in snaps:
        labels.setdefault(s.pid, f"pid {s.pid} ({s.comm})")
    by_pid = {s.pid: s for s in snaps}
    kids: dict[int, list[int]] = {}
    tops = []
    for s in snaps:
        if s.ppid in by_pid:
            kids.setdefault(s.ppid, []).append(s.pid)
        else:
            tops.append(s.pid)
    pmap = pipes.pipe_map([s.pid for s in snaps], labels)
    lines = ["Process tree when the grader stopped waiting:"]

    def show(pid: int, depth: int):
        s = by_pid[pid]
        cmd = " ".join(s.cmdline) or s.comm
        lines.append(f"{'  ' * depth}- {labels[pid]}: {cmd}")
        lines.append(f"{'  ' * depth}    {_what(s)}")
        for fd in s.fds:
            if fd.pipe_inode is not None:
                others = [e for e in pmap.get(fd.pipe_inode, []) if e.pid != pid or e.fd != fd.fd]
                other = ("; ".join(f"{e.who} holds the {e.access} end (fd {e.fd})" for e in others)
                         or "no one else holds it")
                lines.append(f"{'  ' * depth}    fd {fd.fd}: {fd.access} end of pipe {fd.pipe_inode} ({other})")
        for k in kids.get(pid, []):
            show(k, depth + 1)

    for t in tops:
        show(t, 0)
    return "\n".join(lines)
