/*
 * cellvm-dev-pic: the two cascaded 8259As and the ELCR (pic.h) at ports
 * 0x20-0x21, 0xa0-0xa1, 0x4d0-0x4d1. Inputs are ISA lines 0-15 of the
 * IRQ-line page; the master's INTR goes out on IRQ_LINE_PIC_INTR, which
 * the runner takes to the boot vCPU as ExtINT and acknowledges with a
 * RING_CTRL request (PIC_CTRL_INTA) answered with the vector.
 */
#include <string.h>

#include "devloop.h"
#include "pic.h"

extern const char policy_text[];

struct pic_dev {
	bool restarted; /* the next look at the lines follows a restart */
};

/*
 * Edges the model has not seen yet. After a restart, all of them: those
 * came while no PIC was alive, and the model owes them to the guest one
 * by one. Otherwise at most one per line: several edges between two looks
 * merge into one request, as on the chip (a busy PIC, a masked line).
 */
static void pic_edges(struct pic_dev *p, const struct pic_state *s,
		      const _Atomic uint32_t *rises, uint32_t *r)
{
	unsigned i;

	for (i = 0; i < PIC_LINES; i++) {
		r[i] = atomic_load(&rises[i]);
		if (!p->restarted && r[i] - s->rises[i] > 1)
			r[i] = s->rises[i] + 1;
	}
	p->restarted = false;
}

static void pic_learn_lines(struct pic_state *s, const struct irq_page *p)
{
	unsigned i;

	/* The model starts from the lines as they are: nothing owed. */
	for (i = 0; i < PIC_LINES; i++)
		s->rises[i] = atomic_load(&p->rises[i]);
	s->levels = (uint16_t)irq_line_levels(p);
}

static void pic_dev_reset(void *dev, struct devloop *d)
{
	struct pic_state *s = dev_state(d);

	pic_reset(s);
	if (dev_irq_page(d))
		pic_learn_lines(s, dev_irq_page(d));
}

/* Called on a state a dead instance committed: we are a restart. */
static bool pic_dev_valid(void *dev, struct devloop *d)
{
	struct pic_dev *p = dev;

	p->restarted = true;
	return pic_state_valid(dev_state(d));
}

static void pic_dev_lines(void *dev, struct devloop *d, uint32_t levels,
			  const _Atomic uint32_t *rises, uint64_t now)
{
	struct pic_state *s = dev_state(d);
	uint32_t r[PIC_LINES];

	pic_edges(dev, s, rises, r);
	pic_set_lines(s, (uint16_t)levels, r);
}

/* Port accesses are byte-wide on the ISA bus: wider ones split. */
static uint64_t pic_access(void *dev, struct devloop *d,
			   const struct ring_req *req, uint64_t now)
{
	struct pic_state *s = dev_state(d);
	uint64_t data = 0;
	unsigned i;

	if (req->flags & RING_CTRL)
		return req->addr == PIC_CTRL_INTA ? pic_intack(s) : 0;
	for (i = 0; i < req->size; i++) {
		uint16_t port = (uint16_t)(req->addr + i);

		if (req->flags & RING_WRITE)
			pic_write(s, port, (uint8_t)(req->data >> (8 * i)));
		else
			data |= (uint64_t)pic_read(s, port) << (8 * i);
	}
	return data;
}

static bool pic_dev_irq(void *dev, struct devloop *d)
{
	return pic_intr(dev_state(d));
}

static const struct dev_ops pic_ops = {
	.name = "pic",
	.state_size = sizeof(struct pic_state),
	.watch_lines = 0xffff,
	.reset = pic_dev_reset,
	.valid = pic_dev_valid,
	.access = pic_access,
	.lines = pic_dev_lines,
	.irq = pic_dev_irq,
};

int main(void)
{
	static struct pic_dev pic;

	return devloop_main(&pic_ops, &pic, policy_text);
}
