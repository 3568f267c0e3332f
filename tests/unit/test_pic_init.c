/*
 * Unit tests for the 8259A PIC model (device-procs/pic/pic.c): reset,
 * the ICW sequence, register reads through OCW3, the ELCR, the I/O ports
 * and the validity check of a state found after a crash.
 *
 * Helpers and the setup shared with the other test_pic_*.c files are in
 * pic_test.h. Section names refer to the Intel 8259A datasheet.
 */
#include "pic_test.h"

/* ---- Reset ---- */

static void test_reset_state_is_valid_and_masked(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	assert_true(pic_state_valid(s));
	assert_int_equal(rd(s, PIC_MASTER_DATA), 0xff);
	assert_int_equal(rd(s, PIC_SLAVE_DATA), 0xff);
	assert_int_equal(irr(s, PIC_MASTER_CMD), 0);
	assert_int_equal(isr(s, PIC_MASTER_CMD), 0);
	assert_int_equal(rd(s, PIC_ELCR_MASTER), 0);
	assert_int_equal(rd(s, PIC_ELCR_SLAVE), 0);
	assert_false(pic_intr(s));
	assert_int_equal(pic_intack(s), 0x07); /* base 0, spurious IR7 */
}

static void test_reset_masks_requests_until_programmed(void **state)
{
	struct pic_test *t = *state;

	edge(t, 1);
	assert_int_equal(irr(&t->s, PIC_MASTER_CMD), 0x02);
	assert_false(pic_intr(&t->s));
}

static void test_reset_clears_previous_state(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	wr(s, PIC_ELCR_MASTER, 0x20);
	pulses(t, 3, 5);
	take(s);
	pic_reset(s);
	assert_true(pic_state_valid(s));
	assert_int_equal(rd(s, PIC_ELCR_MASTER), 0);
	assert_int_equal(s->chip[PIC_MASTER].isr, 0);
	assert_int_equal(s->chip[PIC_MASTER].irr, 0);
	assert_int_equal(s->owed[3], 0);
	assert_int_equal(s->rises[3], 0);
}

/* ---- Initialization command words ---- */

static void test_linux_init_sequence_programs_both_chips(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	assert_true(pic_state_valid(s));
	assert_int_equal(s->chip[PIC_MASTER].base, MASTER_BASE);
	assert_int_equal(s->chip[PIC_SLAVE].base, SLAVE_BASE);
	assert_int_equal(s->chip[PIC_MASTER].icw3, 0x04);
	assert_int_equal(s->chip[PIC_SLAVE].icw3, 0x02);
	assert_int_equal(s->chip[PIC_MASTER].icw4, PIC_ICW4_UPM);
	assert_int_equal(s->chip[PIC_SLAVE].icw4, PIC_ICW4_UPM);
	assert_int_equal(s->chip[PIC_MASTER].icw_next, 0);
	assert_int_equal(s->chip[PIC_SLAVE].icw_next, 0);
	/* The sequence is over: the data port is OCW1 again. */
	wr(s, PIC_MASTER_DATA, 0xfb);
	wr(s, PIC_SLAVE_DATA, 0xff);
	assert_int_equal(rd(s, PIC_MASTER_DATA), 0xfb);
	assert_int_equal(rd(s, PIC_SLAVE_DATA), 0xff);
	assert_int_equal(s->chip[PIC_MASTER].base, MASTER_BASE);
}

static void test_linux_init_then_irq0_gives_vector_0x20(void **state)
{
	struct pic_test *t = *state;

	linux_init(&t->s);
	edge(t, 0);
	assert_int_equal(take(&t->s), 0x20);
}

static void test_icw1_clears_mask_and_selects_irr(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	wr(s, PIC_MASTER_DATA, 0x5a);
	wr(s, PIC_MASTER_CMD, READ_ISR);
	wr(s, PIC_MASTER_CMD, PIC_OCW3_SEL | PIC_OCW3_ESMM | PIC_OCW3_SMM);
	wr(s, PIC_MASTER_CMD, PIC_OCW2_SET_PRIORITY | 3);
	wr(s, PIC_MASTER_CMD, PIC_ICW1_INIT | PIC_ICW1_IC4);
	assert_int_equal(rd(s, PIC_MASTER_DATA), 0x00);
	assert_int_equal(s->chip[PIC_MASTER].read_isr, 0);
	assert_int_equal(s->chip[PIC_MASTER].special_mask, 0);
	assert_int_equal(s->chip[PIC_MASTER].lowest, 7);
	assert_int_equal(s->chip[PIC_MASTER].icw3, 7); /* slave address 7 */
	assert_int_equal(s->chip[PIC_MASTER].icw_next, 2);
}

