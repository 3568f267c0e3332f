/*
 * Unit tests for the local APIC timer (device-procs/lapic/lapic_timer.c):
 * one-shot and periodic modes, the divide configuration, the current
 * count at given times, expiries that never drift, catching up after the
 * device process was away, masking and stopping.
 *
 * The timer counts at 1 GHz / divisor. Helpers are in lapic_test.h;
 * section numbers refer to the Intel SDM vol. 3A, chapter 11.
 */
#include "lapic_test.h"

#define LVT_TIMER LAPIC_REG_LVT
#define VEC 0x40
#define DIV1 0xb /* Figure 11-10: 1011b divides by 1 */
#define MS 1000000ull

static void timer_start(struct lapic_test *t, uint32_t lvt, uint32_t tdcr,
			uint32_t count)
{
	enable(t, 0);
	wr(t, 0, LVT_TIMER, lvt);
	wr(t, 0, LAPIC_REG_TIMER_DIVIDE, tdcr);
	wr(t, 0, LAPIC_REG_TIMER_INITIAL, count);
}

static uint32_t current(struct lapic_test *t, uint64_t now)
{
	return rd_at(t, 0, LAPIC_REG_TIMER_CURRENT, now);
}

/* The guest takes the timer interrupt and ends it. */
static void take(struct lapic_test *t)
{
	accept(t, 0, LAPIC_ACCEPT_INTR, VEC);
	wr(t, 0, LAPIC_REG_EOI, 0);
}

static void test_one_shot_counts_down_and_fires_once(void **state)
{
	struct lapic_test *t = *state;

	timer_start(t, VEC, DIV1, 1000);
	assert_int_equal(current(t, T0), 1000);
	assert_int_equal(current(t, T0 + 250), 750);
	assert_int_equal(lapic_deadline(&t->cpu[0]), T0 + 1000);
	tick(t, 0, T0 + 999);
	assert_false(irr_has(t, 0, VEC));
	tick(t, 0, T0 + 1000);
	assert_offers(t, 0, VEC);
	/* 11.5.4: the count stays at 0; the initial count reads back. */
	assert_int_equal(lapic_deadline(&t->cpu[0]), 0);
	assert_int_equal(current(t, T0 + 5000), 0);
	assert_int_equal(rd(t, 0, LAPIC_REG_TIMER_INITIAL), 1000);
	take(t);
	tick(t, 0, T0 + 100000);
	assert_false(irr_has(t, 0, VEC));
	assert_all_valid(t);
}

static void test_periodic_count_follows_each_divide_value(void **state)
{
	static const uint32_t tdcr[8] = {
		0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xa, 0xb
	};
	static const uint64_t div[8] = { 2, 4, 8, 16, 32, 64, 128, 1 };
	struct lapic_test *t = *state;
	uint64_t d, p;
	unsigned i;

	for (i = 0; i < 8; i++) {
		lapic_reset(&t->cpu[0], 0);
		d = div[i];
		p = 1000000 * d;
		timer_start(t, LAPIC_LVT_PERIODIC | VEC, tdcr[i], 1000000);
		assert_int_equal(rd(t, 0, LAPIC_REG_TIMER_DIVIDE), tdcr[i]);
		assert_int_equal(current(t, T0), 1000000);
		assert_int_equal(current(t, T0 + 250000 * d), 750000);
		assert_int_equal(current(t, T0 + 250000 * d + d - 1), 750000);
		assert_int_equal(lapic_deadline(&t->cpu[0]), T0 + p);
		/* Into the next period before the tick has run: reloaded. */
		assert_int_equal(current(t, T0 + p + 100 * d), 999900);
		tick(t, 0, T0 + p + 100 * d);
		assert_offers(t, 0, VEC);
		assert_int_equal(lapic_deadline(&t->cpu[0]), T0 + 2 * p);
		assert_int_equal(current(t, T0 + p + 100 * d), 999900);
		assert_true(lapic_cpu_valid(&t->cpu[0]));
	}
}

