/*
 * Unit tests for the 8259A PIC model (device-procs/pic/pic.c): the
 * interrupt sequence, masking, priorities and nesting, end of interrupt and
 * rotation, the cascade through IR2, spurious interrupts, and the special
 * modes (automatic EOI, special mask, special fully nested, poll).
 *
 * Helpers and the setup shared with the other test_pic_*.c files are in
 * pic_test.h. Section names refer to the Intel 8259A datasheet.
 */
#include "pic_test.h"

/* ---- Interrupt sequence and masking ---- */

static void test_edge_request_intack_eoi_cycle(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	assert_false(pic_intr(s));
	edge(t, 1);
	assert_int_equal(irr(s, PIC_MASTER_CMD), 0x02);
	assert_true(pic_intr(s));
	assert_int_equal(pic_intack(s), 0x21);
	assert_int_equal(irr(s, PIC_MASTER_CMD), 0x00);
	assert_int_equal(isr(s, PIC_MASTER_CMD), 0x02);
	assert_false(pic_intr(s));
	wr(s, PIC_MASTER_CMD, NS_EOI);
	assert_int_equal(isr(s, PIC_MASTER_CMD), 0x00);
	assert_false(pic_intr(s));
	assert_true(pic_state_valid(s));
}

static void test_masked_request_waits_in_irr_until_unmasked(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	wr(s, PIC_MASTER_DATA, 0x08);
	edge(t, 3);
	assert_int_equal(irr(s, PIC_MASTER_CMD), 0x08);
	assert_false(pic_intr(s));
	wr(s, PIC_MASTER_DATA, 0x00);
	assert_int_equal(take(s), 0x23);
}

static void test_mask_after_request_drops_intr(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	edge(t, 6);
	assert_true(pic_intr(s));
	wr(s, PIC_MASTER_DATA, 0x40);
	assert_false(pic_intr(s));
}

/* ---- Priorities and nesting ---- */

static void test_fixed_priority_lower_ir_wins(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	edge(t, 5);
	edge(t, 3);
	edge(t, 7);
	assert_int_equal(take(s), 0x23);
	wr(s, PIC_MASTER_CMD, NS_EOI);
	assert_int_equal(take(s), 0x25);
	wr(s, PIC_MASTER_CMD, NS_EOI);
	assert_int_equal(take(s), 0x27);
	assert_int_equal(isr(s, PIC_MASTER_CMD), 0x80); /* a real IR7 */
}

static void test_lower_priority_waits_for_eoi(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	edge(t, 3);
	take(s);
	edge(t, 4);
	edge(t, 3);
	assert_false(pic_intr(s)); /* equal and lower both held back */
	wr(s, PIC_MASTER_CMD, NS_EOI);
	assert_int_equal(take(s), 0x23);
}

static void test_higher_priority_nests_over_in_service(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	edge(t, 4);
	assert_int_equal(take(s), 0x24);
	edge(t, 1);
	assert_int_equal(take(s), 0x21);
	assert_int_equal(isr(s, PIC_MASTER_CMD), 0x12);
	/* Non-specific EOI ends the highest level in service: IR1 first. */
	wr(s, PIC_MASTER_CMD, NS_EOI);
	assert_int_equal(isr(s, PIC_MASTER_CMD), 0x10);
	wr(s, PIC_MASTER_CMD, NS_EOI);
	assert_int_equal(isr(s, PIC_MASTER_CMD), 0x00);
}

static void test_specific_eoi_clears_named_level(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	edge(t, 4);
	take(s);
	edge(t, 1);
	take(s);
	wr(s, PIC_MASTER_CMD, PIC_OCW2_SPECIFIC_EOI | 4);
	assert_int_equal(isr(s, PIC_MASTER_CMD), 0x02);
}

static void test_eoi_without_in_service_does_nothing(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;
	struct pic_state before;

	linux_init(s);
	before = *s;
	wr(s, PIC_MASTER_CMD, NS_EOI);
	wr(s, PIC_MASTER_CMD, PIC_OCW2_ROTATE_NONSPECIFIC_EOI);
	wr(s, PIC_MASTER_CMD, PIC_OCW2_NOP | 5);
	assert_memory_equal(&before, s, sizeof(before));
}

