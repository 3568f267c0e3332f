/*
 * Local APIC timer (Intel SDM vol. 3A, 11.5.4), one-shot and periodic
 * modes; no TSC-deadline mode.
 *
 * The count is not stored: the APIC records when the current count-down
 * reaches 0 (timer_next) and derives the current count from the time, at
 * one count per divisor ns (a 1 GHz bus clock). Periodic expiries fall at
 * timer_next, timer_next + period, ... computed with integers only, so
 * they never drift however late lapic_tick() runs. timer_deadline is when
 * lapic_tick() next has work: timer_next, or earlier while periodic
 * expiries that passed unseen are still owed (timer_owed).
 */
#include "lapic.h"

#define LAPIC_TDCR_MASK 0xbu /* Figure 11-10: bits 0, 1 and 3 */
#define LAPIC_OWED_SPACING 8 /* owed expiries: 8 per period */

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Figure 11-10: value (bit 3 : bits 1-0) n divides by 2 << n; 111b by 1. */
static uint64_t divisor(uint32_t tdcr)
{
	unsigned n = (tdcr & 3) | ((tdcr >> 1) & 4);

	return n == 7 ? 1 : 2u << n;
}

static bool periodic(const struct lapic_cpu *c)
{
	return c->lvt[LAPIC_LVT_TIMER] & LAPIC_LVT_PERIODIC;
}

/*
 * Nanoseconds of one count-down from the initial count. Periodic mode is
 * held to LAPIC_TIMER_MIN_PERIOD_NS, as KVM does, so that a guest cannot
 * make the device spin; the current count then rests at the initial count
 * for the added time.
 */
static uint64_t period_ns(const struct lapic_cpu *c)
{
	uint64_t p = (uint64_t)c->timer_initial * divisor(c->timer_divide);

	if (periodic(c) && p < LAPIC_TIMER_MIN_PERIOD_NS)
		p = LAPIC_TIMER_MIN_PERIOD_NS;
	return p;
}

static void timer_stop(struct lapic_cpu *c)
{
	c->timer_start = 0;
	c->timer_next = 0;
	c->timer_deadline = 0;
	c->timer_owed = 0;
}

/* With nothing owed, the next work is the next expiry. */
static void deadline_update(struct lapic_cpu *c)
{
	if (!c->timer_owed || c->timer_deadline > c->timer_next)
		c->timer_deadline = c->timer_next;
}

/*
 * 11.5.4: the current count decrements from the initial count once every
 * divisor ns, and reaches 0 at the expiry; a one-shot timer stays at 0, a
 * periodic one reloads. Between the expiry and lapic_tick() the count is
 * what it would be on time.
 */
uint32_t lapic_timer_current(const struct lapic_cpu *c, uint64_t now)
{
	uint64_t left, count, p, d;

	if (!c->timer_next)
		return 0;
	if (now < c->timer_next) {
		left = c->timer_next - now;
	} else {
		if (!periodic(c))
			return 0;
		p = period_ns(c);
		left = p - (now - c->timer_next) % p;
	}
	d = divisor(c->timer_divide);
	count = left / d + (left % d != 0);
	return count > c->timer_initial ? c->timer_initial : (uint32_t)count;
}

/* 11.5.4: writing the initial count starts a count-down; 0 stops it. */
void lapic_timer_set_initial(struct lapic_cpu *c, uint32_t val, uint64_t now)
{
	c->timer_initial = val;
	timer_stop(c);
	if (!val)
		return;
	c->timer_start = now;
	c->timer_next = sat_add(now, period_ns(c));
	c->timer_deadline = c->timer_next;
}

/*
 * The SDM does not say what a divide change does to a running count; the
 * count goes on from where it is at the new rate (KVM rescales likewise).
 * A count that already reached 0 is left to expire.
 */
