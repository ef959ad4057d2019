"""System V IPC objects, seen from the harness: keys, the /proc/sysvipc view, the calls that made them.

- keys: a KEY argument as the spec allows it (decimal or 0x-hex), and as /proc
  shows it; `with_key`/`wait_for_key` find an object in /proc/sysvipc (the
  container's own IPC namespace) by kind and key;
- the calls: `calls`/`calls_excerpt` pick a run's SysV calls from its trace,
  `key_arg`/`creat_mode` read the key and the mode bits strace printed for
  msgget/shmget/semget;
- `queue_tool`: the grader's own message-queue tool (create, put, fill a shrunk
  queue, drain), compiled into the image (else once per submission) and run as the student so it owns
  the queues it makes: a check can prepare a queue without trusting the
  student's programs to do it.

Listing what is left (leaks) is `procfs.read_sysvipc`, showing it `procfs.sysvipc_table`.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess

from . import deadlock, procfs, waits
from .api import Fail
from .evidence import stderr as stderr_tail
from .procfs import IpcObject
from .spawn import Run

MSG_CALLS = ("msgget", "msgsnd", "msgrcv", "msgctl")


# ---------------------------------------------------------------- keys

def key_int(text: str) -> int:
    """A KEY argument, decimal or 0x-hex."""
    return int(text, 0)


def key_hex(text: str) -> str:
    """A KEY argument as ipcs and the feedback show it: 0x and eight hex digits."""
    return f"0x{key_int(text) & 0xffffffff:08x}"


def key_arg(text: str) -> int | None:
    """The key strace printed as msgget/shmget/semget's first argument; None for IPC_PRIVATE."""
    try:
        return int(text, 0) & 0xffffffff
    except ValueError:
        return None


_MODE = re.compile(r"(?:^|\|)(0[0-7]*)$")


def creat_mode(flags: str) -> int:
    """The permission bits in a flags argument strace printed, e.g. 0600 from IPC_CREAT|0600 (0 if none)."""
    m = _MODE.search(flags.strip())
    return int(m.group(1), 8) if m else 0


# ---------------------------------------------------------------- /proc/sysvipc

def with_key(kind: str, key: str) -> IpcObject | None:
    """The object of KIND ("msg", "shm", "sem") with KEY, if it exists now."""
    want = key_int(key) & 0xffffffff
    return next((o for o in procfs.read_sysvipc((kind,)) if o.key & 0xffffffff == want), None)


def wait_for_key(kind: str, key: str, run: Run, timeout: float,
                 watch: deadlock.HangWatch | None = None) -> IpcObject | deadlock.Proof | None:
    """Wait until the object of KIND with KEY exists (or RUN ends, or `watch` proves it never will:
    then the Proof, as long as the object still does not exist)."""
    found = waits.until(lambda: with_key(kind, key) or not run.alive() or (watch.proven() if watch else None),
                        timeout, pids=run.tree)
    if isinstance(found, IpcObject):
        return found
    obj = with_key(kind, key)
    return obj if obj is not None or not isinstance(found, deadlock.Proof) else found


# ---------------------------------------------------------------- the calls in a trace

def calls(run: Run, names: tuple[str, ...] = MSG_CALLS):
    return [c for c in run.trace.calls() if c.name in names]


def calls_excerpt(run: Run, names: tuple[str, ...] = MSG_CALLS, limit: int = 12,
                  none: str = "(no message-queue system calls traced)") -> str:
    found = calls(run, names)
    return run.trace.excerpt(found, limit) if found else none


def printed_texts(run: Run) -> list[str]:
    """The message texts a receiver printed, one per line; a trailing '\\0' (the sender counted the
    C string's terminator in the message size) is not held against anyone."""
    return [line.rstrip("\0") for line in run.lines()]


# ---------------------------------------------------------------- the grader's queue tool

