#include <pthread.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>
static void *spin(void *arg) { volatile unsigned long x = 0; for (;;) x++; return arg; }
int main(void) {
    pthread_t t;
    for (int i = 0; i < 4; i++) pthread_create(&t, NULL, spin, NULL);
    int shmid = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    shmat(shmid, NULL, 0);
    printf("%d\n", shmid); fflush(stdout);
    for (;;) pause();
}
