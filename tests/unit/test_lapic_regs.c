/*
 * Unit tests for the local APIC model (device-procs/lapic): reset values,
 * plain registers, priorities, acceptance, EOI, software disable, ESR,
 * INIT reset, the mailbox and the validity check of a state page.
 *
 * Helpers are in lapic_test.h. Section numbers refer to the Intel SDM
 * vol. 3A, chapter 11.
 */
#include <string.h>

#include "lapic_test.h"

/* ---- Reset and plain registers ---- */

static void test_reset_values_match_sdm(void **state)
{
	struct lapic_test *t = *state;
	unsigned i;

	/* 11.4.7.1 */
	assert_int_equal(rd(t, 0, LAPIC_REG_TPR), 0);
	assert_int_equal(rd(t, 0, LAPIC_REG_PPR), 0);
	assert_int_equal(rd(t, 0, LAPIC_REG_APR), 0);
	assert_int_equal(rd(t, 0, LAPIC_REG_LDR), 0);
	assert_int_equal(rd(t, 0, LAPIC_REG_DFR), 0xffffffff);
	assert_int_equal(rd(t, 0, LAPIC_REG_SVR), 0xff);
	assert_int_equal(rd(t, 0, LAPIC_REG_ICR_LO), 0);
	assert_int_equal(rd(t, 0, LAPIC_REG_ICR_HI), 0);
	assert_int_equal(rd(t, 0, LAPIC_REG_ESR), 0);
	for (i = 0; i < LAPIC_LVT_COUNT; i++)
		assert_int_equal(rd(t, 0, LAPIC_REG_LVT + 0x10 * i), 0x10000);
	assert_int_equal(rd(t, 0, LAPIC_REG_LVT_CMCI), 0x10000);
	assert_int_equal(rd(t, 0, LAPIC_REG_TIMER_INITIAL), 0);
	assert_int_equal(rd(t, 0, LAPIC_REG_TIMER_CURRENT), 0);
	assert_int_equal(rd(t, 0, LAPIC_REG_TIMER_DIVIDE), 0);
	for (i = 0; i < 8; i++) {
		assert_int_equal(rd(t, 0, LAPIC_REG_ISR + 0x10 * i), 0);
		assert_int_equal(rd(t, 0, LAPIC_REG_TMR + 0x10 * i), 0);
		assert_int_equal(rd(t, 0, LAPIC_REG_IRR + 0x10 * i), 0);
	}
	/* Software disabled, nothing pending, no virtual wire yet. */
	assert_int_equal(mb(t, 0), 0);
	assert_int_equal(lapic_deadline(&t->cpu[0]), 0);
	assert_true(t->cpu[0].bsp);
	assert_false(t->cpu[0].wait_sipi);
	assert_true(t->cpu[1].wait_sipi);
	assert_all_valid(t);
}

static void test_id_and_version_registers(void **state)
{
	struct lapic_test *t = *state;

	assert_int_equal(rd(t, 0, LAPIC_REG_ID), 0);
	assert_int_equal(rd(t, 2, LAPIC_REG_ID), 0x02000000);
	assert_int_equal(rd(t, 2, LAPIC_REG_VERSION), 0x00050014);
	wr(t, 2, LAPIC_REG_VERSION, 0);
	assert_int_equal(rd(t, 2, LAPIC_REG_VERSION), 0x00050014);
	/* 11.4.6: only bits 24-31 hold the xAPIC ID. */
	wr(t, 2, LAPIC_REG_ID, 0x07ffffff);
	assert_int_equal(rd(t, 2, LAPIC_REG_ID), 0x07000000);
	assert_int_equal(rd(t, 2, LAPIC_REG_ESR), 0);
	assert_all_valid(t);
}

static void test_ldr_and_dfr_keep_reserved_bits(void **state)
{
	struct lapic_test *t = *state;

	wr(t, 1, LAPIC_REG_LDR, 0xffffffff);
	assert_int_equal(rd(t, 1, LAPIC_REG_LDR), 0xff000000);
	wr(t, 1, LAPIC_REG_DFR, 0);
	assert_int_equal(rd(t, 1, LAPIC_REG_DFR), LAPIC_DFR_CLUSTER);
	wr(t, 1, LAPIC_REG_DFR, 0xf0000000);
	assert_int_equal(rd(t, 1, LAPIC_REG_DFR), LAPIC_DFR_FLAT);
	wr(t, 1, LAPIC_REG_SVR, 0xffffffff);
	assert_int_equal(rd(t, 1, LAPIC_REG_SVR), 0x3ff);
	assert_all_valid(t);
}

