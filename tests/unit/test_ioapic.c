/*
 * Unit tests for the 82093AA I/O APIC model (device-procs/ioapic/ioapic.c):
 * registers, redirection entries, edge and level delivery, owed edges,
 * EOI, state validity and a random walk that must keep the state valid.
 *
 * Each test drives the model the way the guest (MMIO), the devices (the
 * IRQ-line page: levels and rise counts) and the local APICs (EOI) would.
 * Section numbers refer to the 82093AA datasheet; message formats to the
 * Intel SDM vol. 3, 11.11.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ioapic.h"

#define VEC 0x31
#define MSI(dest) (0xfee00000u | (uint32_t)(dest) << 12)
#define LOGICAL 0x4u
#define ASSERT 0x4000u
#define LEVEL_TRIG 0x8000u

/* The model, the IRQ-line page it reads and the messages it last sent. */
struct rig {
	struct ioapic_state s;
	uint32_t levels;
	uint32_t rises[IOAPIC_PINS];
	struct ioapic_fx fx;
};

static int rig_setup(void **state)
{
	struct rig *r = test_calloc(1, sizeof(*r));

	ioapic_reset(&r->s);
	*state = r;
	return 0;
}

static int rig_teardown(void **state)
{
	test_free(*state);
	return 0;
}

#define IOAPIC_TEST(f) \
	cmocka_unit_test_setup_teardown(f, rig_setup, rig_teardown)

static uint32_t reg_read(struct rig *r, unsigned reg)
{
	ioapic_write(&r->s, IOAPIC_IOREGSEL, reg, &r->fx);
	return ioapic_read(&r->s, IOAPIC_IOWIN);
}

static unsigned reg_write(struct rig *r, unsigned reg, uint32_t val)
{
	ioapic_write(&r->s, IOAPIC_IOREGSEL, reg, &r->fx);
	assert_int_equal(r->fx.n, 0);
	ioapic_write(&r->s, IOAPIC_IOWIN, val, &r->fx);
	return r->fx.n;
}

/* An entry as a guest writes it: destination half first, then the low. */
static unsigned entry_write(struct rig *r, unsigned pin, uint64_t e)
{
	reg_write(r, IOAPIC_REG_REDTBL + 2 * pin + 1, (uint32_t)(e >> 32));
	return reg_write(r, IOAPIC_REG_REDTBL + 2 * pin, (uint32_t)e);
}

static uint64_t entry_read(struct rig *r, unsigned pin)
{
	uint64_t hi = reg_read(r, IOAPIC_REG_REDTBL + 2 * pin + 1);

	return hi << 32 | reg_read(r, IOAPIC_REG_REDTBL + 2 * pin);
}

static uint64_t rte(uint8_t vector, unsigned mode, uint64_t flags, uint8_t dest)
{
	return vector | (uint64_t)mode << IOAPIC_RTE_DELMOD_SHIFT | flags |
	       (uint64_t)dest << IOAPIC_RTE_DEST_SHIFT;
}

/* The model looks at the IRQ-line page. */
static unsigned look(struct rig *r)
{
	ioapic_set_pins(&r->s, r->levels, r->rises, &r->fx);
	return r->fx.n;
}

/* A device drives pin's line to level, then the model looks. */
static unsigned line(struct rig *r, unsigned pin, int level)
{
	bool was = (r->levels >> pin) & 1;

	if (level)
		r->levels |= 1u << pin;
	else
		r->levels &= ~(1u << pin);
	if (level && !was)
		r->rises[pin]++;
	return look(r);
}

static unsigned eoi(struct rig *r, uint8_t vector)
{
	ioapic_eoi(&r->s, vector, &r->fx);
	return r->fx.n;
}

static unsigned poll_once(struct rig *r)
{
	ioapic_poll(&r->s, &r->fx);
	return r->fx.n;
}

static void assert_msg(const struct rig *r, unsigned i, uint64_t addr,
		       uint32_t data)
{
	assert_true(i < r->fx.n);
	assert_int_equal(r->fx.msg[i].addr, addr);
	assert_int_equal(r->fx.msg[i].data, data);
}

static bool remote_irr(struct rig *r, unsigned pin)
{
	return entry_read(r, pin) & IOAPIC_RTE_REMOTE_IRR;
}

/* ---- Registers ---- */

static void test_version_register_reads_0x00170011(void **state)
{
	struct rig *r = *state;

	assert_int_equal(reg_read(r, IOAPIC_REG_VER), 0x00170011);
	assert_int_equal(reg_write(r, IOAPIC_REG_VER, 0xffffffff), 0);
	assert_int_equal(reg_read(r, IOAPIC_REG_VER), 0x00170011);
}

static void test_id_register_keeps_bits_24_to_27(void **state)
{
	struct rig *r = *state;

	assert_int_equal(reg_read(r, IOAPIC_REG_ID), 0);
	reg_write(r, IOAPIC_REG_ID, 0xffffffff);
	assert_int_equal(reg_read(r, IOAPIC_REG_ID), 0x0f000000);
	reg_write(r, IOAPIC_REG_ID, 0x02000000);
	assert_int_equal(reg_read(r, IOAPIC_REG_ID), 0x02000000);
	ioapic_set_id(&r->s, 0x15);
	assert_int_equal(reg_read(r, IOAPIC_REG_ID), 0x05000000);
}

