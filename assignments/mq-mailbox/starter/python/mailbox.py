"""mq-mailbox: mailbox. See README.md for the specification.

    mailbox recv KEY          print every type-1 text (flush!); on type 2 remove the queue, exit 0
    mailbox send KEY TEXT...  send each TEXT as one type-1 message, in order
    mailbox end KEY           send one type-2 message
    mailbox poll KEY          one non-blocking receive: the text, or "empty"; exit 1 if no queue
"""
import sys

import sysv_ipc


def main(argv):
    if len(argv) < 3:
        print("usage: mailbox recv KEY | send KEY TEXT... | end KEY | poll KEY", file=sys.stderr)
        return 2
    mode, key = argv[1], int(argv[2], 0)         # decimal or 0x-hex
    if mode == "recv":
        # TODO: sysv_ipc.MessageQueue(key, sysv_ipc.IPC_CREAT, mode=0o600); loop on queue.receive()
        #       (blocking, any type): type 1: print(text, flush=True); type 2: queue.remove(), return 0.
        #       An interrupted receive raises a plain sysv_ipc.Error: try again.
        pass
    elif mode == "send":
        # TODO: one queue.send(text, type=1) per TEXT in argv[3:], in order
        pass
    elif mode == "end":
        # TODO: send one type-2 message
        pass
    elif mode == "poll":
        # TODO: sysv_ipc.MessageQueue(key) (ExistentialError: message on stderr, return 1);
        #       queue.receive(block=False): print the text, or "empty" on sysv_ipc.BusyError
        pass
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
