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
        for text in texts:
            sock.sendall(text.encode() + b"\n")
        while True:                        # then every reply, until the server closes
            data = sock.recv(4096)
            if not data:
                break
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
