"""pipe-pipeline reference: pipeline CMD1 [ARG...] -- CMD2 [ARG...] runs CMD1 | CMD2."""
import os
import sys


def usage():
    print("usage: pipeline CMD1 [ARG...] -- CMD2 [ARG...]", file=sys.stderr)
    sys.exit(2)


def run_child(cmd, end, target, r, w):
    """In the child: make `end` its fd `target`, drop both pipe fds, run the command."""
    try:
        os.dup2(end, target)
        os.close(r)
        os.close(w)
        os.execvp(cmd[0], cmd)
    except OSError as e:
        print(f"pipeline: {cmd[0]}: {e.strerror}", file=sys.stderr)
    finally:
        os._exit(127)


def main(argv):
    if "--" not in argv:
        usage()
    sep = argv.index("--")
    cmd1, cmd2 = argv[:sep], argv[sep + 1:]
    if not cmd1 or not cmd2:
        usage()
    try:
        r, w = os.pipe()
    except OSError as e:
        print(f"pipeline: pipe: {e.strerror}", file=sys.stderr)
        return 1
    try:
        c1 = os.fork()
    except OSError as e:
        print(f"pipeline: fork: {e.strerror}", file=sys.stderr)
        os.close(r)
        os.close(w)
        return 1
    if c1 == 0:
        run_child(cmd1, w, 1, r, w)
    try:
        c2 = os.fork()
    except OSError as e:
        print(f"pipeline: fork: {e.strerror}", file=sys.stderr)
        os.close(r)
        os.close(w)                  # CMD1 gets SIGPIPE or finishes
        os.waitpid(c1, 0)
        return 1
    if c2 == 0:
        run_child(cmd2, r, 0, r, w)
    os.close(r)
    os.close(w)
    os.waitpid(c1, 0)
    _, status = os.waitpid(c2, 0)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
