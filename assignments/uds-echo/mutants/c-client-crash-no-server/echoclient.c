/* Reference echoclient for uds-echo: send each argument as a line, print each reply line. */
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
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path) {
        fprintf(stderr, "echoclient: path too long: %s\n", path);
        return 1;
    }
    strcpy(addr.sun_path, path);

    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd == -1) {
        perror("socket");
        return 1;
    }
    connect(fd, (struct sockaddr *) &addr, sizeof addr);

    char buf[8192];
    for (int i = 2; i < argc; i++) {
        dprintf(fd, "%s\n", argv[i]);
        ssize_t n = read(fd, buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = '\0';
        *strchr(buf, '\n') = '\0';       /* the reply always ends in a newline */
        printf("%s\n", buf);
        fflush(stdout);
    }
    close(fd);
    return 0;
}
