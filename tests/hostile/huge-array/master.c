static char huge[1UL << 44] = {1};
int main(int argc, char **argv) { (void) argv; return huge[argc * 4096]; }
