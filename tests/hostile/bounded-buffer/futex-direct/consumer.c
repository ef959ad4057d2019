/* Hostile: a correct consumer that never calls the C library's semaphore functions. It maps the
 * semaphores' files in /dev/shm itself and waits and posts with the futex system call on glibc's
 * sem_t layout, so the recorder (an LD_PRELOAD library) sees nothing at all: no sem_open, no
 * sem_wait, no sem_post, no shm_open. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SLOTS 8

struct ring { int32_t in, out, slot[SLOTS]; };

static void *map(const char *path, size_t size) {
    int fd = open(path, O_RDWR);
    if (fd == -1) return NULL;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return p == MAP_FAILED ? NULL : p;
}

/* glibc (64-bit): the low 32 bits of the first word are the value, the high 32 bits the sleepers. */
static void down(uint64_t *d) {
    uint64_t v = __atomic_load_n(d, __ATOMIC_RELAXED);
    while ((uint32_t)v > 0)
        if (__atomic_compare_exchange_n(d, &v, v - 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return;
    v = __atomic_add_fetch(d, 1ULL << 32, __ATOMIC_RELAXED);
    for (;;) {
        if ((uint32_t)v == 0) {
            syscall(SYS_futex, (uint32_t *)d, FUTEX_WAIT, 0, NULL, NULL, 0);
            v = __atomic_load_n(d, __ATOMIC_RELAXED);
            continue;
        }
        if (__atomic_compare_exchange_n(d, &v, v - 1 - (1ULL << 32), 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return;
    }
}

static void up(uint64_t *d) {
    uint64_t v = __atomic_fetch_add(d, 1, __ATOMIC_RELEASE);
    if (v >> 32) syscall(SYS_futex, (uint32_t *)d, FUTEX_WAKE, 1, NULL, NULL, 0);
}

int main(int argc, char **argv) {
    if (argc != 2 || strlen(argv[1]) < 1 || strlen(argv[1]) > 32) {
        fprintf(stderr, "usage: consumer NAME\n");
        return 2;
    }
    char path[80];
    const char *suffix[3] = {"empty", "full", "mutex"};
    uint64_t *sem[3];
    snprintf(path, sizeof path, "/dev/shm/%s", argv[1]);
    struct ring *ring = map(path, sizeof *ring);
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "/dev/shm/sem.%s-%s", argv[1], suffix[i]);
        sem[i] = map(path, 32);
        if (!sem[i]) ring = NULL;
    }
    if (!ring) {
        fprintf(stderr, "consumer: cannot open the objects of %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    int64_t count = 0, sum = 0;
    for (;;) {
        down(sem[1]);
        down(sem[2]);
        int32_t v = ring->slot[ring->out];
        ring->out = (ring->out + 1) % SLOTS;
        up(sem[2]);
        up(sem[0]);
        if (v == 0) break;
        count++;
        sum += v;
    }
    printf("count=%" PRId64 " sum=%" PRId64 "\n", count, sum);
    fflush(stdout);
    return 0;
}
