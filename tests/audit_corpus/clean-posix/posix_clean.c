/* Clean: the same POSIX objects (shm, queue, named semaphore), unlinked once no one needs to open them. */
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
    int fd = shm_open("/audit_shm", O_CREAT | O_RDWR, 0600);
    if (fd == -1) { perror("shm_open"); return 1; }
    if (ftruncate(fd, 4096) == -1) perror("ftruncate");
    close(fd);
    shm_unlink("/audit_shm");
    mqd_t q = mq_open("/audit_q", O_CREAT | O_RDWR, 0600, NULL);
    if (q == (mqd_t) -1) { perror("mq_open"); return 1; }
    mq_send(q, "hi", 2, 0);
    mq_close(q);
    mq_unlink("/audit_q");
    sem_t *sem = sem_open("/audit_sem", O_CREAT, 0600, 1);
    if (sem == SEM_FAILED) { perror("sem_open"); return 1; }
    sem_unlink("/audit_sem");
    sem_wait(sem);
    sem_post(sem);
    sem_close(sem);
    puts("done");
    return 0;
}
