/*
 * Intel 82093AA I/O APIC model (82093AA datasheet, order 290566-001, May
 * 1996; interrupt messages per the Intel SDM vol. 3, 11.11).
 *
 * Everything here is a pure function of struct ioapic_state and its
 * arguments; see ioapic.h for the contract. Section numbers below refer to
 * the 82093AA datasheet unless they say SDM.
 *
 * Invariants kept by every function (and checked by ioapic_state_valid()):
 *  - redirection entries hold only writable bits and remote IRR; the
 *    delivery status bit is never stored (messages are never held);
 *  - remote IRR is set only in entries that act level-triggered;
 *  - edges are owed only by unmasked edge entries with a delivery mode
 *    that can be sent, at most IOAPIC_OWED_MAX per pin.
 */
#include <stddef.h>

#include "ioapic.h"

#define IOAPIC_PIN_BITS ((1u << IOAPIC_PINS) - 1)
#define IOAPIC_IOREGSEL_MASK 0xffu /* 3.1.1: bits 31:8 reserved */
#define IOAPIC_REG_REDTBL_END (IOAPIC_REG_REDTBL + 2 * IOAPIC_PINS)

/* 3.2.4: bits 55:17 reserved; 14 and 12 read-only. */
#define IOAPIC_RTE_WRITABLE                                           \
	(IOAPIC_RTE_VECTOR | IOAPIC_RTE_DELMOD | IOAPIC_RTE_DESTMOD | \
	 IOAPIC_RTE_INTPOL | IOAPIC_RTE_TRIGGER | IOAPIC_RTE_MASK |   \
	 IOAPIC_RTE_DEST)
#define IOAPIC_RTE_STORED (IOAPIC_RTE_WRITABLE | IOAPIC_RTE_REMOTE_IRR)

static unsigned delivery_mode(uint64_t e)
{
	return (unsigned)((e & IOAPIC_RTE_DELMOD) >> IOAPIC_RTE_DELMOD_SHIFT);
}

/*
 * 3.2.4 bits 10:8: SMI, NMI, INIT and ExtINT require edge trigger mode,
 * and SDM 11.11.2 has the local APIC treat NMI, INIT and ExtINT as edge
 * whatever the trigger bit says. Only fixed and lowest-priority entries
 * with bit 15 set act level-triggered; no EOI would ever clear the remote
 * IRR of the others.
 */
static bool entry_level(uint64_t e)
{
	unsigned mode = delivery_mode(e);

	if (!(e & IOAPIC_RTE_TRIGGER))
		return false;
	return mode == IOAPIC_DELMOD_FIXED || mode == IOAPIC_DELMOD_LOWEST;
}

/*
 * Unmasked (3.2.4 bit 16) with a defined delivery mode: 3 and 6 are
 * reserved, and what the chip sends for them is unspecified, so we send
 * nothing.
 */
static bool entry_sendable(uint64_t e)
{
	unsigned mode = delivery_mode(e);

	if (e & IOAPIC_RTE_MASK)
		return false;
	return mode != 3 && mode != 6;
}

/* 3.2.4 bit 13: the level of the pin's interrupt signal after polarity. */
static bool pin_asserted(const struct ioapic_state *s, unsigned pin)
{
	bool high = (s->levels >> pin) & 1;
	bool low_active = s->redtbl[pin] & IOAPIC_RTE_INTPOL;

	return high != low_active;
}

/*
 * SDM 11.11.1: address 0xfee, destination ID in bits 19:12, DM in bit 2
 * (RH stays 0: the LAPIC side honours DM as KVM and QEMU do). SDM 11.11.2:
 * vector, delivery mode in 10:8, level (assert) in 14, trigger in 15. The
 * I/O APIC only ever sends asserts. The destination byte (3.2.4 bits
 * 63:56) is passed whole; in physical mode the 82093AA itself compares
 * only bits 59:56 on its serial bus, but the message has room for 8.
 */
