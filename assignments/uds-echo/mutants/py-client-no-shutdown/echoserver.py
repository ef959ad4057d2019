"""Reference echoserver for uds-echo (Python, socket module)."""
import os
import signal
import socket
import sys


class Shutdown(Exception):
    """Raised by the signal handler; unwinds the server to its cleanup code."""


def on_signal(signum, frame):
    raise Shutdown()


def serve(conn):
    """Serve one client until it closes: every complete line goes back uppercased."""
    buf = b""
    while True:
        data = conn.recv(4096)
        if not data:                       # the client closed its end
            break
        buf += data
        *lines, buf = buf.split(b"\n")     # the last piece is an incomplete line (maybe empty)
        for line in lines:
            conn.sendall(line.upper() + b"\n")
    if buf:                                # a last line without its newline
        conn.sendall(buf.upper() + b"\n")


def main():
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} PATH", file=sys.stderr)
        return 2
    path = sys.argv[1]
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(path)                    # a stale socket file from an earlier run
    except FileNotFoundError:
        pass
    srv.bind(path)
    try:
        srv.listen(8)
        print("listening", flush=True)
        while True:
            conn, _ = srv.accept()
            with conn:                     # closed when the client is done, whatever happened
                try:
                    serve(conn)
                except OSError:            # e.g. the client vanished: BrokenPipeError
                    pass
    except Shutdown:
        pass
    finally:
        srv.close()
        os.unlink(path)
    print("bye", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
