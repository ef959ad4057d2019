"""The pipe map: which process holds which end of which pipe, from /proc/PID/fd{,info}.

Most pipe bugs are an end left open somewhere. A reader sees EOF only when every
write end is closed, so the map names each holder of every end.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from . import procfs


@dataclass(frozen=True)
class PipeEnd:
    pid: int
    who: str          # e.g. "pid 14 (cat)" or "the grader"
    fd: int
    access: str       # "read", "write" or "?"


def pipe_map(pids: list[int], labels: dict[int, str] | None = None,
             include_grader: bool = True) -> dict[int, list[PipeEnd]]:
    """inode -> every end held by the given processes (and the grader itself)."""
    labels = dict(labels or {})
    pids = list(pids)
    if include_grader and os.getpid() not in pids:
        pids.append(os.getpid())
        labels.setdefault(os.getpid(), "the grader")
    out: dict[int, list[PipeEnd]] = {}
    for pid in pids:
        who = labels.get(pid)
        if who is None:
            st = procfs.read_stat(pid)
            who = f"pid {pid} ({st.comm})" if st else f"pid {pid}"
        for fd in procfs.read_fds(pid):
            if fd.pipe_inode is not None:
                out.setdefault(fd.pipe_inode, []).append(PipeEnd(pid, who, fd.fd, fd.access))
    return out


def holders(pmap: dict[int, list[PipeEnd]], inode: int, access: str) -> list[PipeEnd]:
    return [e for e in pmap.get(inode, []) if e.access in (access, "read/write")]


def describe(pmap: dict[int, list[PipeEnd]]) -> str:
    if not pmap:
        return "(no pipes open)"
    lines = []
    for inode, ends in sorted(pmap.items()):
        readers = ", ".join(f"{e.who} fd {e.fd}" for e in ends if e.access == "read") or "nobody"
        writers = ", ".join(f"{e.who} fd {e.fd}" for e in ends if e.access == "write") or "nobody"
        lines.append(f"pipe {inode}: read end held by {readers}; write end held by {writers}")
    return "\n".join(lines)


def stray_ends(pid: int, allowed_fds: set[int] = frozenset({0, 1, 2})) -> list[procfs.FdInfo]:
    """Pipe fds a process holds beyond the ones it is meant to have."""
    return [fd for fd in procfs.read_fds(pid) if fd.pipe_inode is not None and fd.fd not in allowed_fds]
