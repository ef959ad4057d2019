/* mq-mailbox: mailbox. See README.md for the specification.
 *
 *   mailbox recv KEY          print every type-1 text (flush!); on type 2 remove the queue, exit 0
 *   mailbox send KEY TEXT...  send each TEXT as one type-1 message, in order
 *   mailbox end KEY           send one type-2 message
 *   mailbox poll KEY          one non-blocking receive: the text, or "empty"; exit 1 if no queue
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/types.h>

#define MAX_TEXT 256

struct message {
    long mtype;                 /* 1: a text, 2: end */
    char mtext[MAX_TEXT];
};

int main(int argc, char *argv[])
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s recv KEY | send KEY TEXT... | end KEY | poll KEY\n", argv[0]);
        return 2;
    }
    key_t key = (key_t) strtol(argv[2], NULL, 0);   /* decimal or 0x-hex */
    (void) key;
    if (strcmp(argv[1], "recv") == 0) {
        /* TODO: msgget(key, IPC_CREAT | 0600); loop on a blocking msgrcv of any type:
         *       type 1: print the text on its own line and fflush(stdout);
         *       type 2: msgctl(id, IPC_RMID, NULL) and exit 0.  Retry on EINTR. */
    } else if (strcmp(argv[1], "send") == 0) {
        /* TODO: msgget(key, IPC_CREAT | 0600); one blocking msgsnd of type 1 per TEXT, in order */
    } else if (strcmp(argv[1], "end") == 0) {
        /* TODO: msgget(key, IPC_CREAT | 0600); send one type-2 message */
    } else if (strcmp(argv[1], "poll") == 0) {
        /* TODO: msgget(key, 0) (error on stderr, exit 1 if it fails); one msgrcv with IPC_NOWAIT:
         *       print the text, or "empty" when it fails with ENOMSG */
    } else {
        fprintf(stderr, "unknown mode %s\n", argv[1]);
        return 2;
    }
    return 0;
}
