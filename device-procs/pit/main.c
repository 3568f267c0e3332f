/*
 * cellvm-dev-pit: the 8254 at 0x40-0x43 and port 0x61 (pit.h). IRQ 0 is
 * channel 0's OUT; the interrupt controllers take it edge-triggered, so
 * every rising edge goes out as a pulse on the IRQ-line page, on a
 * schedule kept from the time the count was loaded (no drift), with edges
 * owed after a restart caught up one at a time.
 */
#include "devloop.h"
#include "pit.h"

extern const char policy_text[];

static void pit_dev_reset(void *dev, struct devloop *d)
{
	pit_reset(dev_state(d));
}

static bool pit_dev_valid(void *dev, struct devloop *d)
{
	return pit_state_valid(dev_state(d));
}

/* Port accesses are byte-wide on the ISA bus: wider ones split. */
static uint64_t pit_access(void *dev, struct devloop *d,
			   const struct ring_req *req, uint64_t now)
{
	struct pit_state *s = dev_state(d);
	uint64_t data = 0;
	unsigned i, edges;

	/* Edges due before this access go out first, all of them. */
	for (edges = pit_flush(s, now); edges; edges--)
		dev_pulse(d);
	for (i = 0; i < req->size; i++) {
		uint16_t port = (uint16_t)(req->addr + i);

		if (req->flags & RING_WRITE)
			pit_write(s, port, (uint8_t)(req->data >> (8 * i)),
				  now);
		else
			data |= (uint64_t)pit_read(s, port, now) << (8 * i);
	}
	return data;
}

static bool pit_poll(void *dev, struct devloop *d, uint64_t now)
{
	struct pit_state *s = dev_state(d);
	uint64_t due = pit_deadline(s);
	unsigned edges;

	if (!due || now < due)
		return false;
	for (edges = pit_tick(s, now); edges; edges--)
		dev_pulse(d);
	return true;
}

static uint64_t pit_dev_deadline(void *dev, struct devloop *d)
{
	return pit_deadline(dev_state(d));
}

static const struct dev_ops pit_ops = {
	.name = "pit",
	.state_size = sizeof(struct pit_state),
	.reset = pit_dev_reset,
	.valid = pit_dev_valid,
	.access = pit_access,
	.poll = pit_poll,
	.deadline = pit_dev_deadline,
};

int main(void)
{
	return devloop_main(&pit_ops, NULL, policy_text);
}