void lapic_timer_set_divide(struct lapic_cpu *c, uint32_t val, uint64_t now)
{
	uint32_t count;

	val &= LAPIC_TDCR_MASK;
	if (!c->timer_next || val == c->timer_divide) {
		c->timer_divide = val;
		return;
	}
	count = lapic_timer_current(c, now);
	c->timer_divide = val;
	if (!count || now >= c->timer_next)
		return;
	c->timer_start = now;
	c->timer_next = sat_add(now, (uint64_t)count * divisor(val));
	deadline_update(c);
}

/*
 * 11.5.4: changing between one-shot and periodic does not start or stop
 * the count-down; the mode decides what happens when it reaches 0. A
 * masked timer, or a one-shot one, owes nothing.
 */
void lapic_timer_set_lvt(struct lapic_cpu *c, uint32_t val)
{
	c->lvt[LAPIC_LVT_TIMER] = val;
	if (!c->timer_next)
		return;
	if (!periodic(c) || (val & LAPIC_LVT_MASKED)) {
		c->timer_owed = 0;
		deadline_update(c);
	}
}

/* owed + n + 1, held to LAPIC_TIMER_OWED_MAX. */
static uint32_t owed_add(uint32_t owed, uint64_t n)
{
	if (n >= LAPIC_TIMER_OWED_MAX || owed + n >= LAPIC_TIMER_OWED_MAX)
		return LAPIC_TIMER_OWED_MAX;
	return owed + (uint32_t)n + 1;
}

/*
 * Periodic expiry: count the expiries up to now, deliver one, and owe the
 * rest. An owed expiry is delivered only once the previous timer interrupt
 * left IRR, else the two would merge into one; expiries on time merge like
 * on the chip (IRR holds one bit per vector). Owed expiries follow each
 * other a period / 8 apart; one the guest is not ready for waits for the
 * next expiry, so a guest that stopped taking interrupts (a paused VM)
 * costs no more wake-ups than the timer itself.
 */
static void periodic_due(struct lapic_cpu *c, uint64_t now)
{
	uint64_t p = period_ns(c), n, gap = p / LAPIC_OWED_SPACING;
	unsigned vector = c->lvt[LAPIC_LVT_TIMER] & LAPIC_LVT_VECTOR;
	bool catching_up = c->timer_owed != 0;

	if (now >= c->timer_next) {
		n = (now - c->timer_next) / p;
		c->timer_next = sat_add(c->timer_next + n * p, p);
		c->timer_owed = owed_add(c->timer_owed, n);
	}
	if (c->lvt[LAPIC_LVT_TIMER] & LAPIC_LVT_MASKED)
		c->timer_owed = 0;
	if (c->timer_owed && catching_up && lapic_vec_test(c->irr, vector)) {
		gap = p;
	} else if (c->timer_owed) {
		lapic_local_irq(c, LAPIC_LVT_TIMER);
		c->timer_owed--;
	}
	c->timer_deadline = sat_add(now, gap ? gap : 1);
	deadline_update(c);
}

void lapic_timer_due(struct lapic_cpu *c, uint64_t now)
{
	if (!c->timer_deadline || now < c->timer_deadline)
		return;
	if (periodic(c)) {
		periodic_due(c, now);
		return;
	}
	lapic_local_irq(c, LAPIC_LVT_TIMER);
	timer_stop(c);
}

bool lapic_timer_valid(const struct lapic_cpu *c)
{
	if ((c->timer_divide & ~LAPIC_TDCR_MASK) ||
	    c->timer_owed > LAPIC_TIMER_OWED_MAX)
		return false;
	if (!c->timer_next)
		return !c->timer_start && !c->timer_deadline && !c->timer_owed;
	if (!c->timer_initial || c->timer_start > c->timer_next)
		return false;
	if (!c->timer_deadline || c->timer_deadline > c->timer_next)
		return false;
	if (!c->timer_owed)
		return c->timer_deadline == c->timer_next;
	return periodic(c) && !(c->lvt[LAPIC_LVT_TIMER] & LAPIC_LVT_MASKED);
}
