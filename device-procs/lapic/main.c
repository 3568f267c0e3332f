/*
 * cellvm-dev-lapic: every local APIC of the VM (lapic.h), at 0xfee00000
 * for each vCPU. An access's vCPU says whose APIC it is. The state page
 * holds one block per APIC, so a change copies only the APICs it touches;
 * the mailboxes of exactly those APICs are published after the commit.
 * Interrupt messages come from the I/O APIC on a message ring; EOIs of
 * level-triggered vectors go back on another. The runner reports what it
 * injected with RING_CTRL calls (mailbox.h).
 */
#include <stdlib.h>
#include <string.h>

#include "devloop.h"
#include "lapic.h"
#include "platform.h"

extern const char policy_text[];

_Static_assert(LAPIC_MB_INTR == MB_INTR && LAPIC_MB_NMI == MB_NMI &&
		       LAPIC_MB_INIT == MB_INIT && LAPIC_MB_SIPI == MB_SIPI &&
		       LAPIC_MB_EXTINT == MB_EXTINT,
	       "the model's mailbox word is the runner's");
_Static_assert(LAPIC_ACCEPT_INTR == MB_ACCEPT_INTR &&
		       LAPIC_ACCEPT_NMI == MB_ACCEPT_NMI &&
		       LAPIC_ACCEPT_INIT == MB_ACCEPT_INIT &&
		       LAPIC_ACCEPT_SIPI == MB_ACCEPT_SIPI &&
		       LAPIC_ACCEPT_EXTINT == MB_ACCEPT_EXTINT,
	       "the runner's reports are the model's");

struct lapic_dev {
	struct devloop *d;
	struct lapic_bank bank;
	uint8_t *dirty; /* APICs written in the current change */
	unsigned *dirty_list;
	unsigned ndirty;
	bool publish_all; /* after start or restart */
};

static struct lapic_cpu *lapic_get(void *ctx, unsigned id, int write)
{
	struct lapic_dev *l = ctx;

	if (id >= l->bank.ncpus)
		return NULL;
	if (write && !l->dirty[id]) {
		l->dirty[id] = 1;
		l->dirty_list[l->ndirty++] = id;
	}
	return dev_block(l->d, id, write);
}

static int lapic_setup(void *dev, struct devloop *d,
		       const Cellvm__SetupDeviceRequest *req, int *fds,
		       size_t nfds)
{
	struct lapic_dev *l = dev;

	if (!dev_mailbox(d))
		return -22; /* -EINVAL: the LAPIC exists to fill mailboxes */
	l->d = d;
	l->bank.ctx = l;
	l->bank.ncpus = dev_cpus(d);
	l->bank.cpu = lapic_get;
	l->dirty = calloc(l->bank.ncpus, 1);
	l->dirty_list = calloc(l->bank.ncpus, sizeof(*l->dirty_list));
	l->publish_all = true;
	return l->dirty && l->dirty_list ? 0 : -12;
}

static void lapic_dev_reset(void *dev, struct devloop *d)
{
	struct lapic_dev *l = dev;
	unsigned i;

	for (i = 0; i < l->bank.ncpus; i++)
		lapic_reset(lapic_get(l, i, 1), i);
}

static bool lapic_dev_valid(void *dev, struct devloop *d)
{
	struct lapic_dev *l = dev;
	unsigned i;

	for (i = 0; i < l->bank.ncpus; i++) {
		if (!lapic_cpu_valid(dev_block(d, i, 0)))
			return false;
	}
	return true;
}

static void lapic_send(struct devloop *d, const struct lapic_fx *fx)
{
	unsigned i;

	/* EOI broadcast to the I/O APIC: addr 0, data the vector. */
	for (i = 0; i < fx->neoi; i++)
		dev_send(d, 0, 0, fx->eoi[i]);
}

/* 32-bit registers; a narrower read takes its bytes of one. */
static uint64_t lapic_access(void *dev, struct devloop *d,
			     const struct ring_req *req, uint64_t now)
{
	struct lapic_dev *l = dev;
	struct lapic_fx fx = { 0 };
	unsigned off;
	uint32_t v;

	if (req->flags & RING_CTRL) {
		lapic_accept(&l->bank, req->vcpu, (unsigned)req->addr,
			     (unsigned)req->data, &fx);
		lapic_send(d, &fx);
		return 0;
	}
	off = (unsigned)(req->addr - PC_LAPIC_ADDR);
	if (!(req->flags & RING_WRITE)) {
		v = lapic_read(&l->bank, req->vcpu, off & ~3u, now);
		return v >> (8 * (off & 3));
	}
	/* The SDM (11.4.1) asks for aligned 32-bit writes; others are lost. */
	if (req->size == 4 && !(off & 3))
		lapic_write(&l->bank, req->vcpu, off, (uint32_t)req->data, now,
			    &fx);
	lapic_send(d, &fx);
	return 0;
}

/* An interrupt message (MSI format) from the I/O APIC. */
static void lapic_message(void *dev, struct devloop *d, unsigned in,
			  const struct ring_req *m, uint64_t now)
{
	struct lapic_dev *l = dev;
	struct lapic_fx fx = { 0 };

	lapic_msi(&l->bank, m->addr, (uint32_t)m->data, now, &fx);
	lapic_send(d, &fx);
}

static uint64_t lapic_dev_deadline(void *dev, struct devloop *d)
{
	struct lapic_dev *l = dev;
	uint64_t next = 0, t;
	unsigned i;

	for (i = 0; i < l->bank.ncpus; i++) {
		t = lapic_deadline(dev_block(d, i, 0));
		if (t && (!next || t < next))
			next = t;
	}
	return next;
}

static bool lapic_poll(void *dev, struct devloop *d, uint64_t now)
{
	struct lapic_dev *l = dev;
	struct lapic_fx fx = { 0 };
	bool any = false;
	unsigned i;
	uint64_t t;

	for (i = 0; i < l->bank.ncpus; i++) {
		t = lapic_deadline(dev_block(d, i, 0));
		if (t && t <= now) {
			lapic_tick(&l->bank, i, now, &fx);
			lapic_send(d, &fx);
			fx.neoi = 0;
			any = true;
		}
	}
	return any;
}

/* Publish the offers of the APICs the change wrote (all, after start). */
static void lapic_committed(void *dev, struct devloop *d)
{
	struct lapic_dev *l = dev;
	struct mailbox_page *mb = dev_mailbox(d);
	unsigned i, id;

	if (l->publish_all) {
		for (i = 0; i < l->bank.ncpus; i++)
			mailbox_post(mb, l->bank.ncpus, i,
				     lapic_mailbox(dev_block(d, i, 0)));
		l->publish_all = false;
	}
	for (i = 0; i < l->ndirty; i++) {
		id = l->dirty_list[i];
		l->dirty[id] = 0;
		mailbox_post(mb, l->bank.ncpus, id,
			     lapic_mailbox(dev_block(d, id, 0)));
	}
	l->ndirty = 0;
}

static const struct dev_ops lapic_ops = {
	.name = "lapic",
	.exits_first = true,
	.state_size = 8,
	.block_size = sizeof(struct lapic_cpu),
	.blocks_per_cpu = 1,
	.setup = lapic_setup,
	.reset = lapic_dev_reset,
	.valid = lapic_dev_valid,
	.access = lapic_access,
	.message = lapic_message,
	.poll = lapic_poll,
	.deadline = lapic_dev_deadline,
	.committed = lapic_committed,
};

int main(void)
{
	static struct lapic_dev lapic;

	return devloop_main(&lapic_ops, &lapic, policy_text);
}
