"""Parse `strace -f -tt` output into structured syscall events.

strace splits a call that blocks while another process runs into an
`<unfinished ...>` line and a later `<... NAME resumed>` line; they are joined
here so each event is one whole call, timed at its start.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

_PREFIX = re.compile(r"^(?:\[pid\s+)?(?P<pid>\d+)\]?\s+(?P<time>\d\d:\d\d:\d\d(?:\.\d+)?)\s+(?P<rest>.*)$")
_CALL = re.compile(r"^(?P<name>[a-z_0-9]+)\((?P<body>.*)$")
_RESUMED = re.compile(r"^<\.\.\. (?P<name>[a-z_0-9]+) resumed>(?P<body>.*)$")
_RESULT = re.compile(
    r"\)\s+=\s+(?P<ret>-?\d+|0x[0-9a-f]+|\?)(?:<[^>]*>)?"
    r"(?:\s+(?P<errno>E[A-Z0-9]+)\s+\((?P<errmsg>[^)]*)\))?"
    r"(?:\s+\((?P<note>[^)]*)\))?(?:\s+<(?P<dur>[\d.]+)>)?\s*$"
)
_RESULT_MARK = re.compile(r"\)\s+= ")
_SIGNAL = re.compile(r"^--- (?P<sig>SIG[A-Z0-9]+) (?P<info>.*) ---$")
# Any process's exit line in a whole trace (a fixed pattern: one per pid would be compiled each time).
_EXIT_LINE = re.compile(r"^(?:\[pid\s+)?(?P<pid>\d+)\]?\s+\S+\s+\+\+\+ .*$", re.M)
_EXIT = re.compile(r"^\+\+\+ (?:exited with (?P<code>\d+)"
                   r"|killed by (?P<sig>SIG[A-Z0-9]+)(?: \(core dumped\))?) \+\+\+$")


@dataclass
class Syscall:
    """One completed (or interrupted) system call of one process."""
    pid: int
    time: float                # seconds since midnight, from -tt
    name: str
    args_text: str             # the arguments as strace wrote them; `args` splits them
    ret: int | None            # None when the call never returned ("= ?")
    errno: str | None = None   # e.g. "EAGAIN" when the call failed
    raw: str = ""

    @cached_property
    def args(self) -> list[str]:
        """Split on first use: most calls of a trace are only ever looked at by name."""
        return split_args(self.args_text)

    @property
    def failed(self) -> bool:
        return self.errno is not None

    def arg(self, i: int) -> str:
        return self.args[i] if i < len(self.args) else ""


@dataclass
class SignalEvent:
    pid: int
    time: float
    signal: str
    raw: str = ""


@dataclass
class ExitEvent:
    pid: int
    time: float
    code: int | None           # exit status, or None when killed
    signal: str | None         # the killing signal
    raw: str = ""


Event = Syscall | SignalEvent | ExitEvent


@dataclass
class Trace:
    """All events of one traced run, in the order strace reported them."""
    events: list[Event] = field(default_factory=list)
    complete: bool = True      # False when strace itself died or the file was truncated

    def calls(self, name: str | None = None, pid: int | None = None) -> list[Syscall]:
        return [e for e in self.events if isinstance(e, Syscall)
                and (name is None or e.name == name) and (pid is None or e.pid == pid)]

    def signals(self, pid: int | None = None) -> list[SignalEvent]:
        return [e for e in self.events if isinstance(e, SignalEvent) and (pid is None or e.pid == pid)]

    def exits(self) -> dict[int, ExitEvent]:
        return {e.pid: e for e in self.events if isinstance(e, ExitEvent)}

    def pids(self) -> list[int]:
        seen: dict[int, None] = {}
        for e in self.events:
            seen.setdefault(e.pid, None)
        return list(seen)

    def excerpt(self, events: list[Event], limit: int = 12) -> str:
        """The raw lines of some events, shortened for feedback."""
        lines = [e.raw for e in events[:limit]]
        if len(events) > limit:
            lines.append(f"... ({len(events) - limit} more)")
        return "\n".join(lines)


def _seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


# What can change how strace's argument text splits; everything else is copied as it is.
_STRUCTURE = re.compile(r'["\[\]{}(),]')
_IN_QUOTE = re.compile(r'[\\"]')


def split_args(body: str) -> list[str]:
    """Split strace's argument text at top-level commas (not inside [], {}, () or quotes).

    It jumps from one structural character to the next rather than looking at every character:
    a busy program's trace has thousands of lines, and this is most of the time spent reading it."""
    args, depth, start, i, n = [], 0, 0, 0, len(body)
    while (m := _STRUCTURE.search(body, i)) is not None:
        ch, j = m.group(), m.start()
        i = j + 1
        if ch == '"':                   # skip the string; a backslash escapes the next character
            while (q := _IN_QUOTE.search(body, i)) is not None and q.group() == "\\":
                i = q.start() + 2
            i = n if q is None else q.start() + 1
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif depth == 0:                # a top-level comma
            args.append(body[start:j].strip())
            start = i
    tail = body[start:].strip()
    if tail or args:
        args.append(tail)
    return args


