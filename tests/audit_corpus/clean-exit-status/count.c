/* Clean: a lab where each child counts the vowels of one word and returns the count as its exit
 * status; the parent adds up WEXITSTATUS (a non-zero exit of a child is an answer, not a failure). */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int vowels(const char *w) {
    int n = 0;
    for (; *w; w++)
        n += strchr("aeiou", *w) != NULL;
    return n;
}

int main(void) {
    const char *words[] = {"semaphore", "pipe", "queue"};
    for (int i = 0; i < 3; i++)
        if (fork() == 0)
            _exit(vowels(words[i]));
    int total = 0, status;
    while (wait(&status) > 0)
        if (WIFEXITED(status))
            total += WEXITSTATUS(status);
    printf("vowels: %d\n", total);
    return 0;
}
