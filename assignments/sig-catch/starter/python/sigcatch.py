"""sig-catch: sigcatch. See README.md for the specification."""
import signal
import sys

import sysv_ipc


def on_sigint(signum, frame):
    pass  # TODO: only note that a SIGINT arrived; print in the main loop


def on_sigterm(signum, frame):
    pass  # TODO: only note that SIGTERM arrived


def main():
    # TODO: signal.signal(signal.SIGINT, on_sigint) and the same for SIGTERM
    # TODO: try signal.signal(signal.SIGKILL, ...); it raises OSError: print "cannot catch SIGKILL"
    # TODO: shm = sysv_ipc.SharedMemory(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, mode=0o600, size=4096)
    # TODO: print(f"ready {shm.id}", flush=True)
    # TODO: loop: signal.pause(); print "caught SIGINT K" for each SIGINT (flush=True);
    #       on SIGTERM: shm.detach(), shm.remove(), print "bye", return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
