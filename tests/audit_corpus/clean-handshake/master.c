/* Clean: creates a segment and a queue, prints the shmid, blocks in msgrcv until slave is done. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/shm.h>

#define KEY 0x0a0d17
struct msg { long mtype; char text[16]; };

int main(void) {
    int q = msgget(KEY, IPC_CREAT | IPC_EXCL | 0600);
    if (q == -1) { perror("msgget"); return 1; }
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    if (id == -1) { perror("shmget"); msgctl(q, IPC_RMID, NULL); return 1; }
    int *p = shmat(id, NULL, 0);
    if (p == (void *) -1) { perror("shmat"); return 1; }
    printf("%d\nready\n", id);
    fflush(stdout);
    struct msg m;
    if (msgrcv(q, &m, sizeof m.text, 1, 0) == -1) perror("msgrcv");
    printf("value=%d\n", p[0]);
    shmdt(p);
    shmctl(id, IPC_RMID, NULL);
    msgctl(q, IPC_RMID, NULL);
    return 0;
}
