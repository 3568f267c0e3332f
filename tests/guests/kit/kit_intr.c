/*
 * Guest kit: interrupt dispatch and the PC interrupt controllers. See
 * kit_intr.h for the contract.
 */
#include "kit_intr.h"

static kit_irq_handler kit_irq_handlers[256];
volatile uint32_t kit_irq_count[256];
volatile uint32_t kit_lapic_spurious, kit_pic_spurious;
/* IOREGSEL + IOWIN is a pair of accesses: one CPU, one handler at a time. */
static struct kit_spinlock kit_ioapic_lock;

void kit_irq_set(unsigned vector, kit_irq_handler handler)
{
	if (vector >= 32 && vector < 256)
		kit_irq_handlers[vector] = handler;
}

void kit_irq_dispatch(uint64_t vector)
{
	kit_irq_handler handler = kit_irq_handlers[vector & 0xff];

	/* LOCK ADD: several CPUs may count one vector. */
	__atomic_fetch_add(&kit_irq_count[vector & 0xff], 1, __ATOMIC_RELAXED);
	if (!handler) {
		kit_printf("kit: unexpected interrupt, vector %lu\n", vector);
		kit_exit(KIT_EXIT_UNEXPECTED_IRQ);
	}
	handler((unsigned)vector);
}

/*
 * A spurious local APIC interrupt sets no ISR bit and takes no EOI (SDM
 * vol. 3A, 11.9).
 */
static void lapic_spurious(unsigned vector)
{
	kit_lapic_spurious++;
}

uint32_t kit_lapic_id(void)
{
	return kit_lapic_read(LAPIC_ID) >> 24;
}

void kit_lapic_enable(bool virtual_wire)
{
	kit_irq_set(KIT_SPURIOUS_VECTOR, lapic_spurious);
	kit_lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | KIT_SPURIOUS_VECTOR);
	kit_lapic_write(LAPIC_TPR, 0);
	kit_lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
	kit_lapic_write(LAPIC_LVT_PERF, LAPIC_LVT_MASKED);
	kit_lapic_write(LAPIC_LVT_ERROR, LAPIC_LVT_MASKED);
	/*
	 * Virtual wire (MP spec 1.4, 3.6.2.2): the PIC's INTR reaches the
	 * BSP through LINT0 as ExtINT, NMI through LINT1.
	 */
	kit_lapic_write(LAPIC_LVT_LINT0,
			virtual_wire ? LAPIC_LVT_EXTINT : LAPIC_LVT_MASKED);
	kit_lapic_write(LAPIC_LVT_LINT1,
			virtual_wire ? LAPIC_LVT_NMI : LAPIC_LVT_MASKED);
}

static bool lapic_bit(uint32_t base, unsigned vector)
{
	uint32_t reg = base + 0x10 * (vector / 32);

	return (kit_lapic_read(reg) >> (vector % 32)) & 1;
}

bool kit_lapic_isr(unsigned vector)
{
	return lapic_bit(LAPIC_ISR, vector);
}

bool kit_lapic_irr(unsigned vector)
{
	return lapic_bit(LAPIC_IRR, vector);
}

bool kit_lapic_tmr(unsigned vector)
{
	return lapic_bit(LAPIC_TMR, vector);
}

void kit_lapic_ipi(uint32_t dest, uint32_t icr_lo)
{
	uint64_t flags = kit_irq_save();

	/* SDM 11.6.1: the low word's write sends; wait for the last one. */
	while (kit_lapic_read(LAPIC_ICR_LO) & ICR_BUSY)
		__asm__ volatile("pause");
	kit_lapic_write(LAPIC_ICR_HI, dest << 24);
	kit_lapic_write(LAPIC_ICR_LO, icr_lo);
	kit_irq_restore(flags);
}

/*
 * A shorthand needs no destination: one ICR write, as Linux does it, and
 * IF left as it is (with IF = 1 the interrupt can come at once).
 */
