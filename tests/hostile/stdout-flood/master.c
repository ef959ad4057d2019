#include <string.h>
#include <unistd.h>
int main(void) {
    static char buf[1 << 16];
    memset(buf, 'A', sizeof buf);
    for (;;) { write(1, buf, sizeof buf); write(2, buf, sizeof buf); }
}
