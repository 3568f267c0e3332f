/*
 * Unit tests for the local APIC model (device-procs/lapic): IPIs through
 * the ICR, destination modes and shorthands, lowest-priority arbitration,
 * the INIT/SIPI start-up sequence, and interrupt messages from the I/O
 * APIC or PCI MSIs.
 *
 * Helpers are in lapic_test.h. Section numbers refer to the Intel SDM
 * vol. 3A, chapter 11.
 */
#include "lapic_test.h"

/* Which APICs hold vector v in IRR, as a bit mask over vCPU indexes. */
static unsigned irr_set(struct lapic_test *t, unsigned v)
{
	unsigned i, mask = 0;

	for (i = 0; i < NCPUS; i++)
		if (irr_has(t, i, v))
			mask |= 1u << i;
	return mask;
}

/* ---- ICR ---- */

static void test_self_ipi_sets_own_irr(void **state)
{
	struct lapic_test *t = *state;

	enable_all(t);
	ipi(t, 2, 0, ICR(0x40, LAPIC_DM_FIXED, LAPIC_SH_SELF));
	assert_int_equal(irr_set(t, 0x40), 1u << 2);
	assert_offers(t, 2, 0x40);
	/* 11.6.1: delivery status reads idle once sent. */
	assert_int_equal(rd(t, 2, LAPIC_REG_ICR_LO) & LAPIC_ICR_BUSY, 0);
	assert_int_equal(rd(t, 2, LAPIC_REG_ICR_LO),
			 ICR(0x40, LAPIC_DM_FIXED, LAPIC_SH_SELF));
	assert_all_valid(t);
}

static void test_fixed_ipi_reaches_only_the_named_cpu(void **state)
{
	struct lapic_test *t = *state;

	enable_all(t);
	ipi(t, 0, 3, ICR(0x41, LAPIC_DM_FIXED, LAPIC_SH_NONE));
	assert_int_equal(irr_set(t, 0x41), 1u << 3);
	assert_int_equal(rd(t, 0, LAPIC_REG_ICR_HI), 0x03000000);
	/* Table 11-3 note 2: IPIs go out edge-triggered. */
	ipi(t, 0, 1,
	    ICR(0x42, LAPIC_DM_FIXED, LAPIC_SH_NONE) | LAPIC_ICR_LEVEL);
	assert_int_equal(irr_set(t, 0x42), 1u << 1);
	assert_false(tmr_has(t, 1, 0x42));
	/* No APIC has ID 9. */
	ipi(t, 0, 9, ICR(0x43, LAPIC_DM_FIXED, LAPIC_SH_NONE));
	assert_int_equal(irr_set(t, 0x43), 0);
	assert_all_valid(t);
}

static void test_physical_broadcast_and_all_shorthands(void **state)
{
	struct lapic_test *t = *state;

	enable_all(t);
	ipi(t, 1, 0xff, ICR(0x50, LAPIC_DM_FIXED, LAPIC_SH_NONE));
	assert_int_equal(irr_set(t, 0x50), 0xf);
	ipi(t, 1, 0, ICR(0x51, LAPIC_DM_FIXED, LAPIC_SH_ALL));
	assert_int_equal(irr_set(t, 0x51), 0xf);
	ipi(t, 1, 0, ICR(0x52, LAPIC_DM_FIXED, LAPIC_SH_OTHERS));
	assert_int_equal(irr_set(t, 0x52), 0xd);
	assert_all_valid(t);
}

static void test_invalid_shorthand_combinations_are_not_sent(void **state)
{
	struct lapic_test *t = *state;

	enable_all(t);
	/* Table 11-3: self and all-including-self take fixed only. */
	ipi(t, 1, 0, ICR(0, LAPIC_DM_NMI, LAPIC_SH_SELF));
	ipi(t, 1, 0, ICR(0, LAPIC_DM_INIT, LAPIC_SH_ALL));
	ipi(t, 1, 0, ICR(0x60, LAPIC_DM_LOWEST, LAPIC_SH_ALL));
	ipi(t, 1, 0, ICR(0x61, LAPIC_DM_SMI, LAPIC_SH_OTHERS));
	ipi(t, 1, 0, ICR(0x62, 3, LAPIC_SH_NONE)); /* reserved mode */
	assert_int_equal(irr_set(t, 0x60) | irr_set(t, 0x61), 0);
	assert_int_equal(irr_set(t, 0x62), 0);
	assert_int_equal(mb(t, 1), LAPIC_MB_APIC_ENABLED);
	assert_false(mb(t, 0) & (LAPIC_MB_INIT | LAPIC_MB_NMI));
}

