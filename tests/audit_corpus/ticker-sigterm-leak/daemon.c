/* Bug: a status daemon publishes a counter in shared memory once a second, for ever,
 * and has no SIGTERM handler: `kill` ends it with the segment still in the kernel. */
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

int main(void) {
    int id = shmget(ftok(".", 'T'), sizeof(long), IPC_CREAT | 0600);
    if (id == -1) { perror("shmget"); return 1; }
    long *counter = shmat(id, NULL, 0);
    if (counter == (void *) -1) { perror("shmat"); return 1; }
    for (;;) {
        ++*counter;
        printf("tick %ld\n", *counter);
        fflush(stdout);
        sleep(1);
    }
}