static struct ioapic_msg entry_msg(uint64_t e)
{
	struct ioapic_msg m;
	uint32_t dest = (uint32_t)(e >> IOAPIC_RTE_DEST_SHIFT);

	m.addr = IOAPIC_MSI_ADDR_BASE | dest << IOAPIC_MSI_ADDR_DEST_SHIFT;
	if (e & IOAPIC_RTE_DESTMOD)
		m.addr |= IOAPIC_MSI_ADDR_DM_LOGICAL;
	m.data = (uint32_t)(e & IOAPIC_RTE_VECTOR);
	m.data |= delivery_mode(e) << IOAPIC_MSI_DATA_DELMOD_SHIFT;
	m.data |= IOAPIC_MSI_DATA_ASSERT;
	if (entry_level(e))
		m.data |= IOAPIC_MSI_DATA_LEVEL;
	return m;
}

/*
 * Send pin's message. 3.2.4 bit 14: a level interrupt sets remote IRR when
 * a local APIC accepts it; the caller hands every message on, so that is
 * now. fx has room for one message per pin and each caller sends at most
 * one per pin, so the bound check is a guard only.
 */
static void send(struct ioapic_state *s, unsigned pin, struct ioapic_fx *fx)
{
	if (fx->n < IOAPIC_PINS)
		fx->msg[fx->n++] = entry_msg(s->redtbl[pin]);
	if (entry_level(s->redtbl[pin]))
		s->redtbl[pin] |= IOAPIC_RTE_REMOTE_IRR;
}

/* A level pin asserted, unmasked and not awaiting an EOI interrupts. */
static void level_eval(struct ioapic_state *s, unsigned pin,
		       struct ioapic_fx *fx)
{
	uint64_t e = s->redtbl[pin];

	if (!entry_level(e) || !entry_sendable(e))
		return;
	if ((e & IOAPIC_RTE_REMOTE_IRR) || !pin_asserted(s, pin))
		return;
	send(s, pin, fx);
}

/*
 * Asserting edges between two looks at a pin that was at level was and is
 * now at level now, with rises low-to-high transitions in between. The
 * transitions alternate, so the high-to-low ones number rises + was - now.
 * A rise without a count (rises 0, e.g. no counts given) still counts once.
 */
static uint64_t edges_seen(bool was, bool now, uint32_t rises, bool low_active)
{
	int64_t falls = (int64_t)rises + was - now;

	if (low_active)
		return falls > 0 ? (uint64_t)falls : 0;
	if (!rises && !was && now)
		return 1;
	return rises;
}

/*
 * Edges arrived at an edge entry: one message now, the rest owed. 3.2.4
 * bit 16: at a masked pin they are "not delivered or held pending".
 */
static void edge_arrive(struct ioapic_state *s, unsigned pin, uint64_t edges,
			struct ioapic_fx *fx)
{
	uint64_t owed;

	if (!edges || !entry_sendable(s->redtbl[pin]))
		return;
	send(s, pin, fx);
	owed = s->owed[pin] + edges - 1;
	s->owed[pin] = owed > IOAPIC_OWED_MAX ? IOAPIC_OWED_MAX : (uint8_t)owed;
}

static struct ioapic_fx *fx_start(struct ioapic_fx *fx,
				  struct ioapic_fx *scratch)
{
	if (!fx)
		fx = scratch;
	fx->n = 0;
	return fx;
}

void ioapic_reset(struct ioapic_state *s)
{
	unsigned pin;

	/*
	 * 3.2.1 and 3.2.4: ID 0; each entry defaults to xxx1 xxxx xxxx xxxxh,
	 * masked; the undefined bits are 0 here.
	 */
	*s = (struct ioapic_state){ 0 };
	for (pin = 0; pin < IOAPIC_PINS; pin++)
		s->redtbl[pin] = IOAPIC_RTE_MASK;
}