static void test_unaligned_access_reads_zero_and_is_ignored(void **state)
{
	struct lapic_test *t = *state;

	wr(t, 0, LAPIC_REG_TPR, 0x20);
	assert_int_equal(rd(t, 0, LAPIC_REG_TPR + 4), 0);
	wr(t, 0, LAPIC_REG_TPR + 4, 0x30);
	wr(t, 0, LAPIC_SIZE, 0x30);
	assert_int_equal(rd(t, 0, LAPIC_SIZE), 0);
	assert_int_equal(rd(t, 0, LAPIC_REG_TPR), 0x20);
	wr(t, 0, LAPIC_REG_ESR, 0);
	assert_int_equal(rd(t, 0, LAPIC_REG_ESR), 0);
}

/* ---- Priorities, acceptance and EOI ---- */

static void test_tpr_sets_ppr_and_masks_lower_classes(void **state)
{
	struct lapic_test *t = *state;

	enable(t, 0);
	msi(t, MSI_ADDR(0), MSI_DATA(0x45, LAPIC_DM_FIXED));
	assert_offers(t, 0, 0x45);
	/* 11.8.3.1: only classes above the PPR class are delivered. */
	wr(t, 0, LAPIC_REG_TPR, 0x50);
	assert_int_equal(rd(t, 0, LAPIC_REG_PPR), 0x50);
	assert_false(mb(t, 0) & LAPIC_MB_INTR);
	wr(t, 0, LAPIC_REG_TPR, 0x4f);
	assert_int_equal(rd(t, 0, LAPIC_REG_PPR), 0x4f);
	assert_false(mb(t, 0) & LAPIC_MB_INTR);
	wr(t, 0, LAPIC_REG_TPR, 0x3f);
	assert_offers(t, 0, 0x45);
	/* The TPR keeps bits 0-7 only. */
	wr(t, 0, LAPIC_REG_TPR, 0x1ff);
	assert_int_equal(rd(t, 0, LAPIC_REG_TPR), 0xff);
	assert_all_valid(t);
}

static void test_accept_moves_irr_to_isr_and_raises_ppr(void **state)
{
	struct lapic_test *t = *state;

	enable(t, 0);
	msi(t, MSI_ADDR(0), MSI_DATA(0x45, LAPIC_DM_FIXED));
	msi(t, MSI_ADDR(0), MSI_DATA(0x61, LAPIC_DM_FIXED));
	assert_int_equal(rd(t, 0, LAPIC_REG_IRR + 0x20), 1u << 5);
	assert_int_equal(rd(t, 0, LAPIC_REG_IRR + 0x30), 1u << 1);
	assert_offers(t, 0, 0x61);
	accept(t, 0, LAPIC_ACCEPT_INTR, 0x61);
	assert_false(irr_has(t, 0, 0x61));
	assert_true(isr_has(t, 0, 0x61));
	assert_int_equal(rd(t, 0, LAPIC_REG_ISR + 0x30), 1u << 1);
	assert_int_equal(rd(t, 0, LAPIC_REG_PPR), 0x60);
	/* 0x45 waits below the in-service class; 0x71 preempts. */
	assert_false(mb(t, 0) & LAPIC_MB_INTR);
	msi(t, MSI_ADDR(0), MSI_DATA(0x71, LAPIC_DM_FIXED));
	assert_offers(t, 0, 0x71);
	/* A stale acceptance of a vector not in IRR changes nothing. */
	accept(t, 0, LAPIC_ACCEPT_INTR, 0x99);
	assert_false(isr_has(t, 0, 0x99));
	assert_all_valid(t);
}

static void test_eoi_retires_highest_in_service_first(void **state)
{
	struct lapic_test *t = *state;

	enable(t, 0);
	msi(t, MSI_ADDR(0), MSI_DATA(0x45, LAPIC_DM_FIXED));
	accept(t, 0, LAPIC_ACCEPT_INTR, 0x45);
	msi(t, MSI_ADDR(0), MSI_DATA(0x61, LAPIC_DM_FIXED));
	accept(t, 0, LAPIC_ACCEPT_INTR, 0x61);
	assert_int_equal(rd(t, 0, LAPIC_REG_PPR), 0x60);
	wr(t, 0, LAPIC_REG_EOI, 0);
	assert_false(isr_has(t, 0, 0x61));
	assert_true(isr_has(t, 0, 0x45));
	assert_int_equal(rd(t, 0, LAPIC_REG_PPR), 0x40);
	wr(t, 0, LAPIC_REG_EOI, 0);
	assert_false(isr_has(t, 0, 0x45));
	assert_int_equal(rd(t, 0, LAPIC_REG_PPR), 0);
	/* Nothing in service: ignored. */
	assert_int_equal(wr(t, 0, LAPIC_REG_EOI, 0).neoi, 0);
	assert_int_equal(rd(t, 0, LAPIC_REG_EOI), 0);
}