static void test_arbitration_register_follows_id_and_is_read_only(void **state)
{
	struct rig *r = *state;

	reg_write(r, IOAPIC_REG_ID, 0x09000000);
	assert_int_equal(reg_read(r, IOAPIC_REG_ARB), 0x09000000);
	reg_write(r, IOAPIC_REG_ARB, 0x03000000);
	assert_int_equal(reg_read(r, IOAPIC_REG_ARB), 0x09000000);
	assert_int_equal(reg_read(r, IOAPIC_REG_ID), 0x09000000);
}

static void test_reset_masks_every_entry_and_clears_id(void **state)
{
	struct rig *r = *state;
	unsigned pin;

	reg_write(r, IOAPIC_REG_ID, 0x07000000);
	entry_write(r, 3, rte(VEC, 0, 0, 1));
	ioapic_reset(&r->s);
	assert_int_equal(reg_read(r, IOAPIC_REG_ID), 0);
	for (pin = 0; pin < IOAPIC_PINS; pin++)
		assert_int_equal(entry_read(r, pin), IOAPIC_RTE_MASK);
	assert_false(ioapic_owed(&r->s));
	assert_true(ioapic_state_valid(&r->s));
}

static void test_ioregsel_keeps_only_the_low_byte(void **state)
{
	struct rig *r = *state;

	ioapic_write(&r->s, IOAPIC_IOREGSEL, 0xabcd0001, &r->fx);
	assert_int_equal(ioapic_read(&r->s, IOAPIC_IOREGSEL), 0x01);
	assert_int_equal(ioapic_read(&r->s, IOAPIC_IOWIN), 0x00170011);
}

static void test_redirection_entry_reads_back_writable_bits(void **state)
{
	struct rig *r = *state;

	/* Masked, so nothing is sent. 17-55 reserved, 12 and 14 RO. */
	reg_write(r, IOAPIC_REG_REDTBL + 2 * 5, 0xffffffff);
	reg_write(r, IOAPIC_REG_REDTBL + 2 * 5 + 1, 0xffffffff);
	assert_int_equal(reg_read(r, IOAPIC_REG_REDTBL + 2 * 5), 0x0001afff);
	assert_int_equal(reg_read(r, IOAPIC_REG_REDTBL + 2 * 5 + 1),
			 0xff000000);
	reg_write(r, IOAPIC_REG_REDTBL + 2 * 23, 0x00010a5e);
	reg_write(r, IOAPIC_REG_REDTBL + 2 * 23 + 1, 0x5a000000);
	assert_int_equal(entry_read(r, 23), 0x5a00000000010a5eull);
	assert_int_equal(entry_read(r, 5) & ~0xff0000000001afffull, 0);
	assert_true(ioapic_state_valid(&r->s));
}

static void test_delivery_status_and_remote_irr_ignore_writes(void **state)
{
	struct rig *r = *state;

	entry_write(r, 2, rte(VEC, 0, IOAPIC_RTE_MASK | IOAPIC_RTE_TRIGGER, 0));
	reg_write(r, IOAPIC_REG_REDTBL + 4,
		  (uint32_t)(IOAPIC_RTE_MASK | IOAPIC_RTE_TRIGGER |
			     IOAPIC_RTE_REMOTE_IRR | IOAPIC_RTE_DELIVS | VEC));
	assert_int_equal(entry_read(r, 2),
			 IOAPIC_RTE_MASK | IOAPIC_RTE_TRIGGER | VEC);
}

static void test_ioregsel_index_out_of_range_reads_zero(void **state)
{
	struct rig *r = *state;
	static const unsigned bad[] = { 0x03, 0x0f, 0x40, 0x41, 0x80, 0xff };
	struct ioapic_state before;
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(reg_read(r, bad[i]), 0);
		before = r->s;
		assert_int_equal(reg_write(r, bad[i], 0xffffffff), 0);
		assert_memory_equal(&before, &r->s, sizeof(before));
	}
}

static void test_other_offsets_read_zero_and_ignore_writes(void **state)
{
	struct rig *r = *state;
	static const unsigned off[] = { 0x04, 0x08, 0x0c,  0x14,
					0x20, 0x40, 0xffc, 0x1000 };
	struct ioapic_state before;
	unsigned i;

	ioapic_write(&r->s, IOAPIC_IOREGSEL, IOAPIC_REG_VER, &r->fx);
	before = r->s;
	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		assert_int_equal(ioapic_read(&r->s, off[i]), 0);
		ioapic_write(&r->s, off[i], 0xffffffff, &r->fx);
		assert_int_equal(r->fx.n, 0);
	}
	assert_memory_equal(&before, &r->s, sizeof(before));
}