/* ---- Rotation ---- */

static void test_rotate_on_nonspecific_eoi(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	edge(t, 3);
	take(s);
	wr(s, PIC_MASTER_CMD, PIC_OCW2_ROTATE_NONSPECIFIC_EOI);
	assert_int_equal(s->chip[PIC_MASTER].lowest, 3);
	/* IR4 now has the highest priority and IR3 the lowest. */
	edge(t, 3);
	edge(t, 0);
	edge(t, 6);
	assert_int_equal(take(s), 0x26);
	wr(s, PIC_MASTER_CMD, PIC_OCW2_ROTATE_NONSPECIFIC_EOI);
	assert_int_equal(take(s), 0x20); /* lowest is 6: 7, 0, ... */
	wr(s, PIC_MASTER_CMD, PIC_OCW2_ROTATE_NONSPECIFIC_EOI);
	assert_int_equal(take(s), 0x23);
}

static void test_rotate_on_specific_eoi(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	edge(t, 5);
	take(s);
	wr(s, PIC_MASTER_CMD, PIC_OCW2_ROTATE_SPECIFIC_EOI | 5);
	assert_int_equal(isr(s, PIC_MASTER_CMD), 0x00);
	edge(t, 5);
	edge(t, 4);
	edge(t, 6);
	assert_int_equal(take(s), 0x26);
}

static void test_set_priority_command(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	wr(s, PIC_MASTER_CMD, PIC_OCW2_SET_PRIORITY | 1);
	edge(t, 1);
	edge(t, 0);
	edge(t, 7);
	assert_int_equal(take(s), 0x27); /* order: 2, ..., 7, 0, 1 */
	/* A level below the in-service IR7 in this order is held back. */
	assert_false(pic_intr(s));
	edge(t, 3);
	assert_int_equal(take(s), 0x23);
}

/* ---- Cascade ---- */

static void test_cascade_slave_irq10_through_ir2(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	edge(t, 10);
	assert_int_equal(irr(s, PIC_SLAVE_CMD), 0x04);
	assert_int_equal(irr(s, PIC_MASTER_CMD), 0x04);
	assert_int_equal(take(s), 0x2a);
	assert_int_equal(isr(s, PIC_SLAVE_CMD), 0x04);
	assert_int_equal(isr(s, PIC_MASTER_CMD), 0x04);
	assert_int_equal(irr(s, PIC_MASTER_CMD), 0x00);
	/* Linux's mask_and_ack_8259A(): specific EOI to both chips. */
	wr(s, PIC_SLAVE_CMD, PIC_OCW2_SPECIFIC_EOI | 2);
	wr(s, PIC_MASTER_CMD, PIC_OCW2_SPECIFIC_EOI | PIC_CASCADE_IR);
	assert_int_equal(isr(s, PIC_SLAVE_CMD), 0x00);
	assert_int_equal(isr(s, PIC_MASTER_CMD), 0x00);
	assert_false(pic_intr(s));
	assert_true(pic_state_valid(s));
}

static void test_cascade_respects_master_priority(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	edge(t, 12);
	edge(t, 1);
	edge(t, 3);
	assert_int_equal(take(s), 0x21);
	wr(s, PIC_MASTER_CMD, NS_EOI);
	assert_int_equal(take(s), 0x2c);
	wr(s, PIC_SLAVE_CMD, NS_EOI);
	wr(s, PIC_MASTER_CMD, NS_EOI);
	assert_int_equal(take(s), 0x23);
}

static void test_cascade_masked_on_master_blocks_slave(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	wr(s, PIC_MASTER_DATA, 1u << PIC_CASCADE_IR);
	edge(t, 9);
	assert_false(pic_intr(s));
	wr(s, PIC_MASTER_DATA, 0x00);
	assert_int_equal(take(s), 0x29);
}