static void test_nmi_ipi_sets_pending_nmi(void **state)
{
	struct lapic_test *t = *state;

	ipi(t, 0, 2, ICR(0x77, LAPIC_DM_NMI, LAPIC_SH_NONE));
	/* 11.6.1: the vector is ignored; software disable does not stop it. */
	assert_int_equal(mb(t, 2), LAPIC_MB_NMI);
	assert_false(irr_has(t, 2, 0x77));
	accept(t, 2, LAPIC_ACCEPT_NMI, 0);
	assert_int_equal(mb(t, 2), 0);
	assert_all_valid(t);
}

static void test_init_sipi_to_all_but_self_starts_three_aps(void **state)
{
	struct lapic_test *t = *state;
	unsigned i;

	enable(t, 0);
	/* Linux's wakeup: INIT assert, INIT de-assert, SIPI, SIPI. */
	ipi(t, 0, 0, ICR(0, LAPIC_DM_INIT, LAPIC_SH_OTHERS) | LAPIC_ICR_LEVEL);
	ipi(t, 0, 0,
	    (LAPIC_DM_INIT << 8 | LAPIC_SH_OTHERS << 18) | LAPIC_ICR_LEVEL);
	assert_false(mb(t, 0) & LAPIC_MB_INIT);
	for (i = 1; i < NCPUS; i++) {
		assert_int_equal(mb(t, i), LAPIC_MB_INIT);
		accept(t, i, LAPIC_ACCEPT_INIT, 0);
		assert_int_equal(mb(t, i), 0);
	}
	ipi(t, 0, 0, ICR(0x9f, LAPIC_DM_STARTUP, LAPIC_SH_OTHERS));
	for (i = 1; i < NCPUS; i++) {
		assert_int_equal(mb(t, i), LAPIC_MB_SIPI | 0x9f00);
		accept(t, i, LAPIC_ACCEPT_SIPI, 0);
		assert_false(t->cpu[i].wait_sipi);
	}
	/* 9.4: the second SIPI finds the APs running and is ignored. */
	ipi(t, 0, 0, ICR(0x9f, LAPIC_DM_STARTUP, LAPIC_SH_OTHERS));
	for (i = 0; i < NCPUS; i++)
		assert_false(mb(t, i) & LAPIC_MB_SIPI);
	assert_all_valid(t);
}

static void test_sipi_right_after_init_is_kept(void **state)
{
	struct lapic_test *t = *state;

	/* The runner has not performed the INIT yet when the SIPI lands. */
	ipi(t, 0, 0, ICR(0, LAPIC_DM_INIT, LAPIC_SH_OTHERS));
	ipi(t, 0, 0, ICR(0x10, LAPIC_DM_STARTUP, LAPIC_SH_OTHERS));
	assert_int_equal(mb(t, 1), LAPIC_MB_INIT | LAPIC_MB_SIPI | 0x1000);
	accept(t, 1, LAPIC_ACCEPT_INIT, 0);
	assert_int_equal(mb(t, 1), LAPIC_MB_SIPI | 0x1000);
	/* A later INIT cancels a SIPI that came before it. */
	ipi(t, 0, 2, ICR(0, LAPIC_DM_INIT, LAPIC_SH_NONE));
	assert_int_equal(mb(t, 2), LAPIC_MB_INIT);
	assert_all_valid(t);
}

static void test_logical_flat_destination(void **state)
{
	struct lapic_test *t = *state;
	unsigned i;

	enable_all(t);
	for (i = 0; i < NCPUS; i++)
		wr(t, i, LAPIC_REG_LDR, (1u << i) << 24);
	/* 11.6.2.2: flat model, the MDA is a bit mask of logical IDs. */
	ipi(t, 0, 0x0a,
	    ICR(0x70, LAPIC_DM_FIXED, LAPIC_SH_NONE) | LAPIC_ICR_LOGICAL);
	assert_int_equal(irr_set(t, 0x70), 0xa);
	ipi(t, 0, 0xff,
	    ICR(0x71, LAPIC_DM_FIXED, LAPIC_SH_NONE) | LAPIC_ICR_LOGICAL);
	assert_int_equal(irr_set(t, 0x71), 0xf);
	msi(t, MSI_ADDR(0x05) | LAPIC_MSI_ADDR_LOGICAL,
	    MSI_DATA(0x72, LAPIC_DM_FIXED));
	assert_int_equal(irr_set(t, 0x72), 0x5);
	assert_all_valid(t);
}