static void test_byte_write_selects_register(void **state)
{
	struct rig *r = *state;

	ioapic_write_bytes(&r->s, IOAPIC_IOREGSEL, 1, 0x01, &r->fx);
	assert_int_equal(ioapic_read(&r->s, IOAPIC_IOWIN), 0x00170011);
	/* Bytes 1-3 of IOREGSEL are reserved: the index stays. */
	ioapic_write_bytes(&r->s, IOAPIC_IOREGSEL + 1, 1, 0xff, &r->fx);
	ioapic_write_bytes(&r->s, IOAPIC_IOREGSEL + 2, 2, 0xffff, &r->fx);
	assert_int_equal(ioapic_read(&r->s, IOAPIC_IOREGSEL), 0x01);
}

static void test_sub_dword_window_access_merges_bytes(void **state)
{
	struct rig *r = *state;

	reg_write(r, IOAPIC_REG_REDTBL + 2 * 4,
		  (uint32_t)rte(0x40, 0, IOAPIC_RTE_MASK, 0));
	/* Reads: the byte at off lands in bits 0-7. */
	assert_int_equal(ioapic_read(&r->s, IOAPIC_IOWIN + 2) & 0xff, 0x01);
	assert_int_equal(ioapic_read(&r->s, IOAPIC_IOWIN) & 0xff, 0x40);
	/* Writes replace only their bytes: the vector changes, mask stays. */
	ioapic_write_bytes(&r->s, IOAPIC_IOWIN, 1, 0x55, &r->fx);
	assert_int_equal(reg_read(r, IOAPIC_REG_REDTBL + 8), 0x00010055);
	/* Unmasking with a byte write to byte 2. */
	ioapic_write_bytes(&r->s, IOAPIC_IOWIN + 2, 1, 0x00, &r->fx);
	assert_int_equal(reg_read(r, IOAPIC_REG_REDTBL + 8), 0x00000055);
	/* Bytes past the dword are lost; size 0 and 5 do nothing. */
	ioapic_write_bytes(&r->s, IOAPIC_IOWIN + 3, 4, 0x0101ff00, &r->fx);
	ioapic_write_bytes(&r->s, IOAPIC_IOWIN, 0, 0x66, &r->fx);
	ioapic_write_bytes(&r->s, IOAPIC_IOWIN, 5, 0x66, &r->fx);
	assert_int_equal(reg_read(r, IOAPIC_REG_REDTBL + 8), 0x00000055);
	assert_true(ioapic_state_valid(&r->s));
}

/* ---- Edge-triggered pins ---- */

static void test_masked_pin_delivers_nothing(void **state)
{
	struct rig *r = *state;

	entry_write(r, 1, rte(VEC, 0, IOAPIC_RTE_MASK, 0));
	entry_write(r, 9,
		    rte(VEC + 1, 0, IOAPIC_RTE_MASK | IOAPIC_RTE_TRIGGER, 0));
	assert_int_equal(line(r, 1, 1), 0);
	assert_int_equal(line(r, 9, 1), 0);
	r->rises[1] += 5;
	assert_int_equal(look(r), 0);
	assert_false(ioapic_owed(&r->s));
	assert_false(remote_irr(r, 9));
	/* 3.2.4 bit 16: the edges were not held pending. */
	assert_int_equal(entry_write(r, 1, rte(VEC, 0, 0, 0)), 0);
	assert_int_equal(poll_once(r), 0);
}

static void test_edge_pin_sends_one_message_per_edge(void **state)
{
	struct rig *r = *state;

	entry_write(r, 4, rte(VEC, IOAPIC_DELMOD_FIXED, 0, 2));
	assert_int_equal(line(r, 4, 1), 1);
	assert_msg(r, 0, MSI(2), VEC | ASSERT);
	assert_int_equal(look(r), 0);
	assert_int_equal(line(r, 4, 0), 0);
	assert_int_equal(line(r, 4, 1), 1);
	assert_int_equal(line(r, 4, 1), 0);
	assert_false(ioapic_owed(&r->s));
	assert_false(remote_irr(r, 4));
}

static void test_edge_message_physical_destination(void **state)
{
	struct rig *r = *state;

	entry_write(r, 0, rte(0x20, IOAPIC_DELMOD_FIXED, 0, 0x03));
	entry_write(r, 23, rte(0xfe, IOAPIC_DELMOD_FIXED, 0, 0xff));
	assert_int_equal(line(r, 0, 1), 1);
	assert_msg(r, 0, 0xfee03000u, 0x20 | ASSERT);
	assert_int_equal(line(r, 23, 1), 1);
	assert_msg(r, 0, 0xfeeff000u, 0xfe | ASSERT);
}

static void test_edge_message_logical_destination(void **state)
{
	struct rig *r = *state;

	entry_write(r, 7,
		    rte(0x41, IOAPIC_DELMOD_LOWEST, IOAPIC_RTE_DESTMOD, 0x0f));
	assert_int_equal(line(r, 7, 1), 1);
	assert_msg(r, 0, 0xfee0f004u, 0x41 | 1u << 8 | ASSERT);
}

