/* shm-handshake: slave. See README.md for the specification. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/shm.h>

int main(int argc, char *argv[])
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s N\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[1]);
    (void) n;
    /* TODO: read the shmid from stdin and attach the segment */
    /* TODO: write shm[i] = i*i for i = 1..n, and only then set shm[0] = 1 */
    /* TODO: detach with shmdt */
    return 0;
}
