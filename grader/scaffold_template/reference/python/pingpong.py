import os
import sys


def main():
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.write(w, b"ping")
        os._exit(0)
    os.close(w)
    data = os.read(r, 16)
    os.close(r)
    print(f"got {data.decode()}", flush=True)
    os.waitpid(pid, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