/* Not in the datasheet's ICW1 list: QEMU and KVM do it (see pic.c). */
static void test_icw1_clears_in_service(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	edge(t, 4);
	take(s);
	assert_int_equal(isr(s, PIC_MASTER_CMD), 0x10);
	init_chip(s, PIC_MASTER_CMD, MASTER_BASE, 0x04, PIC_ICW4_UPM);
	assert_int_equal(isr(s, PIC_MASTER_CMD), 0x00);
}

static void test_icw1_without_ic4_skips_icw4(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	wr(s, PIC_MASTER_CMD, PIC_ICW1_INIT);
	wr(s, PIC_MASTER_DATA, 0x40);
	wr(s, PIC_MASTER_DATA, 0x04);
	wr(s, PIC_MASTER_DATA, 0x13); /* OCW1, not ICW4 */
	assert_int_equal(rd(s, PIC_MASTER_DATA), 0x13);
	assert_int_equal(s->chip[PIC_MASTER].icw4, 0);
	assert_int_equal(s->chip[PIC_MASTER].base, 0x40);
	assert_true(pic_state_valid(s));
}

static void test_single_mode_skips_icw3(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	wr(s, PIC_MASTER_CMD, PIC_ICW1_INIT | PIC_ICW1_SNGL | PIC_ICW1_IC4);
	wr(s, PIC_MASTER_DATA, 0x08);
	assert_int_equal(s->chip[PIC_MASTER].icw_next, 4);
	wr(s, PIC_MASTER_DATA, PIC_ICW4_UPM | PIC_ICW4_AEOI);
	assert_int_equal(s->chip[PIC_MASTER].icw4,
			 PIC_ICW4_UPM | PIC_ICW4_AEOI);
	assert_int_equal(s->chip[PIC_MASTER].icw_next, 0);
	wr(s, PIC_MASTER_DATA, 0xee);
	assert_int_equal(rd(s, PIC_MASTER_DATA), 0xee);
}

static void test_single_mode_without_ic4_ends_after_icw2(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	wr(s, PIC_MASTER_CMD, PIC_ICW1_INIT | PIC_ICW1_SNGL);
	wr(s, PIC_MASTER_DATA, 0x08);
	assert_int_equal(s->chip[PIC_MASTER].icw_next, 0);
	wr(s, PIC_MASTER_DATA, 0x7f);
	assert_int_equal(rd(s, PIC_MASTER_DATA), 0x7f);
}

/* ICW2: in 8086 mode T2-T0 come from the IR, not from the ICW. */
static void test_icw2_ignores_low_three_bits(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	init_chip(s, PIC_MASTER_CMD, 0x37, 0x04, PIC_ICW4_UPM);
	assert_int_equal(s->chip[PIC_MASTER].base, 0x30);
	edge(t, 5);
	assert_int_equal(take(s), 0x35);
}

static void test_slave_icw3_keeps_id_bits(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	init_chip(s, PIC_SLAVE_CMD, SLAVE_BASE, 0xfa, PIC_ICW4_UPM);
	assert_int_equal(s->chip[PIC_SLAVE].icw3, 0x02);
	assert_true(pic_state_valid(s));
}

static void test_icw4_keeps_only_defined_bits(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	init_chip(s, PIC_MASTER_CMD, MASTER_BASE, 0x04, 0xff);
	assert_int_equal(s->chip[PIC_MASTER].icw4, 0x1f);
	assert_true(pic_state_valid(s));
}

/* Linux writes ICW1 again on resume and after kexec: a fresh sequence. */
static void test_icw1_restarts_an_unfinished_sequence(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	wr(s, PIC_MASTER_CMD, PIC_ICW1_INIT | PIC_ICW1_IC4);
	wr(s, PIC_MASTER_DATA, 0x50);
	linux_init(s);
	assert_int_equal(s->chip[PIC_MASTER].base, MASTER_BASE);
	assert_int_equal(s->chip[PIC_MASTER].icw_next, 0);
}

/* ---- Status reads (OCW3) ---- */

