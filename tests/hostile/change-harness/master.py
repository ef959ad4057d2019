"""Try to overwrite the harness, strace and python; report on stderr."""
import glob
import sys

changed = []
for path in glob.glob("/opt/ipcgrade/**", recursive=True) + ["/usr/bin/strace", "/usr/bin/python3.11",
                                                              "/usr/bin/gcc", "/etc/passwd", "/submission/master.py"]:
    try:
        with open(path, "ab") as f:
            f.write(b"# pwned\n")
        changed.append(path)
    except OSError:
        pass
print("nothing-writable" if not changed else "WRITABLE: " + " ".join(changed[:10]), file=sys.stderr)
sys.exit(1)
