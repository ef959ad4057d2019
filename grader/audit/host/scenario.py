"""What to audit: a scenario file (validated, with line numbers in every error) or a single command.

Either way the result is a `Case`: a normalised scenario (plain JSON for the
container, which has no pydantic) plus the local files to stage next to it.
"""
from __future__ import annotations

import re
import signal as signals
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from grader.yamlfile import ConfigError, load_yaml, validate

SOURCE_SUFFIXES = (".c", ".py")
DEFAULT_TIME_LIMIT = 10.0
MAX_TIME_LIMIT = 120.0
PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.-]+):(\d+)\}")
NAME = r"^[A-Za-z0-9_.-]+$"


class After(BaseModel):
    """Start (or signal) once a line of another process's stdout contains `line` (any line if omitted)."""
    model_config = ConfigDict(extra="forbid")
    process: str
    line: str | None = None


def _as_text(v):
    if isinstance(v, bool):
        raise ValueError(f"YAML read this argument as {str(v).lower()}: quote it (\"yes\", \"no\", \"on\", \"off\")")
    if not isinstance(v, (str, int, float)):
        raise ValueError("must be text or a number")
    return str(v)


class ProcessSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, pattern=NAME)
    source: str
    args: list[str] = []
    stdin: str | None = None
    after: After | None = None
    delay: float = Field(0.0, ge=0, le=MAX_TIME_LIMIT)

    @field_validator("args", mode="before")
    @classmethod
    def _args(cls, v):
        if not isinstance(v, list):
            raise ValueError("must be a list of arguments, e.g. [\"10\", \"-v\"]")
        return [_as_text(a) for a in v]


class SignalSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str
    signal: str
    after: After | None = None
    delay: float = Field(0.0, ge=0, le=MAX_TIME_LIMIT)

    @field_validator("signal", mode="before")
    @classmethod
    def _signal(cls, v):
        return signal_name(v)


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
    time_limit: float = Field(DEFAULT_TIME_LIMIT, gt=0, le=MAX_TIME_LIMIT)
    processes: list[ProcessSpec] = Field(min_length=1)
    signals: list[SignalSpec] = []
    files: list[str] = []


def signal_name(v) -> str:
    """'TERM', 'SIGTERM', 'sigterm' or 15 -> 'SIGTERM'."""
    try:
        if isinstance(v, int) and not isinstance(v, bool):
            return signals.Signals(v).name
        if isinstance(v, str):
            name = v.strip().upper()
            name = name if name.startswith("SIG") else "SIG" + name
            return signals.Signals[name].name
    except (KeyError, ValueError):
        pass
    raise ValueError(f"unknown signal {v!r} (use a name such as SIGTERM or SIGUSR1)")


@dataclass
class Case:
    """One thing to audit: the normalised scenario and the files it needs."""
    name: str
    spec: dict
    files: dict[str, Path] = field(default_factory=dict)   # name in the case folder -> local file


def _source_problem(path: Path) -> str | None:
    if path.suffix not in SOURCE_SUFFIXES:
        return f"{path}: not a C or Python source file (expected a name ending in .c or .py)"
    if not path.is_file():
        return f"{path}: file not found"
    return None


def command_case(cmd: str, args: list[str], time_limit: float = DEFAULT_TIME_LIMIT, stdin: str | None = None,
                 extra: list[str] = ()) -> Case:
    """`grade audit [--file F] [--] prog.c ARG...` as a one-process scenario."""
    path = Path(cmd)
    problem = _source_problem(path)
    if problem:
        raise ConfigError([problem])
    files = {path.name: path}
    for f in extra:
        local = Path(f)
        if not local.is_file():
            raise ConfigError([f"{local}: file not found"])
        if local.name in files:
            raise ConfigError([f"{local}: a file called {local.name} is already staged"])
        files[local.name] = local
    if not 0 < time_limit <= MAX_TIME_LIMIT:
        raise ConfigError([f"--time-limit must be between 0 and {MAX_TIME_LIMIT:g} seconds"])
    name = path.stem
    spec = {"name": name, "time_limit": time_limit,
            "processes": [{"name": name, "source": path.name, "args": list(args), "stdin": stdin, "after": None,
                           "delay": 0.0}], "signals": []}
    return Case(name, spec, files)


def load_scenario(path: Path) -> Case:
    """Validate a scenario file; every problem comes back as `FILE:LINE: ...` in a ConfigError."""
    path = Path(path)
    model = validate(path, Scenario)
    _, index = load_yaml(path)
    problems: list[str] = []

    def bad(loc: tuple, message: str) -> None:
        line = index.nearest(loc)
        problems.append(f"{path}:{line}: {message}" if line else f"{path}: {message}")

    base = path.parent
    files: dict[str, Path] = {}
    names: dict[str, int] = {}
    for i, p in enumerate(model.processes):
        src = base / p.source
        problem = _source_problem(src)
        if problem:
            bad(("processes", i, "source"), f"processes[{i}].source: {problem}")
        elif src.name in files and files[src.name].resolve() != src.resolve():
            bad(("processes", i, "source"), f"processes[{i}].source: two different files are both called {src.name}")
        else:
            files[src.name] = src
        name = p.name or Path(p.source).stem
        if name in names:
            bad(("processes", i), f"processes[{i}]: a second process named {name!r} (give each a distinct name:)")
        names[name] = i
    for i, f in enumerate(model.files):
        local = base / f
        if not local.is_file():
            bad(("files", i), f"files[{i}]: {local}: file not found")
        elif Path(f).name in files:
            bad(("files", i), f"files[{i}]: {Path(f).name} is already staged")
        else:
            files[Path(f).name] = local

    def check_ref(loc: tuple, ref: str, what: str, own: str | None = None) -> None:
        if ref not in names:
            bad(loc, f"{what}: no process named {ref!r} (known: {', '.join(names)})")
        elif ref == own:
            bad(loc, f"{what}: a process cannot wait for its own output")

    for i, p in enumerate(model.processes):
        own = p.name or Path(p.source).stem
        if p.after:
            check_ref(("processes", i, "after", "process"), p.after.process, f"processes[{i}].after.process", own)
        for j, text in [(("args", k), a) for k, a in enumerate(p.args)] + [(("stdin",), p.stdin or "")]:
            for m in PLACEHOLDER.finditer(text):
                check_ref(("processes", i) + j, m.group(1), f"processes[{i}].{j[0]}: placeholder {m.group(0)}", own)
    for i, s in enumerate(model.signals):
        check_ref(("signals", i, "to"), s.to, f"signals[{i}].to")
        if s.after:
            check_ref(("signals", i, "after", "process"), s.after.process, f"signals[{i}].after.process")
    if problems:
        raise ConfigError(problems)

    spec = {"name": path.stem, "time_limit": model.time_limit,
            "processes": [{"name": p.name or Path(p.source).stem, "source": Path(p.source).name, "args": p.args,
                           "stdin": p.stdin, "after": p.after.model_dump() if p.after else None, "delay": p.delay}
                          for p in model.processes],
            "signals": [s.model_dump() for s in model.signals]}
    return Case(path.stem, spec, files)
