/*
 * Local APIC registers, priorities, acceptance and the mailbox (Intel SDM
 * vol. 3A, chapter 11; see lapic.h for the contract). Interrupt messages
 * and IPIs are in lapic_ipi.c, the timer in lapic_timer.c.
 *
 * Invariants kept by every function (and checked by lapic_cpu_valid()):
 *  - reserved register bits are 0 and the DFR's bits 0-27 are 1;
 *  - IRR, ISR and TMR never hold vectors 0-15 (11.5.2: illegal vectors);
 *  - a software-disabled APIC has every LVT entry masked (11.4.7.2);
 *  - the ICR's delivery status is 0: a message is delivered at once;
 *  - a SIPI is pending only while the APIC waits for one or for an INIT;
 *  - the timer fields agree with each other (lapic_timer_valid()).
 */
#include <stddef.h>

#include "lapic.h"

#define LAPIC_ID_MASK 0xff000000u
#define LAPIC_LDR_MASK 0xff000000u
#define LAPIC_DFR_MODEL 0xf0000000u
#define LAPIC_TPR_MASK 0x000000ffu
#define LAPIC_SVR_MASK \
	(LAPIC_SVR_VECTOR | LAPIC_SVR_ENABLE | LAPIC_SVR_FOCUS_OFF)
#define LAPIC_ESR_MASK 0x000000ffu
/* Figure 11-12: bits 0-11, 14-15 and 18-19 are writable. */
#define LAPIC_ICR_LO_MASK 0x000ccfffu
#define LAPIC_ICR_HI_MASK 0xff000000u
#define LAPIC_RESET_SVR 0x000000ffu

/*
 * Figure 11-8: the bits software can write in each LVT entry. Delivery
 * status and remote IRR are read-only; timer mode bit 18 (TSC-deadline) is
 * reserved without TSC-deadline support, as KVM treats it.
 */
static const uint32_t lvt_writable[LAPIC_LVT_COUNT] = {
	[LAPIC_LVT_TIMER] = 0x000300ffu,   /* vector, mask, mode bit 17 */
	[LAPIC_LVT_THERMAL] = 0x000107ffu, /* vector, delivery mode, mask */
	[LAPIC_LVT_PERF] = 0x000107ffu,
	[LAPIC_LVT_LINT0] = 0x0001a7ffu, /* and polarity, trigger mode */
	[LAPIC_LVT_LINT1] = 0x0001a7ffu,
	[LAPIC_LVT_ERROR] = 0x000100ffu, /* vector, mask */
};

static struct lapic_cpu *cpu_get(struct lapic_bank *b, unsigned cpu, int write)
{
	if (!b || !b->cpu || cpu >= b->ncpus || cpu >= LAPIC_MAX_CPUS)
		return NULL;
	return b->cpu(b->ctx, cpu, write);
}

static void fx_clear(struct lapic_fx *fx)
{
	if (fx)
		fx->neoi = 0;
}

int lapic_highest(const uint32_t *bits)
{
	int i;

	for (i = 7; i >= 0; i--)
		if (bits[i])
			return i * 32 + 31 - __builtin_clz(bits[i]);
	return -1;
}

static unsigned prio_class(int vector)
{
	return vector < 0 ? 0 : (unsigned)vector & 0xf0;
}

/*
 * 11.8.3.1: PPR[7:4] is the higher of the TPR and ISRV classes; PPR[3:0]
 * is TPR[3:0] when the TPR class wins. On a tie the sub-class is model
 * specific; we take TPR's.
 */
unsigned lapic_ppr(const struct lapic_cpu *c)
{
	unsigned tpr = c->tpr & LAPIC_TPR_MASK;
	unsigned isr = prio_class(lapic_highest(c->isr));

	return (tpr & 0xf0) >= isr ? tpr : isr;
}

/*
 * 11.6.2.4: the APR is the TPR when the TPR class is at least the IRRV
 * class and above the ISRV class; otherwise the highest of the three
 * classes, sub-class 0.
 */
unsigned lapic_apr(const struct lapic_cpu *c)
{
	unsigned tpr = c->tpr & LAPIC_TPR_MASK;
	unsigned irr = prio_class(lapic_highest(c->irr));
	unsigned isr = prio_class(lapic_highest(c->isr));
	unsigned apr = tpr & 0xf0;

	if ((tpr & 0xf0) >= irr && (tpr & 0xf0) > isr)
		return tpr;
	if (isr > apr)
		apr = isr;
	if (irr > apr)
		apr = irr;
	return apr;
}

