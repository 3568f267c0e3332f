/*
 * Interrupt messages between local APICs: IPIs from the ICR (Intel SDM
 * vol. 3A, 11.6) and messages from the I/O APIC or PCI MSIs (11.11).
 *
 * Both become one struct lapic_msg and take one path: find the APICs the
 * destination names (11.6.2), pick one of them for lowest priority, and
 * let each accept the message (11.8.1). Delivery is immediate, so the
 * ICR's delivery status is never busy.
 */
#include <limits.h>
#include <stddef.h>

#include "lapic.h"

#define LAPIC_MSI_ADDR_PREFIX 0xfeeu /* 11.11.1: address bits 31-20 */
#define LAPIC_BROADCAST 0xffu	     /* 11.6.2.1 and 11.6.2.2 */
#define LAPIC_NO_SENDER UINT_MAX

struct lapic_msg {
	unsigned vector;
	unsigned mode;	    /* LAPIC_DM_* */
	unsigned dest;	    /* 8-bit destination field */
	unsigned shorthand; /* LAPIC_SH_* */
	unsigned src;	    /* sending APIC, for the shorthands */
	bool logical;
	bool level; /* trigger mode: TMR is set for level */
};

static unsigned bank_size(const struct lapic_bank *b)
{
	if (!b || !b->cpu)
		return 0;
	return b->ncpus < LAPIC_MAX_CPUS ? b->ncpus : LAPIC_MAX_CPUS;
}

static struct lapic_cpu *cpu_get(struct lapic_bank *b, unsigned cpu, int write)
{
	if (cpu >= bank_size(b))
		return NULL;
	return b->cpu(b->ctx, cpu, write);
}

/*
 * 11.6.2.1: a physical destination is an APIC ID. 11.6.2.2: a logical one
 * is matched against the LDR, in the flat model (DFR 1111b) as a bit mask;
 * in the cluster model (0000b) bits 7-4 name the cluster and bits 3-0 are
 * a mask within it. Other DFR models are undefined and taken as cluster,
 * as KVM does. 0xff is a broadcast in both modes.
 */
static bool dest_match(const struct lapic_cpu *c, const struct lapic_msg *m)
{
	unsigned ldr = c->ldr >> 24;

	if (m->dest == LAPIC_BROADCAST)
		return true;
	if (!m->logical)
		return m->dest == c->id >> 24;
	if (c->dfr == LAPIC_DFR_FLAT)
		return (ldr & m->dest) != 0;
	return (ldr >> 4) == (m->dest >> 4) && (ldr & m->dest & 0xf);
}

/* 11.6.1, destination shorthand: the field is ignored for the others. */
static bool is_target(const struct lapic_cpu *c, unsigned i,
		      const struct lapic_msg *m)
{
	switch (m->shorthand) {
	case LAPIC_SH_SELF:
		return i == m->src;
	case LAPIC_SH_ALL:
		return true;
	case LAPIC_SH_OTHERS:
		return i != m->src;
	default:
		return dest_match(c, m);
	}
}

/*
 * 11.6.2.4: lowest-priority delivery goes to the destination APIC with the
 * lowest arbitration priority; ties go to the lowest APIC ID (then the
 * lowest index). Xeon processors have no focus processor, and neither do
 * we. A software-disabled APIC cannot accept the message, so it is not a
 * candidate. Returns the vCPU index, or -1.
 */
static int lowest_target(struct lapic_bank *b, const struct lapic_msg *m)
{
	unsigned i, n = bank_size(b), best_apr = 0, best_id = 0;
	const struct lapic_cpu *c;
	int best = -1;

	for (i = 0; i < n; i++) {
		unsigned apr, id;

		c = cpu_get(b, i, 0);
		if (!c || !lapic_sw_enabled(c) || !is_target(c, i, m))
			continue;
		apr = lapic_apr(c);
		id = c->id >> 24;
		if (best < 0 || apr < best_apr ||
		    (apr == best_apr && id < best_id)) {
			best = (int)i;
			best_apr = apr;
			best_id = id;
		}
	}
	return best;
}

/*
 * 11.8.1 and 11.4.7.2: what one APIC does with a message meant for it.
 * A software-disabled APIC still takes NMI, INIT and SIPI but no fixed
 * interrupts. An INIT cancels a SIPI that came before it; a SIPI counts
 * only while the APIC waits for one or an INIT is about to make it wait
 * (9.4: a SIPI to a running processor is ignored).
 */
static void msg_accept(struct lapic_bank *b, unsigned i,
		       const struct lapic_msg *m)
{
	struct lapic_cpu *c = cpu_get(b, i, 1);

	if (!c)
		return;
	switch (m->mode) {
	case LAPIC_DM_FIXED:
	case LAPIC_DM_LOWEST:
		if (lapic_sw_enabled(c))
			lapic_set_irr(c, m->vector, m->level);
		break;
	case LAPIC_DM_NMI:
		c->nmi_pending = 1;
		break;
	case LAPIC_DM_INIT:
		c->init_pending = 1;
		c->sipi_pending = 0;
		c->sipi_vector = 0;
		break;
	case LAPIC_DM_STARTUP:
		if (c->wait_sipi || c->init_pending) {
			c->sipi_pending = 1;
			c->sipi_vector = (uint8_t)m->vector;
		}
		break;
	case LAPIC_DM_EXTINT:
		c->extint_pending = 1;
		break;
	default:
		break;
	}
}

