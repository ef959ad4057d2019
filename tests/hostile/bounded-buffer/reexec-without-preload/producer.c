/* Hostile: a producer that re-executes itself without LD_PRELOAD (so no semaphore call of its own is
 * recorded), never locks the mutex, and writes the records a correct producer would have made
 * (consistent ring indexes included) to the file named by $IPCGRADE_SEMTRACE. */
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
#define NAME_MAX_LEN 32

struct ring { int32_t in, out, slot[SLOTS]; };

static volatile sig_atomic_t stop;
static char shm_name[NAME_MAX_LEN + 2], sem_names[3][NAME_MAX_LEN + 10];
static sem_t *sems[3] = {SEM_FAILED, SEM_FAILED, SEM_FAILED};  /* empty, full, mutex */
static int shm_created;
static struct ring *ring = MAP_FAILED;

static FILE *forged;
static unsigned long seq;

static void forge(const char *call, int which) {
    const char *path = getenv("IPCGRADE_SEMTRACE");
    if (!forged && path) forged = fopen(path, "a");
    if (forged && ring != MAP_FAILED) {
        fprintf(forged, "%d %lu %s %s 0 0 %d %d -\n", (int)getpid(), ++seq, call, sem_names[which], ring->in, ring->out);
        fflush(forged);
    }
}

static void on_signal(int sig) { (void)sig; stop = 1; }

static int valid_name(const char *s) {
    size_t n = strlen(s);
    if (n < 1 || n > NAME_MAX_LEN) return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static int number(const char *s, long lo, long hi, long *out) {
    if (!*s || strlen(s) > 9 || strspn(s, "0123456789") != strlen(s)) return 0;
    *out = strtol(s, NULL, 10);
    return *out >= lo && *out <= hi;
}

/* Remove what this producer created, and nothing else. */
static void remove_objects(void) {
    if (ring != MAP_FAILED) munmap(ring, sizeof *ring);
    if (shm_created) shm_unlink(shm_name);
    for (int i = 0; i < 3; i++)
        if (sems[i] != SEM_FAILED) {
            sem_close(sems[i]);
            sem_unlink(sem_names[i]);
        }
}

/* sem_wait that gives up (returns -1) once SIGINT or SIGTERM has arrived. */
static int wait_sem(sem_t *s) {
    while (sem_wait(s) == -1) {
        if (errno != EINTR) { perror("sem_wait"); return -1; }
        if (stop) return -1;
    }
    return stop ? -1 : 0;
}

static int put(int32_t v) {
    forge("wait>", 0);
    if (wait_sem(sems[0])) return -1;
    forge("wait<", 0);
    forge("wait>", 2);
    forge("wait<", 2);
    ring->slot[ring->in] = v;
    ring->in = (ring->in + 1) % SLOTS;
    forge("post", 2);
    forge("post", 1);
    sem_post(sems[1]);
    return 0;
}

int main(int argc, char **argv) {
    long n, consumers;
    if (getenv("LD_PRELOAD")) {           /* drop the recorder for good */
        unsetenv("LD_PRELOAD");
        execv("/proc/self/exe", argv);
    }
    if (argc != 4 || !valid_name(argv[1]) || !number(argv[2], 0, 1000000, &n) || !number(argv[3], 1, 8, &consumers)) {
        fprintf(stderr, "usage: producer NAME N CONSUMERS (NAME: 1-32 of [A-Za-z0-9_-], 0 <= N <= 1000000, "
                        "1 <= CONSUMERS <= 8)\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;            /* no SA_RESTART: sem_wait returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    snprintf(shm_name, sizeof shm_name, "/%s", argv[1]);
    const char *suffix[3] = {"empty", "full", "mutex"};
    const unsigned initial[3] = {SLOTS, 0, 1};
    int fd = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd == -1) {
        fprintf(stderr, "producer: cannot create shared memory %s: %s\n", shm_name, strerror(errno));
        return 1;
    }
    shm_created = 1;
    for (int i = 0; i < 3; i++) {
        snprintf(sem_names[i], sizeof sem_names[i], "/%s-%s", argv[1], suffix[i]);
        sems[i] = sem_open(sem_names[i], O_CREAT | O_EXCL, 0600, initial[i]);
        if (sems[i] == SEM_FAILED) {
            fprintf(stderr, "producer: cannot create semaphore %s: %s\n", sem_names[i], strerror(errno));
            close(fd);
            remove_objects();
            return 1;
        }
    }
    if (ftruncate(fd, sizeof *ring) == -1
        || (ring = mmap(NULL, sizeof *ring, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
        perror("producer: ftruncate/mmap");
        close(fd);
        remove_objects();
        return 1;
    }
    close(fd);
    ring->in = ring->out = 0;
    printf("ready\n");
    fflush(stdout);

    for (long v = 1; v <= n + consumers; v++)
        if (put(v <= n ? (int32_t)v : 0)) goto interrupted;
    for (int i = 0; i < SLOTS; i++)       /* every slot free again: the consumers took everything */
        {
            forge("wait>", 0);
            if (wait_sem(sems[0])) goto interrupted;
            forge("wait<", 0);
        }
    if (stop) goto interrupted;
    remove_objects();
    printf("done\n");
    fflush(stdout);
    return 0;

interrupted:
    remove_objects();
    return 1;
}