/*
 * 11.5.3: errors collect in esr_pending until the next ESR write. The LVT
 * error interrupt fires for the first error after that write only: the
 * write "rearms the APIC error interrupt triggering mechanism". An illegal
 * vector in the LVT error entry itself only adds its own error bit.
 */
void lapic_error(struct lapic_cpu *c, uint32_t bits)
{
	bool armed = !c->esr_pending;
	uint32_t lvt = c->lvt[LAPIC_LVT_ERROR];

	c->esr_pending |= bits & LAPIC_ESR_MASK;
	if (!armed || (lvt & LAPIC_LVT_MASKED))
		return;
	if ((lvt & LAPIC_LVT_VECTOR) < 16)
		c->esr_pending |= LAPIC_ESR_RECV_ILLEGAL;
	else
		lapic_vec_set(c->irr, lvt & LAPIC_LVT_VECTOR);
}

/*
 * 11.5.2 and 11.5.3 bit 6: vectors 0-15 never enter IRR; they log "receive
 * illegal vector". 11.8.4: the TMR bit follows the trigger mode of the
 * interrupt accepted into IRR.
 */
void lapic_set_irr(struct lapic_cpu *c, unsigned vector, bool level)
{
	vector &= 0xff;
	if (vector < 16) {
		lapic_error(c, LAPIC_ESR_RECV_ILLEGAL);
		return;
	}
	lapic_vec_set(c->irr, vector);
	if (level)
		lapic_vec_set(c->tmr, vector);
	else
		lapic_vec_clear(c->tmr, vector);
}

/* A local interrupt source (11.5.1): only the timer and error entries have
 * a source here, and both deliver their vector as a fixed, edge interrupt. */
void lapic_local_irq(struct lapic_cpu *c, enum lapic_lvt lvt)
{
	uint32_t entry = c->lvt[lvt];

	if (entry & LAPIC_LVT_MASKED)
		return;
	lapic_set_irr(c, entry & LAPIC_LVT_VECTOR, false);
}

void lapic_reset(struct lapic_cpu *c, unsigned apic_id)
{
	unsigned i;

	*c = (struct lapic_cpu){
		.id = (apic_id & 0xff) << 24,
		.version = LAPIC_VERSION,
		.dfr = LAPIC_DFR_FLAT,
		.svr = LAPIC_RESET_SVR,
		.bsp = apic_id == 0,
		.wait_sipi = apic_id != 0, /* 9.4.1: APs wait for a SIPI */
	};
	for (i = 0; i < LAPIC_LVT_COUNT; i++)
		c->lvt[i] = LAPIC_LVT_MASKED;
}

static bool flags_valid(const struct lapic_cpu *c)
{
	size_t i;

	for (i = 0; i < sizeof(c->pad); i++)
		if (c->pad[i])
			return false;
	if (c->nmi_pending > 1 || c->init_pending > 1 || c->sipi_pending > 1)
		return false;
	if (c->wait_sipi > 1 || c->bsp > 1 || c->extint_pending > 1)
		return false;
	if (c->bsp && c->wait_sipi)
		return false;
	if (c->sipi_pending && !c->wait_sipi && !c->init_pending)
		return false;
	return c->sipi_pending || !c->sipi_vector;
}

static bool regs_valid(const struct lapic_cpu *c)
{
	unsigned i;

	if ((c->id & ~LAPIC_ID_MASK) || c->version != LAPIC_VERSION)
		return false;
	if ((c->tpr & ~LAPIC_TPR_MASK) || (c->ldr & ~LAPIC_LDR_MASK))
		return false;
	if ((c->dfr | LAPIC_DFR_MODEL) != LAPIC_DFR_FLAT)
		return false;
	if ((c->svr & ~LAPIC_SVR_MASK) || (c->esr & ~LAPIC_ESR_MASK) ||
	    (c->esr_pending & ~LAPIC_ESR_MASK))
		return false;
	if ((c->icr_lo & ~LAPIC_ICR_LO_MASK) ||
	    (c->icr_hi & ~LAPIC_ICR_HI_MASK))
		return false;
	for (i = 0; i < LAPIC_LVT_COUNT; i++) {
		if (c->lvt[i] & ~lvt_writable[i])
			return false;
		if (!lapic_sw_enabled(c) && !(c->lvt[i] & LAPIC_LVT_MASKED))
			return false;
	}
	return !(c->irr[0] & 0xffff) && !(c->isr[0] & 0xffff) &&
	       !(c->tmr[0] & 0xffff);
}

