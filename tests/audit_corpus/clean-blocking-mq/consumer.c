/* Clean: blocks in msgrcv until the message arrives, then removes the queue. */
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#define KEY 0x0c1ea4
struct msg { long mtype; char text[32]; };

int main(void) {
    int q = msgget(KEY, IPC_CREAT | IPC_EXCL | 0600);
    if (q == -1) { perror("msgget"); return 1; }
    puts("ready");
    fflush(stdout);
    struct msg m;
    ssize_t n = msgrcv(q, &m, sizeof m.text, 0, 0);
    if (n == -1) perror("msgrcv");
    else printf("got %.*s\n", (int) n, m.text);
    msgctl(q, IPC_RMID, NULL);
    return 0;
}