static void test_data_port_reads_imr(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	wr(s, PIC_MASTER_DATA, 0xa5);
	wr(s, PIC_SLAVE_DATA, 0x3c);
	wr(s, PIC_MASTER_CMD, READ_ISR);
	assert_int_equal(rd(s, PIC_MASTER_DATA), 0xa5);
	assert_int_equal(rd(s, PIC_SLAVE_DATA), 0x3c);
}

static void test_ocw3_selects_irr_or_isr(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	edge(t, 3);
	take(s);
	edge(t, 6);
	wr(s, PIC_MASTER_CMD, READ_ISR);
	assert_int_equal(rd(s, PIC_MASTER_CMD), 0x08);
	assert_int_equal(rd(s, PIC_MASTER_CMD), 0x08); /* selection sticks */
	wr(s, PIC_MASTER_CMD, READ_IRR);
	assert_int_equal(rd(s, PIC_MASTER_CMD), 0x40);
}

static void test_ocw3_without_rr_keeps_selection(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	linux_init(s);
	edge(t, 3);
	take(s);
	wr(s, PIC_MASTER_CMD, READ_ISR);
	wr(s, PIC_MASTER_CMD, PIC_OCW3_SEL | PIC_OCW3_RIS); /* RR = 0 */
	wr(s, PIC_MASTER_CMD, PIC_OCW3_SEL);
	assert_int_equal(rd(s, PIC_MASTER_CMD), 0x08);
}

/* ---- ELCR ---- */

static void test_elcr_read_only_bits(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	wr(s, PIC_ELCR_MASTER, 0xff);
	wr(s, PIC_ELCR_SLAVE, 0xff);
	assert_int_equal(rd(s, PIC_ELCR_MASTER), 0xf8);
	assert_int_equal(rd(s, PIC_ELCR_SLAVE), 0xde);
	wr(s, PIC_ELCR_SLAVE, 0x00);
	assert_int_equal(rd(s, PIC_ELCR_SLAVE), 0x00);
}

static void test_elcr_survives_icw1(void **state)
{
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;

	wr(s, PIC_ELCR_MASTER, 0x20);
	wr(s, PIC_ELCR_SLAVE, 0x0c);
	linux_init(s);
	assert_int_equal(rd(s, PIC_ELCR_MASTER), 0x20);
	assert_int_equal(rd(s, PIC_ELCR_SLAVE), 0x0c);
}

/* ---- Ports ---- */

static void test_unknown_ports_read_ff_and_ignore_writes(void **state)
{
	static const uint16_t ports[] = { 0x00, 0x1f,  0x22,  0x23,  0x9f,
					  0xa2, 0x4cf, 0x4d2, 0x120, 0xffff };
	struct pic_test *t = *state;
	struct pic_state *s = &t->s;
	struct pic_state before;
	size_t i;

	linux_init(s);
	before = *s;
	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		wr(s, ports[i], 0x11);
		wr(s, ports[i], 0x00);
		assert_int_equal(rd(s, ports[i]), 0xff);
	}
	assert_memory_equal(&before, s, sizeof(before));
}

/* ---- Validity of a state found in a state page ---- */

static void test_state_valid_rejects_null(void **state)
{
	(void)state;
	assert_false(pic_state_valid(NULL));
}

