"""uds-echo: echoclient. See README.md for the specification."""
import socket
import sys


def main():
    if len(sys.argv) < 3:
        print(f"usage: {sys.argv[0]} PATH TEXT...", file=sys.stderr)
        return 2
    path, texts = sys.argv[1], sys.argv[2:]
    # TODO: sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); sock.connect(path)
    #       (on OSError: print a message to sys.stderr and return 1)
    # TODO: for each text: sendall(text + "\n"), recv until one whole reply line, print it
    # TODO: close the socket, return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
