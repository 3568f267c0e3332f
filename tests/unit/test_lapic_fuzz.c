/*
 * Random-operation tests for the local APIC model (device-procs/lapic):
 * guest register accesses, messages, runner acceptances and timer ticks
 * in a random order must keep every APIC valid (lapic_cpu_valid()), and
 * the model must follow the bank's copy-on-write contract.
 *
 * The second bank behaves like the device's state page at its worst:
 * every writable fetch moves all APICs to fresh memory and poisons the
 * old copies, and a readable fetch hands out a private snapshot. A model
 * that kept a pointer across a fetch, or wrote through a readable one,
 * would diverge from the plain array bank run side by side.
 */
#include <string.h>

#include "lapic_test.h"

#define OPS 300000
#define MS 1000000ull

struct cow_bank {
	struct lapic_bank bank;
	struct lapic_cpu copy[2][NCPUS];
	struct lapic_cpu snap[NCPUS];
	unsigned cur;
};

static struct lapic_cpu *cow_cpu(void *ctx, unsigned id, int write)
{
	struct cow_bank *cb = ctx;
	unsigned next = !cb->cur;

	if (!write) {
		cb->snap[id] = cb->copy[cb->cur][id];
		return &cb->snap[id];
	}
	memcpy(cb->copy[next], cb->copy[cb->cur], sizeof(cb->copy[next]));
	memset(cb->copy[cb->cur], 0xa5, sizeof(cb->copy[cb->cur]));
	cb->cur = next;
	return &cb->copy[cb->cur][id];
}

struct fuzz {
	struct lapic_test *t;
	struct cow_bank *cb;
	uint64_t seed, now;
	unsigned taken, eois, nmis, inits, sipis;
};

static uint64_t rnd(struct fuzz *f)
{
	f->seed ^= f->seed << 13;
	f->seed ^= f->seed >> 7;
	f->seed ^= f->seed << 17;
	return f->seed;
}

static void fx_same(const struct lapic_fx *a, const struct lapic_fx *b)
{
	assert_int_equal(a->neoi, b->neoi);
	if (a->neoi)
		assert_int_equal(a->eoi[0], b->eoi[0]);
}

static const unsigned fuzz_regs[] = {
	LAPIC_REG_ID,
	LAPIC_REG_TPR,
	LAPIC_REG_EOI,
	LAPIC_REG_LDR,
	LAPIC_REG_DFR,
	LAPIC_REG_SVR,
	LAPIC_REG_ESR,
	LAPIC_REG_ICR_LO,
	LAPIC_REG_ICR_HI,
	0x320,
	0x330,
	0x340,
	0x350,
	0x360,
	0x370,
	LAPIC_REG_SVR,
	LAPIC_REG_TIMER_INITIAL,
	LAPIC_REG_TIMER_DIVIDE,
	LAPIC_REG_ICR_LO,
	LAPIC_REG_EOI,
	0x040,
	0x3f0,
	LAPIC_REG_VERSION,
	LAPIC_REG_PPR,
};

/* A register value biased towards what a guest would write. */
static uint32_t fuzz_value(struct fuzz *f, unsigned off)
{
	uint32_t v = (uint32_t)rnd(f);

	switch (off) {
	case LAPIC_REG_SVR:
		return v | (rnd(f) % 4 ? LAPIC_SVR_ENABLE : 0);
	case LAPIC_REG_ICR_LO:
		return v & 0x000ccfff;
	case LAPIC_REG_ICR_HI:
		return (uint32_t)(rnd(f) % 6 ? rnd(f) % NCPUS : 0xff) << 24;
	case LAPIC_REG_TIMER_INITIAL:
		return rnd(f) % 3 ? v % 300000 : v;
	default:
		return rnd(f) % 2 ? v & 0x000300ff : v;
	}
}

static void op_write(struct fuzz *f, unsigned cpu)
{
	unsigned n = sizeof(fuzz_regs) / sizeof(fuzz_regs[0]);
	unsigned off = fuzz_regs[rnd(f) % n];
	uint32_t v = fuzz_value(f, off);
	struct lapic_fx a, b;

	if (rnd(f) % 50 == 0)
		off += 4; /* unaligned */
	lapic_write(&f->t->bank, cpu, off, v, f->now, &a);
	lapic_write(&f->cb->bank, cpu, off, v, f->now, &b);
	fx_same(&a, &b);
	f->eois += a.neoi;
}

static void op_read(struct fuzz *f, unsigned cpu)
{
	unsigned off = (unsigned)(rnd(f) % 0x400) & ~0xfu;

	assert_int_equal(lapic_read(&f->t->bank, cpu, off, f->now),
			 lapic_read(&f->cb->bank, cpu, off, f->now));
}

