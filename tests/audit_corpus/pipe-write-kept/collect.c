/* Bug: the worker writes its results, then waits for a signal to quit without closing the
 * write end: the parent reads until end-of-file and never gets it. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    int fd[2];
    if (pipe(fd) == -1) { perror("pipe"); return 1; }
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        for (int i = 1; i <= 3; i++) {
            char line[16];
            int n = snprintf(line, sizeof line, "result %d\n", i);
            write(fd[1], line, n);
        }
        pause();                          /* still holds fd[1] */
        _exit(0);
    }
    close(fd[1]);
    char buf[256];
    ssize_t n;
    while ((n = read(fd[0], buf, sizeof buf)) > 0)
        fwrite(buf, 1, n, stdout);
    close(fd[0]);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return 0;
}