/* Normal nested mode: a slave in service is locked out at the master. */
static void test_cascade_slave_nesting_blocked_without_sfnm(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	edge(t, 11);
	assert_int_equal(take(s), 0x2b);
	edge(t, 9);
	assert_false(pic_intr(s));
	wr(s, PIC_SLAVE_CMD, NS_EOI);
	wr(s, PIC_MASTER_CMD, NS_EOI);
	assert_int_equal(take(s), 0x29);
}

static void test_special_fully_nested_lets_slave_nest(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init_icw4(s, PIC_ICW4_UPM | PIC_ICW4_SFNM);
	edge(t, 11);
	assert_int_equal(take(s), 0x2b);
	edge(t, 12); /* lower on the slave: the slave holds it back */
	assert_false(pic_intr(s));
	edge(t, 9);
	assert_int_equal(take(s), 0x29);
	assert_int_equal(isr(s, PIC_SLAVE_CMD), 0x0a);
	/* Master levels below IR2 stay blocked by IR2 in service. */
	edge(t, 5);
	wr(s, PIC_SLAVE_CMD, NS_EOI);
	assert_false(pic_intr(s));
}

/* A single master takes IR2 as an ordinary input: no slave cycle. */
static void test_ir2_without_cascade_returns_master_vector(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	wr(s, PIC_MASTER_CMD, PIC_ICW1_INIT | PIC_ICW1_SNGL | PIC_ICW1_IC4);
	wr(s, PIC_MASTER_DATA, MASTER_BASE);
	wr(s, PIC_MASTER_DATA, PIC_ICW4_UPM);
	edge(t, 10);
	assert_int_equal(take(s), 0x22);
	assert_int_equal(isr(s, PIC_SLAVE_CMD), 0x00);
}

/* ---- Spurious interrupts ---- */

static void test_spurious_irq7_with_nothing_pending(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	assert_int_equal(pic_intack(s), 0x27);
	assert_int_equal(isr(s, PIC_MASTER_CMD), 0x00);
}

/* A level request gone before INTA: IR7 without its IS bit. */
static void test_spurious_irq7_when_request_vanishes(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	wr(s, PIC_ELCR_MASTER, 0x20);
	line_set(t, 5, true);
	assert_true(pic_intr(s));
	line_set(t, 5, false);
	assert_false(pic_intr(s));
	assert_int_equal(pic_intack(s), 0x27);
	assert_int_equal(isr(s, PIC_MASTER_CMD), 0x00);
}

/*
 * The master's IR2 is the slave's INT: a slave request gone before the
 * INTA takes the master's request with it ("the IR input must remain high
 * until the first INTA"), and the INTA gets the master's IR7.
 */
static void test_vanished_slave_request_gives_master_irq7(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	wr(s, PIC_ELCR_SLAVE, 0x08);
	line_set(t, 11, true);
	assert_true(pic_intr(s));
	line_set(t, 11, false);
	assert_false(pic_intr(s));
	assert_int_equal(irr(s, PIC_MASTER_CMD), 0x00);
	assert_int_equal(pic_intack(s), 0x27);
	assert_int_equal(isr(s, PIC_SLAVE_CMD), 0x00);
	assert_int_equal(isr(s, PIC_MASTER_CMD), 0x00);
}

/* A masked slave request is no request on the master's IR2 either. */
static void
test_masking_a_slave_line_withdraws_the_cascade_request(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	line_set(t, 8, true);
	assert_int_equal(irr(s, PIC_MASTER_CMD), 1u << PIC_CASCADE_IR);
	wr(s, PIC_SLAVE_DATA, 0x01); /* mask IRQ 8 */
	assert_int_equal(irr(s, PIC_SLAVE_CMD), 0x01);
	assert_int_equal(irr(s, PIC_MASTER_CMD), 0x00);
	assert_false(pic_intr(s));
	wr(s, PIC_MASTER_CMD, PIC_OCW3_SEL | PIC_OCW3_P);
	assert_int_equal(rd(s, PIC_MASTER_CMD), 0x00);
}

