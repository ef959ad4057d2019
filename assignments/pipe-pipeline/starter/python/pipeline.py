"""pipe-pipeline: pipeline CMD1 [ARG...] -- CMD2 [ARG...]. See README.md for the specification."""
import os
import signal
import sys


def main(argv):
    # TODO: split argv at the first "--"; without one, or with an empty side,
    #       print a usage line to stderr and return 2
    # TODO: r, w = os.pipe()  (it raises OSError when it fails: print an error, return 1)
    # TODO: child 1 = os.fork(): in the child, signal.signal(signal.SIGPIPE, signal.SIG_DFL),
    #       os.dup2(w, 1), close r and w, os.execvp(cmd1[0], cmd1)
    # TODO: child 2 the same way, with os.dup2(r, 0)
    # TODO: parent: close r and w, os.waitpid() both children
    # TODO: return CMD2's status (os.WEXITSTATUS), or 128 + os.WTERMSIG if it was killed
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