static void test_each_delivery_mode_is_encoded_in_data(void **state)
{
	struct rig *r = *state;
	static const unsigned modes[] = {
		IOAPIC_DELMOD_FIXED, IOAPIC_DELMOD_LOWEST, IOAPIC_DELMOD_SMI,
		IOAPIC_DELMOD_NMI,   IOAPIC_DELMOD_INIT,   IOAPIC_DELMOD_EXTINT,
	};
	unsigned i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		entry_write(r, i, rte(0x50 + i, modes[i], 0, 1));
		assert_int_equal(line(r, i, 1), 1);
		assert_msg(r, 0, MSI(1), (0x50 + i) | modes[i] << 8 | ASSERT);
	}
}

static void test_reserved_delivery_modes_send_nothing(void **state)
{
	struct rig *r = *state;

	entry_write(r, 3, rte(VEC, 3, 0, 0));
	entry_write(r, 6, rte(VEC, 6, IOAPIC_RTE_TRIGGER, 0));
	assert_int_equal(line(r, 3, 1), 0);
	assert_int_equal(line(r, 6, 1), 0);
	r->rises[3] += 3;
	assert_int_equal(look(r), 0);
	assert_false(ioapic_owed(&r->s));
	assert_int_equal(entry_read(r, 6) & 0x700, 0x600);
}

/* 3.2.4 bits 10:8, SDM 11.11.2: NMI, INIT, ExtINT and SMI act as edge. */
static void test_nmi_entry_with_level_bit_acts_as_edge(void **state)
{
	struct rig *r = *state;

	entry_write(r, 5, rte(0, IOAPIC_DELMOD_NMI, IOAPIC_RTE_TRIGGER, 0));
	assert_int_equal(line(r, 5, 1), 1);
	assert_msg(r, 0, MSI(0), 4u << 8 | ASSERT);
	assert_false(remote_irr(r, 5));
	assert_int_equal(look(r), 0);
	assert_int_equal(line(r, 5, 0), 0);
	assert_int_equal(line(r, 5, 1), 1);
}

static void test_pulse_seen_only_via_rises_sends_one_message(void **state)
{
	struct rig *r = *state;

	entry_write(r, 8, rte(VEC, 0, 0, 0));
	r->rises[8]++; /* up and down again between two looks */
	assert_int_equal(look(r), 1);
	assert_msg(r, 0, MSI(0), VEC | ASSERT);
	assert_int_equal(look(r), 0);
}

static void test_rise_count_wraps(void **state)
{
	struct rig *r = *state;

	r->rises[2] = 0xffffffffu;
	look(r); /* the model learns the count while masked */
	entry_write(r, 2, rte(VEC, 0, 0, 0));
	r->rises[2] = 0;
	assert_int_equal(look(r), 1);
	assert_false(ioapic_owed(&r->s));
}

static void test_active_low_edge_pin_fires_on_falling_edge(void **state)
{
	struct rig *r = *state;

	r->levels = 1u << 6;
	r->rises[6] = 1;
	look(r);
	entry_write(r, 6, rte(VEC, 0, IOAPIC_RTE_INTPOL, 0));
	assert_int_equal(line(r, 6, 0), 1);
	assert_int_equal(line(r, 6, 1), 0);
	/* A low-going pulse missed between looks leaves one rise. */
	r->rises[6]++;
	assert_int_equal(look(r), 1);
	assert_false(ioapic_owed(&r->s));
}

static void test_level_change_without_rise_count_is_an_edge(void **state)
{
	struct rig *r = *state;

	entry_write(r, 4, rte(VEC, 0, 0, 0));
	ioapic_set_pins(&r->s, 1u << 4, NULL, &r->fx);
	assert_int_equal(r->fx.n, 1);
	ioapic_set_pins(&r->s, 0, NULL, &r->fx);
	assert_int_equal(r->fx.n, 0);
	/* Counts that lag the level (rises[4] still 0) count the rise too. */
	r->levels = 1u << 4;
	assert_int_equal(look(r), 1);
	assert_false(ioapic_owed(&r->s));
}

static void test_null_fx_discards_messages_but_keeps_state(void **state)
{
	struct rig *r = *state;

	entry_write(r, 9, rte(VEC, 0, IOAPIC_RTE_TRIGGER, 0));
	r->levels = 1u << 9;
	ioapic_set_pins(&r->s, r->levels, r->rises, NULL);
	assert_true(remote_irr(r, 9));
	ioapic_eoi(&r->s, VEC, NULL);
	assert_true(remote_irr(r, 9)); /* sent again at once */
	ioapic_poll(&r->s, NULL);
	ioapic_write(&r->s, IOAPIC_IOREGSEL, 0, NULL);
	assert_true(ioapic_state_valid(&r->s));
}

/* ---- Owed edges ---- */

