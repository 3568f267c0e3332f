/*
 * echo: serial input. Prints "echo: ready\n", then reads COM1 a line at a
 * time and prints each line as "echo: LINE\n" with a-z in upper case. A
 * line ends at '\n' or '\r'; a '\n' right after a '\r' is part of that
 * "\r\n" and ends nothing. Lines longer than ECHO_PIECE bytes are printed
 * in pieces of ECHO_PIECE. The line "quit" prints "echo: bye\n" and exits
 * 0. A serial line has no end of input: without "quit" the guest polls
 * for ever.
 */
#include "kit.h"

#define ECHO_PIECE 200

static void put_line(const char *line, size_t n)
{
	size_t i;

	kit_puts("echo: ");
	for (i = 0; i < n; i++) {
		char c = line[i];

		kit_putc(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
	}
	kit_putc('\n');
}

int main(const char *cmdline)
{
	char line[ECHO_PIECE];
	size_t n = 0;
	bool continued = false; /* line[] holds the rest of a longer line */
	bool after_cr = false;

	kit_puts("echo: ready\n");
	for (;;) {
		char c = kit_getc();
		bool was_cr = after_cr;

		after_cr = c == '\r';
		if (c == '\n' && was_cr)
			continue;
		if (c == '\n' || c == '\r') {
			if (!continued && n == 4 &&
			    memcmp(line, "quit", 4) == 0)
				break;
			put_line(line, n);
			n = 0;
			continued = false;
			continue;
		}
		/* Only a byte that does not fit ends a piece: a line of
		 * exactly ECHO_PIECE bytes is one piece, not two. */
		if (n == ECHO_PIECE) {
			put_line(line, n);
			n = 0;
			continued = true;
		}
		line[n++] = c;
	}
	kit_puts("echo: bye\n");
	return 0;
}
