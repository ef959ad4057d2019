/* bounded-buffer: consumer NAME. See README.md for the specification. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SLOTS 8

struct ring { int32_t in, out, slot[SLOTS]; };   /* exactly 40 bytes */

int main(int argc, char *argv[])
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s NAME\n", argv[0]);
        return 2;
    }
    /* TODO: shm_open("/NAME", O_RDWR, 0) and sem_open each semaphore without O_CREAT (exit 1 if missing) */
    /* TODO: mmap 40 bytes */
    /* TODO: repeat: sem_wait(full); sem_wait(mutex); v = slot[out]; out = (out + 1) % 8;
             sem_post(mutex); sem_post(empty); stop after taking a 0 */
    /* TODO: print count=C sum=S (64-bit sum), flush, munmap, sem_close each semaphore, exit 0 */
    return 0;
}
