/* Bug: parent and child take turns through a shared flag, but both wait for turn 1 first:
 * each spins for ever waiting for the other. */
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    int id = shmget(IPC_PRIVATE, sizeof(int), IPC_CREAT | 0600);
    if (id == -1) { perror("shmget"); return 1; }
    volatile int *turn = shmat(id, NULL, 0);
    shmctl(id, IPC_RMID, NULL);           /* freed when both detach */
    *turn = 0;
    pid_t pid = fork();
    if (pid == 0) {
        while (*turn != 1)                /* should have been 0 */
            ;
        *turn = 0;
        _exit(0);
    }
    while (*turn != 1)
        ;
    *turn = 0;
    waitpid(pid, NULL, 0);
    shmdt((const void *) turn);
    return 0;
}
