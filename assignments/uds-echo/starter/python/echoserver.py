"""uds-echo: echoserver. See README.md for the specification."""
import os
import signal
import socket
import sys


class Shutdown(Exception):
    """Raise this from the signal handler to leave the accept loop."""


def main():
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} PATH", file=sys.stderr)
        return 2
    path = sys.argv[1]
    # TODO: signal.signal(signal.SIGTERM, handler) and the same for SIGINT; the handler raises Shutdown
    # TODO: srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); remove a stale file at path; bind; listen
    # TODO: print("listening", flush=True)
    # TODO: loop: conn, _ = srv.accept(); recv into a buffer, sendall every complete line .upper();
    #       when recv returns b"", close conn and accept the next client
    # TODO: on Shutdown: close srv, os.unlink(path), print("bye", flush=True), return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
