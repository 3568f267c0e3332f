/* State pages: a change is all or nothing; init marks the page last. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

struct regs {
	uint32_t a, b;
	uint64_t c;
};

static struct state_page *page_new(void)
{
	struct state_page *sp = calloc(1, state_page_size(sizeof(struct regs)));

	assert_non_null(sp);
	return sp;
}

static void test_fresh_page_is_not_valid_until_init(void **state)
{
	struct state_page *sp = page_new();
	struct regs r = { 1, 2, 3 };

	assert_false(state_valid(sp, sizeof(r)));
	state_init(sp, &r, sizeof(r));
	assert_true(state_valid(sp, sizeof(r)));
	assert_false(state_valid(sp, sizeof(r) + 1));
	assert_memory_equal(state_cur(sp), &r, sizeof(r));
	free(sp);
}

static void test_uncommitted_change_is_invisible(void **state)
{
	struct state_page *sp = page_new();
	struct regs r = { 1, 2, 3 }, *w;

	state_init(sp, &r, sizeof(r));
	w = state_begin(sp);
	w->a = 100;
	w->c = 300;
	/* The process dies here: the page still holds the old state. */
	assert_memory_equal(state_cur(sp), &r, sizeof(r));
	/* The next instance starts a change from the old state again. */
	w = state_begin(sp);
	assert_int_equal(w->a, 1);
	assert_int_equal(w->c, 3);
	free(sp);
}

static void test_commit_publishes_the_whole_change(void **state)
{
	struct state_page *sp = page_new();
	struct regs r = { 1, 2, 3 }, *w;
	const struct regs *cur;
	int i;

	state_init(sp, &r, sizeof(r));
	for (i = 0; i < 5; i++) {
		w = state_begin(sp);
		w->a += 10;
		w->b += 20;
		state_commit(sp);
		cur = state_cur(sp);
		assert_int_equal(cur->a, 1 + 10 * (i + 1));
		assert_int_equal(cur->b, 2 + 20 * (i + 1));
		assert_int_equal(cur->c, 3);
	}
	free(sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_page_is_not_valid_until_init),
		cmocka_unit_test(test_uncommitted_change_is_invisible),
		cmocka_unit_test(test_commit_publishes_the_whole_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
