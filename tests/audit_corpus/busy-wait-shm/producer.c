/* Clean producer: attaches the consumer's segment, writes the value, raises the flag, detaches. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/shm.h>

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: producer SHMID\n"); return 2; }
    volatile int *p = shmat(atoi(argv[1]), NULL, 0);
    if (p == (void *) -1) { perror("shmat"); return 1; }
    p[1] = 7;
    p[0] = 1;
    shmdt((void *) p);
    return 0;
}
