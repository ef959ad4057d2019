/* Clean: sends one message to the consumer's queue. */
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#define KEY 0x0c1ea4
struct msg { long mtype; char text[32]; };

int main(void) {
    int q = msgget(KEY, 0);
    if (q == -1) { perror("msgget"); return 1; }
    struct msg m = { 1, "hello" };
    if (msgsnd(q, &m, strlen(m.text), 0) == -1) { perror("msgsnd"); return 1; }
    return 0;
}
