/* Bug: the parent forks a writer and a reader but never closes its own copies of the pipe.
 * The reader reads until end-of-file, which never comes: the parent still holds the write end
 * while it waits for the reader. A classic hang. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    int fd[2];
    if (pipe(fd) == -1) { perror("pipe"); return 1; }
    pid_t writer = fork();
    if (writer == 0) {
        close(fd[0]);
        const char *msg = "one line\n";
        write(fd[1], msg, strlen(msg));
        close(fd[1]);
        _exit(0);
    }
    pid_t reader = fork();
    if (reader == 0) {
        close(fd[1]);
        char buf[128];
        ssize_t n;
        while ((n = read(fd[0], buf, sizeof buf)) > 0)
            write(1, buf, n);
        close(fd[0]);
        _exit(0);
    }
    /* missing: close(fd[0]); close(fd[1]); */
    waitpid(writer, NULL, 0);
    waitpid(reader, NULL, 0);
    return 0;
}
