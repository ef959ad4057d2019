"""Audit rules on what outlives the run: SysV and POSIX objects, Unix socket files, and segments
never detached (the kernel state after the end, and the calls that made them)."""
from __future__ import annotations

import re

from grader.audit.container.observation import (
    Finding,
    Observation,
    PosixObject,
    ProcessRun,
    _excerpt,
    _got_sigterm,
    _int,
    label,
)
from grader.harness.trace import Syscall

# ------------------------------------------------------------------ leaks

GETTER = {"shm": "shmget", "msg": "msgget", "sem": "semget"}
LEAK_KIND = {"shm": "shm-leak", "msg": "msg-leak", "sem": "sem-leak"}
REMOVE_HINT = {
    "shm": "Remove the segment when you are done: shmctl(id, IPC_RMID, NULL) (Python: shm.remove()). "
           "It is safe to do this while it is still attached: the kernel frees it at the last detach.",
    "msg": "Remove the queue when you are done: msgctl(id, IPC_RMID, NULL) (Python: mq.remove()).",
    "sem": "Remove the semaphore set when you are done: semctl(id, 0, IPC_RMID) (Python: sem.remove()).",
}


def creating_call(obs: Observation, kind: str, ident: int) -> tuple[ProcessRun, Syscall] | None:
    """The get call that returned this id, preferring one with IPC_CREAT / IPC_PRIVATE."""
    found = []
    for r in obs.runs:
        for c in r.trace.calls(GETTER[kind]):
            if not c.failed and c.ret == ident:
                found.append((r, c))
    creating = [f for f in found if "IPC_CREAT" in " ".join(f[1].args) or f[1].arg(0) == "IPC_PRIVATE"]
    pick = creating or found
    return min(pick, key=lambda f: f[1].time) if pick else None


def _sigterm_evidence(obs: Observation, run: ProcessRun) -> list[tuple[str, str]]:
    ev = []
    sig = _got_sigterm(obs, run)
    why = obs.sigterm.get(run.name)
    if why:
        ev.append(("why SIGTERM was sent", why))
    if sig:
        ev.append((f"the SIGTERM reaching {run.name}", sig.raw))
    ev.append((f"how {run.name} ended", run.exit or "unknown"))
    return ev


def _sigterm_hint(run: ProcessRun) -> str:
    if run.exit == "killed by SIGTERM":
        how = (f"{run.name} had no SIGTERM handler, so the default action killed it before any cleanup ran. ")
    else:
        how = f"{run.name} caught SIGTERM (or ignored it) but did not remove what it had created. "
    return (how + "Install a SIGTERM handler (sigaction; Python: signal.signal) that sets a volatile "
            "sig_atomic_t flag. The blocking call the program sits in (pause, msgrcv, semop, read) then returns "
            "-1 with errno EINTR: see the flag, remove what you created (shmctl/msgctl/semctl IPC_RMID, "
            "shm_unlink, mq_unlink) and exit.")


def sysv_leaks(obs: Observation, hung: set[int] = frozenset()) -> list[Finding]:
    out = []
    for obj in obs.leftovers:
        made = creating_call(obs, obj.kind, obj.id)
        run, call = made if made else (None, None)
        creator = obj.cpid if obj.kind == "shm" and obj.cpid else (call.pid if call else None)
        if creator in hung:
            continue   # it hung before it could remove it: the hang is the bug, reported on its own
        who = label(obs, creator) if creator else "an unknown process"
        evidence = [(f"left in /proc/sysvipc/{obj.kind} after every process had ended", obj.describe()),
                    ("the creating call" + (f" (by {who})" if call else ""), call.raw if call else
                     "(not in the trace: it was not created by a program of this run)")]
        removes = [c.raw for r in obs.runs for c in r.trace.calls(f"{obj.kind}ctl")
                   if _int(c.arg(0)) == obj.id and "IPC_RMID" in c.arg(1)]
        if removes:
            evidence.append(("attempts to remove it", _excerpt(removes)))
        if run is not None and (_got_sigterm(obs, run) or run.name in obs.sigterm):
            out.append(Finding("sigterm-leak", f"{obj.describe()}, created by {who}, was still there after "
                               f"{run.name} was sent SIGTERM", who,
                               evidence + _sigterm_evidence(obs, run), _sigterm_hint(run),
                               origin=call.raw if call else ""))
            continue
        out.append(Finding(LEAK_KIND[obj.kind], f"{obj.describe()}, created by {who}, outlived every process",
                           who, evidence, REMOVE_HINT[obj.kind] + " `ipcs` lists what is left on your machine; "
                           "`ipcrm` removes it by hand.", origin=call.raw if call else ""))
    return out


