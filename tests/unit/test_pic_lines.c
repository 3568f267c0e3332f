/*
 * Unit tests for the 8259A PIC model (device-procs/pic/pic.c): the inputs
 * from the IRQ-line page. Edge detection from levels and rise counts, the
 * catch-up of edges counted while the process was away, level-triggered
 * lines (ELCR and ICW1 LTIM), and random sequences that must keep the
 * state valid.
 *
 * Helpers and the setup shared with the other test_pic_*.c files are in
 * pic_test.h. Section names refer to the Intel 8259A datasheet.
 */
#include "pic_test.h"

/* Acknowledge and end one interrupt the way Linux does; returns the line. */
static int take_and_eoi(struct pic_state *s)
{
	uint8_t vector = take(s);

	if (vector >= SLAVE_BASE && vector < SLAVE_BASE + 8) {
		wr(s, PIC_SLAVE_CMD, NS_EOI);
		wr(s, PIC_MASTER_CMD, NS_EOI);
		return vector - SLAVE_BASE + 8;
	}
	assert_in_range(vector, MASTER_BASE, MASTER_BASE + 7);
	wr(s, PIC_MASTER_CMD, NS_EOI);
	return vector - MASTER_BASE;
}

/* ---- Edge-triggered lines ---- */

static void test_edge_line_held_high_requests_once(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	line_set(t, 4, true);
	assert_int_equal(take_and_eoi(s), 4);
	pic_set_lines(s, t->levels, t->rises); /* still high, no new rise */
	assert_false(pic_intr(s));
	line_set(t, 4, false);
	assert_false(pic_intr(s));
	line_set(t, 4, true);
	assert_int_equal(take_and_eoi(s), 4);
}

/* The request stays latched after the line falls (QEMU and KVM alike). */
static void test_edge_request_survives_line_falling(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	edge(t, 6);
	assert_int_equal(t->levels, 0);
	assert_int_equal(take(s), 0x26);
}

static void test_pulse_seen_only_through_rises(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	pulses(t, 3, 1);
	assert_int_equal(t->levels, 0);
	assert_int_equal(take_and_eoi(s), 3);
	assert_false(pic_intr(s));
	assert_int_equal(s->owed[3], 0);
}

/* No rise counts from the caller: level changes alone are edges. */
static void test_set_lines_without_rises_uses_levels(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	pic_set_lines(s, 1u << 9, NULL);
	assert_int_equal(take_and_eoi(s), 9);
	pic_set_lines(s, 1u << 9, NULL);
	assert_false(pic_intr(s));
	assert_int_equal(s->rises[9], 0);
}

static void test_catch_up_delivers_missed_edges_one_at_a_time(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;
	int i;

	linux_init(s);
	pulses(t, 1, 4); /* four edges while the process was restarting */
	assert_int_equal(s->owed[1], 3);
	for (i = 0; i < 4; i++) {
		assert_int_equal(take(s), 0x21);
		/* One at a time: the next is in IRR, held back by ISR. */
		assert_false(pic_intr(s));
		assert_int_equal(irr(s, PIC_MASTER_CMD), i < 3 ? 0x02 : 0x00);
		wr(s, PIC_MASTER_CMD, NS_EOI);
	}
	assert_false(pic_intr(s));
	assert_int_equal(s->owed[1], 0);
}