static void test_state_valid_rejects_corrupt_chip_fields(void **state)
{
	struct pic_test *t = *state;
	struct pic_state good;
	struct pic_state bad;

	linux_init(&t->s);
	good = t->s;
#define REJECT(field, value)                         \
	do {                                         \
		bad = good;                          \
		bad.field = value;                   \
		assert_false(pic_state_valid(&bad)); \
	} while (0)
	REJECT(chip[PIC_MASTER].elcr, 0x04);
	REJECT(chip[PIC_SLAVE].elcr, 0x01);
	REJECT(chip[PIC_SLAVE].elcr, 0x20);
	REJECT(chip[PIC_MASTER].base, 0x21);
	REJECT(chip[PIC_MASTER].icw1, 0x10);
	REJECT(chip[PIC_MASTER].icw4, 0x20);
	REJECT(chip[PIC_SLAVE].icw3, 0x08);
	REJECT(chip[PIC_MASTER].icw_next, 1);
	REJECT(chip[PIC_MASTER].icw_next, 5);
	REJECT(chip[PIC_MASTER].lowest, 8);
	REJECT(chip[PIC_MASTER].read_isr, 2);
	REJECT(chip[PIC_MASTER].poll, 2);
	REJECT(chip[PIC_SLAVE].special_mask, 0xff);
	REJECT(chip[PIC_SLAVE].rotate_aeoi, 2);
	REJECT(chip[PIC_SLAVE].pad[1], 1);
	REJECT(pad, 1);
	/* ICW4 functions without IC4, ICW3 or ICW4 awaited when skipped. */
	bad = good;
	bad.chip[PIC_MASTER].icw1 = 0;
	assert_false(pic_state_valid(&bad));
	bad = good;
	bad.chip[PIC_MASTER].icw1 = PIC_ICW1_SNGL | PIC_ICW1_IC4;
	bad.chip[PIC_MASTER].icw_next = 3;
	assert_false(pic_state_valid(&bad));
	bad = good;
	bad.chip[PIC_MASTER].icw1 = 0;
	bad.chip[PIC_MASTER].icw4 = 0;
	bad.chip[PIC_MASTER].icw_next = 4;
	assert_false(pic_state_valid(&bad));
#undef REJECT
	assert_true(pic_state_valid(&good));
}

static void test_state_valid_rejects_corrupt_line_fields(void **state)
{
	struct pic_test *t = *state;
	struct pic_state good;
	struct pic_state bad;

	linux_init(&t->s);
	wr(&t->s, PIC_ELCR_SLAVE, 0x08); /* IRQ 11 level-triggered */
	line_set(t, 11, true);
	pulses(t, 4, 3); /* IRR set, two edges owed */
	good = t->s;
	assert_true(pic_state_valid(&good));

	bad = good;
	bad.owed[4] = PIC_OWED_MAX + 1;
	assert_false(pic_state_valid(&bad));
	bad = good; /* owed, but no request in IRR */
	bad.chip[PIC_MASTER].irr &= (uint8_t)~0x10;
	assert_false(pic_state_valid(&bad));
	bad = good; /* owed to a level-triggered line */
	bad.owed[11] = 1;
	assert_false(pic_state_valid(&bad));
	bad = good; /* level request not following the level */
	bad.chip[PIC_SLAVE].irr &= (uint8_t)~0x08;
	assert_false(pic_state_valid(&bad));
	bad = good; /* ISA line 2 has no pin */
	bad.levels |= 1u << PIC_CASCADE_IR;
	assert_false(pic_state_valid(&bad));
	bad = good;
	bad.owed[PIC_CASCADE_IR] = 1;
	bad.chip[PIC_MASTER].irr |= 1u << PIC_CASCADE_IR;
	assert_false(pic_state_valid(&bad));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PIC_TEST(test_reset_state_is_valid_and_masked),
		PIC_TEST(test_reset_masks_requests_until_programmed),
		PIC_TEST(test_reset_clears_previous_state),
		PIC_TEST(test_linux_init_sequence_programs_both_chips),
		PIC_TEST(test_linux_init_then_irq0_gives_vector_0x20),
		PIC_TEST(test_icw1_clears_mask_and_selects_irr),
		PIC_TEST(test_icw1_clears_in_service),
		PIC_TEST(test_icw1_without_ic4_skips_icw4),
		PIC_TEST(test_single_mode_skips_icw3),
		PIC_TEST(test_single_mode_without_ic4_ends_after_icw2),
		PIC_TEST(test_icw2_ignores_low_three_bits),
		PIC_TEST(test_slave_icw3_keeps_id_bits),
		PIC_TEST(test_icw4_keeps_only_defined_bits),
		PIC_TEST(test_icw1_restarts_an_unfinished_sequence),
		PIC_TEST(test_data_port_reads_imr),
		PIC_TEST(test_ocw3_selects_irr_or_isr),
		PIC_TEST(test_ocw3_without_rr_keeps_selection),
		PIC_TEST(test_elcr_read_only_bits),
		PIC_TEST(test_elcr_survives_icw1),
		PIC_TEST(test_unknown_ports_read_ff_and_ignore_writes),
		PIC_TEST(test_state_valid_rejects_null),
		PIC_TEST(test_state_valid_rejects_corrupt_chip_fields),
		PIC_TEST(test_state_valid_rejects_corrupt_line_fields),
	};

	return cmocka_run_group_tests_name("pic_init", tests, NULL, NULL);
}
