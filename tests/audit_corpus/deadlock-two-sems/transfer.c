/* Bug: two processes take the same two locks in opposite orders, with a pause in between:
 * each holds one and waits for the other (a deadlock). */
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

static int set;

static void lock(int n) { struct sembuf op = {n, -1, SEM_UNDO}; semop(set, &op, 1); }
static void unlock(int n) { struct sembuf op = {n, +1, SEM_UNDO}; semop(set, &op, 1); }

int main(void) {
    set = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
    if (set == -1) { perror("semget"); return 1; }
    unsigned short ones[2] = {1, 1};
    semctl(set, 0, SETALL, ones);
    pid_t pid = fork();
    int first = pid == 0 ? 0 : 1, second = 1 - first;
    lock(first);
    usleep(200000);
    lock(second);
    printf("%s moved the money\n", pid == 0 ? "child" : "parent");
    unlock(second);
    unlock(first);
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    semctl(set, 0, IPC_RMID);
    return 0;
}