static void op_msi(struct fuzz *f)
{
	uint64_t dest = rnd(f) % 5 ? rnd(f) % NCPUS : rnd(f) & 0xff;
	uint64_t addr = 0xfee00000ull | dest << 12 | (rnd(f) & 0xc);
	uint32_t data = (uint32_t)rnd(f) & 0xc7ff;
	struct lapic_fx a, b;

	if (rnd(f) % 2)
		data &= ~0x700u; /* mostly fixed */
	lapic_msi(&f->t->bank, addr, data, f->now, &a);
	lapic_msi(&f->cb->bank, addr, data, f->now, &b);
	fx_same(&a, &b);
}

/* The runner serves the mailbox in its order, or is stale at random. */
static void op_accept(struct fuzz *f, unsigned cpu)
{
	uint64_t m = lapic_mailbox(&f->t->cpu[cpu]);
	unsigned what = LAPIC_ACCEPT_INTR, vector = LAPIC_MB_VECTOR(m);
	struct lapic_fx a, b;

	assert_int_equal(m, lapic_mailbox(&f->cb->copy[f->cb->cur][cpu]));
	if (m & LAPIC_MB_INIT) {
		what = LAPIC_ACCEPT_INIT;
		f->inits++;
	} else if (m & LAPIC_MB_SIPI) {
		what = LAPIC_ACCEPT_SIPI;
		f->sipis++;
	} else if (m & LAPIC_MB_NMI) {
		what = LAPIC_ACCEPT_NMI;
		f->nmis++;
	} else if (m & LAPIC_MB_INTR) {
		f->taken++;
	} else if (m & LAPIC_MB_EXTINT) {
		what = LAPIC_ACCEPT_EXTINT;
	}
	if (rnd(f) % 10 == 0) {
		what = (unsigned)(rnd(f) % 7);
		vector = (unsigned)(rnd(f) & 0xff);
	}
	lapic_accept(&f->t->bank, cpu, what, vector, &a);
	lapic_accept(&f->cb->bank, cpu, what, vector, &b);
	fx_same(&a, &b);
}

static void op_tick(struct fuzz *f)
{
	struct lapic_fx a, b;
	unsigned i;

	for (i = 0; i < NCPUS; i++) {
		assert_int_equal(lapic_deadline(&f->t->cpu[i]),
				 lapic_deadline(&f->cb->copy[f->cb->cur][i]));
		lapic_tick(&f->t->bank, i, f->now, &a);
		lapic_tick(&f->cb->bank, i, f->now, &b);
		fx_same(&a, &b);
	}
}

static void fuzz_step(struct fuzz *f)
{
	unsigned cpu = (unsigned)(rnd(f) % NCPUS), i;
	unsigned op = (unsigned)(rnd(f) % 100);

	f->now += rnd(f) % 64 ? rnd(f) % 300000 : rnd(f) % (40 * MS);
	if (op < 40)
		op_write(f, cpu);
	else if (op < 52)
		op_read(f, cpu);
	else if (op < 66)
		op_msi(f);
	else if (op < 88)
		op_accept(f, cpu);
	else
		op_tick(f);
	for (i = 0; i < NCPUS; i++) {
		if (!lapic_cpu_valid(&f->t->cpu[i]))
			fail_msg("APIC %u invalid after op %u", i, op);
		if (memcmp(&f->t->cpu[i], &f->cb->copy[f->cb->cur][i],
			   sizeof(struct lapic_cpu)))
			fail_msg("copying bank diverged at APIC %u", i);
	}
}

static void test_random_operations_keep_state_valid(void **state)
{
	struct cow_bank *cb = test_malloc(sizeof(*cb));
	struct fuzz f = { .t = *state,
			  .cb = cb,
			  .seed = 0x9e3779b97f4a7c15ull };
	unsigned i;

	memset(cb, 0, sizeof(*cb));
	memcpy(cb->copy[0], f.t->cpu, sizeof(cb->copy[0]));
	cb->bank = (struct lapic_bank){
		.ctx = cb,
		.ncpus = NCPUS,
		.cpu = cow_cpu,
	};
	f.now = T0;
	for (i = 0; i < OPS; i++)
		fuzz_step(&f);
	/* The run reached the interesting paths. */
	assert_true(f.taken > 1000);
	assert_true(f.eois > 10);
	assert_true(f.nmis > 10 && f.inits > 10 && f.sipis > 10);
	test_free(cb);
}

/* A state page of random bytes is refused, not run. */
static void test_random_bytes_are_rejected(void **state)
{
	struct lapic_test *t = *state;
	struct fuzz f = { .t = t, .seed = 0x0123456789abcdefull };
	unsigned char *p = (unsigned char *)&t->cpu[1];
	unsigned i, j;

	for (i = 0; i < 100000; i++) {
		for (j = 0; j < sizeof(struct lapic_cpu); j++)
			p[j] = (unsigned char)rnd(&f);
		assert_false(lapic_cpu_valid(&t->cpu[1]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LAPIC_TEST(test_random_operations_keep_state_valid),
		LAPIC_TEST(test_random_bytes_are_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
