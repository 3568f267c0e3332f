/*
 * The IRQ-line page: the level of every GSI, written by devices, read by the
 * interrupt controllers (pic, ioapic).
 *
 * Each line is a mask of sources: a device owns one bit (given by the
 * broker) and sets or clears only that bit, so devices sharing a line
 * (PCI INTx) never undo each other. A line is high while any bit is set.
 * rises counts low-to-high transitions so that an edge-triggered consumer
 * that slept through a short pulse still sees it. seq moves on every change
 * and is the futex the consumers (pic, ioapic, the runner's kicker) sleep
 * on; sleepers tells producers whether anyone needs waking.
 *
 * Lines: 0-15 ISA IRQs, 16-23 PCI; IRQ_LINE_PIC_INTR is the PIC's INTR
 * output, which the runner takes to the boot vCPU as ExtINT.
 */
#ifndef CELLVM_IRQLINE_H
#define CELLVM_IRQLINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define IRQ_PAGE_MAGIC 0x6c717269u /* "irql" */
#define IRQ_LINES 32
#define IRQ_ISA_LINES 16
#define IRQ_IOAPIC_PINS 24
#define IRQ_LINE_PIC_INTR 24

struct irq_page {
	uint32_t magic;
	_Atomic uint32_t seq;
	_Atomic uint32_t sleepers;
	_Atomic uint32_t line[IRQ_LINES];
	_Atomic uint32_t rises[IRQ_LINES];
};

void irq_page_init(struct irq_page *p);

/* Set or clear this source's bit on gsi; returns -EINVAL for a bad gsi. */
int irq_line_set(struct irq_page *p, unsigned gsi, uint32_t source, bool level);

/* A short pulse on gsi (an edge): counts a rise without a lasting level. */
int irq_line_pulse(struct irq_page *p, unsigned gsi);

/* Current level of gsi. */
bool irq_line_get(const struct irq_page *p, unsigned gsi);

/* Levels of lines 0-31 as a bit mask. */
uint32_t irq_line_levels(const struct irq_page *p);

/* A consumer about to sleep on seq: returns the value to wait on. */
uint32_t irq_page_prepare_sleep(struct irq_page *p);
void irq_page_end_sleep(struct irq_page *p);

#endif