def _finish(pid: int, time: float, name: str, text: str, raw: str) -> Syscall:
    """Build a Syscall from `ARGS) = RET ...` text."""
    m = None
    # The result marker is the last ") = " in the line; arguments may contain ") = " inside strings.
    markers = list(_RESULT_MARK.finditer(text))
    idx = markers[-1].start() if markers else -1
    if idx >= 0:
        m = _RESULT.match(text[idx:])
    if m is None:
        body = text.rstrip()
        if body.endswith(")"):
            body = body[:-1]
        return Syscall(pid, time, name, body, None, None, raw)
    ret_text = m.group("ret")
    ret = None if ret_text == "?" else int(ret_text, 0)
    return Syscall(pid, time, name, text[:idx], ret, m.group("errno"), raw)


def exit_of(text: str, pid: int) -> ExitEvent | None:
    """`pid`'s exit in a trace, as parse(text).exits() gives it, reading only the lines that can be
    it: asked on every poll while the tracer finishes writing a long trace."""
    lines = [m.group(0) for m in _EXIT_LINE.finditer(text) if int(m.group("pid")) == pid]
    return parse("\n".join(lines)).exits().get(pid) if lines else None


def parse(text: str) -> Trace:
    """Parse a whole `strace -f -tt -o FILE` output."""
    trace = Trace()
    pending: dict[int, tuple[float, str, str, str]] = {}  # pid -> (time, name, args so far, raw)
    for line in text.splitlines():
        pm = _PREFIX.match(line)
        if not pm:
            continue
        pid, time, rest = int(pm.group("pid")), _seconds(pm.group("time")), pm.group("rest")
        if rest.endswith("<unfinished ...>"):
            cm = _CALL.match(rest)
            if cm:
                body = rest[: -len("<unfinished ...>")].rstrip()
                pending[pid] = (time, cm.group("name"), body[len(cm.group("name")) + 1:], line)
            continue
        rm = _RESUMED.match(rest)
        if rm:
            start, name, head, first_raw = pending.pop(pid, (time, rm.group("name"), "", ""))
            body = rm.group("body")
            joined = (head.rstrip() + " " + body) if head.strip() else body
            trace.events.append(_finish(pid, start, name, joined, (first_raw + "\n" + line).strip()))
            continue
        sm = _SIGNAL.match(rest)
        if sm:
            trace.events.append(SignalEvent(pid, time, sm.group("sig"), line))
            continue
        em = _EXIT.match(rest)
        if em:
            code = em.group("code")
            trace.events.append(ExitEvent(pid, time, int(code) if code is not None else None, em.group("sig"), line))
            continue
        cm = _CALL.match(rest)
        if cm:
            trace.events.append(_finish(pid, time, cm.group("name"), rest[len(cm.group("name")) + 1:], line))
    # Calls still unfinished at the end never returned (the process was killed in them).
    for pid, (time, name, head, raw) in pending.items():
        trace.events.append(Syscall(pid, time, name, head.rstrip(", "), None, None, raw))
    return trace
