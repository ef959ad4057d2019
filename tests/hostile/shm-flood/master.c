#include <stdio.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/shm.h>
int main(void) {
    int made = 0;
    for (int i = 0; i < 5000; i++) if (shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600) >= 0) made++;
    for (int i = 0; i < 5000; i++) msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    int huge = shmget(IPC_PRIVATE, 1UL << 34, IPC_CREAT | 0600);
    fprintf(stderr, "made %d segments, huge=%d\n", made, huge);
    return 3;
}
