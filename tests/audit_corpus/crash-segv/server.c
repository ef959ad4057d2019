/* Bug: the server looks a command up in a table and dereferences NULL for an unknown one (SIGSEGV). */
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>

struct req { long mtype; char cmd[32]; };
static const char *names[] = {"start", "stop", NULL};

static const char *lookup(const char *cmd) {
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], cmd) == 0)
            return names[i];
    return NULL;
}

int main(void) {
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (q == -1) { perror("msgget"); return 1; }
    struct req r = {1, "restart"};
    msgsnd(q, &r, sizeof r.cmd, 0);
    msgrcv(q, &r, sizeof r.cmd, 0, 0);
    msgctl(q, IPC_RMID, NULL);
    const char *found = lookup(r.cmd);
    printf("command %s has %zu letters\n", r.cmd, strlen(found));
    return 0;
}
