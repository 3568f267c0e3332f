/*
 * Unit tests for the MC146818A RTC and CMOS model (device-procs/rtc/rtc.c):
 * the time of day in every format, setting it, UIP, periodic, update-ended
 * and alarm interrupts, register C, catch-up after a gap, the CMOS memory
 * layout and the state check. Section names refer to the MC146818A
 * datasheet.
 *
 * The host clocks start at MONO0 and REAL0 (2024-02-29 13:45:30.25 UTC, a
 * Thursday) and advance together: now(dt) gives both dt ns later.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rtc.h"

#define NSEC 1000000000ull
#define MSEC 1000000ull
#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)
#define MONO0 (5000 * NSEC)
#define REAL0 (1709214330ull * NSEC + 250 * MSEC)

static int rtc_setup(void **state)
{
	struct rtc_state *s = test_malloc(sizeof(*s));

	rtc_reset(s, 128 * MIB, 128 * MIB, 1, MONO0, REAL0);
	*state = s;
	return 0;
}

static int rtc_teardown(void **state)
{
	test_free(*state);
	return 0;
}

static uint8_t rd(struct rtc_state *s, uint8_t idx, uint64_t dt)
{
	rtc_write(s, RTC_PORT_INDEX, idx, MONO0 + dt, REAL0 + dt);
	return rtc_read(s, RTC_PORT_DATA, MONO0 + dt, REAL0 + dt);
}

static void wr(struct rtc_state *s, uint8_t idx, uint8_t val, uint64_t dt)
{
	rtc_write(s, RTC_PORT_INDEX, idx, MONO0 + dt, REAL0 + dt);
	rtc_write(s, RTC_PORT_DATA, val, MONO0 + dt, REAL0 + dt);
}

/* The caller's loop: tick at each deadline until end, taking every
 * interrupt (reading register C) as a guest handler does. */
static unsigned count_irqs(struct rtc_state *s, uint64_t end, uint8_t flag)
{
	unsigned n = 0;
	uint64_t t;

	while ((t = rtc_deadline(s)) && t <= MONO0 + end) {
		rtc_tick(s, t, t - MONO0 + REAL0);
		if (rtc_irq(s))
			n += !!(rd(s, RTC_REG_C, t - MONO0) & flag);
	}
	return n;
}

/* ---- Reset and time of day ---- */

static void test_reset_is_valid_with_pc_bios_registers(void **state)
{
	struct rtc_state *s = *state;

	assert_true(rtc_state_valid(s));
	assert_int_equal(rd(s, RTC_REG_A, 0), 0x26);
	assert_int_equal(rd(s, RTC_REG_B, 0), RTC_B_24H);
	assert_int_equal(rd(s, RTC_REG_C, 0), 0);
	assert_int_equal(rd(s, RTC_REG_D, 0), RTC_D_VRT);
	assert_false(rtc_irq(s));
	assert_int_equal(rtc_deadline(s), 0);
}

static void test_time_matches_now_real_in_bcd(void **state)
{
	struct rtc_state *s = *state;

	assert_int_equal(rd(s, RTC_SECONDS, 0), 0x30);
	assert_int_equal(rd(s, RTC_MINUTES, 0), 0x45);
	assert_int_equal(rd(s, RTC_HOURS, 0), 0x13);
	assert_int_equal(rd(s, RTC_DAY_OF_WEEK, 0), 5);
	assert_int_equal(rd(s, RTC_DAY_OF_MONTH, 0), 0x29);
	assert_int_equal(rd(s, RTC_MONTH, 0), 0x02);
	assert_int_equal(rd(s, RTC_YEAR, 0), 0x24);
	assert_int_equal(rd(s, RTC_CENTURY, 0), 0x20);
	assert_int_equal(rd(s, RTC_SECONDS, 749 * MSEC), 0x30);
	assert_int_equal(rd(s, RTC_SECONDS, 750 * MSEC), 0x31);
	assert_int_equal(rd(s, RTC_DAY_OF_MONTH, 37000 * NSEC), 0x01);
	assert_int_equal(rd(s, RTC_MONTH, 37000 * NSEC), 0x03);
}