static void test_eoi_broadcast_only_for_level_triggered(void **state)
{
	struct lapic_test *t = *state;
	struct lapic_fx fx;

	enable(t, 0);
	msi(t, MSI_ADDR(0), MSI_DATA(0x51, LAPIC_DM_FIXED));
	accept(t, 0, LAPIC_ACCEPT_INTR, 0x51);
	fx = wr(t, 0, LAPIC_REG_EOI, 0);
	assert_int_equal(fx.neoi, 0);

	msi(t, MSI_ADDR(0), MSI_DATA(0x50, LAPIC_DM_FIXED) | MSI_LEVEL_ASSERT);
	assert_true(tmr_has(t, 0, 0x50));
	accept(t, 0, LAPIC_ACCEPT_INTR, 0x50);
	fx = wr(t, 0, LAPIC_REG_EOI, 0);
	assert_int_equal(fx.neoi, 1);
	assert_int_equal(fx.eoi[0], 0x50);
	assert_all_valid(t);
}

/* ---- Software disable, ESR ---- */

static void test_software_disable_masks_lvts_and_refuses_unmask(void **state)
{
	struct lapic_test *t = *state;

	enable(t, 0);
	wr(t, 0, LAPIC_REG_LVT + 0x10 * LAPIC_LVT_TIMER, 0x40);
	wr(t, 0, LAPIC_REG_LVT + 0x10 * LAPIC_LVT_LINT0, 0x700);
	assert_int_equal(rd(t, 0, LAPIC_REG_LVT), 0x40);
	assert_true(mb(t, 0) & LAPIC_MB_APIC_ENABLED);
	msi(t, MSI_ADDR(0), MSI_DATA(0x45, LAPIC_DM_FIXED));

	/* 11.4.7.2: every LVT masked; unmasking refused while disabled. */
	wr(t, 0, LAPIC_REG_SVR, 0xff);
	assert_int_equal(rd(t, 0, LAPIC_REG_LVT), 0x10040);
	assert_int_equal(rd(t, 0, LAPIC_REG_LVT + 0x10 * LAPIC_LVT_LINT0),
			 0x10700);
	wr(t, 0, LAPIC_REG_LVT, 0x41);
	assert_int_equal(rd(t, 0, LAPIC_REG_LVT), 0x10041);
	assert_false(mb(t, 0) & (LAPIC_MB_APIC_ENABLED | LAPIC_MB_EXTINT));

	/* IRR is held; new fixed interrupts are not taken; NMI is. */
	assert_offers(t, 0, 0x45);
	msi(t, MSI_ADDR(0), MSI_DATA(0x46, LAPIC_DM_FIXED));
	assert_false(irr_has(t, 0, 0x46));
	msi(t, MSI_ADDR(0), MSI_DATA(0, LAPIC_DM_NMI));
	assert_true(mb(t, 0) & LAPIC_MB_NMI);

	/* Enabling again leaves the masks until the guest clears them. */
	enable(t, 0);
	assert_int_equal(rd(t, 0, LAPIC_REG_LVT), 0x10041);
	wr(t, 0, LAPIC_REG_LVT, 0x41);
	assert_int_equal(rd(t, 0, LAPIC_REG_LVT), 0x41);
	assert_all_valid(t);
}

