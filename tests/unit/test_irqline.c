/*
 * The IRQ-line page: devices sharing a line never undo each other, rising
 * edges are counted, and nothing moves when nothing changes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>

#include "irqline.h"

static void test_line_is_high_while_any_source_asserts_it(void **state)
{
	struct irq_page p;

	irq_page_init(&p);
	assert_int_equal(irq_line_set(&p, 11, 1u << 0, true), 0);
	assert_int_equal(irq_line_set(&p, 11, 1u << 3, true), 0);
	assert_true(irq_line_get(&p, 11));
	/* One device lowering its bit leaves the other's assertion. */
	assert_int_equal(irq_line_set(&p, 11, 1u << 0, false), 0);
	assert_true(irq_line_get(&p, 11));
	assert_int_equal(irq_line_set(&p, 11, 1u << 3, false), 0);
	assert_false(irq_line_get(&p, 11));
	assert_false(irq_line_get(&p, 10));
}

static void test_rising_edges_are_counted_once_per_pulse(void **state)
{
	struct irq_page p;
	int i;

	irq_page_init(&p);
	for (i = 0; i < 3; i++) {
		irq_line_set(&p, 0, 1, true);
		irq_line_set(&p, 0, 1, true); /* still high: no new edge */
		irq_line_set(&p, 0, 1, false);
	}
	assert_int_equal(atomic_load(&p.rises[0]), 3);
	/* A second source joining a high line is not an edge either. */
	irq_line_set(&p, 0, 1, true);
	irq_line_set(&p, 0, 2, true);
	assert_int_equal(atomic_load(&p.rises[0]), 4);
}

static void test_sequence_moves_only_on_a_change(void **state)
{
	struct irq_page p;
	uint32_t seq;

	irq_page_init(&p);
	irq_line_set(&p, 4, 1, true);
	seq = atomic_load(&p.seq);
	irq_line_set(&p, 4, 1, true);
	assert_int_equal(atomic_load(&p.seq), seq);
	irq_line_set(&p, 4, 1, false);
	assert_int_equal(atomic_load(&p.seq), seq + 1);
}

static void test_bad_line_or_source_is_refused(void **state)
{
	struct irq_page p;

	irq_page_init(&p);
	assert_int_equal(irq_line_set(&p, IRQ_LINES, 1, true), -EINVAL);
	assert_int_equal(irq_line_set(&p, 4, 0, true), -EINVAL);
	assert_false(irq_line_get(&p, IRQ_LINES));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_is_high_while_any_source_asserts_it),
		cmocka_unit_test(test_rising_edges_are_counted_once_per_pulse),
		cmocka_unit_test(test_sequence_moves_only_on_a_change),
		cmocka_unit_test(test_bad_line_or_source_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