static bool entry_valid(const struct ioapic_state *s, unsigned pin)
{
	uint64_t e = s->redtbl[pin];

	if (e & ~IOAPIC_RTE_STORED)
		return false;
	if ((e & IOAPIC_RTE_REMOTE_IRR) && !entry_level(e))
		return false;
	if (s->owed[pin] > IOAPIC_OWED_MAX)
		return false;
	return !s->owed[pin] || (!entry_level(e) && entry_sendable(e));
}

bool ioapic_state_valid(const struct ioapic_state *s)
{
	unsigned i;

	if (!s)
		return false;
	for (i = 0; i < sizeof(s->pad); i++)
		if (s->pad[i])
			return false;
	if (s->id > IOAPIC_ID_MASK || (s->levels & ~IOAPIC_PIN_BITS))
		return false;
	for (i = 0; i < IOAPIC_PINS; i++)
		if (!entry_valid(s, i))
			return false;
	return true;
}

void ioapic_set_id(struct ioapic_state *s, uint8_t id)
{
	s->id = id & IOAPIC_ID_MASK;
}

/*
 * 3.2: the register IOREGSEL selects. 3.2.3: the arbitration ID is loaded
 * with the ID whenever the ID is written; it would then rotate with APIC
 * bus arbitration, which a front-side-bus delivery does not have, so it
 * reads as the ID. Unimplemented indices read 0.
 */
static uint32_t window_read(const struct ioapic_state *s)
{
	unsigned reg = s->ioregsel;
	uint64_t e;

	switch (reg) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:
		return (uint32_t)s->id << IOAPIC_ID_SHIFT;
	case IOAPIC_REG_VER:
		return IOAPIC_VER_VALUE;
	default:
		break;
	}
	if (reg < IOAPIC_REG_REDTBL || reg >= IOAPIC_REG_REDTBL_END)
		return 0;
	e = s->redtbl[(reg - IOAPIC_REG_REDTBL) / 2];
	return (uint32_t)(reg & 1 ? e >> 32 : e);
}

/* The 32-bit register at dword-aligned offset base in the page. */
static uint32_t mmio_reg(const struct ioapic_state *s, unsigned base)
{
	if (base == IOAPIC_IOREGSEL)
		return s->ioregsel;
	if (base == IOAPIC_IOWIN)
		return window_read(s);
	return 0;
}

uint32_t ioapic_read(const struct ioapic_state *s, unsigned off)
{
	return mmio_reg(s, off & ~3u) >> (8 * (off & 3));
}

/*
 * 3.2.4: a write replaces the writable bits of one half of the entry;
 * remote IRR and delivery status are read-only. Then the entry is
 * re-evaluated:
 *  - not level-triggered any more: remote IRR is cleared. Its meaning is
 *    undefined for edge entries, and Linux clears a stuck remote IRR on
 *    version 0x11 I/O APICs by switching the entry to edge and back;
 *  - masked, or not an edge entry: owed edges are dropped (bit 16);
 *  - a level pin asserted with remote IRR clear sends now. Asserts at a
 *    masked pin leave no trace (bit 16), but a pin still asserted when
 *    unmasked is an asserted level; Linux's mask/unmask of level IRQs
 *    counts on it, as KVM and QEMU model it.
 */
static void entry_write(struct ioapic_state *s, unsigned pin, bool high,
			uint32_t val, struct ioapic_fx *fx)
{
	uint64_t old = s->redtbl[pin];
	uint64_t e;

	if (high)
		e = (old & 0xffffffffull) | (uint64_t)val << 32;
	else
		e = (old & ~0xffffffffull) | val;
	e = (e & IOAPIC_RTE_WRITABLE) | (old & IOAPIC_RTE_REMOTE_IRR);
	if (!entry_level(e))
		e &= ~IOAPIC_RTE_REMOTE_IRR;
	s->redtbl[pin] = e;
	if (entry_level(e) || !entry_sendable(e))
		s->owed[pin] = 0;
	level_eval(s, pin, fx);
}

/* 3.2.1-3.2.3: the version and arbitration registers are read-only. */
static void window_write(struct ioapic_state *s, uint32_t val,
			 struct ioapic_fx *fx)
{
	unsigned reg = s->ioregsel;