# It is C, not Python, so it needs nothing but the compiler the build already uses.
QUEUE_TOOL_SOURCE = r"""
/* The grader's own queue tool (never a student's code): create, put, fill (after shrinking msg_qbytes), drain. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>

struct msg { long mtype; char mtext[8192]; };

static void die(const char *what) { perror(what); exit(1); }

int main(int argc, char *argv[])
{
    if (argc < 3) { fprintf(stderr, "usage: mqtool create|put|fill|drain KEY ...\n"); return 2; }
    key_t key = (key_t) strtol(argv[2], NULL, 0);
    const char *op = argv[1];
    int id = msgget(key, strcmp(op, "drain") == 0 ? 0 : IPC_CREAT | 0600);
    if (id == -1) die("msgget");
    struct msg m;
    if (strcmp(op, "put") == 0 && argc == 5) {              /* put KEY TYPE TEXT */
        size_t len = strlen(argv[4]);
        m.mtype = atol(argv[3]);
        memcpy(m.mtext, argv[4], len);
        if (msgsnd(id, &m, len, IPC_NOWAIT) == -1) die("msgsnd");
    } else if (strcmp(op, "fill") == 0 && argc == 5) {      /* fill KEY QBYTES SIZE */
        struct msqid_ds ds;
        if (msgctl(id, IPC_STAT, &ds) == -1) die("msgctl(IPC_STAT)");
        ds.msg_qbytes = strtoul(argv[3], NULL, 0);
        if (msgctl(id, IPC_SET, &ds) == -1) die("msgctl(IPC_SET)");
        size_t size = strtoul(argv[4], NULL, 0);
        int n = 0;
        for (;;) {
            m.mtype = 1;
            memset(m.mtext, 'x', size);
            int head = snprintf(m.mtext, sizeof m.mtext, "filler-%d-", n + 1);
            m.mtext[head] = 'x';
            if (msgsnd(id, &m, size, IPC_NOWAIT) == -1) {
                if (errno == EAGAIN) break;
                die("msgsnd");
            }
            n++;
        }
        if (msgctl(id, IPC_STAT, &ds) == -1) die("msgctl(IPC_STAT)");
        printf("%d %lu %lu\n", n, (unsigned long) ds.msg_qbytes, (unsigned long) ds.__msg_cbytes);
    } else if (strcmp(op, "drain") == 0 && argc == 4) {     /* drain KEY N: receive N messages, print each */
        for (int i = atoi(argv[3]); i > 0; i--) {
            ssize_t n = msgrcv(id, &m, sizeof m.mtext, 0, 0);
            if (n == -1) { if (errno == EINTR) { i++; continue; } die("msgrcv"); }
            printf("%.*s\n", (int) n, m.mtext);
            fflush(stdout);
        }
    } else if (strcmp(op, "create") != 0) {
        fprintf(stderr, "mqtool: bad arguments\n");
        return 2;
    }
    return 0;
}
"""



QUEUE_TOOL_PREBUILT = "/usr/local/lib/ipcgrade/mqtool"   # compiled when the grading image is built


def build_queue_tool(binary: str) -> str:
    """Compile QUEUE_TOOL_SOURCE into `binary` (mode 0755); its path."""
    src = binary + ".c"
    with open(src, "w") as f:
        f.write(QUEUE_TOOL_SOURCE)
    r = subprocess.run(["gcc", "-O2", "-o", binary, src], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"the grader's queue tool does not build: {r.stdout.decode(errors='replace')[-800:]}")
    os.chmod(binary, 0o755)
    return binary


def queue_tool(ctx) -> str:
    """The grader's queue tool, once per submission in a folder next to it that the student can run but
    not change: a copy of the image's binary, or (local runner, grading platforms) compiled there. The
    copy, not the image's path, is what runs: the benchmark's bare replay finds it with the run."""
    def build() -> str:
        folder = os.path.join(os.path.dirname(os.path.abspath(ctx.workdir)), "mq-grader-tool")
        os.makedirs(folder, mode=0o755, exist_ok=True)
        binary = os.path.join(folder, "mqtool")
        if os.access(QUEUE_TOOL_PREBUILT, os.X_OK):
            shutil.copyfile(QUEUE_TOOL_PREBUILT, binary)
            os.chmod(binary, 0o755)
        else:
            build_queue_tool(binary)
        os.chmod(folder, 0o755)
        return binary
    return ctx.memo("mqtool", build)


