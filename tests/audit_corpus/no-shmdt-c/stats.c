/* Bug: a worker attaches the statistics segment, updates it and exits without shmdt();
 * the parent detaches and removes it properly. */
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    int id = shmget(IPC_PRIVATE, sizeof(long), IPC_CREAT | 0600);
    if (id == -1) { perror("shmget"); return 1; }
    pid_t pid = fork();
    if (pid == 0) {
        long *hits = shmat(id, NULL, 0);
        if (hits == (void *) -1) { perror("shmat"); _exit(1); }
        *hits += 10;
        _exit(0);                         /* no shmdt(hits) */
    }
    waitpid(pid, NULL, 0);
    long *hits = shmat(id, NULL, 0);
    printf("hits %ld\n", *hits);
    shmdt(hits);
    shmctl(id, IPC_RMID, NULL);
    return 0;
}
