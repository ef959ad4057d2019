/* Reference echoclient for uds-echo: send each argument as a line, print each reply line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t) n;
    }
    return 0;
}

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
    if (connect(fd, (struct sockaddr *) &addr, sizeof addr) == -1) {
        fprintf(stderr, "echoclient: cannot connect to %s: %s\n", path, strerror(errno));
        close(fd);
        return 1;
    }

    char buf[8192];
    size_t len = 0;
    for (int i = 2; i < argc; i++) {
        size_t n = strlen(argv[i]);
        char *out = malloc(n + 1);
        if (out == NULL) {
            perror("malloc");
            close(fd);
            return 1;
        }
        memcpy(out, argv[i], n);
        out[n] = '\n';                      /* the whole line in one write */
        int sent = send_all(fd, out, n + 1);
        free(out);
        if (sent == -1) {
            perror("echoclient: send");
            close(fd);
            return 1;
        }
        char *nl;
        while ((nl = memchr(buf, '\n', len)) == NULL) {     /* read until one whole reply line */
            if (len == sizeof buf) {
                fprintf(stderr, "echoclient: reply line too long\n");
                close(fd);
                return 1;
            }
            ssize_t n = read(fd, buf + len, sizeof buf - len);
            if (n == -1 && errno == EINTR)
                continue;
            if (n <= 0) {
                fprintf(stderr, "echoclient: %s\n", n == 0 ? "the server closed the connection" : strerror(errno));
                close(fd);
                return 1;
            }
            len += (size_t) n;
        }
        size_t line = (size_t) (nl - buf) + 1;
        fwrite(buf, 1, line, stdout);
        fflush(stdout);
        memmove(buf, buf + line, len - line);
        len -= line;
    }
    close(fd);
    return 0;
}