static void test_periodic_expiries_never_drift(void **state)
{
	struct lapic_test *t = *state;
	uint64_t p = MS, k;

	timer_start(t, LAPIC_LVT_PERIODIC | VEC, DIV1, MS);
	for (k = 1; k <= 20; k++) {
		/* The process wakes up to 0.9 ms late each time. */
		tick(t, 0, T0 + k * p + (k * 45000) % 900000);
		assert_offers(t, 0, VEC);
		take(t);
		assert_int_equal(lapic_deadline(&t->cpu[0]), T0 + (k + 1) * p);
	}
	assert_all_valid(t);
}

static void test_periodic_catch_up_after_long_gap(void **state)
{
	struct lapic_test *t = *state;
	uint64_t p = MS, now = T0 + 10 * p + 500, d;
	unsigned n = 0;

	timer_start(t, LAPIC_LVT_PERIODIC | VEC, DIV1, MS);
	/* Ten expiries passed while the process was dead: one now... */
	tick(t, 0, now);
	assert_offers(t, 0, VEC);
	assert_int_equal(t->cpu[0].timer_owed, 9);
	assert_int_equal(lapic_deadline(&t->cpu[0]), now + p / 8);
	/* ...the next waits for the next expiry while the guest has not
	 * taken this one... */
	tick(t, 0, now + p / 8);
	assert_int_equal(t->cpu[0].timer_owed, 9);
	assert_int_equal(lapic_deadline(&t->cpu[0]), T0 + 11 * p);
	/* ...and none is lost: 14 interrupts for 14 periods. */
	for (;;) {
		if (irr_has(t, 0, VEC)) {
			take(t);
			n++;
		}
		d = lapic_deadline(&t->cpu[0]);
		if (d > T0 + 14 * p)
			break;
		now = d;
		tick(t, 0, now);
		assert_true(lapic_cpu_valid(&t->cpu[0]));
	}
	assert_int_equal(n, 14);
	assert_int_equal(t->cpu[0].timer_owed, 0);
	assert_int_equal(lapic_deadline(&t->cpu[0]), T0 + 15 * p);
}

static void test_owed_ticks_come_a_period_eighth_apart(void **state)
{
	struct lapic_test *t = *state;
	uint64_t p = MS, now = T0 + 4 * p;

	timer_start(t, LAPIC_LVT_PERIODIC | VEC, DIV1, MS);
	tick(t, 0, now);
	assert_int_equal(t->cpu[0].timer_owed, 3);
	take(t);
	tick(t, 0, now + p / 8);
	assert_offers(t, 0, VEC);
	assert_int_equal(t->cpu[0].timer_owed, 2);
	assert_int_equal(lapic_deadline(&t->cpu[0]), now + p / 4);
	assert_all_valid(t);
}

static void test_masked_timer_counts_but_raises_nothing(void **state)
{
	struct lapic_test *t = *state;

	timer_start(t, LAPIC_LVT_MASKED | LAPIC_LVT_PERIODIC | VEC, DIV1, MS);
	assert_int_equal(current(t, T0 + MS / 2), MS / 2);
	tick(t, 0, T0 + MS);
	tick(t, 0, T0 + 50 * MS + 1);
	assert_false(irr_has(t, 0, VEC));
	assert_int_equal(t->cpu[0].timer_owed, 0);
	assert_int_equal(lapic_deadline(&t->cpu[0]), T0 + 51 * MS);
	/* Unmasked, the next expiry is delivered again. */
	wr_at(t, 0, LVT_TIMER, LAPIC_LVT_PERIODIC | VEC, T0 + 50 * MS + 2);
	tick(t, 0, T0 + 51 * MS);
	assert_offers(t, 0, VEC);
	assert_all_valid(t);
}

static void test_initial_count_zero_stops_the_timer(void **state)
{
	struct lapic_test *t = *state;

	timer_start(t, LAPIC_LVT_PERIODIC | VEC, DIV1, MS);
	wr_at(t, 0, LAPIC_REG_TIMER_INITIAL, 0, T0 + 10);
	assert_int_equal(lapic_deadline(&t->cpu[0]), 0);
	assert_int_equal(current(t, T0 + 20), 0);
	tick(t, 0, T0 + 2 * MS);
	assert_false(irr_has(t, 0, VEC));
	assert_all_valid(t);
}

