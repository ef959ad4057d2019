/* Clean enough: the first fork() example of every textbook; the parent prints and returns
 * at once without waiting (the child is reaped by init; no lasting zombie). */
#include <stdio.h>
#include <unistd.h>

int main(void) {
    pid_t pid = fork();
    if (pid == 0) {
        printf("child %d\n", (int) getpid());
        return 0;
    }
    printf("parent of %d\n", (int) pid);
    return 0;
}
