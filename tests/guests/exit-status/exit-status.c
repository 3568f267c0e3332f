/*
 * exit-status: exits with the status given as "status=N" on the command
 * line (default 7), so that a test can check that the VMM's exit status is
 * the guest's. Output: "exiting with N\n". Under QEMU's isa-debug-exit the
 * process status is (N << 1) | 1, so keep N below 128 there.
 */
#include "kit.h"

int main(const char *cmdline)
{
	unsigned long status = kit_param(cmdline, "status", 7);

	kit_printf("exiting with %lu\n", status);
	return (int)status;
}
