/* shm-handshake: master. See README.md for the specification. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s N\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[1]);
    (void) n;
    /* TODO: create a private segment for n+1 ints (mode 0600), attach it, set shm[0] = 0 */
    /* TODO: print the shmid on its own line and flush stdout */
    /* TODO: wait until shm[0] == 1, then print sum=S */
    /* TODO: detach, remove the segment with IPC_RMID, exit 0 */
    return 0;
}
