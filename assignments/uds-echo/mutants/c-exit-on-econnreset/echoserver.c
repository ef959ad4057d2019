/* Reference echoserver for uds-echo: an AF_UNIX stream server that echoes lines uppercased. */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

static volatile sig_atomic_t stop = 0;

static void on_signal(int sig)
{
    (void) sig;
    stop = 1;
}

/* Send all of buf; MSG_NOSIGNAL turns a vanished client into EPIPE instead of SIGPIPE. */
static int send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n == -1) {
            if (errno == EINTR && !stop)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t) n;
    }
    return 0;
}

static int send_upper(int fd, char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        line[i] = (char) toupper((unsigned char) line[i]);
    return send_all(fd, line, len);
}

/* Serve one client until it closes: every complete line goes back uppercased. */
static void serve(int fd)
{
    char buf[LINE_MAX_BYTES];
    size_t len = 0;
    while (!stop) {
        ssize_t n = read(fd, buf + len, sizeof buf - len);
        if (n == -1 && errno == EINTR)
            continue;               /* a signal: the loop condition decides */
        if (n == -1) {
            perror("read");
            exit(1);                /* any read error ends the server, ECONNRESET included */
        }
        if (n == 0)
            break;                  /* the client closed its end */
        len += (size_t) n;
        size_t start = 0;
        char *nl;
        while ((nl = memchr(buf + start, '\n', len - start)) != NULL) {
            size_t end = (size_t) (nl - buf) + 1;
            if (send_upper(fd, buf + start, end - start) == -1)
                return;
            start = end;
        }
        memmove(buf, buf + start, len - start);
        len -= start;
        if (len == sizeof buf) {    /* a line longer than the buffer: pass it on in pieces */
            if (send_upper(fd, buf, len) == -1)
                return;
            len = 0;
        }
    }
    if (len > 0 && !stop) {         /* a last line without its newline (len < sizeof buf here) */
        buf[len] = '\n';
        send_upper(fd, buf, len + 1);
    }
}

int main(int argc, char *argv[])
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path) {
        fprintf(stderr, "echoserver: path too long: %s\n", path);
        return 1;
    }
    strcpy(addr.sun_path, path);

    /* No SA_RESTART: a signal makes a blocked accept() or read() return EINTR. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    if (sigaction(SIGTERM, &sa, NULL) == -1 || sigaction(SIGINT, &sa, NULL) == -1) {
        perror("sigaction");
        return 1;
    }

    int srv = socket(AF_UNIX, SOCK_STREAM, 0);
    if (srv == -1) {
        perror("socket");
        return 1;
    }
    if (unlink(path) == -1 && errno != ENOENT) {   /* a stale socket file from an earlier run */
        perror("unlink");
        return 1;
    }
    if (bind(srv, (struct sockaddr *) &addr, sizeof addr) == -1) {
        perror("bind");
        return 1;
    }
    if (listen(srv, 8) == -1) {
        perror("listen");
        unlink(path);
        return 1;
    }
    printf("listening\n");
    fflush(stdout);

    while (!stop) {
        int fd = accept(srv, NULL, NULL);
        if (fd == -1) {
            if (errno == EINTR)
                continue;
            perror("accept");
            break;
        }
        serve(fd);
        close(fd);
    }

    close(srv);
    if (unlink(path) == -1)
        perror("unlink");
    printf("bye\n");
    fflush(stdout);
    return 0;
}