def run_queue_tool(ctx, *args: str, seconds: float = 5.0) -> str:
    """Run the grader's queue tool to completion; its failure is a grader bug, never the student's."""
    run = ctx.start([queue_tool(ctx), *args], label="grader's queue tool", trace="%ipc")
    rc = run.wait(seconds)
    if rc != 0:
        run.kill()
        raise RuntimeError(f"grader's queue tool {args} failed ({run.describe_exit()}): {run.stderr[-1500:]}")
    return run.stdout


class FullQueue:
    """A queue the grader's tool shrank to QBYTES (IPC_SET) and filled with texts of SIZE bytes."""

    def __init__(self, ctx, key: str, qbytes: int, size: int, seconds: float = 5.0):
        filled, got_qbytes, cbytes = (int(x) for x in run_queue_tool(ctx, "fill", key, str(qbytes), str(size),
                                                                     seconds=seconds).split())
        self.queue = with_key("msg", key)
        self.fillers = [f"filler-{i}-".ljust(size, "x") for i in range(1, filled + 1)]
        if self.queue is None or got_qbytes != qbytes or cbytes != qbytes or self.queue.size != qbytes:
            raise RuntimeError(f"could not fill the queue: {self.queue and self.queue.describe()}, qbytes {got_qbytes}")
        self.state = (f"{self.queue.describe()}, {self.queue.size} of {got_qbytes} bytes used "
                      "(msg_qbytes set with IPC_SET)")

    def drain(self, ctx, key: str, count: int) -> Run:
        """Start the grader's receiver: it takes COUNT messages, blocking, and prints each text."""
        return ctx.start([queue_tool(ctx), "drain", key, str(count)], label="grader's receiver", trace="%ipc")


# ---------------------------------------------------------------- keys and modes, judged from the trace

def wrong_key_call(get_calls, key: str):
    """The first get call (msgget/shmget/semget) that did not use KEY (IPC_PRIVATE included), or None."""
    want = key_int(key) & 0xffffffff
    return next((c for c in get_calls if key_arg(c.arg(0)) != want), None)


def wrong_mode(obj: IpcObject, get_calls, mode: int) -> str | None:
    """What shows a mode other than MODE: a creating get call's flags, or the object's mode; None if right."""
    wrong = [c for c in get_calls if "IPC_CREAT" in c.arg(1) and creat_mode(c.arg(1)) != mode]
    if obj.mode != mode or wrong:
        return wrong[0].raw if wrong else f"mode {obj.mode:04o}"
    return None


def rmid_calls(run: Run, ctl: str = "msgctl") -> str:
    """The run's IPC_RMID calls (msgctl, shmctl, semctl) as evidence."""
    found = [c for c in run.trace.calls(ctl) if "IPC_RMID" in c.arg(1)]
    return run.trace.excerpt(found) if found else f"(no {ctl}(IPC_RMID) call)"


def failed_run(run: Run, what: str, hint: str, names: tuple[str, ...] = MSG_CALLS) -> Fail:
    """WHAT (a run that should have exited 0) did not: its stderr and SysV calls as evidence."""
    return Fail(f"{what} {run.describe_exit()}", expected="exit status 0", observed=run.describe_exit(),
                evidence=[stderr_tail(run, tail=2000),
                          (f"{run.label}'s message-queue calls", calls_excerpt(run, names))],
                hint=hint)


def expect_created(ctx, kind: str, key: str, run: Run, seconds: float, *, who: str, name: str, noun: str,
                   waiting: str, hint_exit: str, hint_hang: str) -> IpcObject:
    """The object of KIND with KEY once RUN has made it; Fail if RUN exits first or never makes it.
    WHO is the command ("mailbox recv 0x..."), NAME the program's short name ("recv"), NOUN the
    object ("message queue"), WAITING when it should exist ("while recv waits")."""
    obj = wait_for_key(kind, key, run, seconds, waits.hang_watch(ctx, [run]))
    if isinstance(obj, IpcObject):
        return obj
    if not run.alive():
        run.wait(1)
        raise Fail(f"{who} {run.describe_exit()} before creating the {noun.split()[-1]}",
                   expected=f"a {noun} with key {key_hex(key)} {waiting}", observed=run.describe_exit(),
                   evidence=[stderr_tail(run, f"{name}'s stderr", 2000),
                             (f"{name}'s {noun.replace(' ', '-')} calls", calls_excerpt(run))],
                   hint=hint_exit)
    never = obj if isinstance(obj, deadlock.Proof) else None
    raise waits.add_proof(ctx.hang(f"{who} did not create a {noun} with key {key_hex(key)} "
                                   + ("and never will: every process is asleep in a wait that nothing left can end"
                                      if never else f"within {seconds:g} s"), [run], hint=hint_hang), never)


