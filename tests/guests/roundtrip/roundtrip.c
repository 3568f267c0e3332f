/*
 * roundtrip: exit-path benchmark. n=N (default 10000) times, write the
 * UART scratch register and read it back: two port exits per iteration and
 * nothing else, so time per pair is the VMM's OUT + IN round trip. The
 * read must return what was written (16550D datasheet, SCR); a mismatch
 * prints one line and exits 1.
 * Output: "roundtrip: done N\n".
 */
#include "kit.h"

int main(const char *cmdline)
{
	unsigned long n = kit_param(cmdline, "n", 10000);
	unsigned long i;
	uint8_t v = 0;

	for (i = 0; i < n; i++, v++) {
		uint8_t got;

		outb(KIT_COM1 + UART_SCR, v);
		got = inb(KIT_COM1 + UART_SCR);
		if (got != v) {
			kit_printf("roundtrip: pair %lu wrote %x read %x\n", i,
				   v, got);
			return 1;
		}
	}
	kit_printf("roundtrip: done %lu\n", n);
	return 0;
}
