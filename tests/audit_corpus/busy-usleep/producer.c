#include <stdio.h>
#include <sys/ipc.h>
#include <sys/msg.h>

struct msg { long mtype; int value; };

int main(void) {
    int q = msgget(ftok(".", 'Q'), 0600);
    if (q == -1) { perror("msgget"); return 1; }
    struct msg m = {1, 7};
    msgsnd(q, &m, sizeof m.value, 0);
    return 0;
}