# ---------------------------------------------------------------- blocking SysV calls

# Where the kernel sleeps (wchan, Linux 6.x) in each blocking SysV call: `blocked_in` wants either.
WAIT_POINTS = {"msgrcv": ("do_msgrcv",), "msgsnd": ("do_msgsnd",), "semop": ("do_semtimedop",),
               "semtimedop": ("do_semtimedop",)}


def blocked_in(run: Run, call: str, seconds: float, settle: float, max_cpu_ratio: float | None = None,
               max_wakeups_per_second: float | None = None) -> waits.BlockedIn:
    """Is RUN asleep in the blocking SysV CALL ("msgrcv", "msgsnd", "semop")? See waits.blocked_in;
    pass the limits a spec promises explicitly."""
    return waits.blocked_in(run.pid, seconds, settle=settle, wchans=WAIT_POINTS[call], syscalls=(call,),
                            max_cpu_ratio=max_cpu_ratio, max_wakeups_per_second=max_wakeups_per_second)


def require_blocked(run: Run, call: str, b: waits.BlockedIn, who: str, measured: str,
                    evidence: list[tuple[str, str]] | None = None, *, exited_hint: str, hint: str) -> None:
    """Fail (killing RUN) unless `b`, a blocked_in verdict, shows WHO asleep in the blocking CALL.
    The evidence gets the kernel's figures (labelled `measured`) and RUN's CALL calls, with how
    many used IPC_NOWAIT."""
    if b.ok:
        return
    evidence = evidence or []
    if b.sample.exited:
        run.wait(1)
        raise Fail(f"{who} {run.describe_exit()} instead of waiting in {call}", expected=f"{who} waits in {call}",
                   observed=run.describe_exit(), evidence=[(measured, b.describe()), *evidence,
                                                           stderr_tail(run, f"{who}'s stderr"),
                                                           (f"{who}'s {call} calls", calls_excerpt(run))],
                   hint=exited_hint)
    run.kill()
    calls = run.trace.calls(call)
    nowait = sum("IPC_NOWAIT" in c.raw for c in calls)
    if calls:
        evidence = evidence + [(f"{who}'s {call} calls ({len(calls)} in all, {nowait} with IPC_NOWAIT)",
                                run.trace.excerpt(calls, 6))]
    waits.require_blocked(b, f"{who} is not blocked in {call} while it waits",
                          expected=f"a blocking {call}: state S (sleeping), CPU ratio near 0, no wakeups",
                          measured=measured, evidence=evidence, hint=hint)


def expect_key_and_mode(obj: IpcObject, get_calls, key: str, mode: int, *, call: str, noun: str,
                        evidence: list[tuple[str, str]], hint_key: str, hint_mode: str) -> None:
    """Fail unless every get call (msgget, shmget, semget) used KEY and the object has MODE, also in
    the IPC_CREAT calls' flags. NOUN names the object for the student ("queue", "segment")."""
    wrong = wrong_key_call(get_calls, key)
    if wrong:
        raise Fail(f"{call} was not called with the KEY from the command line",
                   expected=f"{call}({key_hex(key)}, ...) for KEY {key}", observed=wrong.raw, evidence=evidence,
                   hint=hint_key)
    shown = wrong_mode(obj, get_calls, mode)
    if shown:
        raise Fail(f"the {noun}'s permissions are wrong",
                   expected=f"IPC_CREAT | {mode:04o} (only its owner may use it)" if mode == 0o600 else
                   f"IPC_CREAT | {mode:04o}", observed=shown, evidence=evidence, hint=hint_mode)
