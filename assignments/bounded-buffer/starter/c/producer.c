/* bounded-buffer: producer NAME N CONSUMERS. See README.md for the specification. */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SLOTS 8

struct ring { int32_t in, out, slot[SLOTS]; };   /* exactly 40 bytes */

int main(int argc, char *argv[])
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s NAME N CONSUMERS\n", argv[0]);
        return 2;
    }
    /* TODO: check NAME, N and CONSUMERS (exit 2 with a usage line) */
    /* TODO: install SIGINT/SIGTERM handlers (sigaction, no SA_RESTART) */
    /* TODO: shm_open("/NAME", O_RDWR | O_CREAT | O_EXCL, 0600), ftruncate to 40 bytes, mmap */
    /* TODO: sem_open("/NAME-empty", O_CREAT | O_EXCL, 0600, 8), -full (0), -mutex (1) */
    /* TODO: in = out = 0; print "ready" and flush */
    /* TODO: put 1..N, then CONSUMERS zeros: sem_wait(empty); sem_wait(mutex); slot[in] = v;
             in = (in + 1) % 8; sem_post(mutex); sem_post(full) */
    /* TODO: 8 x sem_wait(empty), then munmap, shm_unlink, sem_close + sem_unlink, print "done" */
    return 0;
}
