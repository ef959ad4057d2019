"""sockets.peers(): the kernel's view of who is connected to whom (sock_diag), used to prove deadlocks."""
import os
import socket

import pytest

from grader.harness import sockets, sysv


def _ino(s: socket.socket) -> int:
    return os.fstat(s.fileno()).st_ino


def test_peers_pairs_the_two_ends_and_counts_unread_bytes_and_shutdown():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with a, b:
        a.sendall(b"hello\n")
        a.shutdown(socket.SHUT_WR)
        ends = sockets.peers()
        if not ends:
            pytest.skip("no sock_diag netlink here")
        ea, eb = ends[_ino(a)], ends[_ino(b)]
        assert (ea.peer, eb.peer) == (_ino(b), _ino(a))
        assert (ea.unread, eb.unread) == (0, 6)
        assert ea.sending_shut and not eb.sending_shut


def test_sysv_reads_keys_and_modes_as_strace_prints_them():
    assert sysv.creat_mode("IPC_CREAT|0600") == 0o600
    assert sysv.creat_mode("IPC_CREAT|IPC_EXCL|0666") == 0o666
    assert sysv.creat_mode("0") == 0
    assert sysv.key_arg("0x4d420001") == 0x4d420001
    assert sysv.key_arg("IPC_PRIVATE") is None
    assert sysv.key_hex("1296171010") == "0x4d420002"
