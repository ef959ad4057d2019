/* pipe-pipeline: pipeline CMD1 [ARG...] -- CMD2 [ARG...]. See README.md for the specification. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    /* TODO: find the "--" that separates CMD1 from CMD2; without one, or with an empty side,
     *       print a usage line to stderr and exit with status 2 */
    /* TODO: argv[sep] = NULL ends CMD1's argument list, so CMD1 is &argv[1] and CMD2 &argv[sep + 1] */
    /* TODO: pipe(fd); check the result (perror and exit 1 on failure) */
    /* TODO: fork child 1: dup2(fd[1], STDOUT_FILENO), close both pipe fds, execvp CMD1 */
    /* TODO: fork child 2: dup2(fd[0], STDIN_FILENO), close both pipe fds, execvp CMD2 */
    /*       (check every fork: it returns -1 when it fails) */
    /* TODO: parent: close both pipe fds, waitpid for both children */
    /* TODO: exit with CMD2's status (WEXITSTATUS), or 128 + WTERMSIG if it was killed */
    (void) argc;
    (void) argv;
    return 0;
}
