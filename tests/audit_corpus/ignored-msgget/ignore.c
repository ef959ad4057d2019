/* Bug: msgget fails (no queue has that key and IPC_CREAT is missing), the -1 is used anyway. */
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>

struct msg { long mtype; char text[32]; };

int main(void) {
    int q = msgget(0x7a11, 0600);       /* missing IPC_CREAT */
    struct msg m = { 1, "hello" };
    msgsnd(q, &m, strlen(m.text), IPC_NOWAIT);
    msgrcv(q, &m, sizeof m.text, 0, IPC_NOWAIT);
    printf("done (q=%d)\n", q);
    return 0;
}
