"""Parsers for /proc/sysvipc and /proc/PID files, on captured text and on this very process."""
import os
import subprocess
import sys

from grader.harness import procfs

SHM = """       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap
         0          3  1600                    44    24    25      1  2000  2000  2000  2000 1795593912 1795593912 1795593912                  4096                     0
1234567890          4   666                  4096    30    30      0  2000  2000  2000  2000          0          0 1795593912                     0                     0
"""
MSG = """       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime
      4660          0   600          10          2    12     0  2000  2000  2000  2000 1795593912          0 1795593912
"""
SEM = """       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime
         0          1   600          1  2000  2000  2000  2000          0 1795593912
"""


def test_shm_rows_decimal_keys_octal_perms():
    rows = procfs.parse_sysvipc("shm", SHM)
    assert [r.id for r in rows] == [3, 4]
    first, second = rows
    assert first.key == 0 and first.mode == 0o600 and first.marked_for_removal
    assert first.size == 44 and first.cpid == 24 and first.nattch == 1 and first.uid == 2000
    assert second.key == 1234567890 and second.mode == 0o666 and not second.marked_for_removal
    assert "IPC_PRIVATE" in first.describe() and "0x499602d2" in second.describe()


def test_msg_and_sem_rows():
    (q,) = procfs.parse_sysvipc("msg", MSG)
    assert q.key == 4660 and q.qnum == 2 and q.size == 10 and q.mode == 0o600
    (s,) = procfs.parse_sysvipc("sem", SEM)
    assert s.size == 1 and s.id == 1
    assert procfs.parse_sysvipc("shm", "") == []
    assert procfs.sysvipc_table([]) == "(no SysV IPC objects)"


def test_stat_with_spaces_and_parens_in_comm():
    text = "42 (my (odd) prog) S 1 42 42 0 -1 4194560 100 0 0 0 150 25 0 0 20 0 1 0 12345 1000 100 18446744073709551615"
    st = procfs.parse_stat(text)
    assert st.pid == 42 and st.comm == "my (odd) prog" and st.state == "S" and st.ppid == 1
    assert st.utime == 150 and st.stime == 25 and st.starttime == 12345


def test_signal_masks():
    assert procfs.signal_mask("0000000000000002") == {2}             # SIGINT
    assert procfs.signal_mask("0000000000004002") == {2, 15}         # SIGINT, SIGTERM
    assert procfs.signal_mask("0000000000000000") == set()


def test_status_and_live_process():
    st = procfs.parse_status("Name:\tx\nState:\tS (sleeping)\nSigCgt:\t0000000000000002\n")
    assert st["State"].startswith("S") and st["SigCgt"] == "0000000000000002"
    me = procfs.snapshot(os.getpid())
    assert me is not None and me.state in "RS" and me.pid == os.getpid()
    r, w = os.pipe()
    try:
        fds = {f.fd: f for f in procfs.read_fds(os.getpid())}
        assert fds[r].pipe_inode == fds[w].pipe_inode is not None
        assert fds[r].access == "read" and fds[w].access == "write"
    finally:
        os.close(r)
        os.close(w)


def test_vanished_process_reads_as_none():
    assert procfs.read_stat(2 ** 22 + 7) is None
    assert procfs.snapshot(2 ** 22 + 7) is None



def test_cmdline_keeps_arguments_that_are_not_utf8():
    """A student's argv may hold any bytes: one bad byte must not lose the whole command line
    (bench/bare.py finds the process to signal by it)."""
    code = "import sys; print(flush=True); sys.stdin.read()"
    p = subprocess.Popen([sys.executable, "-c", code, b"x\xffy"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        p.stdout.readline()        # it runs (just after exec, the kernel may not have set up argv yet)
        assert procfs.read_cmdline(p.pid) == [sys.executable, "-c", code, "x\ufffdy"]
    finally:
        p.communicate()
    assert procfs.read_cmdline(p.pid) == []
