/* uds-echo: echoserver. See README.md for the specification. */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t stop = 0;

static void on_signal(int sig)
{
    (void) sig;
    stop = 1;
}

int main(int argc, char *argv[])
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];
    (void) path;
    (void) on_signal;
    /* TODO: install on_signal for SIGTERM and SIGINT with sigaction() (no SA_RESTART) */
    /* TODO: socket(AF_UNIX, SOCK_STREAM, 0); unlink(path) (ignore ENOENT); bind; listen */
    /* TODO: print "listening" and fflush(stdout) */
    /* TODO: while (!stop): accept a client; read into a buffer; send every complete line back
             uppercased; when read() returns 0, close the client's fd and accept the next */
    /* TODO: close the socket, unlink(path), print "bye", return 0 */
    return 0;
}
