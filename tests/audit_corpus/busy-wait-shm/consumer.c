/* Bug: waits for the producer by spinning on a flag in shared memory (no system call at all). */
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/shm.h>

int main(void) {
    int id = shmget(IPC_PRIVATE, 2 * sizeof(int), IPC_CREAT | 0600);
    if (id == -1) { perror("shmget"); return 1; }
    volatile int *p = shmat(id, NULL, 0);
    if (p == (void *) -1) { perror("shmat"); return 1; }
    p[0] = p[1] = 0;
    printf("%d\n", id);
    fflush(stdout);
    while (p[0] == 0)
        ;                               /* busy wait */
    printf("value=%d\n", p[1]);
    shmdt((void *) p);
    shmctl(id, IPC_RMID, NULL);
    return 0;
}
