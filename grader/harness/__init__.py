"""The harness runtime: runs inside the grading container, as root with few capabilities.

Stdlib only (plus sysv_ipc where a check needs it), so the image needs nothing
from PyPI. It observes student programs from outside: strace traces, /proc and
/proc/sysvipc. It never imports or executes student code in its own process.
"""
