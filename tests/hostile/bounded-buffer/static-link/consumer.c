/* consumer NAME: takes values from the producer's bounded buffer until it takes a 0, then prints
 * how many non-zero values it took and their sum. */
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
#define NAME_MAX_LEN 32

struct ring { int32_t in, out, slot[SLOTS]; };

int main(int argc, char **argv) {
    if (argc != 2 || strlen(argv[1]) < 1 || strlen(argv[1]) > NAME_MAX_LEN) {
        fprintf(stderr, "usage: consumer NAME\n");
        return 2;
    }
    char shm_name[NAME_MAX_LEN + 2], names[3][NAME_MAX_LEN + 10];
    const char *suffix[3] = {"empty", "full", "mutex"};
    sem_t *sems[3] = {SEM_FAILED, SEM_FAILED, SEM_FAILED};   /* empty, full, mutex */
    snprintf(shm_name, sizeof shm_name, "/%s", argv[1]);
    int fd = shm_open(shm_name, O_RDWR, 0);
    if (fd == -1) {
        fprintf(stderr, "consumer: cannot open shared memory %s: %s\n", shm_name, strerror(errno));
        return 1;
    }
    for (int i = 0; i < 3; i++) {
        snprintf(names[i], sizeof names[i], "/%s-%s", argv[1], suffix[i]);
        sems[i] = sem_open(names[i], 0);
        if (sems[i] == SEM_FAILED) {
            fprintf(stderr, "consumer: cannot open semaphore %s: %s\n", names[i], strerror(errno));
            for (int j = 0; j < i; j++) sem_close(sems[j]);
            close(fd);
            return 1;
        }
    }
    struct ring *ring = mmap(NULL, sizeof *ring, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (ring == MAP_FAILED) {
        perror("consumer: mmap");
        return 1;
    }
    int64_t count = 0, sum = 0;
    for (;;) {
        sem_wait(sems[1]);
        sem_wait(sems[2]);
        int32_t v = ring->slot[ring->out];
        ring->out = (ring->out + 1) % SLOTS;
        sem_post(sems[2]);
        sem_post(sems[0]);
        if (v == 0) break;
        count++;
        sum += v;
    }
    printf("count=%" PRId64 " sum=%" PRId64 "\n", count, sum);
    fflush(stdout);
    munmap(ring, sizeof *ring);
    for (int i = 0; i < 3; i++) sem_close(sems[i]);
    return 0;
}
