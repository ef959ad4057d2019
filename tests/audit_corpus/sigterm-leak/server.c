/* Bug: no SIGTERM handler, so `kill PID` ends the server before it removes its queue. */
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/msg.h>

struct msg { long mtype; char text[64]; };

int main(void) {
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (q == -1) { perror("msgget"); return 1; }
    printf("ready %d\n", q);
    fflush(stdout);
    struct msg m;
    while (msgrcv(q, &m, sizeof m.text, 0, 0) != -1)
        printf("got a message\n");
    msgctl(q, IPC_RMID, NULL);
    return 0;
}