static void test_time_matches_now_real_in_binary(void **state)
{
	struct rtc_state *s = *state;

	wr(s, RTC_REG_B, RTC_B_24H | RTC_B_DM, 0);
	assert_int_equal(rd(s, RTC_SECONDS, 0), 30);
	assert_int_equal(rd(s, RTC_MINUTES, 0), 45);
	assert_int_equal(rd(s, RTC_HOURS, 0), 13);
	assert_int_equal(rd(s, RTC_DAY_OF_MONTH, 0), 29);
	assert_int_equal(rd(s, RTC_YEAR, 0), 24);
	assert_int_equal(rd(s, RTC_CENTURY, 0), 20);
}

static void test_12_hour_mode_sets_pm_bit(void **state)
{
	struct rtc_state *s = *state;

	wr(s, RTC_REG_B, 0, 0);
	assert_int_equal(rd(s, RTC_HOURS, 0), RTC_HOURS_PM | 0x01);
	wr(s, RTC_REG_B, RTC_B_DM, 0);
	assert_int_equal(rd(s, RTC_HOURS, 0), RTC_HOURS_PM | 1);
	/* 00:05 is 12 AM. */
	rtc_reset(s, 128 * MIB, 128 * MIB, 1, MONO0, 1709165100ull * NSEC);
	rtc_write(s, RTC_PORT_INDEX, RTC_REG_B, MONO0, 1709165100ull * NSEC);
	rtc_write(s, RTC_PORT_DATA, 0, MONO0, 1709165100ull * NSEC);
	rtc_write(s, RTC_PORT_INDEX, RTC_HOURS, MONO0, 1709165100ull * NSEC);
	assert_int_equal(
		rtc_read(s, RTC_PORT_DATA, MONO0, 1709165100ull * NSEC), 0x12);
}

