/*
 * long-printer: a long, checkable stream of output, for killing the UART
 * process mid-run and checking that no byte is lost or doubled.
 *
 * Prints lines=N (default 2000) lines numbered from 1, then a last line:
 *
 *   line 00001 the quick brown fox jumps over the lazy dog
 *   ...
 *   line 02000 the quick brown fox jumps over the lazy dog
 *   long-printer done
 *
 * Every line but the last matches
 *   ^line ([0-9]{5,}) the quick brown fox jumps over the lazy dog$
 * with the numbers 1..N in order (five digits, zero-padded; more digits
 * above 99999). expected.txt is the output for the default N.
 */
#include "kit.h"

int main(const char *cmdline)
{
	unsigned long lines = kit_param(cmdline, "lines", 2000);
	unsigned long i;

	for (i = 1; i <= lines; i++)
		kit_printf("line %05lu the quick brown fox jumps over the lazy "
			   "dog\n",
			   i);
	kit_puts("long-printer done\n");
	return 0;
}