bool lapic_cpu_valid(const struct lapic_cpu *c)
{
	if (!c)
		return false;
	return regs_valid(c) && flags_valid(c) && lapic_timer_valid(c);
}

/* Table 11-1: offsets the model implements, read-only ones included. */
static bool reg_implemented(unsigned off)
{
	if (off >= LAPIC_REG_ISR && off < LAPIC_REG_ESR)
		return true;
	if (off >= LAPIC_REG_ICR_LO && off <= LAPIC_REG_TIMER_CURRENT)
		return true;
	switch (off) {
	case LAPIC_REG_ID:
	case LAPIC_REG_VERSION:
	case LAPIC_REG_TPR:
	case LAPIC_REG_APR:
	case LAPIC_REG_PPR:
	case LAPIC_REG_EOI:
	case LAPIC_REG_RRD:
	case LAPIC_REG_LDR:
	case LAPIC_REG_DFR:
	case LAPIC_REG_SVR:
	case LAPIC_REG_ESR:
	case LAPIC_REG_LVT_CMCI:
	case LAPIC_REG_TIMER_DIVIDE:
		return true;
	default:
		return false;
	}
}

/* Registers whose value is a plain field, and the ISR/TMR/IRR banks. */
static uint32_t reg_value(const struct lapic_cpu *c, unsigned off, uint64_t now)
{
	unsigned i = (off >> 4) & 7;

	if (off >= LAPIC_REG_ISR && off < LAPIC_REG_TMR)
		return c->isr[i];
	if (off >= LAPIC_REG_TMR && off < LAPIC_REG_IRR)
		return c->tmr[i];
	if (off >= LAPIC_REG_IRR && off < LAPIC_REG_ESR)
		return c->irr[i];
	if (off >= LAPIC_REG_LVT && off < LAPIC_REG_TIMER_INITIAL)
		return c->lvt[(off - LAPIC_REG_LVT) >> 4];
	switch (off) {
	case LAPIC_REG_ID:
		return c->id;
	case LAPIC_REG_VERSION:
		return c->version;
	case LAPIC_REG_TPR:
		return c->tpr;
	case LAPIC_REG_APR:
		return lapic_apr(c);
	case LAPIC_REG_PPR:
		return lapic_ppr(c);
	case LAPIC_REG_LDR:
		return c->ldr;
	case LAPIC_REG_DFR:
		return c->dfr;
	case LAPIC_REG_SVR:
		return c->svr;
	case LAPIC_REG_ESR:
		return c->esr;
	case LAPIC_REG_LVT_CMCI:
		return LAPIC_LVT_CMCI_VALUE;
	case LAPIC_REG_ICR_LO:
		return c->icr_lo;
	case LAPIC_REG_ICR_HI:
		return c->icr_hi;
	case LAPIC_REG_TIMER_INITIAL:
		return c->timer_initial;
	case LAPIC_REG_TIMER_CURRENT:
		return lapic_timer_current(c, now);
	case LAPIC_REG_TIMER_DIVIDE:
		return c->timer_divide;
	default:
		return 0; /* EOI is write-only; RRD is P6-only remote read */
	}
}

uint32_t lapic_read(struct lapic_bank *b, unsigned cpu, unsigned off,
		    uint64_t now)
{
	struct lapic_cpu *c;

	if ((off & 0xf) || off >= LAPIC_SIZE)
		return 0;
	if (!reg_implemented(off)) {
		c = cpu_get(b, cpu, 1);
		if (c)
			lapic_error(c, LAPIC_ESR_ILLEGAL_REG);
		return 0;
	}
	c = cpu_get(b, cpu, 0);
	return c ? reg_value(c, off, now) : 0;
}

/*
 * 11.8.5: an EOI write retires the highest-priority vector in service. If
 * it was accepted level-triggered (TMR), the APIC broadcasts an EOI
 * message to the I/O APICs. With nothing in service the write is ignored.
 */
