/* ACPI PM1 block and PM timer: what a guest's ACPI driver sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "acpipm.h"

#define T0 1000000000ull

static void test_sci_en_reads_one_and_stays(void **state)
{
	struct acpipm_state s;
	struct acpipm_effect fx;

	acpipm_reset(&s, T0);
	assert_int_equal(acpipm_read(&s, ACPIPM_PM1_CNT, 2, T0), ACPIPM_SCI_EN);
	acpipm_write(&s, ACPIPM_PM1_CNT, 2, 0, T0, &fx);
	assert_int_equal(acpipm_read(&s, ACPIPM_PM1_CNT, 2, T0) & 1, 1);
	assert_false(fx.power_off);
}

static void test_slp_en_with_s5_powers_off(void **state)
{
	struct acpipm_state s;
	struct acpipm_effect fx;

	acpipm_reset(&s, T0);
	/* SLP_TYP alone does nothing; SLP_EN with another type neither. */
	acpipm_write(&s, ACPIPM_PM1_CNT, 2, 5 << 10, T0, &fx);
	assert_false(fx.power_off);
	acpipm_write(&s, ACPIPM_PM1_CNT, 2, (3 << 10) | (1 << 13), T0, &fx);
	assert_false(fx.power_off);
	acpipm_write(&s, ACPIPM_PM1_CNT, 2, (5 << 10) | (1 << 13), T0, &fx);
	assert_true(fx.power_off);
	/* SLP_EN reads back 0. */
	assert_int_equal(acpipm_read(&s, ACPIPM_PM1_CNT, 2, T0) & (1 << 13), 0);
	assert_true(acpipm_state_valid(&s));
}

static void test_pm_timer_counts_at_3579545_hz(void **state)
{
	struct acpipm_state s;
	uint32_t a, b;

	acpipm_reset(&s, T0);
	a = acpipm_read(&s, ACPIPM_PM_TMR, 4, T0 + 1000000);
	b = acpipm_read(&s, ACPIPM_PM_TMR, 4, T0 + 2000000);
	assert_int_equal(a, 3579);
	assert_int_equal(b - a, 3580);
	/* 24 bits: wraps after 2^24 ticks (4.69 s). */
	assert_true(acpipm_read(&s, ACPIPM_PM_TMR, 4, T0 + 5000000000ull) <
		    (1u << 24));
}

static void test_timer_carry_sets_tmr_sts_and_sci(void **state)
{
	struct acpipm_state s;
	struct acpipm_effect fx;
	uint64_t due;

	acpipm_reset(&s, T0);
	assert_int_equal(acpipm_deadline(&s), 0);
	acpipm_write(&s, ACPIPM_PM1_EN, 2, ACPIPM_TMR_EN, T0, &fx);
	due = acpipm_deadline(&s);
	/* 2^23 ticks at 3.579545 MHz: 2.343 s. */
	assert_true(due > T0 + 2343000000ull && due < T0 + 2344000000ull);
	assert_false(acpipm_tick(&s, due - 1000));
	assert_true(acpipm_tick(&s, due));
	assert_true(acpipm_sci(&s));
	/* Write 1 to clear. */
	acpipm_write(&s, ACPIPM_PM1_STS, 2, ACPIPM_TMR_STS, due, &fx);
	assert_false(acpipm_sci(&s));
	assert_true(acpipm_deadline(&s) > due);
}

static void test_disabled_timer_event_raises_no_sci(void **state)
{
	struct acpipm_state s;

	acpipm_reset(&s, T0);
	assert_false(acpipm_tick(&s, T0 + 10000000000ull));
	assert_false(acpipm_sci(&s));
}

static void test_byte_accesses_and_other_ports(void **state)
{
	struct acpipm_state s;
	struct acpipm_effect fx;

	acpipm_reset(&s, T0);
	acpipm_write(&s, ACPIPM_PM1_EN + 1, 1, 0x01, T0, &fx); /* PWRBTN_EN */
	assert_int_equal(acpipm_read(&s, ACPIPM_PM1_EN, 2, T0),
			 ACPIPM_PWRBTN_EN);
	assert_int_equal(acpipm_read(&s, ACPIPM_BASE + 12, 1, T0), 0xff);
	assert_true(acpipm_state_valid(&s));
	s.cnt = 0;
	assert_false(acpipm_state_valid(&s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sci_en_reads_one_and_stays),
		cmocka_unit_test(test_slp_en_with_s5_powers_off),
		cmocka_unit_test(test_pm_timer_counts_at_3579545_hz),
		cmocka_unit_test(test_timer_carry_sets_tmr_sts_and_sci),
		cmocka_unit_test(test_disabled_timer_event_raises_no_sci),
		cmocka_unit_test(test_byte_accesses_and_other_ports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
