/* Clean: a lab exercise; the child sends a line through a pipe, the parent reaps it,
 * then lingers in a last sleep(3) "so you can look at ps" before closing and printing. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    int fd[2];
    if (pipe(fd) == -1) { perror("pipe"); return 1; }
    pid_t pid = fork();
    if (pid == -1) { perror("fork"); return 1; }
    if (pid == 0) {
        close(fd[0]);
        const char *msg = "hello from the child\n";
        write(fd[1], msg, strlen(msg));
        close(fd[1]);
        _exit(0);
    }
    close(fd[1]);
    char buf[64];
    ssize_t n = read(fd[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    waitpid(pid, NULL, 0);
    printf("parent got: %s", buf);
    fflush(stdout);
    sleep(3);
    close(fd[0]);
    printf("parent done\n");
    return 0;
}