static void test_logical_cluster_destination(void **state)
{
	struct lapic_test *t = *state;
	unsigned i;

	enable_all(t);
	/* Clusters 1 and 2, two APICs each: LDR = cluster << 4 | bit. */
	for (i = 0; i < NCPUS; i++) {
		wr(t, i, LAPIC_REG_DFR, LAPIC_DFR_CLUSTER);
		wr(t, i, LAPIC_REG_LDR,
		   ((1 + i / 2) << 4 | 1u << (i % 2)) << 24);
	}
	ipi(t, 0, 0x23,
	    ICR(0x80, LAPIC_DM_FIXED, LAPIC_SH_NONE) | LAPIC_ICR_LOGICAL);
	assert_int_equal(irr_set(t, 0x80), 0xc);
	ipi(t, 0, 0x12,
	    ICR(0x81, LAPIC_DM_FIXED, LAPIC_SH_NONE) | LAPIC_ICR_LOGICAL);
	assert_int_equal(irr_set(t, 0x81), 0x2);
	/* Cluster 3 does not exist. */
	ipi(t, 0, 0x33,
	    ICR(0x82, LAPIC_DM_FIXED, LAPIC_SH_NONE) | LAPIC_ICR_LOGICAL);
	assert_int_equal(irr_set(t, 0x82), 0);
	assert_all_valid(t);
}

static void test_lowest_priority_picks_lowest_apr_then_id(void **state)
{
	struct lapic_test *t = *state;

	enable_all(t);
	wr(t, 0, LAPIC_REG_TPR, 0x20);
	wr(t, 1, LAPIC_REG_TPR, 0x10);
	wr(t, 2, LAPIC_REG_TPR, 0x10);
	wr(t, 3, LAPIC_REG_TPR, 0x30);
	/* 11.6.2.4: APIC 1 and 2 tie at APR 0x10; lowest ID wins. */
	ipi(t, 0, 0xff, ICR(0x90, LAPIC_DM_LOWEST, LAPIC_SH_NONE));
	assert_int_equal(irr_set(t, 0x90), 1u << 1);
	/* A pending interrupt raises APIC 1's arbitration priority. */
	assert_int_equal(rd(t, 1, LAPIC_REG_APR), 0x90);
	ipi(t, 0, 0xff, ICR(0x91, LAPIC_DM_LOWEST, LAPIC_SH_NONE));
	assert_int_equal(irr_set(t, 0x91), 1u << 2);
	/* Disabled APICs do not take part: APIC 0 alone matches, and drops it. */
	wr(t, 0, LAPIC_REG_LDR, 0x01000000);
	wr(t, 0, LAPIC_REG_SVR, 0xff);
	msi(t, MSI_ADDR(0x1) | LAPIC_MSI_ADDR_LOGICAL,
	    MSI_DATA(0x92, LAPIC_DM_LOWEST));
	assert_int_equal(irr_set(t, 0x92), 0);
	assert_all_valid(t);
}

/* ---- Messages from the I/O APIC and MSIs ---- */

static void test_msi_edge_from_ioapic_sets_irr_only(void **state)
{
	struct lapic_test *t = *state;

	enable_all(t);
	msi(t, MSI_ADDR(2), MSI_DATA(0x31, LAPIC_DM_FIXED));
	assert_int_equal(irr_set(t, 0x31), 1u << 2);
	assert_false(tmr_has(t, 2, 0x31));
	assert_offers(t, 2, 0x31);
	accept(t, 2, LAPIC_ACCEPT_INTR, 0x31);
	assert_int_equal(wr(t, 2, LAPIC_REG_EOI, 0).neoi, 0);
	assert_all_valid(t);
}

