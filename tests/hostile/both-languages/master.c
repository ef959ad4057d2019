/* Reference master for shm-handshake. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s N\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[1]);
    if (n < 1 || n > 1000) {
        fprintf(stderr, "N must be between 1 and 1000\n");
        return 2;
    }
    int shmid = shmget(IPC_PRIVATE, (n + 1) * sizeof(int), IPC_CREAT | 0600);
    if (shmid == -1) {
        perror("shmget");
        return 1;
    }
    volatile int *shm = shmat(shmid, NULL, 0);
    if (shm == (void *) -1) {
        perror("shmat");
        shmctl(shmid, IPC_RMID, NULL);
        return 1;
    }
    shm[0] = 0;
    printf("%d\n", shmid);
    fflush(stdout);

    while (shm[0] != 1)
        usleep(1000);

    long sum = 0;
    for (int i = 1; i <= n; i++)
        sum += shm[i];
    printf("sum=%ld\n", sum);

    if (shmdt((const void *) shm) == -1)
        perror("shmdt");
    if (shmctl(shmid, IPC_RMID, NULL) == -1) {
        perror("shmctl");
        return 1;
    }
    return 0;
}
