/*
 * The IRQ-line page: the level of every GSI, written by devices, read by the
 * interrupt controllers (pic, ioapic).
 *
 * Each line is a mask of sources: a device owns one bit (given by the
 * broker) and sets or clears only that bit, so devices sharing a line
 * (PCI INTx) never undo each other. A line is high while any bit is set.
 * rises counts low-to-high transitions so that an edge-triggered consumer
 * that slept through a short pulse still sees it. seq moves on every change.
 */
#ifndef CELLVM_IRQLINE_H
#define CELLVM_IRQLINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define IRQ_PAGE_MAGIC 0x6c717269u /* "irql" */
#define IRQ_LINES 32

struct irq_page {
	uint32_t magic;
	_Atomic uint32_t seq;
	_Atomic uint32_t line[IRQ_LINES];
	_Atomic uint32_t rises[IRQ_LINES];
};

void irq_page_init(struct irq_page *p);

/* Set or clear this source's bit on gsi; returns -EINVAL for a bad gsi. */
int irq_line_set(struct irq_page *p, unsigned gsi, uint32_t source, bool level);

/* Current level of gsi. */
bool irq_line_get(const struct irq_page *p, unsigned gsi);

#endif
