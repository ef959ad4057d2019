/* Clean: a segment shared with a forked child, detached and removed; the child is reaped. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    int id = shmget(IPC_PRIVATE, sizeof(int), IPC_CREAT | 0600);
    if (id == -1) { perror("shmget"); return 1; }
    volatile int *p = shmat(id, NULL, 0);
    if (p == (void *) -1) { perror("shmat"); shmctl(id, IPC_RMID, NULL); return 1; }
    *p = 0;
    pid_t child = fork();
    if (child == -1) { perror("fork"); return 1; }
    if (child == 0) {
        *p = 42;
        shmdt((void *) p);
        _exit(0);
    }
    if (waitpid(child, NULL, 0) == -1) { perror("waitpid"); return 1; }
    printf("got %d\n", *p);
    shmdt((void *) p);
    shmctl(id, IPC_RMID, NULL);
    return 0;
}