/* ---- Automatic EOI ---- */

static void test_auto_eoi_leaves_isr_clear(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init_icw4(s, PIC_ICW4_UPM | PIC_ICW4_AEOI);
	edge(t, 4);
	assert_int_equal(take(s), 0x24);
	assert_int_equal(isr(s, PIC_MASTER_CMD), 0x00);
	edge(t, 6);
	assert_int_equal(take(s), 0x26); /* nothing in service to block it */
}

static void test_rotate_in_auto_eoi_mode(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init_icw4(s, PIC_ICW4_UPM | PIC_ICW4_AEOI);
	wr(s, PIC_MASTER_CMD, PIC_OCW2_ROTATE_AEOI_SET);
	edge(t, 0);
	edge(t, 5);
	assert_int_equal(take(s), 0x20);
	assert_int_equal(s->chip[PIC_MASTER].lowest, 0);
	edge(t, 0);
	assert_int_equal(take(s), 0x25); /* IR0 is now the lowest */
	assert_int_equal(take(s), 0x20);
	wr(s, PIC_MASTER_CMD, PIC_OCW2_ROTATE_AEOI_CLEAR);
	edge(t, 1);
	assert_int_equal(take(s), 0x21);
	assert_int_equal(s->chip[PIC_MASTER].lowest, 0);
}

/* The slave INT stays high across INTA: the master must see it again. */
static void test_slave_in_auto_eoi_second_request_not_lost(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init_icw4(s, PIC_ICW4_UPM | PIC_ICW4_AEOI);
	init_chip(s, PIC_SLAVE_CMD, SLAVE_BASE, PIC_CASCADE_IR,
		  PIC_ICW4_UPM | PIC_ICW4_AEOI);
	wr(s, PIC_SLAVE_DATA, 0x00);
	edge(t, 9);
	edge(t, 14);
	assert_int_equal(take(s), 0x29);
	assert_int_equal(take(s), 0x2e);
	assert_false(pic_intr(s));
}

/* ---- Special mask mode ---- */

static void test_special_mask_mode_allows_lower_priority(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	edge(t, 3);
	take(s);
	/* The handler masks its own level and enters special mask mode. */
	wr(s, PIC_MASTER_DATA, 0x08);
	wr(s, PIC_MASTER_CMD, PIC_OCW3_SEL | PIC_OCW3_ESMM | PIC_OCW3_SMM);
	edge(t, 6);
	assert_int_equal(take(s), 0x26);
	assert_int_equal(isr(s, PIC_MASTER_CMD), 0x48);
	edge(t, 3); /* its own level stays masked */
	wr(s, PIC_MASTER_CMD, PIC_OCW2_SPECIFIC_EOI | 6);
	assert_false(pic_intr(s));
}

static void test_special_mask_mode_reset_restores_nesting(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	edge(t, 3);
	take(s);
	wr(s, PIC_MASTER_DATA, 0x08);
	wr(s, PIC_MASTER_CMD, PIC_OCW3_SEL | PIC_OCW3_ESMM | PIC_OCW3_SMM);
	wr(s, PIC_MASTER_CMD, PIC_OCW3_SEL | PIC_OCW3_SMM); /* no ESMM */
	assert_int_equal(s->chip[PIC_MASTER].special_mask, 1);
	wr(s, PIC_MASTER_CMD, PIC_OCW3_SEL | PIC_OCW3_ESMM);
	assert_int_equal(s->chip[PIC_MASTER].special_mask, 0);
	edge(t, 6);
	assert_false(pic_intr(s));
}

/* ---- Poll command ---- */

static void test_poll_returns_highest_request_and_acknowledges(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	edge(t, 6);
	edge(t, 4);
	wr(s, PIC_MASTER_CMD, PIC_OCW3_SEL | PIC_OCW3_P);
	assert_int_equal(rd(s, PIC_MASTER_CMD), 0x84);
	assert_int_equal(isr(s, PIC_MASTER_CMD), 0x10);
	assert_int_equal(irr(s, PIC_MASTER_CMD), 0x40);
	/* Poll acts once: the next read is a register again. */
	assert_int_equal(rd(s, PIC_MASTER_DATA), 0x00);
	wr(s, PIC_MASTER_CMD, NS_EOI);
	wr(s, PIC_MASTER_CMD, PIC_OCW3_SEL | PIC_OCW3_P);
	assert_int_equal(rd(s, PIC_MASTER_DATA), 0x86); /* either port */
}

