/* Bug: a worker leaves the critical section early on an error path without the V operation,
 * so the parent waits for the mutex for ever. */
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

static int sem;

static void P(void) { struct sembuf op = {0, -1, 0}; semop(sem, &op, 1); }
static void V(void) { struct sembuf op = {0, +1, 0}; semop(sem, &op, 1); }

int main(void) {
    sem = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    if (sem == -1) { perror("semget"); return 1; }
    semctl(sem, 0, SETVAL, 1);
    pid_t pid = fork();
    if (pid == 0) {
        P();
        FILE *f = fopen("/nonexistent/log", "a");
        if (f == NULL) {
            fprintf(stderr, "worker: cannot open the log\n");
            _exit(0);                     /* forgot V() */
        }
        fclose(f);
        V();
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    P();
    printf("parent in the critical section\n");
    V();
    semctl(sem, 0, IPC_RMID);
    return 0;
}
