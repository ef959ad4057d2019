"""sig-catch reference (Python): handlers for SIGINT and SIGTERM, waiting with signal.pause()."""
import signal
import sys

import sysv_ipc

pending_int = 0      # SIGINTs not yet reported
got_term = False


def on_sigint(signum, frame):
    global pending_int
    pending_int += 1          # only note it; the main loop prints


def on_sigterm(signum, frame):
    global got_term
    got_term = True


def main():
    signal.signal(signal.SIGINT, on_sigint)
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        signal.signal(signal.SIGKILL, on_sigterm)
    except OSError:
        print("cannot catch SIGKILL", flush=True)

    shm = sysv_ipc.SharedMemory(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, mode=0o600, size=4096)
    print(f"ready {shm.id}", flush=True)

    global pending_int
    count = 0
    while True:
        while not pending_int and not got_term:
            pass                      # spin until a handler has run
        while pending_int:
            pending_int -= 1
            count += 1
            print(f"caught SIGINT {count}", flush=True)
        if got_term:
            shm.detach()
            shm.remove()
            print("bye", flush=True)
            return 0


if __name__ == "__main__":
    sys.exit(main())