void kit_lapic_self_ipi(unsigned vector)
{
	while (kit_lapic_read(LAPIC_ICR_LO) & ICR_BUSY)
		__asm__ volatile("pause");
	kit_lapic_write(LAPIC_ICR_LO, ICR_DEST_SELF | ICR_FIXED | vector);
}

void kit_lapic_timer_start(unsigned vector, uint32_t count, uint32_t dcr,
			   bool periodic)
{
	kit_lapic_write(LAPIC_TIMER_ICR, 0);
	kit_lapic_write(LAPIC_TIMER_DCR, dcr);
	kit_lapic_write(LAPIC_LVT_TIMER,
			vector | (periodic ? LAPIC_TIMER_PERIODIC : 0));
	/* SDM 11.5.4: writing the initial count starts the timer. */
	kit_lapic_write(LAPIC_TIMER_ICR, count);
}

void kit_lapic_timer_stop(void)
{
	kit_lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
	kit_lapic_write(LAPIC_TIMER_ICR, 0);
}

uint32_t kit_ioapic_read(uint32_t reg)
{
	uint64_t flags = kit_irq_save();
	uint32_t v;

	kit_spin_lock(&kit_ioapic_lock);
	*(volatile uint32_t *)IOAPIC_BASE = reg;
	v = *(volatile uint32_t *)(IOAPIC_BASE + 0x10);
	kit_spin_unlock(&kit_ioapic_lock);
	kit_irq_restore(flags);
	return v;
}

void kit_ioapic_write(uint32_t reg, uint32_t v)
{
	uint64_t flags = kit_irq_save();

	kit_spin_lock(&kit_ioapic_lock);
	*(volatile uint32_t *)IOAPIC_BASE = reg;
	*(volatile uint32_t *)(IOAPIC_BASE + 0x10) = v;
	kit_spin_unlock(&kit_ioapic_lock);
	kit_irq_restore(flags);
}

uint64_t kit_ioapic_rte(unsigned pin)
{
	uint64_t lo = kit_ioapic_read(IOAPIC_REDTBL(pin));

	return lo | (uint64_t)kit_ioapic_read(IOAPIC_REDTBL(pin) + 1) << 32;
}

void kit_ioapic_set_rte(unsigned pin, uint64_t rte)
{
	/*
	 * Destination first, then the low word with the mask bit: the entry
	 * never points at a stale destination while unmasked.
	 */
	kit_ioapic_write(IOAPIC_REDTBL(pin) + 1, (uint32_t)(rte >> 32));
	kit_ioapic_write(IOAPIC_REDTBL(pin), (uint32_t)rte);
}

unsigned kit_ioapic_pins(void)
{
	return ((kit_ioapic_read(IOAPIC_VERSION) >> 16) & 0xff) + 1;
}

void kit_ioapic_route(unsigned pin, unsigned vector, uint32_t flags,
		      uint32_t dest)
{
	kit_ioapic_set_rte(pin, (uint64_t)dest << 56 | flags | vector);
}

void kit_ioapic_mask(unsigned pin, bool masked)
{
	uint32_t lo = kit_ioapic_read(IOAPIC_REDTBL(pin));

	if (masked)
		lo |= IOAPIC_RTE_MASKED;
	else
		lo &= ~IOAPIC_RTE_MASKED;
	kit_ioapic_write(IOAPIC_REDTBL(pin), lo);
}

/*
 * IRQ 7 or 15 with its ISR bit clear is the 8259A's spurious interrupt
 * (the request went away before the acknowledge): no EOI for that chip,
 * but a spurious IRQ 15 did put the master's cascade input in service.
 * With the ISR bit set it was a real request nobody asked for.
 */
