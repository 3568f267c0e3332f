/*
 * hello: the smallest guest. Proves the PVH entry, the switch to long mode,
 * COM1 output and the exit port.
 */
#include "kit.h"

int main(const char *cmdline)
{
	kit_puts("Hello from a cellvm guest!\n");
	return 0;
}