	if (reg == IOAPIC_REG_ID) {
		s->id = (val >> IOAPIC_ID_SHIFT) & IOAPIC_ID_MASK;
		return;
	}
	if (reg < IOAPIC_REG_REDTBL || reg >= IOAPIC_REG_REDTBL_END)
		return;
	entry_write(s, (reg - IOAPIC_REG_REDTBL) / 2, reg & 1, val, fx);
}

void ioapic_write_bytes(struct ioapic_state *s, unsigned off, unsigned size,
			uint32_t val, struct ioapic_fx *fx)
{
	struct ioapic_fx scratch;
	unsigned base = off & ~3u;
	unsigned shift = 8 * (off & 3);
	uint32_t mask;
	uint32_t reg;

	fx = fx_start(fx, &scratch);
	if (size < 1 || size > 4)
		return;
	if (base != IOAPIC_IOREGSEL && base != IOAPIC_IOWIN)
		return;
	mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	mask <<= shift; /* bytes past the dword fall off */
	reg = (mmio_reg(s, base) & ~mask) | ((val << shift) & mask);
	if (base == IOAPIC_IOREGSEL)
		s->ioregsel = reg & IOAPIC_IOREGSEL_MASK;
	else
		window_write(s, reg, fx);
}

void ioapic_write(struct ioapic_state *s, unsigned off, uint32_t val,
		  struct ioapic_fx *fx)
{
	ioapic_write_bytes(s, off, 4, val, fx);
}

void ioapic_set_pins(struct ioapic_state *s, uint32_t levels,
		     const uint32_t rises[IOAPIC_PINS], struct ioapic_fx *fx)
{
	struct ioapic_fx scratch;
	uint32_t old = s->levels;
	unsigned pin;

	fx = fx_start(fx, &scratch);
	s->levels = levels & IOAPIC_PIN_BITS;
	for (pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = s->redtbl[pin];
		bool was = (old >> pin) & 1;
		bool now = (s->levels >> pin) & 1;
		uint32_t up = 0;

		if (rises) {
			up = rises[pin] - s->rises[pin]; /* wraps */
			s->rises[pin] = rises[pin];
		}
		if (entry_level(e))
			level_eval(s, pin, fx);
		else
			edge_arrive(
				s, pin,
				edges_seen(was, now, up, e & IOAPIC_RTE_INTPOL),
				fx);
	}
}

/*
 * 3.2.4 bit 14: an EOI with a matching vector clears remote IRR. Every
 * level entry with that vector is cleared (pins may share a vector), and
 * one whose pin is still asserted interrupts again at once.
 */
void ioapic_eoi(struct ioapic_state *s, uint8_t vector, struct ioapic_fx *fx)
{
	struct ioapic_fx scratch;
	unsigned pin;

	fx = fx_start(fx, &scratch);
	for (pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = s->redtbl[pin];

		if (!(e & IOAPIC_RTE_REMOTE_IRR))
			continue;
		if ((e & IOAPIC_RTE_VECTOR) != vector)
			continue;
		s->redtbl[pin] = e & ~IOAPIC_RTE_REMOTE_IRR;
		level_eval(s, pin, fx);
	}
}

bool ioapic_owed(const struct ioapic_state *s)
{
	unsigned pin;

	for (pin = 0; pin < IOAPIC_PINS; pin++)
		if (s->owed[pin])
			return true;
	return false;
}

void ioapic_poll(struct ioapic_state *s, struct ioapic_fx *fx)
{
	struct ioapic_fx scratch;
	unsigned pin;

	fx = fx_start(fx, &scratch);
	for (pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = s->redtbl[pin];

		if (!s->owed[pin])
			continue;
		if (entry_level(e) || !entry_sendable(e)) {
			s->owed[pin] = 0; /* not in a valid state; a guard */
			continue;
		}
		s->owed[pin]--;
		send(s, pin, fx);
	}
}
