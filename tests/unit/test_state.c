/*
 * State pages: a change is all or nothing, only touched blocks are copied,
 * and a change a dead process left half done never comes back to life.
 */
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

struct cpu {
	uint32_t irr, isr;
};

#define NCPU 4

static void *page_new(size_t *len)
{
	*len = state_page_size(sizeof(struct regs), 1 + NCPU,
			       sizeof(struct cpu));
	return calloc(1, *len);
}

/* A process starting on page: attach and, if fresh, initialise. */
static int attach(struct state *st, void *page, size_t len)
{
	struct regs init = { 1, 2, 3 };
	int r;

	memset(st, 0, sizeof(*st));
	r = state_attach(st, page, len, sizeof(struct regs), 1 + NCPU,
			 sizeof(struct cpu));
	assert_true(r >= 0);
	if (r == 0)
		state_init(st, &init);
	return r;
}

static void test_fresh_page_is_initialised_once(void **state)
{
	struct state st, st2;
	size_t len;
	void *page = page_new(&len);
	const struct regs *r;

	assert_int_equal(attach(&st, page, len), 0);
	r = state_ro(&st, 0);
	assert_int_equal(r->a, 1);
	assert_int_equal(((const struct cpu *)state_ro(&st, 3))->irr, 0);
	/* A second process finds the committed state. */
	assert_int_equal(attach(&st2, page, len), 1);
	/* Another layout starts over. */
	assert_int_equal(state_attach(&st2, page, len, sizeof(struct regs),
				      NCPU, sizeof(struct cpu)),
			 0);
	free(st.work);
	free(st2.work);
	free(page);
}

static void test_uncommitted_change_is_invisible(void **state)
{
	struct state st, after;
	size_t len;
	void *page = page_new(&len);
	struct regs *w;
	struct cpu *c;

	attach(&st, page, len);
	state_begin(&st);
	w = state_rw(&st, 0);
	w->a = 100;
	c = state_rw(&st, 2);
	c->irr = 0xff;
	/* The working copies are what this change sees ... */
	assert_int_equal(((const struct regs *)state_ro(&st, 0))->a, 100);
	/* ... but the process dies here: the next one sees the old state. */
	assert_int_equal(attach(&after, page, len), 1);
	assert_int_equal(((const struct regs *)state_ro(&after, 0))->a, 1);
	assert_int_equal(((const struct cpu *)state_ro(&after, 2))->irr, 0);
	free(st.work);
	free(after.work);
	free(page);
}

static void test_commit_publishes_every_touched_block(void **state)
{
	struct state st;
	size_t len;
	void *page = page_new(&len);
	int i;

	attach(&st, page, len);
	for (i = 1; i <= 5; i++) {
		state_begin(&st);
		((struct regs *)state_rw(&st, 0))->a += 10;
		((struct cpu *)state_rw(&st, 1 + (unsigned)i % NCPU))->irr += 1;
		state_commit(&st);
	}
	assert_int_equal(((const struct regs *)state_ro(&st, 0))->a, 51);
	assert_int_equal(((const struct cpu *)state_ro(&st, 2))->irr, 2);
	assert_int_equal(((const struct cpu *)state_ro(&st, 1))->irr, 1);
	assert_int_equal(((const struct cpu *)state_ro(&st, 3))->irr, 1);
	free(st.work);
	free(page);
}

/*
 * A dead process left block 3 written in a change that was never
 * committed. The next process commits a change that does not touch block 3;
 * block 3 must still show the committed value, not the dead one's.
 */
static void test_half_done_change_does_not_resurface(void **state)
{
	struct state dead, next, check;
	size_t len;
	void *page = page_new(&len);

	attach(&dead, page, len);
	state_begin(&dead);
	((struct cpu *)state_rw(&dead, 3))->irr = 0xdead;
	/* dies */
	attach(&next, page, len);
	state_begin(&next);
	((struct regs *)state_rw(&next, 0))->b = 7;
	state_commit(&next);
	assert_int_equal(((const struct cpu *)state_ro(&next, 3))->irr, 0);
	attach(&check, page, len);
	assert_int_equal(((const struct cpu *)state_ro(&check, 3))->irr, 0);
	assert_int_equal(((const struct regs *)state_ro(&check, 0))->b, 7);
	free(dead.work);
	free(next.work);
	free(check.work);
	free(page);
}

static void test_aborted_change_leaves_the_state(void **state)
{
	struct state st;
	size_t len;
	void *page = page_new(&len);

	attach(&st, page, len);
	state_begin(&st);
	((struct cpu *)state_rw(&st, 4))->isr = 9;
	state_abort(&st);
	state_begin(&st);
	((struct regs *)state_rw(&st, 0))->c = 5;
	state_commit(&st);
	assert_int_equal(((const struct cpu *)state_ro(&st, 4))->isr, 0);
	assert_false(state_touched(&st, 0));
	free(st.work);
	free(page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_page_is_initialised_once),
		cmocka_unit_test(test_uncommitted_change_is_invisible),
		cmocka_unit_test(test_commit_publishes_every_touched_block),
		cmocka_unit_test(test_half_done_change_does_not_resurface),
		cmocka_unit_test(test_aborted_change_leaves_the_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
