/* Clean: a Unix-domain echo server for one client; it unlinks its socket file when done. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define PATH "echo.sock"

int main(void) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s == -1) { perror("socket"); return 1; }
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, PATH, sizeof a.sun_path - 1);
    unlink(PATH);
    if (bind(s, (struct sockaddr *) &a, sizeof a) == -1) { perror("bind"); return 1; }
    listen(s, 1);
    printf("listening\n");
    fflush(stdout);
    int c = accept(s, NULL, NULL);
    char buf[128];
    ssize_t n;
    while ((n = read(c, buf, sizeof buf)) > 0)
        write(c, buf, n);
    close(c);
    close(s);
    unlink(PATH);
    printf("server done\n");
    return 0;
}
