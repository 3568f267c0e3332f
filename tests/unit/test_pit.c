/*
 * Unit tests for the 8254 PIT model (device-procs/pit/pit.c): modes, the
 * access modes, latches, read-back, BCD, channel 2's gate through port
 * 0x61, the IRQ0 edge schedule (rate, drift, catch-up after a gap) and the
 * state check. Section names refer to the Intel 82C54 datasheet.
 *
 * Times are built from clock counts with at(), the same ceil(k * 1e9 / HZ)
 * the model uses, so "k clocks after the write" is exact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pit.h"

#define T0 1000000000ull /* an arbitrary, non-zero start time */
#define NSEC 1000000000ull
#define CW(sc, rw, m, bcd) ((sc) << 6 | (rw) << 4 | (m) << 1 | (bcd))

/* The time at which k clocks have passed since t0. */
static uint64_t at(uint64_t t0, uint64_t k)
{
	return t0 + (k * NSEC + PIT_CLOCK_HZ - 1) / PIT_CLOCK_HZ;
}

static int pit_setup(void **state)
{
	struct pit_state *s = test_malloc(sizeof(*s));

	pit_reset(s);
	*state = s;
	return 0;
}

static int pit_teardown(void **state)
{
	test_free(*state);
	return 0;
}

/* Control word, then a 16-bit count LSB first. */
static void program(struct pit_state *s, unsigned ch, unsigned mode,
		    unsigned bcd, uint16_t count, uint64_t t)
{
	pit_write(s, PIT_PORT_CTRL, CW(ch, PIT_RW_WORD, mode, bcd), t);
	pit_write(s, (uint16_t)(PIT_PORT_CH0 + ch), count & 0xff, t);
	pit_write(s, (uint16_t)(PIT_PORT_CH0 + ch), count >> 8, t);
}

static unsigned read_count(struct pit_state *s, unsigned ch, uint64_t t)
{
	uint16_t port = (uint16_t)(PIT_PORT_CH0 + ch);
	unsigned lsb = pit_read(s, port, t);

	return lsb | (unsigned)pit_read(s, port, t) << 8;
}

/* Run the caller's loop: tick at each deadline up to end. */
static unsigned run_until(struct pit_state *s, uint64_t end)
{
	unsigned edges = 0;
	uint64_t t;

	while ((t = pit_deadline(s)) && t <= end)
		edges += pit_tick(s, t);
	return edges;
}

/* ---- Reset ---- */

static void test_reset_is_valid_and_raises_no_irq(void **state)
{
	struct pit_state *s = *state;

	assert_true(pit_state_valid(s));
	assert_int_equal(pit_deadline(s), 0);
	assert_true(pit_out(s, 0, T0));
	assert_int_equal(pit_tick(s, T0), 0);
	assert_int_equal(pit_read(s, PIT_PORT_SYSCTL, T0) & 0x2f, PIT_SC_OUT2);
}

/* ---- Modes ---- */

static void test_mode2_count_1193_gives_1000_edges_per_second(void **state)
{
	struct pit_state *s = *state;
	unsigned edges;

	program(s, 0, 2, 0, 1193, T0);
	edges = run_until(s, T0 + NSEC);
	assert_in_range(edges, 999, 1001);
	assert_int_equal(s->owed, 0);
}

static void test_mode2_out_is_low_for_one_clock(void **state)
{
	struct pit_state *s = *state;

	program(s, 0, 2, 0, 10, T0);
	assert_true(pit_out(s, 0, at(T0, 8)));
	assert_false(pit_out(s, 0, at(T0, 9)));
	assert_true(pit_out(s, 0, at(T0, 10)));
	assert_false(pit_out(s, 0, at(T0, 19)));
	assert_int_equal(read_count(s, 0, at(T0, 3)), 7);
	assert_int_equal(pit_deadline(s), at(T0, 10));
}