static void test_poll_without_request_reads_zero(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	wr(s, PIC_SLAVE_CMD, PIC_OCW3_SEL | PIC_OCW3_P);
	assert_int_equal(rd(s, PIC_SLAVE_CMD), 0x00);
	assert_int_equal(s->chip[PIC_SLAVE].poll, 0);
}

static void test_poll_overrides_read_register(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	edge(t, 13);
	wr(s, PIC_SLAVE_CMD, READ_ISR | PIC_OCW3_P);
	assert_int_equal(rd(s, PIC_SLAVE_CMD), 0x85);
	assert_int_equal(rd(s, PIC_SLAVE_CMD), 0x20); /* then ISR, as asked */
}

/* Polling the master for IR2 does not run the slave's cycle. */
static void test_poll_master_cascade_then_poll_slave(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	edge(t, 15);
	wr(s, PIC_MASTER_CMD, PIC_OCW3_SEL | PIC_OCW3_P);
	assert_int_equal(rd(s, PIC_MASTER_CMD), 0x82);
	wr(s, PIC_SLAVE_CMD, PIC_OCW3_SEL | PIC_OCW3_P);
	assert_int_equal(rd(s, PIC_SLAVE_CMD), 0x87);
	assert_int_equal(isr(s, PIC_SLAVE_CMD), 0x80);
	assert_true(pic_state_valid(s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PIC_TEST(test_edge_request_intack_eoi_cycle),
		PIC_TEST(test_masked_request_waits_in_irr_until_unmasked),
		PIC_TEST(test_mask_after_request_drops_intr),
		PIC_TEST(test_fixed_priority_lower_ir_wins),
		PIC_TEST(test_lower_priority_waits_for_eoi),
		PIC_TEST(test_higher_priority_nests_over_in_service),
		PIC_TEST(test_specific_eoi_clears_named_level),
		PIC_TEST(test_eoi_without_in_service_does_nothing),
		PIC_TEST(test_rotate_on_nonspecific_eoi),
		PIC_TEST(test_rotate_on_specific_eoi),
		PIC_TEST(test_set_priority_command),
		PIC_TEST(test_cascade_slave_irq10_through_ir2),
		PIC_TEST(test_cascade_respects_master_priority),
		PIC_TEST(test_cascade_masked_on_master_blocks_slave),
		PIC_TEST(test_cascade_slave_nesting_blocked_without_sfnm),
		PIC_TEST(test_special_fully_nested_lets_slave_nest),
		PIC_TEST(test_ir2_without_cascade_returns_master_vector),
		PIC_TEST(test_spurious_irq7_with_nothing_pending),
		PIC_TEST(test_spurious_irq7_when_request_vanishes),
		PIC_TEST(test_vanished_slave_request_gives_master_irq7),
		PIC_TEST(
			test_masking_a_slave_line_withdraws_the_cascade_request),
		PIC_TEST(test_auto_eoi_leaves_isr_clear),
		PIC_TEST(test_rotate_in_auto_eoi_mode),
		PIC_TEST(test_slave_in_auto_eoi_second_request_not_lost),
		PIC_TEST(test_special_mask_mode_allows_lower_priority),
		PIC_TEST(test_special_mask_mode_reset_restores_nesting),
		PIC_TEST(test_poll_returns_highest_request_and_acknowledges),
		PIC_TEST(test_poll_without_request_reads_zero),
		PIC_TEST(test_poll_overrides_read_register),
		PIC_TEST(test_poll_master_cascade_then_poll_slave),
	};

	return cmocka_run_group_tests_name("pic_irq", tests, NULL, NULL);
}