static void test_esr_reports_errors_after_a_write(void **state)
{
	struct lapic_test *t = *state;

	/* 11.5.3: the readable ESR changes only on an ESR write. */
	assert_int_equal(rd(t, 0, 0x40), 0); /* reserved */
	assert_int_equal(rd(t, 0, LAPIC_REG_ESR), 0);
	wr(t, 0, LAPIC_REG_ESR, 0);
	assert_int_equal(rd(t, 0, LAPIC_REG_ESR), LAPIC_ESR_ILLEGAL_REG);
	wr(t, 0, 0x3f0, 1); /* reserved, write */
	ipi(t, 0, 0, ICR(0x05, LAPIC_DM_FIXED, LAPIC_SH_SELF));
	assert_int_equal(rd(t, 0, LAPIC_REG_ESR), LAPIC_ESR_ILLEGAL_REG);
	wr(t, 0, LAPIC_REG_ESR, 0);
	assert_int_equal(rd(t, 0, LAPIC_REG_ESR),
			 LAPIC_ESR_ILLEGAL_REG | LAPIC_ESR_SEND_ILLEGAL);
	wr(t, 0, LAPIC_REG_ESR, 0);
	assert_int_equal(rd(t, 0, LAPIC_REG_ESR), 0);
	assert_false(irr_has(t, 0, 0x05));
	assert_all_valid(t);
}

static void test_error_interrupt_fires_once_until_esr_write(void **state)
{
	struct lapic_test *t = *state;

	enable(t, 1);
	wr(t, 1, LAPIC_REG_LVT + 0x10 * LAPIC_LVT_ERROR, 0xfe);
	/* A received illegal vector (11.5.3 bit 6) raises the error LVT. */
	msi(t, MSI_ADDR(1), MSI_DATA(0x03, LAPIC_DM_FIXED));
	assert_offers(t, 1, 0xfe);
	accept(t, 1, LAPIC_ACCEPT_INTR, 0xfe);
	wr(t, 1, LAPIC_REG_EOI, 0);
	/* Not rearmed yet: a second error is only logged. */
	rd(t, 1, 0x50);
	assert_false(mb(t, 1) & LAPIC_MB_INTR);
	wr(t, 1, LAPIC_REG_ESR, 0);
	assert_int_equal(rd(t, 1, LAPIC_REG_ESR),
			 LAPIC_ESR_RECV_ILLEGAL | LAPIC_ESR_ILLEGAL_REG);
	rd(t, 1, 0x60);
	assert_offers(t, 1, 0xfe);
	assert_all_valid(t);
}

/* ---- INIT, ExtINT and the mailbox ---- */

static void test_init_resets_everything_but_the_id(void **state)
{
	struct lapic_test *t = *state;

	enable(t, 2);
	wr(t, 2, LAPIC_REG_ID, 0x09000000);
	wr(t, 2, LAPIC_REG_TPR, 0x30);
	wr(t, 2, LAPIC_REG_LDR, 0x04000000);
	wr(t, 2, LAPIC_REG_TIMER_INITIAL, 1000000);
	msi(t, MSI_ADDR(9), MSI_DATA(0x80, LAPIC_DM_FIXED));
	msi(t, MSI_ADDR(9), MSI_DATA(0, LAPIC_DM_INIT));
	assert_true(mb(t, 2) & LAPIC_MB_INIT);
	accept(t, 2, LAPIC_ACCEPT_INIT, 0);
	/* 11.4.7.3 */
	assert_int_equal(rd(t, 2, LAPIC_REG_ID), 0x09000000);
	assert_int_equal(rd(t, 2, LAPIC_REG_TPR), 0);
	assert_int_equal(rd(t, 2, LAPIC_REG_LDR), 0);
	assert_int_equal(rd(t, 2, LAPIC_REG_SVR), 0xff);
	assert_int_equal(rd(t, 2, LAPIC_REG_TIMER_INITIAL), 0);
	assert_int_equal(lapic_deadline(&t->cpu[2]), 0);
	assert_false(irr_has(t, 2, 0x80));
	assert_int_equal(mb(t, 2), 0);
	assert_true(t->cpu[2].wait_sipi);
	/* The BSP runs again after INIT instead of waiting for a SIPI. */
	msi(t, MSI_ADDR(0), MSI_DATA(0, LAPIC_DM_INIT));
	accept(t, 0, LAPIC_ACCEPT_INIT, 0);
	assert_false(t->cpu[0].wait_sipi);
	assert_all_valid(t);
}

