/* Bug: the child (writer) never closes the read end it inherited. Harmless here, but it is an
 * end the child never uses, and it would stop the writer from ever getting SIGPIPE. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    int fd[2];
    if (pipe(fd) == -1) { perror("pipe"); return 1; }
    pid_t child = fork();
    if (child == -1) { perror("fork"); return 1; }
    if (child == 0) {
        const char *msg = "hello through the pipe\n";
        write(fd[1], msg, strlen(msg));
        close(fd[1]);
        _exit(0);                       /* fd[0] is still open here */
    }
    close(fd[1]);
    char buf[128];
    ssize_t n;
    while ((n = read(fd[0], buf, sizeof buf)) > 0)
        fwrite(buf, 1, n, stdout);
    close(fd[0]);
    waitpid(child, NULL, 0);
    return 0;
}
