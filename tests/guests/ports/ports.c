/*
 * ports: unclaimed I/O ports read as all ones and ignore writes, as on a
 * PC where nothing drives the bus (ARCHITECTURE.md, "Exit path", step 4).
 *
 * 0x200-0x207 is the PC game port, which no device of cellvm or of QEMU's
 * microvm (or pc) machine claims. Reads of each width must return 0xff,
 * 0xffff, 0xffffffff; after writes of each width they still must.
 * One "ok"/"FAIL" line per check, then "ports: N passed, M failed".
 */
#include "kit.h"

#define PORTS_BASE 0x200

static unsigned passed, failed;

static void check(const char *op, uint16_t port, uint32_t got, uint32_t want)
{
	if (got == want) {
		passed++;
		kit_printf("ok   %s 0x%x = 0x%x\n", op, port, got);
	} else {
		failed++;
		kit_printf("FAIL %s 0x%x = 0x%x, want 0x%x\n", op, port, got,
			   want);
	}
}

static void check_reads(void)
{
	uint16_t port;

	for (port = PORTS_BASE; port < PORTS_BASE + 8; port++)
		check("inb", port, inb(port), 0xff);
	check("inw", PORTS_BASE, inw(PORTS_BASE), 0xffff);
	check("inw", PORTS_BASE + 6, inw(PORTS_BASE + 6), 0xffff);
	check("inl", PORTS_BASE, inl(PORTS_BASE), 0xffffffff);
	check("inl", PORTS_BASE + 4, inl(PORTS_BASE + 4), 0xffffffff);
}

int main(const char *cmdline)
{
	check_reads();
	outb(PORTS_BASE, 0x12);
	outw(PORTS_BASE + 2, 0x3456);
	outl(PORTS_BASE + 4, 0x789abcde);
	kit_puts("wrote 0x12, 0x3456, 0x789abcde\n");
	check_reads();
	kit_printf("ports: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