static void test_divide_change_rescales_running_count(void **state)
{
	struct lapic_test *t = *state;

	timer_start(t, VEC, DIV1, 1000);
	assert_int_equal(current(t, T0 + 400), 600);
	wr_at(t, 0, LAPIC_REG_TIMER_DIVIDE, 0x0, T0 + 400); /* divide by 2 */
	assert_int_equal(current(t, T0 + 400), 600);
	assert_int_equal(current(t, T0 + 600), 500);
	assert_int_equal(lapic_deadline(&t->cpu[0]), T0 + 1600);
	tick(t, 0, T0 + 1600);
	assert_offers(t, 0, VEC);
	assert_all_valid(t);
}

static void test_mode_change_does_not_restart_count(void **state)
{
	struct lapic_test *t = *state;

	timer_start(t, LAPIC_LVT_PERIODIC | VEC, DIV1, MS);
	/* 11.5.4: periodic to one-shot: this count-down is the last. */
	wr_at(t, 0, LVT_TIMER, VEC, T0 + 100);
	assert_int_equal(current(t, T0 + 100), MS - 100);
	tick(t, 0, T0 + MS);
	assert_offers(t, 0, VEC);
	assert_int_equal(lapic_deadline(&t->cpu[0]), 0);
	/* Back to periodic does not start a stopped timer. */
	wr_at(t, 0, LVT_TIMER, LAPIC_LVT_PERIODIC | VEC, T0 + MS + 1);
	assert_int_equal(lapic_deadline(&t->cpu[0]), 0);
	assert_all_valid(t);
}

static void test_short_periodic_is_held_to_minimum_period(void **state)
{
	struct lapic_test *t = *state;

	timer_start(t, LAPIC_LVT_PERIODIC | VEC, DIV1, 10);
	assert_int_equal(lapic_deadline(&t->cpu[0]),
			 T0 + LAPIC_TIMER_MIN_PERIOD_NS);
	assert_int_equal(current(t, T0 + 100), 10);
	/* One-shot timers are not held back. */
	wr(t, 0, LVT_TIMER, VEC);
	wr(t, 0, LAPIC_REG_TIMER_INITIAL, 10);
	assert_int_equal(lapic_deadline(&t->cpu[0]), T0 + 10);
	assert_all_valid(t);
}

static void test_register_write_delivers_a_due_expiry_first(void **state)
{
	struct lapic_test *t = *state;

	timer_start(t, VEC, DIV1, 1000);
	/* The tick has not run yet when the guest restarts the timer. */
	wr_at(t, 0, LAPIC_REG_TIMER_INITIAL, 1000, T0 + 2000);
	assert_offers(t, 0, VEC);
	assert_int_equal(lapic_deadline(&t->cpu[0]), T0 + 3000);
	assert_all_valid(t);
}

static void test_software_disable_masks_a_running_timer(void **state)
{
	struct lapic_test *t = *state;

	timer_start(t, LAPIC_LVT_PERIODIC | VEC, DIV1, MS);
	tick(t, 0, T0 + 5 * MS); /* owes 4 */
	assert_int_equal(t->cpu[0].timer_owed, 4);
	wr_at(t, 0, LAPIC_REG_SVR, 0xff, T0 + 5 * MS + 1);
	assert_int_equal(t->cpu[0].timer_owed, 0);
	assert_int_equal(lapic_deadline(&t->cpu[0]), T0 + 6 * MS);
	assert_all_valid(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LAPIC_TEST(test_one_shot_counts_down_and_fires_once),
		LAPIC_TEST(test_periodic_count_follows_each_divide_value),
		LAPIC_TEST(test_periodic_expiries_never_drift),
		LAPIC_TEST(test_periodic_catch_up_after_long_gap),
		LAPIC_TEST(test_owed_ticks_come_a_period_eighth_apart),
		LAPIC_TEST(test_masked_timer_counts_but_raises_nothing),
		LAPIC_TEST(test_initial_count_zero_stops_the_timer),
		LAPIC_TEST(test_divide_change_rescales_running_count),
		LAPIC_TEST(test_mode_change_does_not_restart_count),
		LAPIC_TEST(test_short_periodic_is_held_to_minimum_period),
		LAPIC_TEST(test_register_write_delivers_a_due_expiry_first),
		LAPIC_TEST(test_software_disable_masks_a_running_timer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
