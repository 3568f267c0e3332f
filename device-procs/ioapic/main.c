/*
 * cellvm-dev-ioapic: the I/O APIC at 0xfec00000 (ioapic.h). Its pins watch
 * the IRQ-line page; interrupt messages go to the LAPIC process on the
 * message ring, EOI broadcasts come back on another. Wiring as the MADT
 * describes it (mmu-service/platform.h): ISA IRQ 0 (the PIT) on pin 2,
 * pin 0 unwired, every other line n on pin n.
 */
#include <string.h>

#include "clock.h"
#include "devloop.h"
#include "ioapic.h"
#include "platform.h"

extern const char policy_text[];

/* Owed edges (caught up after a restart) go out this far apart. */
#define IOAPIC_OWED_NS 1000000ull

struct ioapic_dev_state {
	struct ioapic_state regs;
	uint64_t owed_due; /* next time an owed edge goes out; 0 none */
};

struct ioapic_dev {
	unsigned cpus;
	bool restarted; /* the next look at the lines follows a restart */
};

/* The line feeding pin p, or -1. */
static int ioapic_line(unsigned p)
{
	if (p == 0)
		return -1;
	return p == 2 ? 0 : (int)p;
}

static void ioapic_send(struct devloop *d, const struct ioapic_fx *fx)
{
	unsigned i;

	for (i = 0; i < fx->n; i++)
		dev_send(d, 0, fx->msg[i].addr, fx->msg[i].data);
}

static void ioapic_arm(struct ioapic_dev_state *s, uint64_t now)
{
	s->owed_due = ioapic_owed(&s->regs) ? now + IOAPIC_OWED_NS : 0;
}

static void ioapic_dev_lines(void *dev, struct devloop *d, uint32_t levels,
			     const _Atomic uint32_t *rises, uint64_t now)
{
	struct ioapic_dev_state *s = dev_state(d);
	struct ioapic_dev *io = dev;
	uint32_t pins = 0, prises[IOAPIC_PINS];
	struct ioapic_fx fx;
	unsigned p;
	int l;

	for (p = 0; p < IOAPIC_PINS; p++) {
		l = ioapic_line(p);
		prises[p] = l < 0 ? 0 : atomic_load(&rises[l]);
		/* Edges merge between two looks, as at a real pin, except
		 * those that came while no I/O APIC was alive. */
		if (!io->restarted && prises[p] - s->regs.rises[p] > 1)
			prises[p] = s->regs.rises[p] + 1;
		if (l >= 0 && levels & (1u << l))
			pins |= 1u << p;
	}
	io->restarted = false;
	ioapic_set_pins(&s->regs, pins, prises, &fx);
	ioapic_send(d, &fx);
	if (!s->owed_due)
		ioapic_arm(s, now);
}

static int ioapic_setup(void *dev, struct devloop *d,
			const Cellvm__SetupDeviceRequest *req, int *fds,
			size_t nfds)
{
	struct ioapic_dev *io = dev;

	io->cpus = req->cpus;
	return 0;
}

static void ioapic_dev_reset(void *dev, struct devloop *d)
{
	struct ioapic_dev_state *s = dev_state(d);
	struct ioapic_dev *io = dev;

	memset(s, 0, sizeof(*s));
	ioapic_reset(&s->regs);
	ioapic_set_id(&s->regs, (uint8_t)PC_IOAPIC_ID(io->cpus));
}

/* Called on a state a dead instance committed: we are a restart. */
static bool ioapic_dev_valid(void *dev, struct devloop *d)
{
	const struct ioapic_dev_state *s = dev_state(d);
	struct ioapic_dev *io = dev;

	io->restarted = true;
	return ioapic_state_valid(&s->regs);
}

static uint64_t ioapic_access(void *dev, struct devloop *d,
			      const struct ring_req *req, uint64_t now)
{
	struct ioapic_dev_state *s = dev_state(d);
	unsigned off = (unsigned)(req->addr - IOAPIC_BASE);
	struct ioapic_fx fx;
	uint64_t v;

	if (!(req->flags & RING_MMIO) || req->size > 4)
		return ~0ull;
	if (!(req->flags & RING_WRITE)) {
		v = ioapic_read(&s->regs, off);
		return v;
	}
	ioapic_write_bytes(&s->regs, off, req->size, (uint32_t)req->data, &fx);
	ioapic_send(d, &fx);
	ioapic_arm(s, now);
	return 0;
}

/* An EOI broadcast from a local APIC (data: the vector). */
static void ioapic_message(void *dev, struct devloop *d, unsigned in,
			   const struct ring_req *m, uint64_t now)
{
	struct ioapic_dev_state *s = dev_state(d);
	struct ioapic_fx fx;

	ioapic_eoi(&s->regs, (uint8_t)m->data, &fx);
	ioapic_send(d, &fx);
}

static bool ioapic_dev_poll(void *dev, struct devloop *d, uint64_t now)
{
	struct ioapic_dev_state *s = dev_state(d);
	struct ioapic_fx fx;

	if (!s->owed_due || now < s->owed_due)
		return false;
	ioapic_poll(&s->regs, &fx);
	ioapic_send(d, &fx);
	ioapic_arm(s, now);
	return true;
}

static uint64_t ioapic_dev_deadline(void *dev, struct devloop *d)
{
	const struct ioapic_dev_state *s = dev_state(d);

	return s->owed_due;
}

static const struct dev_ops ioapic_ops = {
	.name = "ioapic",
	.state_size = sizeof(struct ioapic_dev_state),
	.watch_lines = 0x00ffffff,
	.setup = ioapic_setup,
	.reset = ioapic_dev_reset,
	.valid = ioapic_dev_valid,
	.access = ioapic_access,
	.message = ioapic_message,
	.lines = ioapic_dev_lines,
	.poll = ioapic_dev_poll,
	.deadline = ioapic_dev_deadline,
};

int main(void)
{
	static struct ioapic_dev io;

	return devloop_main(&ioapic_ops, &io, policy_text);
}