static void test_mode3_even_count_is_square_wave(void **state)
{
	struct pit_state *s = *state;
	unsigned k;

	program(s, 0, 3, 0, 8, T0);
	for (k = 0; k < 24; k++)
		assert_int_equal(pit_out(s, 0, at(T0, k)), k % 8 < 4);
	assert_int_equal(read_count(s, 0, at(T0, 1)), 6);
	assert_int_equal(read_count(s, 0, at(T0, 5)), 6);
}

static void test_mode3_odd_count_is_high_one_clock_longer(void **state)
{
	struct pit_state *s = *state;
	unsigned k;

	program(s, 0, 3, 0, 5, T0);
	for (k = 0; k < 20; k++)
		assert_int_equal(pit_out(s, 0, at(T0, k)), k % 5 < 3);
	assert_int_equal(pit_deadline(s), at(T0, 5));
}

static void test_mode3_count_0_is_65536(void **state)
{
	struct pit_state *s = *state;

	program(s, 0, 3, 0, 0, T0);
	assert_true(pit_out(s, 0, at(T0, 32767)));
	assert_false(pit_out(s, 0, at(T0, 32768)));
	assert_int_equal(pit_deadline(s), at(T0, 65536));
}

static void test_mode0_out_rises_at_terminal_count(void **state)
{
	struct pit_state *s = *state;
	uint64_t tc = at(T0, 100);

	pit_write(s, PIT_PORT_CTRL, CW(0, PIT_RW_WORD, 0, 0), T0);
	assert_false(pit_out(s, 0, T0));
	pit_write(s, PIT_PORT_CH0, 100, T0);
	pit_write(s, PIT_PORT_CH0, 0, T0);
	assert_int_equal(pit_deadline(s), tc);
	assert_int_equal(pit_tick(s, tc - 1), 0);
	assert_false(pit_out(s, 0, tc - 1));
	assert_int_equal(pit_tick(s, tc), 1);
	assert_true(pit_out(s, 0, at(T0, 5000)));
	assert_int_equal(pit_deadline(s), 0);
	/* The counter wraps and keeps counting after terminal count. */
	assert_int_equal(read_count(s, 0, at(T0, 101)), 0xffff);
}

static void test_mode0_first_byte_stops_count_and_lowers_out(void **state)
{
	struct pit_state *s = *state;

	program(s, 0, 0, 0, 10, T0);
	assert_int_equal(pit_tick(s, at(T0, 20)), 1);
	assert_true(pit_out(s, 0, at(T0, 20)));
	pit_write(s, PIT_PORT_CH0, 50, at(T0, 20));
	assert_false(pit_out(s, 0, at(T0, 20)));
	assert_false(pit_out(s, 0, at(T0, 500)));
	pit_write(s, PIT_PORT_CH0, 0, at(T0, 500));
	assert_int_equal(pit_deadline(s), at(at(T0, 500), 50));
}

static void test_mode4_strobes_low_for_one_clock(void **state)
{
	struct pit_state *s = *state;

	program(s, 0, 4, 0, 10, T0);
	assert_true(pit_out(s, 0, at(T0, 9)));
	assert_false(pit_out(s, 0, at(T0, 10)));
	assert_true(pit_out(s, 0, at(T0, 11)));
	assert_int_equal(pit_deadline(s), at(T0, 11));
}

static void test_mode2_new_count_waits_for_end_of_period(void **state)
{
	struct pit_state *s = *state;

	program(s, 0, 2, 0, 100, T0);
	pit_write(s, PIT_PORT_CH0, 50, at(T0, 30));
	pit_write(s, PIT_PORT_CH0, 0, at(T0, 30));
	assert_int_equal(pit_deadline(s), at(T0, 100));
	assert_int_equal(pit_tick(s, at(T0, 100)), 1);
	assert_int_equal(pit_deadline(s), at(at(T0, 100), 50));
	assert_int_equal(read_count(s, 0, at(T0, 110)), 40);
}

