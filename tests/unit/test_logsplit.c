/*
 * The log relay's line splitter (broker/logsplit.c): whatever pieces a
 * pipe's reads return, whole lines come out; a line longer than
 * LOGSPLIT_LINE_MAX is passed cut, once, and the rest of it dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logrelay.h"

#define MAX_LINES 16

struct seen {
	unsigned n;
	char line[MAX_LINES][LOGSPLIT_LINE_MAX + 1];
	size_t len[MAX_LINES];
	bool cut[MAX_LINES];
};

static void collect(void *arg, const char *line, size_t len, bool cut)
{
	struct seen *s = arg;

	assert_true(s->n < MAX_LINES);
	assert_true(len <= LOGSPLIT_LINE_MAX);
	memcpy(s->line[s->n], line, len);
	s->line[s->n][len] = '\0';
	s->len[s->n] = len;
	s->cut[s->n] = cut;
	s->n++;
}

static void feed(struct logsplit *sp, struct seen *s, const char *text)
{
	logsplit_feed(sp, text, strlen(text), collect, s);
}

static void test_several_lines_in_one_read_come_out_one_by_one(void **state)
{
	static struct logsplit sp;
	static struct seen s;

	feed(&sp, &s, "uart: one\nuart: two\nuart: three\n");
	assert_int_equal(s.n, 3);
	assert_string_equal(s.line[0], "uart: one");
	assert_string_equal(s.line[1], "uart: two");
	assert_string_equal(s.line[2], "uart: three");
	assert_false(s.cut[0] || s.cut[1] || s.cut[2]);
}

static void test_a_line_in_pieces_comes_out_whole_once_it_ends(void **state)
{
	static struct logsplit sp;
	static struct seen s;

	feed(&sp, &s, "cellvm-dev-uart[vm1/");
	feed(&sp, &s, "123]: resuming");
	assert_int_equal(s.n, 0);
	feed(&sp, &s, " at request 7\nnext ");
	assert_int_equal(s.n, 1);
	assert_string_equal(s.line[0],
			    "cellvm-dev-uart[vm1/123]: resuming at request 7");
	feed(&sp, &s, "line\n");
	assert_int_equal(s.n, 2);
	assert_string_equal(s.line[1], "next line");
}

static void test_one_byte_at_a_time_is_the_same(void **state)
{
	static struct logsplit sp;
	static struct seen s;
	const char *text = "a\nbc\n";
	size_t i;

	for (i = 0; i < strlen(text); i++)
		logsplit_feed(&sp, text + i, 1, collect, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.line[0], "a");
	assert_string_equal(s.line[1], "bc");
}

static void test_empty_lines_are_skipped(void **state)
{
	static struct logsplit sp;
	static struct seen s;

	feed(&sp, &s, "\n\nx\n\n");
	assert_int_equal(s.n, 1);
	assert_string_equal(s.line[0], "x");
}

static void test_a_line_of_exactly_the_maximum_is_not_cut(void **state)
{
	static struct logsplit sp;
	static struct seen s;
	static char text[LOGSPLIT_LINE_MAX + 2];

	memset(text, 'a', LOGSPLIT_LINE_MAX);
	/* The buffer is full: the next byte decides. */
	logsplit_feed(&sp, text, LOGSPLIT_LINE_MAX, collect, &s);
	assert_int_equal(s.n, 0);
	feed(&sp, &s, "\n");
	assert_int_equal(s.n, 1);
	assert_int_equal(s.len[0], LOGSPLIT_LINE_MAX);
	assert_false(s.cut[0]);
}

static void
test_an_over_long_line_is_cut_once_and_its_rest_dropped(void **state)
{
	static struct logsplit sp;
	static struct seen s;
	static char text[3 * LOGSPLIT_LINE_MAX];

	memset(text, 'x', sizeof(text));
	/* Passed on as soon as the buffer is full, before its end. */
	logsplit_feed(&sp, text, LOGSPLIT_LINE_MAX + 1, collect, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.len[0], LOGSPLIT_LINE_MAX);
	assert_true(s.cut[0]);
	/* More of it, in pieces: nothing, until it ends. */
	logsplit_feed(&sp, text, sizeof(text), collect, &s);
	logsplit_feed(&sp, text, 10, collect, &s);
	assert_int_equal(s.n, 1);
	feed(&sp, &s, "tail\nafter\n");
	assert_int_equal(s.n, 2);
	assert_string_equal(s.line[1], "after");
	assert_false(s.cut[1]);
}

static void test_an_over_long_line_ending_in_the_same_read_is_cut(void **state)
{
	static struct logsplit sp;
	static struct seen s;
	static char text[LOGSPLIT_LINE_MAX + 64];
	size_t n;

	feed(&sp, &s, "head: ");
	memset(text, 'y', LOGSPLIT_LINE_MAX);
	n = LOGSPLIT_LINE_MAX;
	memcpy(text + n, "\nshort\n", 7);
	logsplit_feed(&sp, text, n + 7, collect, &s);
	assert_int_equal(s.n, 2);
	assert_true(s.cut[0]);
	assert_int_equal(s.len[0], LOGSPLIT_LINE_MAX);
	assert_memory_equal(s.line[0], "head: yyy", 9);
	assert_string_equal(s.line[1], "short");
	assert_false(s.cut[1]);
}

static void test_the_end_passes_an_unfinished_line(void **state)
{
	static struct logsplit sp;
	static struct seen s;

	feed(&sp, &s, "done\nlast words");
	assert_int_equal(s.n, 1);
	logsplit_end(&sp, collect, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.line[1], "last words");
	/* Nothing twice, and the splitter starts afresh. */
	logsplit_end(&sp, collect, &s);
	feed(&sp, &s, "new\n");
	assert_int_equal(s.n, 3);
	assert_string_equal(s.line[2], "new");
}

static void test_the_end_of_a_cut_line_starts_afresh(void **state)
{
	static struct logsplit sp;
	static struct seen s;
	static char text[LOGSPLIT_LINE_MAX + 1];

	memset(text, 'z', sizeof(text));
	logsplit_feed(&sp, text, sizeof(text), collect, &s);
	assert_int_equal(s.n, 1);
	logsplit_end(&sp, collect, &s);
	feed(&sp, &s, "next instance\n");
	assert_int_equal(s.n, 2);
	assert_string_equal(s.line[1], "next instance");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_several_lines_in_one_read_come_out_one_by_one),
		cmocka_unit_test(
			test_a_line_in_pieces_comes_out_whole_once_it_ends),
		cmocka_unit_test(test_one_byte_at_a_time_is_the_same),
		cmocka_unit_test(test_empty_lines_are_skipped),
		cmocka_unit_test(test_a_line_of_exactly_the_maximum_is_not_cut),
		cmocka_unit_test(
			test_an_over_long_line_is_cut_once_and_its_rest_dropped),
		cmocka_unit_test(
			test_an_over_long_line_ending_in_the_same_read_is_cut),
		cmocka_unit_test(test_the_end_passes_an_unfinished_line),
		cmocka_unit_test(test_the_end_of_a_cut_line_starts_afresh),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
