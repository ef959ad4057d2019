/* sig-catch: sigcatch. See README.md for the specification. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

static volatile sig_atomic_t got_int;    /* set by the handler, read by main */
static volatile sig_atomic_t got_term;

static void on_signal(int sig)
{
    /* TODO: only set a flag here (no printf: it is not async-signal-safe) */
    (void) sig;
}

int main(void)
{
    /* TODO: install on_signal for SIGINT and SIGTERM with sigaction() */
    /* TODO: try the same for SIGKILL; when it fails, print "cannot catch SIGKILL" */
    /* TODO: shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600), print "ready SHMID", fflush(stdout) */
    /* TODO: loop: wait with pause() or sigsuspend() (no busy waiting);
     *       on SIGINT print "caught SIGINT K" and flush;
     *       on SIGTERM remove the segment (IPC_RMID), print "bye", exit 0 */
    (void) on_signal;
    (void) got_int;
    (void) got_term;
    return 0;
}