static void test_owed_edges_are_caught_up_by_poll(void **state)
{
	struct rig *r = *state;

	entry_write(r, 10, rte(VEC, 0, 0, 0));
	r->rises[10] += 4; /* the process was away for four pulses */
	assert_int_equal(look(r), 1);
	assert_true(ioapic_owed(&r->s));
	assert_int_equal(look(r), 0); /* owed ones wait for the poll */
	assert_int_equal(poll_once(r), 1);
	assert_msg(r, 0, MSI(0), VEC | ASSERT);
	assert_int_equal(poll_once(r), 1);
	assert_true(ioapic_owed(&r->s));
	assert_int_equal(poll_once(r), 1);
	assert_false(ioapic_owed(&r->s));
	assert_int_equal(poll_once(r), 0);
}

static void test_poll_sends_one_owed_edge_per_pin(void **state)
{
	struct rig *r = *state;

	entry_write(r, 0, rte(0x30, 0, 0, 0));
	entry_write(r, 1, rte(0x31, 0, 0, 0));
	r->rises[0] += 3;
	r->rises[1] += 2;
	assert_int_equal(look(r), 2);
	assert_int_equal(poll_once(r), 2);
	assert_msg(r, 0, MSI(0), 0x30 | ASSERT);
	assert_msg(r, 1, MSI(0), 0x31 | ASSERT);
	assert_int_equal(poll_once(r), 1);
	assert_msg(r, 0, MSI(0), 0x30 | ASSERT);
	assert_false(ioapic_owed(&r->s));
}

static void test_new_edge_is_not_held_behind_owed_ones(void **state)
{
	struct rig *r = *state;
	unsigned sent = 0;

	entry_write(r, 3, rte(VEC, 0, 0, 0));
	r->rises[3] += 3;
	sent += look(r);
	assert_int_equal(line(r, 3, 1), 1);
	sent++;
	while (ioapic_owed(&r->s))
		sent += poll_once(r);
	assert_int_equal(sent, 4);
}

static void test_owed_edges_are_capped(void **state)
{
	struct rig *r = *state;
	unsigned sent = 0;

	entry_write(r, 12, rte(VEC, 0, 0, 0));
	r->rises[12] += 100000;
	sent += look(r);
	while (ioapic_owed(&r->s))
		sent += poll_once(r);
	assert_int_equal(sent, 1 + IOAPIC_OWED_MAX);
}

static void test_masking_drops_owed_edges(void **state)
{
	struct rig *r = *state;

	entry_write(r, 11, rte(VEC, 0, 0, 0));
	r->rises[11] += 5;
	assert_int_equal(look(r), 1);
	entry_write(r, 11, rte(VEC, 0, IOAPIC_RTE_MASK, 0));
	assert_false(ioapic_owed(&r->s));
	entry_write(r, 11, rte(VEC, 0, 0, 0));
	assert_int_equal(poll_once(r), 0);
}

static void test_switching_to_level_drops_owed_edges(void **state)
{
	struct rig *r = *state;

	entry_write(r, 11, rte(VEC, 0, 0, 0));
	r->rises[11] += 5;
	look(r);
	entry_write(r, 11, rte(VEC, 0, IOAPIC_RTE_TRIGGER, 0));
	assert_false(ioapic_owed(&r->s));
}

/* ---- Level-triggered pins ---- */

static void test_level_pin_sends_and_sets_remote_irr(void **state)
{
	struct rig *r = *state;

	entry_write(r, 16, rte(0x61, 0, IOAPIC_RTE_TRIGGER, 1));
	assert_false(remote_irr(r, 16));
	assert_int_equal(line(r, 16, 1), 1);
	assert_msg(r, 0, MSI(1), 0x61 | ASSERT | LEVEL_TRIG);
	assert_true(remote_irr(r, 16));
	assert_true(ioapic_state_valid(&r->s));
}

static void test_level_pin_no_repeat_while_asserted(void **state)
{
	struct rig *r = *state;

	entry_write(r, 16, rte(0x61, 0, IOAPIC_RTE_TRIGGER, 1));
	assert_int_equal(line(r, 16, 1), 1);
	assert_int_equal(look(r), 0);
	r->rises[16] += 3; /* rise counts do not matter to a level pin */
	assert_int_equal(look(r), 0);
	assert_int_equal(line(r, 16, 0), 0);
	assert_int_equal(line(r, 16, 1), 0); /* still awaiting the EOI */
	assert_false(ioapic_owed(&r->s));
}

static void test_eoi_clears_remote_irr_and_resends_if_asserted(void **state)
{
	struct rig *r = *state;

	entry_write(r, 17,
		    rte(0x62, IOAPIC_DELMOD_LOWEST,
			IOAPIC_RTE_TRIGGER | IOAPIC_RTE_DESTMOD, 3));
	assert_int_equal(line(r, 17, 1), 1);
	assert_int_equal(eoi(r, 0x62), 1);
	assert_msg(r, 0, MSI(3) | LOGICAL,
		   0x62 | 1u << 8 | ASSERT | LEVEL_TRIG);
	assert_true(remote_irr(r, 17));
}

