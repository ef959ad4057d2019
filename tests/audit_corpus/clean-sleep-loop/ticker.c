/* Clean: a textbook countdown that prints once a second and exits (one sleep per step is not busy waiting). */
#include <stdio.h>
#include <unistd.h>

int main(void) {
    for (int left = 4; left > 0; left--) {
        printf("%d seconds left\n", left);
        fflush(stdout);
        sleep(1);
    }
    printf("done\n");
    return 0;
}