static void test_catch_up_on_slave_line(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;
	int i;

	linux_init(s);
	pulses(t, 14, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(take_and_eoi(s), 14);
	assert_false(pic_intr(s));
}

/* "Edge and level triggered modes": a second edge merges, as on the chip. */
static void test_edge_while_request_pending_merges(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	wr(s, PIC_MASTER_DATA, 0x10);
	edge(t, 4);
	edge(t, 4);
	assert_int_equal(s->owed[4], 0);
	wr(s, PIC_MASTER_DATA, 0x00);
	assert_int_equal(take_and_eoi(s), 4);
	assert_false(pic_intr(s));
}

/* A batch on a line already requesting: the first merges, k - 1 owed. */
static void test_catch_up_while_request_pending(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;
	int i;

	linux_init(s);
	edge(t, 4);
	assert_int_equal(take(s), 0x24);
	edge(t, 4); /* in IRR, behind its own level in service */
	pulses(t, 4, 3);
	assert_int_equal(s->owed[4], 2);
	wr(s, PIC_MASTER_CMD, NS_EOI);
	for (i = 0; i < 3; i++)
		assert_int_equal(take_and_eoi(s), 4);
	assert_false(pic_intr(s));
}

static void test_catch_up_is_capped(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;
	unsigned n = 0;

	linux_init(s);
	pulses(t, 5, 100000);
	assert_int_equal(s->owed[5], PIC_OWED_MAX);
	pulses(t, 5, 1);
	assert_int_equal(s->owed[5], PIC_OWED_MAX);
	assert_true(pic_state_valid(s));
	while (pic_intr(s)) {
		assert_int_equal(take_and_eoi(s), 5);
		n++;
	}
	assert_int_equal(n, PIC_OWED_MAX + 1);
}

static void test_rises_counter_wraps(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	t->rises[7] = UINT32_MAX - 1;
	pic_set_lines(s, t->levels, t->rises); /* e.g. a restarted process */
	assert_int_equal(s->owed[7], PIC_OWED_MAX);
	init_chip(s, PIC_MASTER_CMD, MASTER_BASE, 0x04, PIC_ICW4_UPM);
	pulses(t, 7, 3); /* UINT32_MAX - 1 -> 1 */
	assert_int_equal(s->rises[7], 1);
	assert_int_equal(s->owed[7], 2);
}

/* "ICW1": the edge sense circuit is reset; edges owed before are void. */
static void test_icw1_discards_owed_edges(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	pulses(t, 3, 5);
	pulses(t, 11, 2);
	linux_init(s);
	assert_int_equal(s->owed[3], 0);
	assert_int_equal(s->owed[11], 0);
	assert_false(pic_intr(s));
	assert_true(pic_state_valid(s));
}

static void test_icw1_requires_new_edge_for_held_line(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	line_set(t, 1, true);
	linux_init(s);
	pic_set_lines(s, t->levels, t->rises);
	assert_false(pic_intr(s));
	line_set(t, 1, false);
	line_set(t, 1, true);
	assert_int_equal(take(s), 0x21);
}

/* ISA line 2 has no pin on a PC: IR2 is the cascade. */
static void test_irq2_line_is_ignored(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	line_set(t, 2, true);
	pulses(t, 2, 3);
	assert_int_equal(irr(s, PIC_MASTER_CMD), 0x00);
	assert_false(pic_intr(s));
	assert_int_equal(s->levels, 0);
	assert_int_equal(s->owed[2], 0);
	assert_true(pic_state_valid(s));
}

/* ---- Level-triggered lines ---- */

static void test_elcr_level_line_follows_level(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	wr(s, PIC_ELCR_MASTER, 0x20); /* IRQ 5 */
	line_set(t, 5, true);
	assert_int_equal(irr(s, PIC_MASTER_CMD), 0x20);
	assert_true(pic_intr(s));
	line_set(t, 5, false);
	assert_int_equal(irr(s, PIC_MASTER_CMD), 0x00);
	assert_false(pic_intr(s));
	pulses(t, 5, 5); /* rises mean nothing to a level line */
	assert_false(pic_intr(s));
	assert_int_equal(s->owed[5], 0);
}

/*
 * On the slave the request follows the level too, and so does the
 * master's cascade request: the INTA then gets the master's IRQ 7 (see
 * test_vanished_slave_request_gives_master_irq7).
 */
static void test_elcr_level_slave_line_follows_level(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	wr(s, PIC_ELCR_SLAVE, 0x08); /* IRQ 11, a PCI INTx line */
	line_set(t, 11, true);
	assert_int_equal(irr(s, PIC_SLAVE_CMD), 0x08);
	line_set(t, 11, false);
	assert_int_equal(irr(s, PIC_SLAVE_CMD), 0x00);
	assert_int_equal(irr(s, PIC_MASTER_CMD), 0x00);
	assert_int_equal(pic_intack(s), 0x27);
}

static void test_elcr_level_line_requests_again_after_eoi(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	wr(s, PIC_ELCR_SLAVE, 0x08);
	line_set(t, 11, true);
	assert_int_equal(take(s), 0x2b);
	assert_int_equal(irr(s, PIC_SLAVE_CMD), 0x08); /* INTA keeps it */
	wr(s, PIC_SLAVE_CMD, NS_EOI);
	wr(s, PIC_MASTER_CMD, NS_EOI);
	assert_int_equal(take(s), 0x2b); /* the device still wants service */
	line_set(t, 11, false);
	wr(s, PIC_SLAVE_CMD, NS_EOI);
	wr(s, PIC_MASTER_CMD, NS_EOI);
	assert_false(pic_intr(s));
}

static void test_elcr_write_applies_current_level(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	wr(s, PIC_MASTER_DATA, 0x08);
	pulses(t, 3, 3);
	line_set(t, 3, false);
	wr(s, PIC_ELCR_MASTER, 0x08); /* level now, and the line is low */
	assert_int_equal(s->owed[3], 0);
	assert_int_equal(irr(s, PIC_MASTER_CMD), 0x00);
	wr(s, PIC_ELCR_MASTER, 0x00);
	line_set(t, 3, true);
	wr(s, PIC_ELCR_MASTER, 0x08);
	assert_int_equal(irr(s, PIC_MASTER_CMD), 0x08);
	assert_true(pic_state_valid(s));
}

static void test_ltim_makes_all_lines_level(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	wr(s, PIC_SLAVE_CMD, PIC_ICW1_INIT | PIC_ICW1_LTIM | PIC_ICW1_IC4);
	wr(s, PIC_SLAVE_DATA, SLAVE_BASE);
	wr(s, PIC_SLAVE_DATA, PIC_CASCADE_IR);
	wr(s, PIC_SLAVE_DATA, PIC_ICW4_UPM);
	line_set(t, 8, true); /* IRQ 8 cannot be level in the ELCR */
	assert_int_equal(take(s), 0x28);
	wr(s, PIC_SLAVE_CMD, NS_EOI);
	wr(s, PIC_MASTER_CMD, NS_EOI);
	assert_int_equal(take(s), 0x28);
	line_set(t, 8, false);
	assert_int_equal(irr(s, PIC_SLAVE_CMD), 0x00);
	assert_true(pic_state_valid(s));
}

/* ---- Properties ---- */

struct rng {
	uint64_t x;
};

static uint32_t rng_next(struct rng *r)
{
	r->x ^= r->x << 13;
	r->x ^= r->x >> 7;
	r->x ^= r->x << 17;
	return (uint32_t)(r->x >> 16);
}

/*
 * Restarts: batches of edges on several lines seen in one call each, the
 * guest serving everything before the next batch. Every edge comes once.
 */
static void test_every_edge_of_a_batch_delivered_once(void **state)
{
	static const unsigned lines[] = { 0, 1, 3, 4, 7, 8, 10, 12, 15 };
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;
	struct rng r = { 0x9e3779b97f4a7c15ull };
	uint32_t seen[PIC_LINES] = { 0 };
	unsigned i, j, line;

	linux_init(s);
	for (i = 0; i < 2000; i++) {
		for (j = 0; j < 9; j++) {
			line = lines[j];
			if (rng_next(&r) % 2)
				t->rises[line] += rng_next(&r) % 6;
			if (rng_next(&r) % 4 == 0) {
				/* A rise still high counts like the others. */
				t->levels ^= (uint16_t)(1u << line);
				if (t->levels >> line & 1)
					t->rises[line]++;
			}
		}
		pic_set_lines(s, t->levels, t->rises);
		while (pic_intr(s))
			seen[take_and_eoi(s)]++;
		assert_true(pic_state_valid(s));
	}
	for (i = 0; i < PIC_LINES; i++)
		assert_int_equal(seen[i], t->rises[i]);
}

/* A guest that serves at any pace: never more than was counted. */
static void test_edges_never_delivered_twice(void **state)
{
	static const unsigned lines[] = { 0, 1, 3, 4, 7, 8, 10, 12, 15 };
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;
	struct rng r = { 0x2545f4914f6cdd1dull };
	uint32_t seen[PIC_LINES] = { 0 };
	unsigned i, line;

	linux_init(s);
	for (i = 0; i < 20000; i++) {
		if (rng_next(&r) % 2) {
			line = lines[rng_next(&r) % 9];
			if (rng_next(&r) % 4)
				line_set(t, line, !(t->levels >> line & 1));
			else
				pulses(t, line, rng_next(&r) % 4);
		} else if (pic_intr(s)) {
			seen[take_and_eoi(s)]++;
		}
		assert_true(pic_state_valid(s));
	}
	while (pic_intr(s))
		seen[take_and_eoi(s)]++;
	for (i = 0; i < PIC_LINES; i++)
		assert_true(seen[i] <= t->rises[i]);
	for (i = 0; i < 9; i++)
		assert_true(seen[lines[i]] > 0);
}

/* Anything a guest and the lines can do keeps the state valid. */
static void test_fuzz_random_sequences_stay_valid(void **state)
{
	static const uint16_t ports[] = {
		PIC_MASTER_CMD,	 PIC_MASTER_DATA, PIC_SLAVE_CMD, PIC_SLAVE_DATA,
		PIC_ELCR_MASTER, PIC_ELCR_SLAVE,  0x22
	};
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;
	struct rng r = { 0x0123456789abcdefull };
	unsigned i, line;
	uint8_t vector;

	for (i = 0; i < 200000; i++) {
		uint16_t port = ports[rng_next(&r) % 7];

		switch (rng_next(&r) % 6) {
		case 0:
			wr(s, port, (uint8_t)rng_next(&r));
			break;
		case 1:
			rd(s, port);
			break;
		case 2:
			line = rng_next(&r) % PIC_LINES;
			line_set(t, line, rng_next(&r) & 1);
			break;
		case 3:
			line = rng_next(&r) % PIC_LINES;
			pulses(t, line, rng_next(&r) % 8 ? 1 : rng_next(&r));
			break;
		case 4:
			vector = pic_intack(s);
			assert_true((vector & 0xf8) == s->chip[0].base ||
				    (vector & 0xf8) == s->chip[1].base);
			break;
		default:
			if (rng_next(&r) % 64 == 0)
				linux_init(s);
			break;
		}
		assert_true(pic_state_valid(s));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PIC_TEST(test_edge_line_held_high_requests_once),
		PIC_TEST(test_edge_request_survives_line_falling),
		PIC_TEST(test_pulse_seen_only_through_rises),
		PIC_TEST(test_set_lines_without_rises_uses_levels),
		PIC_TEST(test_catch_up_delivers_missed_edges_one_at_a_time),
		PIC_TEST(test_catch_up_on_slave_line),
		PIC_TEST(test_edge_while_request_pending_merges),
		PIC_TEST(test_catch_up_while_request_pending),
		PIC_TEST(test_catch_up_is_capped),
		PIC_TEST(test_rises_counter_wraps),
		PIC_TEST(test_icw1_discards_owed_edges),
		PIC_TEST(test_icw1_requires_new_edge_for_held_line),
		PIC_TEST(test_irq2_line_is_ignored),
		PIC_TEST(test_elcr_level_line_follows_level),
		PIC_TEST(test_elcr_level_slave_line_follows_level),
		PIC_TEST(test_elcr_level_line_requests_again_after_eoi),
		PIC_TEST(test_elcr_write_applies_current_level),
		PIC_TEST(test_ltim_makes_all_lines_level),
		PIC_TEST(test_every_edge_of_a_batch_delivered_once),
		PIC_TEST(test_edges_never_delivered_twice),
		PIC_TEST(test_fuzz_random_sequences_stay_valid),
	};

	return cmocka_run_group_tests_name("pic_lines", tests, NULL, NULL);
}
