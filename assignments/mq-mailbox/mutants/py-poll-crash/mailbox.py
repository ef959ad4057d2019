"""mq-mailbox reference (Python, sysv_ipc): a mailbox on a System V message queue.

    mailbox recv KEY          print every type-1 text; on a type-2 message remove the queue, exit 0
    mailbox send KEY TEXT...  send each TEXT as one type-1 message (blocking msgsnd)
    mailbox end KEY           send one type-2 message
    mailbox poll KEY          one non-blocking receive: the text, or "empty"; exit 1 if no queue
"""
import os
import sys

import sysv_ipc

MAX_TEXT = 256
TYPE_TEXT, TYPE_END = 1, 2
USAGE = "usage: mailbox recv KEY | send KEY TEXT... | end KEY | poll KEY"


def interrupted(error):
    """sysv_ipc reports EINTR as a plain sysv_ipc.Error ("Signaled while waiting"), never retried.

    Every other failure has its own subclass (BusyError, ExistentialError, PermissionsError)."""
    return type(error) is sysv_ipc.Error


def open_queue(key):
    return sysv_ipc.MessageQueue(key, sysv_ipc.IPC_CREAT, mode=0o600)


def write_line(data):
    sys.stdout.buffer.write(data.split(b"\0", 1)[0] + b"\n")
    sys.stdout.buffer.flush()


def recv(queue):
    while True:
        try:
            data, mtype = queue.receive(block=True)      # blocks in msgrcv
        except sysv_ipc.Error as e:
            if interrupted(e):
                continue                                 # EINTR: wait again
            raise
        if mtype == TYPE_END:
            queue.remove()
            return 0
        if mtype == TYPE_TEXT:
            write_line(data)


def send(queue, texts):
    for i, text in enumerate(texts, 1):
        data = os.fsencode(text)
        if len(data) > MAX_TEXT:
            print(f"mailbox: text {i} is longer than {MAX_TEXT} bytes", file=sys.stderr)
            return 1
        send_one(queue, data, TYPE_TEXT)
    return 0


def send_one(queue, data, mtype):
    while True:
        try:
            queue.send(data, block=True, type=mtype)     # blocks while the queue is full
            return
        except sysv_ipc.Error as e:
            if not interrupted(e):
                raise


def poll(key_text, key):
    queue = sysv_ipc.MessageQueue(key)                   # no IPC_CREAT: the queue must exist
    while True:
        try:
            data, mtype = queue.receive(block=False)     # IPC_NOWAIT
            break
        except sysv_ipc.BusyError:                       # ENOMSG
            print("empty", flush=True)
            return 0
        except sysv_ipc.Error as e:
            if not interrupted(e):
                raise
    if mtype == TYPE_TEXT:
        write_line(data)
    return 0


def main(argv):
    if len(argv) < 3 or argv[1] not in ("recv", "send", "end", "poll") or \
            (argv[1] != "send" and len(argv) != 3):
        print(USAGE, file=sys.stderr)
        return 2
    mode, key_text = argv[1], argv[2]
    try:
        key = int(key_text, 0)                           # decimal or 0x-hex
    except ValueError:
        key = 0
    if key == 0:
        print(f"mailbox: bad KEY {key_text} (decimal or 0x-hex, not 0)", file=sys.stderr)
        return 2
    if mode == "poll":
        return poll(key_text, key)
    queue = open_queue(key)
    if mode == "recv":
        return recv(queue)
    if mode == "send":
        return send(queue, argv[3:])
    send_one(queue, b"", TYPE_END)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
