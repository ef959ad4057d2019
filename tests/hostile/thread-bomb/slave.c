/* Reference slave for shm-handshake. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/shm.h>

int main(int argc, char *argv[])
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s N\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[1]);
    int shmid;
    if (scanf("%d", &shmid) != 1) {
        fprintf(stderr, "slave: no shmid on stdin\n");
        return 1;
    }
    volatile int *shm = shmat(shmid, NULL, 0);
    if (shm == (void *) -1) {
        perror("shmat");
        return 1;
    }
    for (int i = 1; i <= n; i++)
        shm[i] = i * i;
    __sync_synchronize();   /* the data must be visible before the flag */
    shm[0] = 1;
    if (shmdt((const void *) shm) == -1) {
        perror("shmdt");
        return 1;
    }
    return 0;
}
