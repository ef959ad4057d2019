/* sig-catch reference (C): handlers for SIGINT and SIGTERM, race-free waiting with sigsuspend. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

static volatile sig_atomic_t got_int;   /* SIGINTs not yet reported */
static volatile sig_atomic_t got_term;

static void on_signal(int sig)
{
    /* Only async-signal-safe work here: set a flag, the main loop prints. */
    if (sig == SIGINT)
        got_int++;
    else if (sig == SIGTERM)
        got_term = 1;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);     /* one handler at a time */
    sigaddset(&sa.sa_mask, SIGTERM);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGINT, &sa, NULL) == -1 || sigaction(SIGTERM, &sa, NULL) == -1) {
        perror("sigaction");
        return 1;
    }
    if (sigaction(SIGKILL, &sa, NULL) == -1)
        printf("cannot catch SIGKILL\n");

    int shmid = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    if (shmid == -1) {
        perror("shmget");
        return 1;
    }

    /* Block both signals outside sigsuspend, so none can slip in between the
     * flag test and the wait (the race that a plain pause() loop has). */
    sigset_t both, old;
    sigemptyset(&both);
    sigaddset(&both, SIGINT);
    sigaddset(&both, SIGTERM);
    sigprocmask(SIG_BLOCK, &both, &old);

    printf("ready %d\n", shmid);
    fflush(stdout);

    int count = 0;
    for (;;) {
        while (!got_int && !got_term)
            sigsuspend(&old);           /* sleeps in the kernel until a handler has run */
        while (got_int > 0) {
            got_int--;
            printf("caught SIGINT %d\n", ++count);
            fflush(stdout);
        }
        if (got_term) {
            printf("bye\n");
            fflush(stdout);
            return 0;
        }
    }
}
