/* Clean at run time, but built with a warning: an old course handout that still reads with gets(). */
#include <stdio.h>

char *gets(char *s);

int main(void) {
    char name[64];
    printf("name? ");
    fflush(stdout);
    if (gets(name) == NULL)
        return 0;
    printf("hello %s\n", name);
    return 0;
}
