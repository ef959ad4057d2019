/* Bug: "wait until the user presses Ctrl-C" written as an empty loop: 100% of a CPU, for ever. */
#include <stdio.h>

int main(void) {
    printf("running, press Ctrl-C to stop\n");
    fflush(stdout);
    while (1)
        ;
}