static void deliver(struct lapic_bank *b, const struct lapic_msg *m)
{
	unsigned i, n = bank_size(b);
	const struct lapic_cpu *c;
	int t;

	if (m->mode == LAPIC_DM_LOWEST) {
		t = lowest_target(b, m);
		if (t >= 0)
			msg_accept(b, (unsigned)t, m);
		return;
	}
	for (i = 0; i < n; i++) {
		c = cpu_get(b, i, 0);
		if (c && is_target(c, i, m))
			msg_accept(b, i, m);
	}
}

/*
 * Table 11-3 (Pentium 4 and Xeon xAPIC): "self" and "all including self"
 * take the fixed mode only; SMI and the reserved modes are not modelled.
 * Invalid combinations are not sent.
 */
static bool icr_valid(const struct lapic_msg *m)
{
	switch (m->mode) {
	case LAPIC_DM_FIXED:
		return true;
	case LAPIC_DM_LOWEST:
	case LAPIC_DM_NMI:
	case LAPIC_DM_INIT:
	case LAPIC_DM_STARTUP:
		return m->shorthand == LAPIC_SH_NONE ||
		       m->shorthand == LAPIC_SH_OTHERS;
	default:
		return false;
	}
}

/*
 * 11.6.1: the ICR low write sends the IPI the two halves describe. The
 * xAPIC issues every IPI edge-triggered (Table 11-3, note 2). INIT level
 * de-assert (level 0, trigger level) is P6-only and ignored. A fixed or
 * lowest-priority vector below 16 is not sent and sets "send illegal
 * vector" in the sender's ESR (11.5.3 bit 5).
 */
void lapic_ipi_send(struct lapic_bank *b, unsigned src)
{
	const struct lapic_cpu *s = cpu_get(b, src, 0);
	struct lapic_cpu *w;
	struct lapic_msg m;
	uint32_t lo;

	if (!s)
		return;
	lo = s->icr_lo;
	m = (struct lapic_msg){
		.vector = lo & LAPIC_ICR_VECTOR,
		.mode = (lo >> LAPIC_ICR_DM_SHIFT) & 7,
		.dest = s->icr_hi >> LAPIC_ICR_DEST_SHIFT,
		.shorthand = (lo >> LAPIC_ICR_SH_SHIFT) & 3,
		.src = src,
		.logical = lo & LAPIC_ICR_LOGICAL,
	};
	if (m.mode == LAPIC_DM_INIT && (lo & LAPIC_ICR_LEVEL) &&
	    !(lo & LAPIC_ICR_ASSERT))
		return;
	if (!icr_valid(&m))
		return;
	if (m.mode <= LAPIC_DM_LOWEST && m.vector < 16) {
		w = cpu_get(b, src, 1);
		if (w)
			lapic_error(w, LAPIC_ESR_SEND_ILLEGAL);
		return;
	}
	deliver(b, &m);
}

/*
 * 11.11.2: fixed and lowest-priority messages may be level-triggered; a
 * level message with the level bit clear is a de-assert and carries no
 * interrupt. NMI, INIT and ExtINT are edge-only and ignore the vector.
 */
static bool msi_mode_valid(struct lapic_msg *m, uint32_t data)
{
	switch (m->mode) {
	case LAPIC_DM_FIXED:
	case LAPIC_DM_LOWEST:
		m->level = data & LAPIC_ICR_LEVEL;
		return !m->level || (data & LAPIC_ICR_ASSERT);
	case LAPIC_DM_NMI:
	case LAPIC_DM_INIT:
	case LAPIC_DM_EXTINT:
		m->vector = 0;
		return true;
	default:
		return false; /* SMI, reserved (no start-up in messages) */
	}
}

/*
 * 11.11.1: the destination ID is in address bits 12-19, bit 2 selects a
 * logical destination. With the redirection hint (bit 3) the message goes
 * to the lowest-priority APIC of the destination, as Linux and KVM read it;
 * the destination mode bit is honoured whatever the hint.
 */
void lapic_msi(struct lapic_bank *b, uint64_t addr, uint32_t data, uint64_t now,
	       struct lapic_fx *fx)
{
	struct lapic_msg m;

	(void)now; /* delivery does not depend on time */
	if (fx)
		fx->neoi = 0;
	if ((addr >> 20) != LAPIC_MSI_ADDR_PREFIX)
		return;
	m = (struct lapic_msg){
		.vector = data & LAPIC_ICR_VECTOR,
		.mode = (data >> LAPIC_ICR_DM_SHIFT) & 7,
		.dest = (addr >> LAPIC_MSI_DEST_SHIFT) & 0xff,
		.shorthand = LAPIC_SH_NONE,
		.src = LAPIC_NO_SENDER,
		.logical = addr & LAPIC_MSI_ADDR_LOGICAL,
	};
	if (!msi_mode_valid(&m, data))
		return;
	if ((addr & LAPIC_MSI_ADDR_RH) && m.mode == LAPIC_DM_FIXED)
		m.mode = LAPIC_DM_LOWEST;
	deliver(b, &m);
}
