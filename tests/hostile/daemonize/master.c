#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>
int main(int argc, char *argv[]) {
    if (fork() == 0) {               /* the escapee: setsid + double fork, then lives forever */
        setsid();
        if (fork() == 0) { close(0); close(1); close(2); for (;;) sleep(1); }
        _exit(0);
    }
    int n = atoi(argv[1]);
    int shmid = shmget(IPC_PRIVATE, (n + 1) * sizeof(int), IPC_CREAT | 0600);
    volatile int *shm = shmat(shmid, NULL, 0);
    shm[0] = 0;
    printf("%d\n", shmid); fflush(stdout);
    while (shm[0] != 1) usleep(1000);
    long sum = 0;
    for (int i = 1; i <= n; i++) sum += shm[i];
    printf("sum=%ld\n", sum);
    shmdt((const void *) shm); shmctl(shmid, IPC_RMID, NULL);
    return 0;
}