static void test_control_word_raising_out0_is_an_edge(void **state)
{
	struct pit_state *s = *state;

	pit_write(s, PIT_PORT_CTRL, CW(0, PIT_RW_WORD, 0, 0), T0);
	assert_int_equal(pit_tick(s, T0), 0);
	pit_write(s, PIT_PORT_CTRL, CW(0, PIT_RW_WORD, 2, 0), T0 + 10);
	assert_int_equal(pit_deadline(s), T0 + 10);
	assert_int_equal(pit_tick(s, T0 + 10), 1);
}

/* ---- Access modes, latches, read-back ---- */

static void test_lsb_only_and_msb_only_access(void **state)
{
	struct pit_state *s = *state;

	pit_write(s, PIT_PORT_CTRL, CW(0, PIT_RW_LSB, 2, 0), T0);
	pit_write(s, PIT_PORT_CH0, 0x50, T0);
	assert_int_equal(pit_read(s, PIT_PORT_CH0, T0), 0x50);
	assert_int_equal(pit_read(s, PIT_PORT_CH0, at(T0, 1)), 0x4f);
	assert_int_equal(pit_deadline(s), at(T0, 0x50));

	pit_write(s, PIT_PORT_CTRL, CW(1, PIT_RW_MSB, 2, 0), T0);
	pit_write(s, PIT_PORT_CH1, 0x12, T0);
	assert_int_equal(pit_read(s, PIT_PORT_CH1, T0), 0x12);
	assert_int_equal(pit_read(s, PIT_PORT_CH1, at(T0, 0x101)), 0x10);
}

static void test_counter_latch_holds_count_until_read(void **state)
{
	struct pit_state *s = *state;

	program(s, 0, 2, 0, 1000, T0);
	pit_write(s, PIT_PORT_CTRL, CW(0, 0, 0, 0), at(T0, 100));
	/* "a second latch before the count is read is ignored" */
	pit_write(s, PIT_PORT_CTRL, CW(0, 0, 0, 0), at(T0, 200));
	assert_int_equal(read_count(s, 0, at(T0, 300)), 900);
	assert_int_equal(read_count(s, 0, at(T0, 300)), 700);
}

static void test_read_back_latches_status_then_count(void **state)
{
	struct pit_state *s = *state;
	uint8_t cw = CW(0, PIT_RW_WORD, 2, 0);

	pit_write(s, PIT_PORT_CTRL, cw, T0);
	/* Status only (COUNT bit set): OUT high, null count, RW/M/BCD. */
	pit_write(s, PIT_PORT_CTRL, 0xc0 | PIT_RB_COUNT | 0x02, T0);
	assert_int_equal(pit_read(s, PIT_PORT_CH0, T0),
			 PIT_ST_OUT | PIT_ST_NULL | cw);
	pit_write(s, PIT_PORT_CH0, 0x34, T0);
	pit_write(s, PIT_PORT_CH0, 0x12, T0);
	pit_write(s, PIT_PORT_CTRL, 0xc0 | 0x02, at(T0, 0x10));
	assert_int_equal(pit_read(s, PIT_PORT_CH0, at(T0, 0x100)),
			 PIT_ST_OUT | cw);
	assert_int_equal(read_count(s, 0, at(T0, 0x100)), 0x1234 - 0x10);
}

static void test_read_back_shows_null_count_until_loaded(void **state)
{
	struct pit_state *s = *state;

	program(s, 2, 3, 0, 100, T0);
	pit_write(s, PIT_PORT_CTRL, 0xc0 | PIT_RB_COUNT | 0x08, T0);
	assert_true(pit_read(s, PIT_PORT_CH2, T0) & PIT_ST_NULL);
	pit_write(s, PIT_PORT_SYSCTL, PIT_SC_GATE2, T0);
	pit_write(s, PIT_PORT_CTRL, 0xc0 | PIT_RB_COUNT | 0x08, at(T0, 1));
	assert_false(pit_read(s, PIT_PORT_CH2, at(T0, 1)) & PIT_ST_NULL);
}