static void test_extint_mailbox_follows_lint0_and_messages(void **state)
{
	struct lapic_test *t = *state;
	unsigned lint0 = LAPIC_REG_LVT + 0x10 * LAPIC_LVT_LINT0;

	enable(t, 0);
	assert_false(mb(t, 0) & LAPIC_MB_EXTINT);
	/* 11.5.1: LINT0 as ExtINT, unmasked, is the PIC's virtual wire. */
	wr(t, 0, lint0, LAPIC_DM_EXTINT << 8);
	assert_true(mb(t, 0) & LAPIC_MB_EXTINT);
	wr(t, 0, lint0, LAPIC_DM_EXTINT << 8 | LAPIC_LVT_MASKED);
	assert_false(mb(t, 0) & LAPIC_MB_EXTINT);
	wr(t, 0, lint0, LAPIC_DM_FIXED << 8 | 0x30);
	assert_false(mb(t, 0) & LAPIC_MB_EXTINT);
	/* An ExtINT message waits until the runner did the INTA. */
	msi(t, MSI_ADDR(1), MSI_DATA(0x30, LAPIC_DM_EXTINT));
	assert_int_equal(mb(t, 1), LAPIC_MB_EXTINT);
	assert_false(irr_has(t, 1, 0x30));
	accept(t, 1, LAPIC_ACCEPT_EXTINT, 0);
	assert_int_equal(mb(t, 1), 0);
	assert_all_valid(t);
}

static void test_mailbox_packs_every_pending_event(void **state)
{
	struct lapic_test *t = *state;
	uint64_t m;

	enable(t, 3);
	msi(t, MSI_ADDR(3), MSI_DATA(0x99, LAPIC_DM_FIXED));
	msi(t, MSI_ADDR(3), MSI_DATA(0, LAPIC_DM_NMI));
	msi(t, MSI_ADDR(3), MSI_DATA(0, LAPIC_DM_INIT));
	ipi(t, 0, 3, ICR(0x9a, LAPIC_DM_STARTUP, LAPIC_SH_NONE));
	m = mb(t, 3);
	assert_int_equal(LAPIC_MB_VECTOR(m), 0x99);
	assert_int_equal(LAPIC_MB_SIPI_VECTOR(m), 0x9a);
	assert_int_equal(m & ~0xffffull, LAPIC_MB_INTR | LAPIC_MB_NMI |
						 LAPIC_MB_INIT | LAPIC_MB_SIPI |
						 LAPIC_MB_APIC_ENABLED);
	accept(t, 3, LAPIC_ACCEPT_NMI, 0);
	assert_false(mb(t, 3) & LAPIC_MB_NMI);
	accept(t, 3, LAPIC_ACCEPT_INIT, 0);
	assert_int_equal(mb(t, 3), LAPIC_MB_SIPI | 0x9a00);
	accept(t, 3, LAPIC_ACCEPT_SIPI, 0);
	assert_int_equal(mb(t, 3), 0);
	assert_all_valid(t);
}

/* ---- Validity of a state found in the state page ---- */

struct field_set {
	size_t off, size;
	uint64_t value;
};

struct corruption {
	const char *what;
	struct field_set set[5]; /* size 0: unused */
};

#define SET(field, v)                                             \
	{                                                         \
		offsetof(struct lapic_cpu, field),                \
			sizeof(((struct lapic_cpu *)0)->field), v \
	}

