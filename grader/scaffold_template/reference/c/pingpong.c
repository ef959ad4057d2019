#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int fd[2];
    if (pipe(fd) == -1) {
        perror("pipe");
        return 1;
    }
    pid_t pid = fork();
    if (pid == -1) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        close(fd[0]);
        if (write(fd[1], "ping", 4) != 4)
            _exit(1);
        _exit(0);
    }
    close(fd[1]);
    char buf[16] = {0};
    ssize_t n = read(fd[0], buf, sizeof buf - 1);
    close(fd[0]);
    printf("got %s\n", n > 0 ? buf : "nothing");
    int status;
    waitpid(pid, &status, 0);
    return 0;
}
