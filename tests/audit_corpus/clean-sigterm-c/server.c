/* Clean: a message server whose SIGTERM handler sets a flag; msgrcv fails with EINTR and the
 * main loop removes the queue before exiting. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/msg.h>

struct msg { long mtype; char text[64]; };
static volatile sig_atomic_t stop;

static void on_term(int sig) { (void) sig; stop = 1; }

int main(void) {
    struct sigaction sa = {.sa_handler = on_term};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (q == -1) { perror("msgget"); return 1; }
    printf("ready %d\n", q);
    fflush(stdout);
    struct msg m;
    while (!stop) {
        if (msgrcv(q, &m, sizeof m.text, 0, 0) == -1 && errno != EINTR) {
            perror("msgrcv");
            break;
        }
    }
    msgctl(q, IPC_RMID, NULL);
    printf("queue removed\n");
    return 0;
}
