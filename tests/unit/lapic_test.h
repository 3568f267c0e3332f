/*
 * Shared helpers for the local APIC model tests (test_lapic_*.c).
 *
 * A plain array backs the bank, one struct lapic_cpu per vCPU, so tests
 * can look at any APIC directly. The helpers drive the model the way the
 * guest (register accesses), the I/O APIC (messages) and the vCPU runner
 * (mailbox, accept, tick) would. Section numbers refer to the Intel SDM
 * vol. 3A, chapter 11. The helpers are static inline so each test file
 * links against the model alone and unused ones cost no warning.
 */
#ifndef CELLVM_TESTS_UNIT_LAPIC_TEST_H
#define CELLVM_TESTS_UNIT_LAPIC_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lapic.h"

#define T0 1000000000ull /* an arbitrary, non-zero start time */
#define NCPUS 4

/* 11.11: message address for destination d, data for vector and mode. */
#define MSI_ADDR(d) (0xfee00000ull | ((uint64_t)(d) << LAPIC_MSI_DEST_SHIFT))
#define MSI_DATA(vec, dm) ((uint32_t)(vec) | (uint32_t)(dm) << 8)
#define MSI_LEVEL_ASSERT (LAPIC_ICR_LEVEL | LAPIC_ICR_ASSERT)

/* 11.6.1: ICR low halves. */
#define ICR(vec, dm, sh)                                                \
	((uint32_t)(vec) | (uint32_t)(dm) << 8 | (uint32_t)(sh) << 18 | \
	 LAPIC_ICR_ASSERT)

struct lapic_test {
	struct lapic_bank bank;
	struct lapic_cpu cpu[NCPUS];
};

static inline struct lapic_cpu *lapic_test_cpu(void *ctx, unsigned id,
					       int write)
{
	struct lapic_test *t = ctx;

	(void)write;
	return &t->cpu[id];
}

static inline int lapic_setup(void **state)
{
	struct lapic_test *t = test_malloc(sizeof(*t));
	unsigned i;

	for (i = 0; i < NCPUS; i++)
		lapic_reset(&t->cpu[i], i);
	t->bank = (struct lapic_bank){
		.ctx = t,
		.ncpus = NCPUS,
		.cpu = lapic_test_cpu,
	};
	*state = t;
	return 0;
}

static inline int lapic_teardown(void **state)
{
	test_free(*state);
	return 0;
}

#define LAPIC_TEST(f) \
	cmocka_unit_test_setup_teardown(f, lapic_setup, lapic_teardown)

static inline uint32_t rd_at(struct lapic_test *t, unsigned cpu, unsigned off,
			     uint64_t now)
{
	return lapic_read(&t->bank, cpu, off, now);
}

static inline uint32_t rd(struct lapic_test *t, unsigned cpu, unsigned off)
{
	return rd_at(t, cpu, off, T0);
}

static inline struct lapic_fx wr_at(struct lapic_test *t, unsigned cpu,
				    unsigned off, uint32_t val, uint64_t now)
{
	struct lapic_fx fx;

	lapic_write(&t->bank, cpu, off, val, now, &fx);
	return fx;
}

static inline struct lapic_fx wr(struct lapic_test *t, unsigned cpu,
				 unsigned off, uint32_t val)
{
	return wr_at(t, cpu, off, val, T0);
}

/* Software-enable an APIC with spurious vector 0xff (11.9). */
static inline void enable(struct lapic_test *t, unsigned cpu)
{
	wr(t, cpu, LAPIC_REG_SVR, LAPIC_SVR_ENABLE | 0xff);
}

static inline void enable_all(struct lapic_test *t)
{
	unsigned i;

	for (i = 0; i < NCPUS; i++)
		enable(t, i);
}

/* The guest sends an IPI: ICR high first, then the low half. */
static inline void ipi(struct lapic_test *t, unsigned cpu, unsigned dest,
		       uint32_t lo)
{
	wr(t, cpu, LAPIC_REG_ICR_HI, (uint32_t)dest << LAPIC_ICR_DEST_SHIFT);
	wr(t, cpu, LAPIC_REG_ICR_LO, lo);
}

static inline struct lapic_fx msi(struct lapic_test *t, uint64_t addr,
				  uint32_t data)
{
	struct lapic_fx fx;

	lapic_msi(&t->bank, addr, data, T0, &fx);
	return fx;
}

static inline uint64_t mb(struct lapic_test *t, unsigned cpu)
{
	return lapic_mailbox(&t->cpu[cpu]);
}

static inline void accept(struct lapic_test *t, unsigned cpu, unsigned what,
			  unsigned vector)
{
	struct lapic_fx fx;

	lapic_accept(&t->bank, cpu, what, vector, &fx);
	assert_int_equal(fx.neoi, 0);
}

static inline void tick(struct lapic_test *t, unsigned cpu, uint64_t now)
{
	struct lapic_fx fx;

	lapic_tick(&t->bank, cpu, now, &fx);
	assert_int_equal(fx.neoi, 0);
}

static inline bool irr_has(struct lapic_test *t, unsigned cpu, unsigned v)
{
	return lapic_vec_test(t->cpu[cpu].irr, v);
}

static inline bool isr_has(struct lapic_test *t, unsigned cpu, unsigned v)
{
	return lapic_vec_test(t->cpu[cpu].isr, v);
}

static inline bool tmr_has(struct lapic_test *t, unsigned cpu, unsigned v)
{
	return lapic_vec_test(t->cpu[cpu].tmr, v);
}

/* The mailbox offers exactly vector v (with the APIC enabled). */
static inline void assert_offers(struct lapic_test *t, unsigned cpu, unsigned v)
{
	uint64_t m = mb(t, cpu);

	assert_true(m & LAPIC_MB_INTR);
	assert_int_equal(LAPIC_MB_VECTOR(m), v);
}

static inline void assert_all_valid(struct lapic_test *t)
{
	unsigned i;

	for (i = 0; i < NCPUS; i++)
		assert_true(lapic_cpu_valid(&t->cpu[i]));
}

#endif