static void eoi_write(struct lapic_cpu *c, struct lapic_fx *fx)
{
	int v = lapic_highest(c->isr);

	if (v < 0)
		return;
	lapic_vec_clear(c->isr, (unsigned)v);
	if (lapic_vec_test(c->tmr, (unsigned)v) && fx &&
	    fx->neoi < LAPIC_FX_MAX_EOI)
		fx->eoi[fx->neoi++] = (uint8_t)v;
}

/*
 * 11.9 and 11.4.7.2: clearing the software enable masks every LVT entry;
 * while disabled, LVT writes cannot clear the masks (lvt_write). IRR and
 * ISR are kept.
 */
static void svr_write(struct lapic_cpu *c, uint32_t val)
{
	unsigned i;

	c->svr = val & LAPIC_SVR_MASK;
	if (lapic_sw_enabled(c))
		return;
	lapic_timer_set_lvt(c, c->lvt[LAPIC_LVT_TIMER] | LAPIC_LVT_MASKED);
	for (i = LAPIC_LVT_TIMER + 1; i < LAPIC_LVT_COUNT; i++)
		c->lvt[i] |= LAPIC_LVT_MASKED;
}

static void lvt_write(struct lapic_cpu *c, unsigned i, uint32_t val)
{
	val &= lvt_writable[i];
	if (!lapic_sw_enabled(c))
		val |= LAPIC_LVT_MASKED;
	if (i == LAPIC_LVT_TIMER)
		lapic_timer_set_lvt(c, val);
	else
		c->lvt[i] = val;
}

/* 11.5.3: a write latches the errors seen since the previous write into
 * the readable ESR and starts collecting afresh. */
static void esr_write(struct lapic_cpu *c)
{
	c->esr = c->esr_pending;
	c->esr_pending = 0;
}

/* Writes that only change this APIC; false for the ICR low half. */
static bool reg_write(struct lapic_cpu *c, unsigned off, uint32_t val,
		      uint64_t now, struct lapic_fx *fx)
{
	if (off >= LAPIC_REG_LVT && off < LAPIC_REG_TIMER_INITIAL) {
		lvt_write(c, (off - LAPIC_REG_LVT) >> 4, val);
		return true;
	}
	switch (off) {
	case LAPIC_REG_ID:
		/* 11.4.6: writable on xAPIC parts; KVM and QEMU allow it. */
		c->id = val & LAPIC_ID_MASK;
		break;
	case LAPIC_REG_TPR:
		c->tpr = val & LAPIC_TPR_MASK;
		break;
	case LAPIC_REG_EOI:
		eoi_write(c, fx);
		break;
	case LAPIC_REG_LDR:
		c->ldr = val & LAPIC_LDR_MASK;
		break;
	case LAPIC_REG_DFR:
		c->dfr = val | ~LAPIC_DFR_MODEL;
		break;
	case LAPIC_REG_SVR:
		svr_write(c, val);
		break;
	case LAPIC_REG_ESR:
		esr_write(c);
		break;
	case LAPIC_REG_ICR_LO:
		c->icr_lo = val & LAPIC_ICR_LO_MASK;
		return false;
	case LAPIC_REG_ICR_HI:
		c->icr_hi = val & LAPIC_ICR_HI_MASK;
		break;
	case LAPIC_REG_TIMER_INITIAL:
		lapic_timer_set_initial(c, val, now);
		break;
	case LAPIC_REG_TIMER_DIVIDE:
		lapic_timer_set_divide(c, val, now);
		break;
	default:
		break; /* read-only registers ignore writes */
	}
	return true;
}

void lapic_write(struct lapic_bank *b, unsigned cpu, unsigned off, uint32_t val,
		 uint64_t now, struct lapic_fx *fx)
{
	struct lapic_cpu *c;

	fx_clear(fx);
	if ((off & 0xf) || off >= LAPIC_SIZE)
		return;
	c = cpu_get(b, cpu, 1);
	if (!c)
		return;
	lapic_timer_due(c, now);
	if (!reg_implemented(off)) {
		lapic_error(c, LAPIC_ESR_ILLEGAL_REG);
		return;
	}
	if (!reg_write(c, off, val, now, fx))
		lapic_ipi_send(b, cpu); /* 11.6.1: an ICR low write sends */
}