static void test_bcd_counts_in_decades(void **state)
{
	struct pit_state *s = *state;

	program(s, 0, 2, 1, 0x1000, T0);
	assert_int_equal(pit_deadline(s), at(T0, 1000));
	assert_int_equal(read_count(s, 0, at(T0, 1)), 0x0999);
	assert_int_equal(read_count(s, 0, at(T0, 1001)), 0x0999);

	pit_reset(s);
	program(s, 0, 2, 1, 0, T0);
	assert_int_equal(pit_deadline(s), at(T0, 10000));
	assert_int_equal(read_count(s, 0, at(T0, 1)), 0x9999);
}

/* ---- Channel 2 and port 0x61 ---- */

static void test_channel2_gate_comes_from_port_61(void **state)
{
	struct pit_state *s = *state;
	uint64_t g = at(T0, 2000);

	program(s, 2, 0, 0, 1000, T0);
	assert_int_equal(pit_read(s, PIT_PORT_SYSCTL, g) & PIT_SC_OUT2, 0);
	assert_int_equal(read_count(s, 2, g), 1000);
	pit_write(s, PIT_PORT_SYSCTL, PIT_SC_GATE2 | PIT_SC_SPEAKER, g);
	assert_int_equal(pit_read(s, PIT_PORT_SYSCTL, g) & 0x03, 0x03);
	assert_int_equal(pit_read(s, PIT_PORT_SYSCTL, at(g, 999)) & 0x20, 0);
	assert_int_equal(pit_read(s, PIT_PORT_SYSCTL, at(g, 1000)) & 0x20,
			 PIT_SC_OUT2);
	/* Channel 2 never drives IRQ0. */
	assert_int_equal(pit_deadline(s), 0);
}

static void test_channel2_gate_low_holds_mode0_count(void **state)
{
	struct pit_state *s = *state;
	uint64_t off = at(T0, 300);

	pit_write(s, PIT_PORT_SYSCTL, PIT_SC_GATE2, T0);
	program(s, 2, 0, 0, 1000, T0);
	pit_write(s, PIT_PORT_SYSCTL, 0, off);
	assert_int_equal(read_count(s, 2, at(T0, 5000)), 700);
	pit_write(s, PIT_PORT_SYSCTL, PIT_SC_GATE2, at(T0, 5000));
	assert_false(pit_out(s, 2, at(at(T0, 5000), 699)));
	assert_true(pit_out(s, 2, at(at(T0, 5000), 700)));
}

static void test_channel2_mode3_gate_low_forces_out_high(void **state)
{
	struct pit_state *s = *state;

	pit_write(s, PIT_PORT_SYSCTL, PIT_SC_GATE2, T0);
	program(s, 2, 3, 0, 100, T0);
	assert_false(pit_out(s, 2, at(T0, 60)));
	pit_write(s, PIT_PORT_SYSCTL, 0, at(T0, 60));
	assert_true(pit_out(s, 2, at(T0, 60)));
	assert_true(pit_out(s, 2, at(T0, 500)));
	/* A trigger restarts the square wave from its beginning. */
	pit_write(s, PIT_PORT_SYSCTL, PIT_SC_GATE2, at(T0, 500));
	assert_true(pit_out(s, 2, at(at(T0, 500), 49)));
	assert_false(pit_out(s, 2, at(at(T0, 500), 50)));
}

static void test_channel2_mode1_one_shot_starts_on_trigger(void **state)
{
	struct pit_state *s = *state;
	uint64_t trig = at(T0, 50);

	program(s, 2, 1, 0, 10, T0);
	assert_true(pit_out(s, 2, at(T0, 20)));
	pit_write(s, PIT_PORT_SYSCTL, PIT_SC_GATE2, trig);
	assert_false(pit_out(s, 2, trig));
	assert_false(pit_out(s, 2, at(trig, 9)));
	assert_true(pit_out(s, 2, at(trig, 10)));
}

