"""Audit rules on pipes: ends never used (the replayed fd history), and readers or writers stuck on a
pipe at the end of the run (the live pipe map)."""
from __future__ import annotations

from grader.audit.container import fds as fd_history
from grader.audit.container.observation import (
    Finding,
    Observation,
    PeerEnd,
    PipeWait,
    _int,
    label,
    run_of,
)
from grader.harness.trace import Syscall

# ------------------------------------------------------------------ pipes

def pipe_ends(obs: Observation, hung: set[int] = frozenset()) -> list[Finding]:
    out = []
    for r in obs.runs:
        hist = fd_history.simulate(r.trace)
        carried = {pipe for _, pipe, _ in hist.used}
        by_pid: dict[int, list[fd_history.HeldEnd]] = {}
        for h in hist.held:
            if h.pipe.id not in carried:
                continue   # nobody ever read or wrote it: no one can wait on it (multiprocessing's sentinel pipes)
            if h.pid in hung and h.killed:
                continue   # held when the audit killed it inside a hang, before it could use it
            by_pid.setdefault(h.pid, []).append(h)
        for pid, ends in by_pid.items():
            who = label(obs, pid)
            parts = []
            for pipe_id in dict.fromkeys(h.pipe.id for h in ends):
                mine = [h for h in ends if h.pipe.id == pipe_id]
                fds = ", ".join(str(fd) for h in mine for fd in h.fds) or "?"
                which = "both ends" if len(mine) == 2 else f"the {mine[0].side} end"
                parts.append(f"{which} (fd {fds}) of pipe #{pipe_id}")
            groups: dict[tuple, list[str]] = {}
            for h in ends:
                groups.setdefault((h.pipe.id, h.got, h.when, h.when_raw.splitlines()[0]), []).append(h.side)
            lines = []
            for (pipe_id, got, when, raw), sides in groups.items():
                lines.append(f"pipe #{pipe_id}, {' and '.join(sides)} end{'s' if len(sides) > 1 else ''}: {got}")
                lines.append(f"  still held {when}: {raw}")
            close_what = " and ".join(f"fd {', '.join(map(str, h.fds))}" for h in ends if h.fds)
            out.append(Finding(
                "pipe-end-unused",
                f"{who} held {' and '.join(parts)} without ever reading or writing through it",
                who,
                [("where it got the ends and when it still held them", "\n".join(lines))] +
                ([("where the pipes were created", "\n".join(f"pipe #{p.id}: {p.raw}" for p in
                                                              {h.pipe.id: h.pipe for h in ends}.values()))]
                 if any(not h.got.startswith("created it") for h in ends) else []),
                f"Close every pipe end a process does not use, right after fork(): here "
                f"close({close_what or 'the unused fd'}). A reader sees end-of-file only when every write "
                "end is closed, and a writer gets SIGPIPE only when every read end is closed, so a forgotten "
                "end can make another process wait forever.", origin=ends[0].pipe.raw))
    return out


def pipe_hangs(obs: Observation) -> list[Finding]:
    out = []
    for w in obs.pipe_waits:
        other = "write" if w.op == "read" else "read"
        others = [p for p in w.other_end if p.pid != w.pid]
        if any(not p.idle for p in others):
            continue   # someone who could still act holds the other end
        if others:
            held = "; ".join(f"{p.who} fd {p.fd}, {p.doing}" for p in others)
            mine = [p for p in w.other_end if p.pid == w.pid]
            cause = (f"the {other} end is held only by idle processes: {held}" +
                     (f"; and by {w.who} itself (fd {', '.join(str(p.fd) for p in mine)})" if mine else ""))
        else:
            mine = ", ".join(str(p.fd) for p in w.other_end) or "?"
            cause = f"the {other} end is held only by {w.who} itself (fd {mine})"
        if w.op == "read":
            effect = "it can never see end-of-file, and no one will write"
        else:
            effect = "the pipe is full and no one will read"
        evidence = []
        if w.call:
            evidence.append((f"the call {w.who} is stuck in", w.call))
        if obs.hang_report:
            evidence.append(("every process when the run was stopped", obs.hang_report))
        culprits = ", ".join(sorted({p.who for p in others} | ({w.who} if not others or
                                                                  any(p.pid == w.pid for p in w.other_end) else set())))
        last = {p.pid: _last_write(obs, p.pid, p.fd) for p in others}
        if w.op == "read" and others and all(last.values()) and not any(p.pid == w.pid for p in w.other_end):
            out.append(_end_kept(w, others, last, evidence))
            continue
        out.append(Finding(
            "pipe-hang",
            f"{w.who} is blocked in {w.op}() on fd {w.fd} (pipe {w.inode}) forever: {cause}, so {effect}",
            w.who, evidence,
            f"Each process must close the pipe ends it does not use, right after fork(), and the parent "
            f"usually closes both. Here {culprits} must close its copy of the {other} end before "
            f"{'waiting' if others else 'reading'}; then the {w.op} returns "
            f"{'0 (end-of-file)' if w.op == 'read' else 'with EPIPE / SIGPIPE'}."))
    return out


def _last_write(obs: Observation, pid: int, fd: int) -> Syscall | None:
    """The last successful write a process made through `fd` (None if it never wrote there)."""
    run = run_of(obs, pid)
    writes = [c for c in (run.trace.calls(pid=pid) if run else []) if c.name in ("write", "writev")
              and _int(c.arg(0)) == fd and not c.failed and c.ret is not None]
    return writes[-1] if writes else None


def _end_kept(w: PipeWait, others: list[PeerEnd], last: dict[int, Syscall | None],
              evidence: list[tuple[str, str]]) -> Finding:
    """A reader waits for end-of-file that never comes: each writer wrote its last data and kept its end."""
    names = ", ".join(p.who for p in others)
    kept = "\n".join(f"{p.who}, fd {p.fd}: last write {last[p.pid].raw}\n  then {p.doing}, still holding it"
                      for p in others)
    return Finding(
        "pipe-end-kept",
        f"{w.who} waits in read() on fd {w.fd} for end-of-file that never comes: {names} wrote its last data "
        f"and kept the write end open while it went on to wait for something else",
        w.who, [("the writers' last writes, and what they did next", kept)] + evidence,
        f"Close the write end as soon as the last write is done: close(fd) right after the writing loop in "
        f"{names}. A reader sees end-of-file only when every write end is closed, and a process that keeps "
        f"its end while it waits (pause, sleep, a long computation) keeps the reader waiting with it.",
        origin=last[others[0].pid].raw)