static void test_eoi_after_deassert_clears_remote_irr_only(void **state)
{
	struct rig *r = *state;

	entry_write(r, 17, rte(0x62, 0, IOAPIC_RTE_TRIGGER, 0));
	assert_int_equal(line(r, 17, 1), 1);
	assert_int_equal(line(r, 17, 0), 0);
	assert_int_equal(eoi(r, 0x62), 0);
	assert_false(remote_irr(r, 17));
	assert_int_equal(line(r, 17, 1), 1);
}

static void test_eoi_of_another_vector_does_nothing(void **state)
{
	struct rig *r = *state;
	struct ioapic_state before;

	entry_write(r, 18, rte(0x63, 0, IOAPIC_RTE_TRIGGER, 0));
	entry_write(r, 19, rte(0x64, 0, 0, 0)); /* edge entry */
	assert_int_equal(line(r, 18, 1), 1);
	before = r->s;
	assert_int_equal(eoi(r, 0x64), 0);
	assert_int_equal(eoi(r, 0x00), 0);
	assert_memory_equal(&before, &r->s, sizeof(before));
	assert_true(remote_irr(r, 18));
}

static void test_eoi_clears_every_entry_sharing_the_vector(void **state)
{
	struct rig *r = *state;

	entry_write(r, 20, rte(0x70, 0, IOAPIC_RTE_TRIGGER, 0));
	entry_write(r, 21, rte(0x70, 0, IOAPIC_RTE_TRIGGER, 0));
	assert_int_equal(line(r, 20, 1), 1);
	assert_int_equal(line(r, 21, 1), 1);
	assert_int_equal(eoi(r, 0x70), 2);
}

static void test_active_low_level_pin(void **state)
{
	struct rig *r = *state;

	r->levels = 1u << 13;
	look(r);
	entry_write(r, 13,
		    rte(VEC, 0, IOAPIC_RTE_TRIGGER | IOAPIC_RTE_INTPOL, 0));
	assert_int_equal(r->fx.n, 0); /* high is idle for active low */
	assert_int_equal(line(r, 13, 0), 1);
	assert_true(remote_irr(r, 13));
	assert_int_equal(line(r, 13, 1), 0);
	assert_int_equal(eoi(r, VEC), 0);
	assert_int_equal(line(r, 13, 0), 1);
}

static void test_unmask_of_asserted_level_pin_delivers(void **state)
{
	struct rig *r = *state;

	entry_write(r, 14,
		    rte(VEC, 0, IOAPIC_RTE_TRIGGER | IOAPIC_RTE_MASK, 0));
	assert_int_equal(line(r, 14, 1), 0);
	assert_int_equal(entry_write(r, 14, rte(VEC, 0, IOAPIC_RTE_TRIGGER, 0)),
			 1);
	assert_msg(r, 0, MSI(0), VEC | ASSERT | LEVEL_TRIG);
	assert_true(remote_irr(r, 14));
}

static void test_unmask_with_remote_irr_set_sends_nothing(void **state)
{
	struct rig *r = *state;

	entry_write(r, 14, rte(VEC, 0, IOAPIC_RTE_TRIGGER, 0));
	assert_int_equal(line(r, 14, 1), 1);
	entry_write(r, 14,
		    rte(VEC, 0, IOAPIC_RTE_TRIGGER | IOAPIC_RTE_MASK, 0));
	assert_true(remote_irr(r, 14)); /* masking keeps the accepted one */
	assert_int_equal(entry_write(r, 14, rte(VEC, 0, IOAPIC_RTE_TRIGGER, 0)),
			 0);
	assert_int_equal(eoi(r, VEC), 1);
}

/* Linux's EOI for version 0x11 chips: mask, edge, then level again. */
static void test_switch_to_edge_and_back_clears_remote_irr(void **state)
{
	struct rig *r = *state;
	uint64_t level = rte(VEC, 0, IOAPIC_RTE_TRIGGER, 0);

	entry_write(r, 15, level);
	assert_int_equal(line(r, 15, 1), 1);
	assert_int_equal(line(r, 15, 0), 0);
	entry_write(r, 15, rte(VEC, 0, IOAPIC_RTE_MASK, 0));
	assert_false(remote_irr(r, 15));
	assert_int_equal(entry_write(r, 15, level), 0);
	assert_int_equal(line(r, 15, 1), 1);
}

static void test_every_pin_asserted_at_once_fits_in_fx(void **state)
{
	struct rig *r = *state;
	unsigned pin;

	for (pin = 0; pin < IOAPIC_PINS; pin++)
		entry_write(r, pin, rte(0x20 + pin, 0, IOAPIC_RTE_TRIGGER, 0));
	r->levels = (1u << IOAPIC_PINS) - 1;
	assert_int_equal(look(r), IOAPIC_PINS);
	for (pin = 0; pin < IOAPIC_PINS; pin++)
		assert_int_equal(r->fx.msg[pin].data & 0xff, 0x20 + pin);
}

static void test_reset_later_learns_lines_without_sending(void **state)
{
	struct rig *r = *state;

	entry_write(r, 2, rte(VEC, 0, 0, 0));
	r->rises[2] += 7;
	r->levels = 1u << 2;
	look(r);
	ioapic_reset(&r->s);
	assert_int_equal(look(r), 0);
	assert_int_equal(entry_write(r, 2, rte(VEC, 0, 0, 0)), 0);
	assert_int_equal(look(r), 0);
	assert_false(ioapic_owed(&r->s));
}