/* Each starts from an enabled AP (APIC ID 1, waiting for SIPI). */
static const struct corruption corruptions[] = {
	{ "ID bits 0-23", { SET(id, 0x01000001) } },
	{ "version", { SET(version, 0x14) } },
	{ "TPR above 0xff", { SET(tpr, 0x100) } },
	{ "LDR bits 0-23", { SET(ldr, 1) } },
	{ "DFR bit 0", { SET(dfr, 0xfffffffe) } },
	{ "SVR bit 12", { SET(svr, 0x1000) } },
	{ "ESR bit 8", { SET(esr, 0x100) } },
	{ "pending ESR bit 31", { SET(esr_pending, 0x80000000) } },
	{ "ICR delivery status", { SET(icr_lo, LAPIC_ICR_BUSY) } },
	{ "ICR high bits 0-23", { SET(icr_hi, 0x00ff0000) } },
	{ "TSC-deadline mode", { SET(lvt[LAPIC_LVT_TIMER], 0x40000) } },
	{ "error LVT delivery mode", { SET(lvt[LAPIC_LVT_ERROR], 0x700) } },
	{ "unmasked LVT while disabled",
	  { SET(svr, 0xff), SET(lvt[LAPIC_LVT_LINT1], 0) } },
	{ "vector 3 in IRR", { SET(irr[0], 1u << 3) } },
	{ "vector 15 in ISR", { SET(isr[0], 1u << 15) } },
	{ "vector 1 in TMR", { SET(tmr[0], 1u << 1) } },
	{ "divide bit 2", { SET(timer_divide, 4) } },
	{ "running without a count",
	  { SET(timer_next, 5), SET(timer_deadline, 5) } },
	{ "deadline after the expiry",
	  { SET(timer_initial, 10), SET(timer_next, 100),
	    SET(timer_deadline, 200) } },
	{ "one-shot owing expiries",
	  { SET(timer_initial, 10), SET(timer_next, 100),
	    SET(timer_deadline, 50), SET(timer_owed, 2) } },
	{ "masked timer owing expiries",
	  { SET(lvt[LAPIC_LVT_TIMER], LAPIC_LVT_MASKED | LAPIC_LVT_PERIODIC),
	    SET(timer_initial, 10), SET(timer_next, 100),
	    SET(timer_deadline, 50), SET(timer_owed, 2) } },
	{ "early deadline with nothing owed",
	  { SET(lvt[LAPIC_LVT_TIMER], LAPIC_LVT_PERIODIC),
	    SET(timer_initial, 10), SET(timer_next, 100),
	    SET(timer_deadline, 50) } },
	{ "stopped timer owing", { SET(timer_owed, 1) } },
	{ "stopped timer with a start", { SET(timer_start, 7) } },
	{ "NMI flag 2", { SET(nmi_pending, 2) } },
	{ "ExtINT flag 3", { SET(extint_pending, 3) } },
	{ "SIPI while running", { SET(wait_sipi, 0), SET(sipi_pending, 1) } },
	{ "SIPI vector without SIPI", { SET(sipi_vector, 0x10) } },
	{ "BSP waiting for SIPI", { SET(bsp, 1) } },
	{ "padding", { SET(pad[4], 1) } },
};

static void field_apply(struct lapic_cpu *c, const struct field_set *f)
{
	unsigned char *p = (unsigned char *)c + f->off;
	uint32_t v32 = (uint32_t)f->value;
	uint8_t v8 = (uint8_t)f->value;

	if (f->size == 8)
		memcpy(p, &f->value, 8);
	else if (f->size == 4)
		memcpy(p, &v32, 4);
	else if (f->size == 1)
		*p = v8;
}

static void test_validity_rejects_corruption(void **state)
{
	size_t n = sizeof(corruptions) / sizeof(corruptions[0]), i, j;
	struct lapic_cpu c;

	(void)state;
	for (i = 0; i < n; i++) {
		lapic_reset(&c, 1);
		c.svr = LAPIC_SVR_ENABLE | 0xff;
		assert_true(lapic_cpu_valid(&c));
		for (j = 0; j < 5; j++)
			field_apply(&c, &corruptions[i].set[j]);
		if (lapic_cpu_valid(&c))
			fail_msg("accepted: %s", corruptions[i].what);
	}
	/* The timer fields made consistent: a periodic timer catching up. */
	lapic_reset(&c, 1);
	c.svr = LAPIC_SVR_ENABLE | 0xff;
	c.lvt[LAPIC_LVT_TIMER] = LAPIC_LVT_PERIODIC;
	c.timer_initial = 10;
	c.timer_next = 100;
	c.timer_deadline = 50;
	c.timer_owed = 2;
	assert_true(lapic_cpu_valid(&c));
	assert_false(lapic_cpu_valid(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LAPIC_TEST(test_reset_values_match_sdm),
		LAPIC_TEST(test_id_and_version_registers),
		LAPIC_TEST(test_ldr_and_dfr_keep_reserved_bits),
		LAPIC_TEST(test_unaligned_access_reads_zero_and_is_ignored),
		LAPIC_TEST(test_tpr_sets_ppr_and_masks_lower_classes),
		LAPIC_TEST(test_accept_moves_irr_to_isr_and_raises_ppr),
		LAPIC_TEST(test_eoi_retires_highest_in_service_first),
		LAPIC_TEST(test_eoi_broadcast_only_for_level_triggered),
		LAPIC_TEST(test_software_disable_masks_lvts_and_refuses_unmask),
		LAPIC_TEST(test_esr_reports_errors_after_a_write),
		LAPIC_TEST(test_error_interrupt_fires_once_until_esr_write),
		LAPIC_TEST(test_init_resets_everything_but_the_id),
		LAPIC_TEST(test_extint_mailbox_follows_lint0_and_messages),
		LAPIC_TEST(test_mailbox_packs_every_pending_event),
		cmocka_unit_test(test_validity_rejects_corruption),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
