/* Bug: the segment is attached, used and detached, but never removed (no IPC_RMID). */
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

int main(void) {
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    if (id == -1) { perror("shmget"); return 1; }
    char *p = shmat(id, NULL, 0);
    if (p == (void *) -1) { perror("shmat"); return 1; }
    strcpy(p, "hello");
    printf("wrote %s into segment %d\n", p, id);
    shmdt(p);
    return 0;
}