static void test_setting_time_under_set_moves_offset(void **state)
{
	struct rtc_state *s = *state;
	static const uint8_t set[][2] = {
		{ RTC_SECONDS, 0x58 }, { RTC_MINUTES, 0x59 },
		{ RTC_HOURS, 0x23 },   { RTC_DAY_OF_MONTH, 0x31 },
		{ RTC_MONTH, 0x12 },   { RTC_YEAR, 0x99 },
		{ RTC_CENTURY, 0x19 }, { RTC_DAY_OF_WEEK, 0x06 },
	};
	size_t i;

	wr(s, RTC_REG_B, RTC_B_SET | RTC_B_24H, 0);
	for (i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		wr(s, set[i][0], set[i][1], 0);
	/* Update cycles are inhibited: the registers hold still. */
	assert_int_equal(rd(s, RTC_SECONDS, 3 * NSEC), 0x58);
	assert_int_equal(rd(s, RTC_REG_A, NSEC - 100 * 1000) & RTC_A_UIP, 0);
	wr(s, RTC_REG_B, RTC_B_24H, 2 * NSEC);
	/* The divider kept its phase (.25 s): 23:59:58.25 at 2 s. */
	assert_int_equal(s->off_sec + 1709214332ll, 946684798ll);
	assert_int_equal(rd(s, RTC_SECONDS, 2749 * MSEC), 0x58);
	assert_int_equal(rd(s, RTC_SECONDS, 2750 * MSEC), 0x59);
	assert_int_equal(rd(s, RTC_DAY_OF_WEEK, 2750 * MSEC), 0x06);
	assert_int_equal(rd(s, RTC_YEAR, 3750 * MSEC), 0x00);
	assert_int_equal(rd(s, RTC_CENTURY, 3750 * MSEC), 0x20);
	assert_int_equal(rd(s, RTC_MONTH, 3750 * MSEC), 0x01);
	assert_int_equal(rd(s, RTC_DAY_OF_WEEK, 3750 * MSEC), 0x07);
}

static void test_writing_running_register_changes_that_field(void **state)
{
	struct rtc_state *s = *state;

	wr(s, RTC_MINUTES, 0x10, 0);
	assert_int_equal(rd(s, RTC_MINUTES, 0), 0x10);
	assert_int_equal(rd(s, RTC_HOURS, 0), 0x13);
	assert_int_equal(rd(s, RTC_SECONDS, 750 * MSEC), 0x31);
	assert_true(rtc_state_valid(s));
}

static void test_divider_release_starts_half_second_later(void **state)
{
	struct rtc_state *s = *state;

	wr(s, RTC_REG_A, 0x76, 0);
	wr(s, RTC_SECONDS, 0x00, 0);
	assert_int_equal(rd(s, RTC_SECONDS, 5 * NSEC), 0x00);
	wr(s, RTC_REG_A, 0x26, 5 * NSEC);
	assert_int_equal(rd(s, RTC_SECONDS, 5499 * MSEC), 0x00);
	assert_int_equal(rd(s, RTC_SECONDS, 5500 * MSEC), 0x01);
}

static void test_uip_is_set_in_last_244_us_before_update(void **state)
{
	struct rtc_state *s = *state;
	uint64_t edge = 750 * MSEC;

	assert_int_equal(rd(s, RTC_REG_A, 0) & RTC_A_UIP, 0);
	assert_int_equal(rd(s, RTC_REG_A, edge - 245000) & RTC_A_UIP, 0);
	assert_int_equal(rd(s, RTC_REG_A, edge - 244000) & RTC_A_UIP,
			 RTC_A_UIP);
	assert_int_equal(rd(s, RTC_REG_A, edge - 1) & 0x7f, 0x26);
	assert_int_equal(rd(s, RTC_REG_A, edge) & RTC_A_UIP, 0);
}

/* ---- Interrupts ---- */

static void test_periodic_rate_rs6_is_1024_hz(void **state)
{
	struct rtc_state *s = *state;
	unsigned n;

	wr(s, RTC_REG_B, RTC_B_PIE | RTC_B_24H, 0);
	n = count_irqs(s, NSEC, RTC_C_PF);
	assert_in_range(n, 1023, 1025);
	assert_int_equal(s->owed, 0);
}

static void test_periodic_edges_do_not_drift(void **state)
{
	struct rtc_state *s = *state;
	unsigned n;

	wr(s, RTC_REG_A, 0x23, 0); /* 8192 Hz */
	wr(s, RTC_REG_B, RTC_B_PIE | RTC_B_24H, 0);
	n = count_irqs(s, 20 * NSEC, RTC_C_PF);
	assert_in_range(n, 20 * 8192 - 1, 20 * 8192 + 1);
}

static void test_pf_is_set_without_pie_but_raises_no_irq(void **state)
{
	struct rtc_state *s = *state;

	rtc_tick(s, MONO0 + 2 * MSEC, REAL0 + 2 * MSEC);
	assert_false(rtc_irq(s));
	assert_int_equal(rd(s, RTC_REG_C, 2 * MSEC), RTC_C_PF);
	/* Enabling PIE with PF pending raises IRQF at once. */
	rtc_tick(s, MONO0 + 4 * MSEC, REAL0 + 4 * MSEC);
	wr(s, RTC_REG_B, RTC_B_PIE | RTC_B_24H, 4 * MSEC);
	assert_true(rtc_irq(s));
}

static void test_update_ended_interrupt_once_per_second(void **state)
{
	struct rtc_state *s = *state;

	wr(s, RTC_REG_B, RTC_B_UIE | RTC_B_24H, 0);
	assert_int_equal(rtc_deadline(s), MONO0 + 750 * MSEC);
	rtc_tick(s, MONO0 + 749 * MSEC, REAL0 + 749 * MSEC);
	assert_false(rtc_irq(s));
	rtc_tick(s, MONO0 + 750 * MSEC, REAL0 + 750 * MSEC);
	assert_true(rtc_irq(s));
	assert_int_equal(rd(s, RTC_REG_C, 750 * MSEC) & ~RTC_C_PF,
			 RTC_C_IRQF | RTC_C_UF);
	assert_int_equal(count_irqs(s, 5750 * MSEC, RTC_C_UF), 5);
}

static void test_register_c_read_clears_irqf(void **state)
{
	struct rtc_state *s = *state;

	wr(s, RTC_REG_B, RTC_B_UIE | RTC_B_24H, 0);
	rtc_tick(s, MONO0 + NSEC, REAL0 + NSEC);
	assert_true(rtc_irq(s));
	assert_int_equal(rd(s, RTC_REG_C, NSEC) & RTC_C_IRQF, RTC_C_IRQF);
	assert_false(rtc_irq(s));
	assert_int_equal(rd(s, RTC_REG_C, NSEC), 0);
}

static void test_set_bit_clears_uie_and_stops_updates(void **state)
{
	struct rtc_state *s = *state;

	wr(s, RTC_REG_B, RTC_B_UIE | RTC_B_24H, 0);
	wr(s, RTC_REG_B, RTC_B_SET | RTC_B_UIE | RTC_B_24H, 0);
	assert_int_equal(rd(s, RTC_REG_B, 0), RTC_B_SET | RTC_B_24H);
	rtc_tick(s, MONO0 + 3 * NSEC, REAL0 + 3 * NSEC);
	assert_int_equal(rd(s, RTC_REG_C, 3 * NSEC) & RTC_C_UF, 0);
}

static void test_alarm_interrupt_fires_at_alarm_time(void **state)
{
	struct rtc_state *s = *state;
	uint64_t at = 4750 * MSEC;

	wr(s, RTC_HOURS_ALARM, 0x13, 0);
	wr(s, RTC_MINUTES_ALARM, 0x45, 0);
	wr(s, RTC_SECONDS_ALARM, 0x35, 0);
	wr(s, RTC_REG_B, RTC_B_AIE | RTC_B_24H, 0);
	assert_int_equal(rtc_deadline(s), MONO0 + at);
	rtc_tick(s, MONO0 + at - NSEC, REAL0 + at - NSEC);
	assert_false(rtc_irq(s));
	assert_int_equal(rd(s, RTC_REG_C, at - NSEC) & ~RTC_C_PF, RTC_C_UF);
	rtc_tick(s, MONO0 + at, REAL0 + at);
	assert_true(rtc_irq(s));
	assert_int_equal(rd(s, RTC_REG_C, at) & ~RTC_C_PF,
			 RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
	/* Next match: the same time tomorrow. */
	assert_int_equal(rtc_deadline(s), MONO0 + at + 86400 * NSEC);
}

static void test_alarm_dont_care_bytes_match_every_second(void **state)
{
	struct rtc_state *s = *state;

	wr(s, RTC_HOURS_ALARM, 0xff, 0);
	wr(s, RTC_MINUTES_ALARM, RTC_ALARM_ANY, 0);
	wr(s, RTC_SECONDS_ALARM, RTC_ALARM_ANY, 0);
	wr(s, RTC_REG_B, RTC_B_AIE | RTC_B_24H, 0);
	assert_int_equal(count_irqs(s, 10750 * MSEC, RTC_C_AF), 11);
}

static void test_late_tick_owes_periodic_interrupts(void **state)
{
	struct rtc_state *s = *state;
	unsigned n;

	wr(s, RTC_REG_B, RTC_B_PIE | RTC_B_24H, 0);
	rtc_tick(s, MONO0 + 100 * MSEC, REAL0 + 100 * MSEC);
	assert_true(rtc_irq(s));
	assert_in_range(s->owed, 100, 102);
	n = !!(rd(s, RTC_REG_C, 100 * MSEC) & RTC_C_PF);
	/* The rest come min(period / 4, 1 ms) after each register C read. */
	assert_int_equal(rtc_deadline(s), MONO0 + 100 * MSEC + 976562 / 4);
	n += count_irqs(s, NSEC, RTC_C_PF);
	assert_in_range(n, 1023, 1025);
	assert_int_equal(s->owed, 0);
}

/* ---- CMOS memory ---- */

static void assert_cmos(struct rtc_state *s, uint8_t idx, uint8_t val)
{
	assert_int_equal(rd(s, idx, 0), val);
}

static void test_cmos_memory_bytes_for_128_mib(void **state)
{
	struct rtc_state *s = *state;

	assert_cmos(s, 0x14, 0x02);
	assert_cmos(s, 0x15, 0x80);
	assert_cmos(s, 0x16, 0x02);
	assert_cmos(s, 0x17, 0xff);
	assert_cmos(s, 0x18, 0xff);
	assert_cmos(s, 0x30, 0xff);
	assert_cmos(s, 0x31, 0xff);
	assert_cmos(s, 0x34, 0x00);
	assert_cmos(s, 0x35, 0x07);
	assert_cmos(s, 0x5b, 0x00);
	assert_cmos(s, 0x5c, 0x00);
	assert_cmos(s, 0x5d, 0x00);
	assert_cmos(s, 0x5f, 0x00);
}

static void test_cmos_memory_bytes_for_3_gib(void **state)
{
	struct rtc_state *s = *state;

	rtc_reset(s, 3 * GIB, 3 * GIB, 2, MONO0, REAL0);
	assert_cmos(s, 0x34, 0x00);
	assert_cmos(s, 0x35, 0xbf);
	assert_cmos(s, 0x5b, 0x00);
	assert_cmos(s, 0x5c, 0x00);
	assert_cmos(s, 0x5f, 0x01);
}

static void test_cmos_memory_bytes_for_6_gib_and_cpus(void **state)
{
	struct rtc_state *s = *state;

	rtc_reset(s, 6 * GIB, 3 * GIB, 8, MONO0, REAL0);
	assert_cmos(s, 0x17, 0xff);
	assert_cmos(s, 0x35, 0xbf);
	assert_cmos(s, 0x5b, 0x00);
	assert_cmos(s, 0x5c, 0xc0);
	assert_cmos(s, 0x5d, 0x00);
	assert_cmos(s, 0x5f, 0x07);
}

static void test_cmos_checksum_covers_0x10_to_0x2d(void **state)
{
	struct rtc_state *s = *state;
	unsigned i, sum = 0;

	for (i = 0x10; i < 0x2e; i++)
		sum += rd(s, (uint8_t)i, 0);
	assert_int_equal(rd(s, 0x2e, 0) << 8 | rd(s, 0x2f, 0), sum);
}

static void test_cmos_ram_keeps_bytes_and_nmi_bit(void **state)
{
	struct rtc_state *s = *state;

	wr(s, 0x80 | 0x40, 0x5a, 0);
	assert_int_equal(s->nmi_off, 1);
	assert_int_equal(rd(s, 0x40, 0), 0x5a);
	assert_int_equal(s->nmi_off, 0);
	assert_int_equal(rtc_read(s, RTC_PORT_INDEX, MONO0, REAL0), 0xff);
	wr(s, RTC_REG_D, 0, 0);
	assert_int_equal(rd(s, RTC_REG_D, 0), RTC_D_VRT);
}

/* ---- State check and fuzz ---- */

static void test_state_check_rejects_bad_fields(void **state)
{
	struct rtc_state *s = *state;
	struct rtc_state bad;

	assert_false(rtc_state_valid(NULL));
	bad = *s;
	bad.index = 0x80;
	assert_false(rtc_state_valid(&bad));
	bad = *s;
	bad.dow_off = 7;
	assert_false(rtc_state_valid(&bad));
	bad = *s;
	bad.off_nsec = (uint32_t)NSEC;
	assert_false(rtc_state_valid(&bad));
	bad = *s;
	bad.off_sec = INT64_MIN;
	assert_false(rtc_state_valid(&bad));
	bad = *s;
	bad.cmos[RTC_REG_A] |= RTC_A_UIP;
	assert_false(rtc_state_valid(&bad));
	bad = *s;
	bad.cmos[RTC_REG_C] = RTC_C_IRQF;
	assert_false(rtc_state_valid(&bad));
	bad = *s;
	bad.cmos[RTC_REG_D] = 0;
	assert_false(rtc_state_valid(&bad));
	bad = *s;
	bad.owed = RTC_OWED_MAX + 1;
	assert_false(rtc_state_valid(&bad));
	bad = *s;
	bad.pad[4] = 1;
	assert_false(rtc_state_valid(&bad));
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void test_fuzzed_accesses_keep_state_valid(void **state)
{
	struct rtc_state *s = *state;
	uint64_t x = 0x2545f4914f6cdd1dull, dt = 0, r, dl;
	unsigned i;

	for (i = 0; i < 200000; i++) {
		r = xorshift(&x);
		dt += r % 8 == 0 ? (r >> 20) % (10 * NSEC) : (r >> 8) % 50000;
		if (r & 0x100)
			rtc_write(s,
				  (r & 0x200) ? RTC_PORT_DATA : RTC_PORT_INDEX,
				  (uint8_t)(r >> 24), MONO0 + dt, REAL0 + dt);
		else
			(void)rtc_read(s, RTC_PORT_DATA, MONO0 + dt,
				       REAL0 + dt);
		dl = rtc_deadline(s);
		if (dl && dl <= MONO0 + dt + 1000) {
			dt = dl > MONO0 + dt ? dl - MONO0 : dt;
			rtc_tick(s, MONO0 + dt, REAL0 + dt);
		}
		assert_true(rtc_state_valid(s));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define RTC_TEST(f) cmocka_unit_test_setup_teardown(f, rtc_setup, rtc_teardown)
		RTC_TEST(test_reset_is_valid_with_pc_bios_registers),
		RTC_TEST(test_time_matches_now_real_in_bcd),
		RTC_TEST(test_time_matches_now_real_in_binary),
		RTC_TEST(test_12_hour_mode_sets_pm_bit),
		RTC_TEST(test_setting_time_under_set_moves_offset),
		RTC_TEST(test_writing_running_register_changes_that_field),
		RTC_TEST(test_divider_release_starts_half_second_later),
		RTC_TEST(test_uip_is_set_in_last_244_us_before_update),
		RTC_TEST(test_periodic_rate_rs6_is_1024_hz),
		RTC_TEST(test_periodic_edges_do_not_drift),
		RTC_TEST(test_pf_is_set_without_pie_but_raises_no_irq),
		RTC_TEST(test_update_ended_interrupt_once_per_second),
		RTC_TEST(test_register_c_read_clears_irqf),
		RTC_TEST(test_set_bit_clears_uie_and_stops_updates),
		RTC_TEST(test_alarm_interrupt_fires_at_alarm_time),
		RTC_TEST(test_alarm_dont_care_bytes_match_every_second),
		RTC_TEST(test_late_tick_owes_periodic_interrupts),
		RTC_TEST(test_cmos_memory_bytes_for_128_mib),
		RTC_TEST(test_cmos_memory_bytes_for_3_gib),
		RTC_TEST(test_cmos_memory_bytes_for_6_gib_and_cpus),
		RTC_TEST(test_cmos_checksum_covers_0x10_to_0x2d),
		RTC_TEST(test_cmos_ram_keeps_bytes_and_nmi_bit),
		RTC_TEST(test_state_check_rejects_bad_fields),
		RTC_TEST(test_fuzzed_accesses_keep_state_valid),
#undef RTC_TEST
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