/* ---- State validity ---- */

static void test_state_valid_after_reset(void **state)
{
	struct rig *r = *state;

	assert_true(ioapic_state_valid(&r->s));
	assert_false(ioapic_state_valid(NULL));
}

static void test_state_valid_rejects_corruption(void **state)
{
	struct rig *r = *state;
	struct ioapic_state good;
	struct ioapic_state s;

	entry_write(r, 0, rte(VEC, 0, 0, 0));
	r->rises[0] += 3;
	look(r);
	entry_write(r, 1, rte(VEC, 0, IOAPIC_RTE_TRIGGER, 0));
	line(r, 1, 1);
	good = r->s;
	assert_true(ioapic_state_valid(&good));

	s = good;
	s.pad[1] = 1;
	assert_false(ioapic_state_valid(&s));
	s = good;
	s.id = 16;
	assert_false(ioapic_state_valid(&s));
	s = good;
	s.levels |= 1u << IOAPIC_PINS;
	assert_false(ioapic_state_valid(&s));
	s = good;
	s.redtbl[5] |= 1ull << 17; /* reserved */
	assert_false(ioapic_state_valid(&s));
	s = good;
	s.redtbl[5] |= 1ull << 55; /* reserved */
	assert_false(ioapic_state_valid(&s));
	s = good;
	s.redtbl[5] |= IOAPIC_RTE_DELIVS;
	assert_false(ioapic_state_valid(&s));
	s = good;
	s.redtbl[0] |= IOAPIC_RTE_REMOTE_IRR; /* on an edge entry */
	assert_false(ioapic_state_valid(&s));
	s = good;
	s.owed[0] = IOAPIC_OWED_MAX + 1;
	assert_false(ioapic_state_valid(&s));
	s = good;
	s.owed[1] = 1; /* on a level entry */
	assert_false(ioapic_state_valid(&s));
	s = good;
	s.owed[2] = 1; /* on a masked entry */
	assert_false(ioapic_state_valid(&s));
}

/* ---- Random walk ---- */

static uint64_t rnd_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* A plausible entry most of the time, any 32 bits sometimes. */
static uint32_t random_low(uint64_t *x)
{
	uint32_t v = (uint32_t)rnd_next(x);

	if (v & 0x80000000u)
		return v;
	return v & (uint32_t)(IOAPIC_RTE_VECTOR | IOAPIC_RTE_DELMOD |
			      IOAPIC_RTE_DESTMOD | IOAPIC_RTE_INTPOL |
			      IOAPIC_RTE_TRIGGER | IOAPIC_RTE_MASK);
}

static void random_write(struct rig *r, uint64_t *x)
{
	uint64_t v = rnd_next(x);

	switch (v % 4) {
	case 0:
		ioapic_write(&r->s, IOAPIC_IOREGSEL, (uint32_t)(v >> 8) % 0x48,
			     &r->fx);
		break;
	case 1:
		ioapic_write(&r->s, IOAPIC_IOWIN, random_low(x), &r->fx);
		break;
	case 2:
		ioapic_write_bytes(&r->s, (unsigned)(v >> 8) % 0x20,
				   (unsigned)(v >> 16) % 6,
				   (uint32_t)rnd_next(x), &r->fx);
		break;
	default:
		ioapic_write(&r->s, (unsigned)(v >> 8) % 0x2000,
			     (uint32_t)rnd_next(x), &r->fx);
		break;
	}
}

static void random_lines(struct rig *r, uint64_t *x)
{
	uint64_t v = rnd_next(x);
	unsigned pin = (unsigned)(v >> 8) % IOAPIC_PINS;

	switch (v % 4) {
	case 0:
		r->levels ^= 1u << pin;
		if ((r->levels >> pin) & 1)
			r->rises[pin]++;
		break;
	case 1:
		r->rises[pin] += (uint32_t)(v >> 16) % 4;
		break;
	case 2:
		r->rises[pin] += (uint32_t)(v >> 16);
		break;
	default:
		break;
	}
	look(r);
}

static void random_eoi(struct rig *r, uint64_t *x)
{
	uint64_t v = rnd_next(x);
	uint8_t vector = (uint8_t)(v >> 8);

	if (v & 1)
		vector = (uint8_t)r->s.redtbl[(v >> 16) % IOAPIC_PINS];
	eoi(r, vector);
}

