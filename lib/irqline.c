#include <errno.h>
#include <string.h>

#include "irqline.h"

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
		atomic_fetch_add(&p->seq, 1);
	return 0;
}

bool irq_line_get(const struct irq_page *p, unsigned gsi)
{
	if (gsi >= IRQ_LINES)
		return false;
	return atomic_load(&p->line[gsi]) != 0;
}