static void test_refresh_bit_toggles_every_18_clocks(void **state)
{
	struct pit_state *s = *state;
	uint8_t a = pit_read(s, PIT_PORT_SYSCTL, at(0, 18 * 1000));
	uint8_t b = pit_read(s, PIT_PORT_SYSCTL, at(0, 18 * 1001));
	uint8_t c = pit_read(s, PIT_PORT_SYSCTL, at(0, 18 * 1002));

	assert_int_equal((a ^ b) & PIT_SC_REFRESH, PIT_SC_REFRESH);
	assert_int_equal(a & PIT_SC_REFRESH, c & PIT_SC_REFRESH);
	assert_int_equal(pit_read(s, PIT_PORT_CTRL, T0), 0xff);
}

/* ---- IRQ0 schedule ---- */

static void test_late_tick_delivers_owed_edges_quickly(void **state)
{
	struct pit_state *s = *state;
	uint64_t late = at(T0, 50 * 1193);
	uint64_t gap = (1193 * NSEC / PIT_CLOCK_HZ) / 4;
	unsigned edges;

	program(s, 0, 2, 0, 1193, T0);
	assert_int_equal(pit_tick(s, late), 1);
	assert_int_equal(s->owed, 49);
	assert_in_range(pit_deadline(s), late + gap - 1, late + gap + 1);
	assert_int_equal(pit_tick(s, late + 1000), 0);
	/* Caught up long before the second is over, with every edge. */
	edges = 1 + run_until(s, at(T0, 200 * 1193));
	assert_int_equal(s->owed, 0);
	assert_int_equal(edges, 200);
	assert_int_equal(pit_deadline(s), at(T0, 201 * 1193));
}

static void test_owed_edges_are_capped(void **state)
{
	struct pit_state *s = *state;

	program(s, 0, 2, 0, 100, T0);
	assert_int_equal(pit_tick(s, at(T0, 100 * 5000)), 1);
	assert_int_equal(s->owed, PIT_OWED_MAX - 1);
	assert_true(pit_state_valid(s));
}

static void test_edges_do_not_drift_over_a_million_periods(void **state)
{
	struct pit_state *s = *state;
	uint64_t t = 0, n = 0;

	program(s, 0, 2, 0, 1193, T0);
	while (n < 1000000) {
		t = pit_deadline(s);
		assert_int_equal(pit_tick(s, t), 1);
		n++;
	}
	assert_int_equal(t, at(T0, 1000000ull * 1193));
	assert_int_equal(s->owed, 0);
}

/* ---- State check and fuzz ---- */

static void test_state_check_rejects_bad_fields(void **state)
{
	struct pit_state *s = *state;
	struct pit_state bad;

	program(s, 0, 2, 0, 1193, T0);
	assert_true(pit_state_valid(s));
	assert_false(pit_state_valid(NULL));
	bad = *s;
	bad.ch[1].mode = 8;
	assert_false(pit_state_valid(&bad));
	bad = *s;
	bad.ch[0].rw = 0;
	assert_false(pit_state_valid(&bad));
	bad = *s;
	bad.ch[0].n = 0;
	assert_false(pit_state_valid(&bad));
	bad = *s;
	bad.ch[0].gate = 0;
	assert_false(pit_state_valid(&bad));
	bad = *s;
	bad.ch[2].counting = 1;
	assert_false(pit_state_valid(&bad));
	bad = *s;
	bad.ch[0].ol_bytes = 3;
	assert_false(pit_state_valid(&bad));
	bad = *s;
	bad.owed = PIT_OWED_MAX + 1;
	assert_false(pit_state_valid(&bad));
	bad = *s;
	bad.pad[2] = 1;
	assert_false(pit_state_valid(&bad));
	bad = *s;
	bad.ch[0].sw_ns = T0;
	bad.ch[0].mode = 0;
	assert_false(pit_state_valid(&bad));
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
	static const uint16_t ports[] = { 0x40, 0x41, 0x42, 0x43, 0x61, 0x44 };
	struct pit_state *s = *state;
	uint64_t x = 0x9e3779b97f4a7c15ull, t = T0, r, dl;
	unsigned i;

	for (i = 0; i < 200000; i++) {
		r = xorshift(&x);
		t += r % 4 == 0 ? r >> 40 : (r >> 8) % 5000;
		if (r & 0x10)
			pit_write(s, ports[(r >> 5) % 6], (uint8_t)(r >> 16),
				  t);
		else
			(void)pit_read(s, ports[(r >> 5) % 6], t);
		dl = pit_deadline(s);
		if (dl && dl <= t + 1000) {
			t = dl > t ? dl : t;
			assert_in_range(pit_tick(s, t), 0, 1);
		}
		assert_true(pit_state_valid(s));
	}
}

