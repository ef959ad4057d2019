"""ipcgrade probe for pipe-pipeline: reports the pipe fds it was given.

Run as `python3 -S probe.py MODE`: each start is paid inside a check, so the probe skips `site`
and imports hashlib and signal (a third of its start-up) only in `hold`, the mode that uses them.
"""
import os
import sys


def pipe_fds():
    out = []
    for name in sorted(os.listdir("/proc/self/fd"), key=int):
        try:
            target = os.readlink("/proc/self/fd/" + name)
        except OSError:
            continue
        if not target.startswith("pipe:["):
            continue
        flags = 0
        try:
            with open("/proc/self/fdinfo/" + name) as f:
                for line in f:
                    if line.startswith("flags:"):
                        flags = int(line.split()[1], 8)
        except OSError:
            pass
        out.append("%s:%s:%s" % (name, target[6:-1], {0: "r", 1: "w", 2: "rw"}.get(flags & 3, "?")))
    return " ".join(out) or "-"


def main(argv):
    mode = argv[1] if len(argv) > 1 else ""
    if mode == "fds":
        role = argv[2] if len(argv) > 2 else "?"
        print("PROBE %s pid=%d fds=%s" % (role, os.getpid(), pipe_fds()), flush=True)
        if role == "reader":
            line = sys.stdin.buffer.readline()
            print("RELAY " + line.decode(errors="replace").rstrip("\n"), flush=True)
        return 0
    if mode == "hold":
        import signal
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        print("PROBE holding pid=%d fds=%s" % (os.getpid(), pipe_fds()), flush=True)
        signal.sigwait({signal.SIGUSR1})
        import hashlib
        h, n = hashlib.sha256(), 0
        while True:
            chunk = os.read(0, 65536)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
        print("HELD bytes=%d sha256=%s" % (n, h.hexdigest()), flush=True)
        return 0
    return 64


sys.exit(main(sys.argv))
