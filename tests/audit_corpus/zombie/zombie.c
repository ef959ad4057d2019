/* Bug: the parent never waits for its child, which stays a zombie while the parent works on. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
    pid_t child = fork();
    if (child == -1) { perror("fork"); return 1; }
    if (child == 0)
        _exit(0);
    sleep(1);                           /* the child is a zombie all this time */
    printf("parent done, child %d never reaped\n", (int) child);
    return 0;
}
