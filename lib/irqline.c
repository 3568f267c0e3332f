#include <errno.h>
#include <limits.h>
#include <string.h>

#include "futex.h"
#include "irqline.h"

static void irq_page_changed(struct irq_page *p)
{
	atomic_fetch_add(&p->seq, 1);
	if (atomic_load(&p->sleepers))
		futex_wake(&p->seq, INT_MAX);
}

void irq_page_init(struct irq_page *p)
{
	memset(p, 0, sizeof(*p));
	p->magic = IRQ_PAGE_MAGIC;
}

int irq_line_set(struct irq_page *p, unsigned gsi, uint32_t source, bool level)
{
	uint32_t old;

	if (gsi >= IRQ_LINES || source == 0)
		return -EINVAL;
	if (level) {
		old = atomic_fetch_or(&p->line[gsi], source);
		if (old == 0)
			atomic_fetch_add(&p->rises[gsi], 1);
	} else {
		old = atomic_fetch_and(&p->line[gsi], ~source);
	}
	if (((old & source) != 0) != level)
		irq_page_changed(p);
	return 0;
}

int irq_line_pulse(struct irq_page *p, unsigned gsi)
{
	if (gsi >= IRQ_LINES)
		return -EINVAL;
	atomic_fetch_add(&p->rises[gsi], 1);
	irq_page_changed(p);
	return 0;
}

uint32_t irq_line_levels(const struct irq_page *p)
{
	uint32_t levels = 0;
	unsigned i;

	for (i = 0; i < IRQ_LINES; i++) {
		if (atomic_load(&p->line[i]))
			levels |= 1u << i;
	}
	return levels;
}

uint32_t irq_page_prepare_sleep(struct irq_page *p)
{
	atomic_fetch_add(&p->sleepers, 1);
	return atomic_load(&p->seq);
}

void irq_page_end_sleep(struct irq_page *p)
{
	atomic_fetch_sub(&p->sleepers, 1);
}

bool irq_line_get(const struct irq_page *p, unsigned gsi)
{
	if (gsi >= IRQ_LINES)
		return false;
	return atomic_load(&p->line[gsi]) != 0;
}