static void pic_spurious(unsigned vector)
{
	unsigned irq = vector - KIT_PIC_MASTER_BASE;

	if (kit_pic_isr() & (1u << irq)) {
		kit_printf("kit: unexpected interrupt, PIC IRQ %u\n", irq);
		kit_exit(KIT_EXIT_UNEXPECTED_IRQ);
	}
	kit_pic_spurious++;
	if (irq == 15)
		kit_pic_eoi_specific(2);
}

void kit_pic_init(void)
{
	/* ICW1: edge, cascade, ICW4 follows. */
	outb(PIC_MASTER_CMD, 0x11);
	outb(PIC_SLAVE_CMD, 0x11);
	/* ICW2: vector base. */
	outb(PIC_MASTER_DATA, KIT_PIC_MASTER_BASE);
	outb(PIC_SLAVE_DATA, KIT_PIC_SLAVE_BASE);
	/* ICW3: slave on the master's IR2; the slave's ID is 2. */
	outb(PIC_MASTER_DATA, 1 << 2);
	outb(PIC_SLAVE_DATA, 2);
	/* ICW4: 8086 mode, normal EOI. */
	outb(PIC_MASTER_DATA, 0x01);
	outb(PIC_SLAVE_DATA, 0x01);
	/* OCW1: everything masked except the cascade input. */
	outb(PIC_MASTER_DATA, 0xff & ~(1 << 2));
	outb(PIC_SLAVE_DATA, 0xff);
	kit_irq_set(KIT_PIC_MASTER_BASE + 7, pic_spurious);
	kit_irq_set(KIT_PIC_SLAVE_BASE + 7, pic_spurious);
}

static uint16_t pic_data_port(unsigned irq)
{
	return irq < 8 ? PIC_MASTER_DATA : PIC_SLAVE_DATA;
}

void kit_pic_mask(unsigned irq)
{
	uint16_t port = pic_data_port(irq);

	outb(port, inb(port) | (1 << (irq & 7)));
}

void kit_pic_unmask(unsigned irq)
{
	uint16_t port = pic_data_port(irq);

	outb(port, inb(port) & ~(1 << (irq & 7)));
}

void kit_pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(PIC_SLAVE_CMD, PIC_OCW2_EOI);
	outb(PIC_MASTER_CMD, PIC_OCW2_EOI);
}

void kit_pic_eoi_specific(unsigned irq)
{
	outb(irq < 8 ? PIC_MASTER_CMD : PIC_SLAVE_CMD,
	     PIC_OCW2_SEOI | (irq & 7));
}

static uint16_t pic_read_ocw3(uint8_t ocw3)
{
	uint16_t v;

	outb(PIC_MASTER_CMD, ocw3);
	outb(PIC_SLAVE_CMD, ocw3);
	v = inb(PIC_MASTER_CMD);
	return v | inb(PIC_SLAVE_CMD) << 8;
}

uint16_t kit_pic_irr(void)
{
	return pic_read_ocw3(PIC_OCW3_READ_IRR);
}

uint16_t kit_pic_isr(void)
{
	uint16_t v = pic_read_ocw3(PIC_OCW3_READ_ISR);

	/* Leave both chips reading IRR, their state after ICW1. */
	outb(PIC_MASTER_CMD, PIC_OCW3_READ_IRR);
	outb(PIC_SLAVE_CMD, PIC_OCW3_READ_IRR);
	return v;
}

uint16_t kit_pic_imr(void)
{
	return inb(PIC_MASTER_DATA) | inb(PIC_SLAVE_DATA) << 8;
}

uint8_t kit_pic_poll(bool slave)
{
	uint16_t port = slave ? PIC_SLAVE_CMD : PIC_MASTER_CMD;

	outb(port, PIC_OCW3_POLL);
	return inb(port);
}

void kit_intr_init(void)
{
	unsigned pin, pins;

	kit_pic_init();
	pins = kit_ioapic_pins();
	for (pin = 0; pin < pins; pin++)
		kit_ioapic_set_rte(pin, IOAPIC_RTE_MASKED);
	kit_lapic_enable(true);
}
