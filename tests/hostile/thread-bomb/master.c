#include <pthread.h>
#include <unistd.h>
static void *spawn(void *arg) { pthread_t t; for (;;) pthread_create(&t, NULL, spawn, arg); return arg; }
int main(void) { spawn(NULL); return 0; }
