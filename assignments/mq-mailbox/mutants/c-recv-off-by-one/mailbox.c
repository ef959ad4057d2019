/* mq-mailbox reference: a mailbox on a System V message queue.
 *
 *   mailbox recv KEY          print every type-1 text; on a type-2 message remove the queue, exit 0
 *   mailbox send KEY TEXT...  send each TEXT as one type-1 message (blocking msgsnd)
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

#define MAX_TEXT 256            /* the longest text the spec allows */
#define RECV_SPACE (MAX_TEXT)    /* exactly the longest text */

enum { TYPE_TEXT = 1, TYPE_END = 2 };

struct message {
    long mtype;
    char mtext[RECV_SPACE];
};

static int usage(const char *prog)
{
    fprintf(stderr, "usage: %s recv KEY | send KEY TEXT... | end KEY | poll KEY\n", prog);
    return 2;
}

/* KEY is decimal or 0x-hex. */
static int parse_key(const char *text, key_t *key)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 0);
    if (errno != 0 || end == text || *end != '\0' || value == IPC_PRIVATE)
        return -1;
    *key = (key_t) value;
    return 0;
}

static int do_recv(int qid)
{
    struct message m;
    for (;;) {
        ssize_t n = msgrcv(qid, &m, sizeof m.mtext - 1, 0, 0);   /* keep a byte for the '\0' */
        if (n == -1) {
            if (errno == EINTR)                               /* interrupted: just wait again */
                continue;
            perror("mailbox: msgrcv");
            return 1;
        }
        if (m.mtype == TYPE_END) {
            if (msgctl(qid, IPC_RMID, NULL) == -1) {
                perror("mailbox: msgctl(IPC_RMID)");
                return 1;
            }
            return 0;
        }
        if (m.mtype == TYPE_TEXT) {
            m.mtext[n] = '\0';
            printf("%s\n", m.mtext);
            fflush(stdout);
        }
    }
}

static int send_one(int qid, long type, const char *text, size_t len)
{
    struct message m;
    m.mtype = type;
    memcpy(m.mtext, text, len);
    while (msgsnd(qid, &m, len, 0) == -1) {                   /* blocks while the queue is full */
        if (errno == EINTR)
            continue;
        perror("mailbox: msgsnd");
        return -1;
    }
    return 0;
}

static int do_send(int qid, int count, char **texts)
{
    for (int i = 0; i < count; i++) {
        size_t len = strlen(texts[i]);
        if (len > MAX_TEXT) {
            fprintf(stderr, "mailbox: text %d is longer than %d bytes\n", i + 1, MAX_TEXT);
            return 1;
        }
        if (send_one(qid, TYPE_TEXT, texts[i], len) == -1)
            return 1;
    }
    return 0;
}

static int do_poll(const char *key_text, key_t key)
{
    int qid = msgget(key, 0);
    if (qid == -1) {
        fprintf(stderr, "mailbox: no message queue with key %s: %s\n", key_text, strerror(errno));
        return 1;
    }
    struct message m;
    ssize_t n;
    while ((n = msgrcv(qid, &m, sizeof m.mtext, 0, IPC_NOWAIT)) == -1 && errno == EINTR)
        ;
    if (n == -1) {
        if (errno == ENOMSG) {
            printf("empty\n");
            return 0;
        }
        perror("mailbox: msgrcv");
        return 1;
    }
    if (m.mtype == TYPE_TEXT)
        printf("%.*s\n", (int) n, m.mtext);
    return 0;
}

int main(int argc, char *argv[])
{
    if (argc < 3)
        return usage(argv[0]);
    const char *mode = argv[1];
    key_t key;
    if (parse_key(argv[2], &key) == -1) {
        fprintf(stderr, "mailbox: bad KEY %s (decimal or 0x-hex, not 0)\n", argv[2]);
        return 2;
    }
    if (strcmp(mode, "poll") == 0)
        return argc == 3 ? do_poll(argv[2], key) : usage(argv[0]);

    int is_recv = strcmp(mode, "recv") == 0, is_send = strcmp(mode, "send") == 0, is_end = strcmp(mode, "end") == 0;
    if (!(is_recv || is_send || is_end) || (!is_send && argc != 3))
        return usage(argv[0]);
    int qid = msgget(key, IPC_CREAT | 0600);
    if (qid == -1) {
        perror("mailbox: msgget");
        return 1;
    }
    if (is_recv)
        return do_recv(qid);
    if (is_send)
        return do_send(qid, argc - 3, argv + 3);
    return send_one(qid, TYPE_END, "", 0) == -1 ? 1 : 0;
}