static void test_flush_gives_every_owed_edge_at_once(void **state)
{
	struct pit_state s;
	uint64_t t = 1000000000ull;

	pit_reset(&s);
	pit_write(&s, PIT_PORT_CTRL, 0x34, t); /* ch0, LSB+MSB, mode 2 */
	pit_write(&s, PIT_PORT_CH0, 1193 & 0xff, t);
	pit_write(&s, PIT_PORT_CH0, 1193 >> 8, t);
	/* 5 ms of 1 kHz nobody looked at: 5 edges, all now. */
	assert_int_equal(pit_flush(&s, t + 5000000), 5);
	assert_int_equal(pit_flush(&s, t + 5000000), 0);
	assert_int_equal(pit_tick(&s, t + 5000000), 0);
	assert_true(pit_deadline(&s) > t + 5000000);
	assert_true(pit_state_valid(&s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flush_gives_every_owed_edge_at_once),
#define PIT_TEST(f) cmocka_unit_test_setup_teardown(f, pit_setup, pit_teardown)
		PIT_TEST(test_reset_is_valid_and_raises_no_irq),
		PIT_TEST(test_mode2_count_1193_gives_1000_edges_per_second),
		PIT_TEST(test_mode2_out_is_low_for_one_clock),
		PIT_TEST(test_mode3_even_count_is_square_wave),
		PIT_TEST(test_mode3_odd_count_is_high_one_clock_longer),
		PIT_TEST(test_mode3_count_0_is_65536),
		PIT_TEST(test_mode0_out_rises_at_terminal_count),
		PIT_TEST(test_mode0_first_byte_stops_count_and_lowers_out),
		PIT_TEST(test_mode4_strobes_low_for_one_clock),
		PIT_TEST(test_mode2_new_count_waits_for_end_of_period),
		PIT_TEST(test_control_word_raising_out0_is_an_edge),
		PIT_TEST(test_lsb_only_and_msb_only_access),
		PIT_TEST(test_counter_latch_holds_count_until_read),
		PIT_TEST(test_read_back_latches_status_then_count),
		PIT_TEST(test_read_back_shows_null_count_until_loaded),
		PIT_TEST(test_bcd_counts_in_decades),
		PIT_TEST(test_channel2_gate_comes_from_port_61),
		PIT_TEST(test_channel2_gate_low_holds_mode0_count),
		PIT_TEST(test_channel2_mode3_gate_low_forces_out_high),
		PIT_TEST(test_channel2_mode1_one_shot_starts_on_trigger),
		PIT_TEST(test_refresh_bit_toggles_every_18_clocks),
		PIT_TEST(test_late_tick_delivers_owed_edges_quickly),
		PIT_TEST(test_owed_edges_are_capped),
		PIT_TEST(test_edges_do_not_drift_over_a_million_periods),
		PIT_TEST(test_state_check_rejects_bad_fields),
		PIT_TEST(test_fuzzed_accesses_keep_state_valid),
#undef PIT_TEST
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
