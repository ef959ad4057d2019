"""How many times strace stopped a process, counted from its live output file.

Why: under strace every stop is a context switch of the tracee (IPC-FACTS), so
a traced program's switch count overstates how often it woke up. A program
woken once a second by a timer (allowed: the limit is 5 a second) takes six
switches per wake-up under the default trace set, five of them stops: the
signal-delivery stop, the exit of its wait, the entry and exit of
rt_sigreturn, the entry of its next wait. A measurement subtracts the stops
counted here from the switches, leaving the wake-ups.

What is counted: strace writes `name(args` at a call's entry stop and the
result (`) = ...`) at its exit stop, each as soon as the stop happens (the
entry of a call that blocks is on disk while it sleeps); it writes a
`--- SIG...` line at a signal-delivery stop, `+++ ...` at an exit (no stop).
A call split by another process's line is `name(args <unfinished ...>` (its
entry) and later `<... name resumed> ...) = ...` (its exit). Only calls in the
trace set stop the tracee (`--seccomp-bpf`), so a sleep that is not traced
(nanosleep) is a true wake-up and stays one.
"""
from __future__ import annotations

import os
import re

from . import procfs
from .spawn import STRACE

_LINE = re.compile(r"^(?:\[pid\s+)?(?P<pid>\d+)\]?\s+\d\d:\d\d:\d\d(?:\.\d+)?\s+(?P<rest>.*)$", re.S)
_ENTRY = re.compile(r"^(?:[a-z_0-9]+\(|--- SIG)")
_RESULT = re.compile(r"\)\s+=\s+(?:-?\d|0x|\?)")
_TAIL = 4096      # bytes read back at a time to find where the unfinished last line starts


def trace_file_of(pid: int, strace: str = STRACE) -> str | None:
    """The live output file of the strace that traces `pid` (its tracer's `-o` argument), or None
    when it is not traced, or not by the grader's strace binary. The binary is checked, not the
    name: an untraced student program could trace its own child under a process it calls strace,
    with `-o` naming a file it writes, and so choose how many wake-ups are not counted."""
    tracer = (procfs.read_status(pid) or {}).get("TracerPid", "0")
    if tracer in ("", "0"):
        return None
    try:
        if os.path.realpath(os.readlink(f"{procfs.PROC}/{tracer}/exe")) != os.path.realpath(strace):
            return None
        with open(f"{procfs.PROC}/{tracer}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return None
    for flag, value in zip(argv, argv[1:]):
        if flag == b"-o":
            return value.decode(errors="replace")
        if flag == b"--":
            break
    return None


class LiveStops:
    """Stops of the threads `tids` written to strace's file `path` from now on (`count`, after each
    `update`). The line being written now was begun before: its entry stop is not counted."""

    def __init__(self, path: str, tids: set[str]):
        self.path, self.tids = path, tids
        self.count = 0
        try:
            self.offset = os.path.getsize(path)
        except OSError:
            self.offset = 0
        self.partial = self._unfinished_line()   # its entry stop came before the start: never counted

    @classmethod
    def of(cls, pid: int) -> LiveStops | None:
        """A counter for `pid`'s threads, or None when nothing traces it to a file."""
        path = trace_file_of(pid)
        if path is None:
            return None
        try:
            tids = set(os.listdir(f"{procfs.PROC}/{pid}/task"))
        except OSError:
            tids = {str(pid)}
        return cls(path, tids)

    def restart(self) -> None:
        """Count from now on: take in what was written so far without counting it."""
        self.update()
        self.count = 0

    def update(self) -> int:
        """Read what strace wrote since the last call; the stops so far."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                new = f.read()
        except OSError:
            return self.count
        self.offset += len(new)
        pieces = (self.partial + new).split(b"\n")
        for i, piece in enumerate(pieces):
            # A line begun in an earlier read had its entry stop counted then (or before the start).
            continued = i == 0 and bool(self.partial)
            self.count += self._stops(piece, entry=not continued, result=i < len(pieces) - 1)
        self.partial = pieces[-1]
        return self.count

    def _stops(self, line: bytes, *, entry: bool, result: bool) -> int:
        m = _LINE.match(line.decode(errors="replace"))
        if m is None or m.group("pid") not in self.tids:
            return 0
        rest = m.group("rest")
        found = 0
        if entry and _ENTRY.match(rest):
            found += 1
        if result and not rest.startswith("---") and _RESULT.search(rest):
            found += 1
        return found

    def _unfinished_line(self) -> bytes:
        """The bytes after the file's last newline (a line strace has begun, and not ended)."""
        end = self.offset
        tail = b""
        try:
            with open(self.path, "rb") as f:
                while end > 0:
                    start = max(0, end - _TAIL)
                    f.seek(start)
                    tail = f.read(end - start) + tail
                    if b"\n" in tail:
                        return tail.rsplit(b"\n", 1)[1]
                    end = start
        except OSError:
            return b""
        return tail