static void test_msi_level_sets_tmr_and_deassert_is_ignored(void **state)
{
	struct lapic_test *t = *state;
	struct lapic_fx fx;

	enable_all(t);
	msi(t, MSI_ADDR(1), MSI_DATA(0x32, LAPIC_DM_FIXED) | MSI_LEVEL_ASSERT);
	assert_int_equal(irr_set(t, 0x32), 1u << 1);
	assert_true(tmr_has(t, 1, 0x32));
	assert_int_equal(rd(t, 1, LAPIC_REG_TMR + 0x10), 1u << 18);
	/* 11.11.2: a level message with the level bit clear is a de-assert. */
	msi(t, MSI_ADDR(1), MSI_DATA(0x33, LAPIC_DM_FIXED) | LAPIC_ICR_LEVEL);
	assert_int_equal(irr_set(t, 0x33), 0);
	accept(t, 1, LAPIC_ACCEPT_INTR, 0x32);
	fx = wr(t, 1, LAPIC_REG_EOI, 0);
	assert_int_equal(fx.neoi, 1);
	assert_int_equal(fx.eoi[0], 0x32);
	/* The same vector edge-triggered later clears its TMR bit. */
	msi(t, MSI_ADDR(1), MSI_DATA(0x32, LAPIC_DM_FIXED));
	assert_false(tmr_has(t, 1, 0x32));
	assert_all_valid(t);
}

static void test_msi_redirection_hint_means_lowest_priority(void **state)
{
	struct lapic_test *t = *state;
	unsigned i;

	enable_all(t);
	for (i = 0; i < NCPUS; i++)
		wr(t, i, LAPIC_REG_LDR, (1u << i) << 24);
	wr(t, 2, LAPIC_REG_TPR, 0x40);
	msi(t, MSI_ADDR(0x0c) | LAPIC_MSI_ADDR_LOGICAL | LAPIC_MSI_ADDR_RH,
	    MSI_DATA(0x34, LAPIC_DM_FIXED));
	assert_int_equal(irr_set(t, 0x34), 1u << 3);
	msi(t, MSI_ADDR(0x0c) | LAPIC_MSI_ADDR_LOGICAL,
	    MSI_DATA(0x35, LAPIC_DM_FIXED));
	assert_int_equal(irr_set(t, 0x35), 0xc);
	assert_all_valid(t);
}

static void test_msi_nmi_init_and_unsupported_modes(void **state)
{
	struct lapic_test *t = *state;

	msi(t, MSI_ADDR(1), MSI_DATA(0x36, LAPIC_DM_NMI));
	assert_int_equal(mb(t, 1), LAPIC_MB_NMI);
	msi(t, MSI_ADDR(2), MSI_DATA(0x36, LAPIC_DM_INIT));
	assert_int_equal(mb(t, 2), LAPIC_MB_INIT);
	msi(t, MSI_ADDR(3), MSI_DATA(0x36, LAPIC_DM_SMI));
	msi(t, MSI_ADDR(3), MSI_DATA(0x36, LAPIC_DM_STARTUP));
	assert_int_equal(mb(t, 3), 0);
	/* 11.11.1: outside 0xfee00000-0xfeefffff a write is not an interrupt. */
	enable(t, 3);
	msi(t, 0xfed00000ull | 3 << 12, MSI_DATA(0x37, LAPIC_DM_FIXED));
	msi(t, 0x1fee00000ull | 3 << 12, MSI_DATA(0x37, LAPIC_DM_FIXED));
	assert_false(irr_has(t, 3, 0x37));
	assert_all_valid(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LAPIC_TEST(test_self_ipi_sets_own_irr),
		LAPIC_TEST(test_fixed_ipi_reaches_only_the_named_cpu),
		LAPIC_TEST(test_physical_broadcast_and_all_shorthands),
		LAPIC_TEST(test_invalid_shorthand_combinations_are_not_sent),
		LAPIC_TEST(test_nmi_ipi_sets_pending_nmi),
		LAPIC_TEST(test_init_sipi_to_all_but_self_starts_three_aps),
		LAPIC_TEST(test_sipi_right_after_init_is_kept),
		LAPIC_TEST(test_logical_flat_destination),
		LAPIC_TEST(test_logical_cluster_destination),
		LAPIC_TEST(test_lowest_priority_picks_lowest_apr_then_id),
		LAPIC_TEST(test_msi_edge_from_ioapic_sets_irr_only),
		LAPIC_TEST(test_msi_level_sets_tmr_and_deassert_is_ignored),
		LAPIC_TEST(test_msi_redirection_hint_means_lowest_priority),
		LAPIC_TEST(test_msi_nmi_init_and_unsupported_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
