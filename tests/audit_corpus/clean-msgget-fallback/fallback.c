/* Clean: a failed msgget(KEY, 0) is checked, then the queue is created; nothing uses -1. */
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#define KEY 0x7a12
struct msg { long mtype; char text[32]; };

int main(void) {
    int q = msgget(KEY, 0600);
    if (q == -1)
        q = msgget(KEY, IPC_CREAT | 0600);
    if (q == -1) { perror("msgget"); return 1; }
    struct msg m = { 1, "hello" };
    if (msgsnd(q, &m, strlen(m.text), 0) == -1) perror("msgsnd");
    if (msgrcv(q, &m, sizeof m.text, 0, 0) == -1) perror("msgrcv");
    printf("got %s\n", m.text);
    msgctl(q, IPC_RMID, NULL);
    return 0;
}
