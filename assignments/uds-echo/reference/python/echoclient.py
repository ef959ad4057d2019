"""Reference echoclient for uds-echo (Python, socket module)."""
import socket
import sys


def main():
    if len(sys.argv) < 3:
        print(f"usage: {sys.argv[0]} PATH TEXT...", file=sys.stderr)
        return 2
    path, texts = sys.argv[1], sys.argv[2:]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as e:
        print(f"echoclient: cannot connect to {path}: {e.strerror}", file=sys.stderr)
        return 1
    with sock:
        buf = b""
        for text in texts:
            sock.sendall(text.encode() + b"\n")
            while b"\n" not in buf:        # read until one whole reply line
                data = sock.recv(4096)
                if not data:
                    print("echoclient: the server closed the connection", file=sys.stderr)
                    return 1
                buf += data
            line, buf = buf.split(b"\n", 1)
            sys.stdout.buffer.write(line + b"\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