/* Messages are well formed; no asserted level pin waits unsent. */
static void check_walk(struct rig *r)
{
	unsigned i;

	assert_true(ioapic_state_valid(&r->s));
	assert_true(r->fx.n <= IOAPIC_PINS);
	for (i = 0; i < r->fx.n; i++) {
		uint32_t mode = (r->fx.msg[i].data >> 8) & 7;

		assert_int_equal(r->fx.msg[i].addr & ~0xff004ull, 0xfee00000u);
		assert_int_equal(r->fx.msg[i].data & ~0xc7ffu, 0);
		assert_true(r->fx.msg[i].data & ASSERT);
		assert_true(mode != 3 && mode != 6);
	}
	for (i = 0; i < IOAPIC_PINS; i++) {
		uint64_t e = r->s.redtbl[i];
		bool high = (r->s.levels >> i) & 1;
		bool asserted = high != !!(e & IOAPIC_RTE_INTPOL);

		if (!(e & IOAPIC_RTE_TRIGGER) || (e & IOAPIC_RTE_MASK))
			continue;
		if (((e & IOAPIC_RTE_DELMOD) >> 8) > IOAPIC_DELMOD_LOWEST)
			continue;
		if (asserted)
			assert_true(e & IOAPIC_RTE_REMOTE_IRR);
	}
}

static void test_random_operations_keep_state_valid(void **state)
{
	struct rig *r = *state;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct ioapic_state before;
	unsigned i;

	for (i = 0; i < 200000; i++) {
		uint64_t op = rnd_next(&x) % 8;

		r->fx.n = 0;
		if (op < 3) {
			random_write(r, &x);
		} else if (op < 5) {
			random_lines(r, &x);
		} else if (op == 5) {
			random_eoi(r, &x);
		} else if (op == 6) {
			poll_once(r);
		} else {
			before = r->s;
			ioapic_read(&r->s, (unsigned)rnd_next(&x) % 0x1004);
			assert_memory_equal(&before, &r->s, sizeof(before));
		}
		check_walk(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		IOAPIC_TEST(test_version_register_reads_0x00170011),
		IOAPIC_TEST(test_id_register_keeps_bits_24_to_27),
		IOAPIC_TEST(
			test_arbitration_register_follows_id_and_is_read_only),
		IOAPIC_TEST(test_reset_masks_every_entry_and_clears_id),
		IOAPIC_TEST(test_ioregsel_keeps_only_the_low_byte),
		IOAPIC_TEST(test_redirection_entry_reads_back_writable_bits),
		IOAPIC_TEST(test_delivery_status_and_remote_irr_ignore_writes),
		IOAPIC_TEST(test_ioregsel_index_out_of_range_reads_zero),
		IOAPIC_TEST(test_other_offsets_read_zero_and_ignore_writes),
		IOAPIC_TEST(test_byte_write_selects_register),
		IOAPIC_TEST(test_sub_dword_window_access_merges_bytes),
		IOAPIC_TEST(test_masked_pin_delivers_nothing),
		IOAPIC_TEST(test_edge_pin_sends_one_message_per_edge),
		IOAPIC_TEST(test_edge_message_physical_destination),
		IOAPIC_TEST(test_edge_message_logical_destination),
		IOAPIC_TEST(test_each_delivery_mode_is_encoded_in_data),
		IOAPIC_TEST(test_reserved_delivery_modes_send_nothing),
		IOAPIC_TEST(test_nmi_entry_with_level_bit_acts_as_edge),
		IOAPIC_TEST(test_pulse_seen_only_via_rises_sends_one_message),
		IOAPIC_TEST(test_rise_count_wraps),
		IOAPIC_TEST(test_active_low_edge_pin_fires_on_falling_edge),
		IOAPIC_TEST(test_level_change_without_rise_count_is_an_edge),
		IOAPIC_TEST(test_null_fx_discards_messages_but_keeps_state),
		IOAPIC_TEST(test_owed_edges_are_caught_up_by_poll),
		IOAPIC_TEST(test_poll_sends_one_owed_edge_per_pin),
		IOAPIC_TEST(test_new_edge_is_not_held_behind_owed_ones),
		IOAPIC_TEST(test_owed_edges_are_capped),
		IOAPIC_TEST(test_masking_drops_owed_edges),
		IOAPIC_TEST(test_switching_to_level_drops_owed_edges),
		IOAPIC_TEST(test_level_pin_sends_and_sets_remote_irr),
		IOAPIC_TEST(test_level_pin_no_repeat_while_asserted),
		IOAPIC_TEST(test_eoi_clears_remote_irr_and_resends_if_asserted),
		IOAPIC_TEST(test_eoi_after_deassert_clears_remote_irr_only),
		IOAPIC_TEST(test_eoi_of_another_vector_does_nothing),
		IOAPIC_TEST(test_eoi_clears_every_entry_sharing_the_vector),
		IOAPIC_TEST(test_active_low_level_pin),
		IOAPIC_TEST(test_unmask_of_asserted_level_pin_delivers),
		IOAPIC_TEST(test_unmask_with_remote_irr_set_sends_nothing),
		IOAPIC_TEST(test_switch_to_edge_and_back_clears_remote_irr),
		IOAPIC_TEST(test_every_pin_asserted_at_once_fits_in_fx),
		IOAPIC_TEST(test_reset_later_learns_lines_without_sending),
		IOAPIC_TEST(test_state_valid_after_reset),
		IOAPIC_TEST(test_state_valid_rejects_corruption),
		IOAPIC_TEST(test_random_operations_keep_state_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
