/* Bug: a sem_t in an ordinary global, "shared" across fork(). The child posts its own copy,
 * the parent waits for ever on its copy and never reads the pipe. */
#include <semaphore.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static sem_t ready;

int main(void) {
    int fd[2];
    if (pipe(fd) == -1) { perror("pipe"); return 1; }
    sem_init(&ready, 1, 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        write(fd[1], "42\n", 3);
        close(fd[1]);
        sem_post(&ready);
        _exit(0);
    }
    close(fd[1]);
    sem_wait(&ready);
    char buf[8] = {0};
    read(fd[0], buf, sizeof buf - 1);
    close(fd[0]);
    waitpid(pid, NULL, 0);
    printf("got %s", buf);
    return 0;
}
