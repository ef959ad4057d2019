/* uds-echo: echoclient. See README.md for the specification. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s PATH TEXT...\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];
    (void) path;
    /* TODO: socket(AF_UNIX, SOCK_STREAM, 0) and connect to path (struct sockaddr_un);
             if connect fails, print why to stderr and return 1 */
    /* TODO: for each argv[i] (i >= 2): send it followed by '\n', read until you have one
             whole reply line, print it */
    /* TODO: close the socket, return 0 */
    return 0;
}
