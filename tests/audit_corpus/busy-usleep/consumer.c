/* Bug: polls the queue with IPC_NOWAIT and a 1 ms nap in between: about 1000 wake-ups a second. */
#include <errno.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>

struct msg { long mtype; int value; };

int main(void) {
    int q = msgget(ftok(".", 'Q'), IPC_CREAT | 0600);
    if (q == -1) { perror("msgget"); return 1; }
    printf("waiting\n");
    fflush(stdout);
    struct msg m;
    while (msgrcv(q, &m, sizeof m.value, 0, IPC_NOWAIT) == -1 && errno == ENOMSG)
        usleep(1000);
    printf("got %d\n", m.value);
    msgctl(q, IPC_RMID, NULL);
    return 0;
}
