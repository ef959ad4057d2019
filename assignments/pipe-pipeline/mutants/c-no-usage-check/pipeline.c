/* pipe-pipeline reference: pipeline CMD1 [ARG...] -- CMD2 [ARG...] runs CMD1 | CMD2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* In the child: make `end` its fd `target`, drop both pipe fds, run the command. */
static void run_child(char **cmd, int end, int target, int fd[2])
{
    if (dup2(end, target) < 0) {
        perror("pipeline: dup2");
        _exit(127);
    }
    close(fd[0]);
    close(fd[1]);
    execvp(cmd[0], cmd);
    fprintf(stderr, "pipeline: %s: ", cmd[0]);
    perror(NULL);
    _exit(127);
}

int main(int argc, char *argv[])
{
    int sep = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            sep = i;
            break;
        }
    }
    if (sep < 0)                           /* BUG: no usage check */
        sep = argc;
    else
        argv[sep] = NULL;                      /* ends CMD1's argument list */
    char **cmd1 = &argv[1], **cmd2 = &argv[sep + 1];

    int fd[2];
    if (pipe(fd) < 0) {
        perror("pipeline: pipe");
        return 1;
    }
    pid_t c1 = fork();
    if (c1 < 0) {
        perror("pipeline: fork");
        close(fd[0]);
        close(fd[1]);
        return 1;
    }
    if (c1 == 0)
        run_child(cmd1, fd[1], STDOUT_FILENO, fd);

    pid_t c2 = fork();
    if (c2 < 0) {
        perror("pipeline: fork");
        close(fd[0]);
        close(fd[1]);                       /* CMD1 gets SIGPIPE or finishes */
        waitpid(c1, NULL, 0);
        return 1;
    }
    if (c2 == 0)
        run_child(cmd2, fd[0], STDIN_FILENO, fd);

    close(fd[0]);
    close(fd[1]);

    int st1, st2;
    if (waitpid(c1, &st1, 0) < 0 || waitpid(c2, &st2, 0) < 0) {
        perror("pipeline: waitpid");
        return 1;
    }
    if (WIFSIGNALED(st2))
        return 128 + WTERMSIG(st2);
    return WEXITSTATUS(st2);
}
