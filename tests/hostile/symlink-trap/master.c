#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>
int main(int argc, char *argv[]) {
    const char *targets[] = {"/run/ipcgrade", "/run/ipcgrade/traces", "/opt/ipcgrade", "/etc/passwd", "/work/ref"};
    const char *names[] = {"traces", "result.json", "ref", "scratch", "big.bin"};
    for (int i = 0; i < 5; i++) symlink(targets[i], names[i]);
    symlink("/run/ipcgrade/traces", "/tmp/traces");
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