/*
 * 11.4.7.3: INIT resets the APIC to its power-up state except the APIC
 * ID (and the BSP flag, which lives in IA32_APIC_BASE). An AP then waits
 * for a SIPI, and a SIPI that arrived after the INIT stays pending.
 */
static void init_accept(struct lapic_cpu *c)
{
	uint32_t id = c->id;
	uint8_t bsp = c->bsp;
	uint8_t sipi = c->sipi_pending, vector = c->sipi_vector;

	lapic_reset(c, id >> 24);
	c->id = id;
	c->bsp = bsp;
	c->wait_sipi = !bsp;
	if (c->wait_sipi && sipi) {
		c->sipi_pending = 1;
		c->sipi_vector = vector;
	}
}

/* 11.8.4: the vector the processor took moves from IRR to ISR. */
static void intr_accept(struct lapic_cpu *c, unsigned vector)
{
	vector &= 0xff;
	if (!lapic_vec_test(c->irr, vector))
		return;
	lapic_vec_clear(c->irr, vector);
	lapic_vec_set(c->isr, vector);
}

void lapic_accept(struct lapic_bank *b, unsigned cpu, unsigned what,
		  unsigned vector, struct lapic_fx *fx)
{
	struct lapic_cpu *c;

	fx_clear(fx);
	c = cpu_get(b, cpu, 1);
	if (!c)
		return;
	switch (what) {
	case LAPIC_ACCEPT_INTR:
		intr_accept(c, vector);
		break;
	case LAPIC_ACCEPT_NMI:
		c->nmi_pending = 0;
		break;
	case LAPIC_ACCEPT_INIT:
		if (c->init_pending)
			init_accept(c);
		break;
	case LAPIC_ACCEPT_SIPI:
		if (c->sipi_pending) {
			c->sipi_pending = 0;
			c->sipi_vector = 0;
			c->wait_sipi = 0;
		}
		break;
	case LAPIC_ACCEPT_EXTINT:
		c->extint_pending = 0;
		break;
	default:
		break;
	}
}

/* 11.5.1: LINT0 programmed ExtINT and unmasked is the virtual wire. */
static bool extint_wired(const struct lapic_cpu *c)
{
	uint32_t lint0 = c->lvt[LAPIC_LVT_LINT0];

	return !(lint0 & LAPIC_LVT_MASKED) &&
	       ((lint0 & LAPIC_LVT_DM) >> LAPIC_LVT_DM_SHIFT) ==
		       LAPIC_DM_EXTINT;
}

/*
 * 11.8.3.1: the processor takes only interrupts whose priority class is
 * above the PPR class. Interrupts already in IRR stay deliverable while the
 * APIC is software disabled (11.4.7.2: they are "held and require masking
 * or handling by the CPU"); it only stops accepting new fixed ones.
 */
uint64_t lapic_mailbox(const struct lapic_cpu *c)
{
	uint64_t mb = 0;
	int v = lapic_highest(c->irr);

	if (v >= 0 && prio_class(v) > (lapic_ppr(c) & 0xf0))
		mb |= LAPIC_MB_INTR | (unsigned)v;
	if (c->sipi_pending)
		mb |= LAPIC_MB_SIPI | (uint64_t)c->sipi_vector << 8;
	if (c->nmi_pending)
		mb |= LAPIC_MB_NMI;
	if (c->init_pending)
		mb |= LAPIC_MB_INIT;
	if (c->extint_pending || extint_wired(c))
		mb |= LAPIC_MB_EXTINT;
	if (lapic_sw_enabled(c))
		mb |= LAPIC_MB_APIC_ENABLED;
	return mb;
}

uint64_t lapic_deadline(const struct lapic_cpu *c)
{
	return c->timer_deadline;
}

void lapic_tick(struct lapic_bank *b, unsigned cpu, uint64_t now,
		struct lapic_fx *fx)
{
	const struct lapic_cpu *r;
	struct lapic_cpu *c;

	fx_clear(fx);
	r = cpu_get(b, cpu, 0);
	if (!r || !r->timer_deadline || now < r->timer_deadline)
		return;
	c = cpu_get(b, cpu, 1);
	if (c)
		lapic_timer_due(c, now);
}