def _posix_creator(obs: Observation, obj: PosixObject) -> tuple[ProcessRun, Syscall] | None:
    name = obj.path.rsplit("/", 1)[-1]
    for r in obs.runs:
        for c in r.trace.calls():
            if c.failed:
                continue
            if obj.path.startswith("/dev/mqueue/") and c.name == "mq_open" and c.arg(0) == f'"{name}"' \
                    and "O_CREAT" in c.arg(1):
                return r, c
            if obj.path.startswith("/dev/shm/"):
                if c.name == "openat" and c.arg(1) == f'"{obj.path}"' and "O_CREAT" in c.arg(2):
                    return r, c
                if c.name in ("link", "linkat", "rename", "renameat", "renameat2") and f'"{obj.path}"' in c.args:
                    return r, c
    return None


def posix_leaks(obs: Observation) -> list[Finding]:
    out = []
    for obj in obs.posix_left:
        made = _posix_creator(obs, obj)
        run, call = made if made else (None, None)
        who = label(obs, call.pid) if call else "an unknown process"
        is_mq = obj.path.startswith("/dev/mqueue/")
        name = "/" + obj.path.rsplit("/", 1)[-1]
        what = (f"POSIX message queue {name}" if is_mq else
                f"POSIX semaphore /{name[5:]}" if name.startswith("/sem.")
                else f"POSIX shared-memory object {name}")
        evidence = [("left behind after every process had ended", f"{obj.path}  {obj.detail}".strip()),
                    ("the creating call" + (f" (by {who})" if call else ""),
                     call.raw if call else "(not in the trace)")]
        if run is not None and (_got_sigterm(obs, run) or run.name in obs.sigterm):
            out.append(Finding("sigterm-leak", f"{what}, created by {who}, was still there after {run.name} "
                               "was sent SIGTERM", who, evidence + _sigterm_evidence(obs, run), _sigterm_hint(run),
                               origin=call.raw if call else ""))
            continue
        unlink = ("mq_unlink(name)" if is_mq else "sem_unlink(name)" if name.startswith("/sem.")
                  else "shm_unlink(name)")
        out.append(Finding("posix-leak", f"{what}, created by {who}, outlived every process", who, evidence,
                           f"POSIX objects have kernel persistence: they stay until someone calls {unlink}, "
                           f"even after every process closed them. Call {unlink} once no new process needs "
                           f"to open it (you may do it right after the last open). `ls {obj.path.rsplit('/', 1)[0]}` "
                           "shows what is left.", origin=call.raw if call else ""))
    return out


# ------------------------------------------------------------------ shmdt

def no_shmdt(obs: Observation) -> list[Finding]:
    out = []
    for r in obs.runs:
        if r.language == "python":
            continue   # a sysv_ipc segment lives as long as its object: detaching at exit is the idiom (docs/audit.md)
        exits = r.trace.exits()
        for pid in r.trace.pids():
            ex = exits.get(pid)
            if ex is None or ex.code is None:
                continue   # killed: it never had the chance to detach
            attaches = [c for c in r.trace.calls("shmat", pid) if not c.failed and c.ret is not None]
            detached = {_int(c.arg(0)) for c in r.trace.calls("shmdt", pid) if not c.failed}
            missing = [c for c in attaches if c.ret not in detached]
            if not missing:
                continue
            ids = ", ".join(sorted({c.arg(0) for c in missing}))
            out.append(Finding(
                "no-shmdt", f"{label(obs, pid)} attached segment id {ids} but never detached it with shmdt(); "
                "only its exit detached it", label(obs, pid),
                [("its attaches without a matching shmdt", _excerpt([c.raw for c in missing])),
                 ("how it ended", ex.raw)],
                "Call shmdt(ptr) (Python: shm.detach()) when you are done with the segment, before exiting. "
                "exit() and execve() detach silently, which hides the bug until the program grows a loop "
                "or a long-running server that attaches again and again.", origin=missing[0].raw))
    return out


# ------------------------------------------------------------------ Unix socket files

_SUN_PATH = re.compile(r'sun_path="([^"]+)"')


def sockets_left(obs: Observation) -> list[Finding]:
    out = []
    for path, detail in sorted(obs.sockets_left.items()):
        binds = [(r, c) for r in obs.runs for c in r.trace.calls("bind") if not c.failed
                 and (m := _SUN_PATH.search(c.arg(1))) and m.group(1) == path]
        if not binds:
            continue
        call = binds[-1][1]
        who = label(obs, call.pid)
        out.append(Finding(
            "uds-socket-left", f"{who} bound the Unix socket {path} and nobody removed the file: it is still in "
                               "the file system after every process ended", who,
            [("the bind that created it", call.raw), ("left behind", f"{path}  {detail}".strip())],
            f"unlink(\"{path}\") when the server shuts down (and in its SIGTERM handler). A socket file outlives "
            "its process, and the next bind() to the same path fails with EADDRINUSE. Many servers also "
            "unlink the path just before bind().", origin=call.raw))
    return out
