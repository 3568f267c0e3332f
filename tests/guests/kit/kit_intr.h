/*
 * Guest kit: interrupts. The IDT's vectors 32-255 call the handler a guest
 * registers with kit_irq_set(); the interrupt controllers of a PC are
 * reached through the helpers below: local APIC (xAPIC, MMIO at
 * 0xfee00000), I/O APIC (82093AA, MMIO at 0xfec00000), and the 8259A pair
 * (ports 0x20/0xa0, ELCR at 0x4d0).
 *
 * A handler runs with IF = 0 on the interrupted stack and sends its own
 * EOI (kit_lapic_eoi(), kit_pic_eoi()): tests decide when. An interrupt
 * on a vector without a handler prints "kit: unexpected interrupt" and
 * exits with KIT_EXIT_UNEXPECTED_IRQ.
 *
 * kit_intr_init() is the usual start: the PIC remapped to vectors
 * 0x20-0x2f with every IRQ masked, every I/O APIC pin masked, the BSP's
 * local APIC software-enabled in virtual-wire mode (LINT0 ExtINT, LINT1
 * NMI), TPR 0. Interrupts stay disabled (IF = 0) until the guest says
 * kit_sti().
 */
#ifndef CELLVM_GUEST_INTR_H
#define CELLVM_GUEST_INTR_H

#include "kit.h"

#define KIT_PIC_MASTER_BASE 0x20 /* IRQ 0-7 */
#define KIT_PIC_SLAVE_BASE 0x28	 /* IRQ 8-15 */
#define KIT_SPURIOUS_VECTOR 0xff /* local APIC spurious vector */

/* Local APIC registers, offsets (Intel SDM vol. 3A, table 11-1). */
#define LAPIC_BASE 0xfee00000ul
#define LAPIC_ID 0x020
#define LAPIC_VERSION 0x030
#define LAPIC_TPR 0x080
#define LAPIC_PPR 0x0a0
#define LAPIC_EOI 0x0b0
#define LAPIC_LDR 0x0d0
#define LAPIC_DFR 0x0e0
#define LAPIC_SVR 0x0f0
#define LAPIC_ISR 0x100 /* 8 registers, 0x10 apart */
#define LAPIC_TMR 0x180
#define LAPIC_IRR 0x200
#define LAPIC_ESR 0x280
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_THERMAL 0x330
#define LAPIC_LVT_PERF 0x340
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_ICR 0x380
#define LAPIC_TIMER_CCR 0x390
#define LAPIC_TIMER_DCR 0x3e0

#define LAPIC_SVR_ENABLE 0x100
#define LAPIC_LVT_MASKED 0x10000
#define LAPIC_LVT_LEVEL 0x8000
#define LAPIC_LVT_NMI 0x400
#define LAPIC_LVT_EXTINT 0x700
#define LAPIC_TIMER_PERIODIC 0x20000
/* Divide configuration (SDM 11.5.4): bits 0, 1, 3. */
#define LAPIC_DCR_DIV1 0xb
#define LAPIC_DCR_DIV2 0x0
#define LAPIC_DCR_DIV16 0x3
#define LAPIC_DCR_DIV128 0xa
/* Interrupt command register (SDM 11.6.1). */
#define ICR_FIXED 0x000
#define ICR_NMI 0x400
#define ICR_INIT 0x500
#define ICR_STARTUP 0x600
#define ICR_BUSY 0x1000
#define ICR_ASSERT 0x4000
#define ICR_LEVEL 0x8000
#define ICR_DEST_SELF 0x40000
#define ICR_DEST_ALL_BUT_SELF 0xc0000

/* I/O APIC (82093AA datasheet, 3.0 "Register Description"). */
#define IOAPIC_BASE 0xfec00000ul
#define IOAPIC_ID 0x00
#define IOAPIC_VERSION 0x01
#define IOAPIC_REDTBL(pin) (0x10 + 2 * (pin))
#define IOAPIC_RTE_LEVEL 0x8000
#define IOAPIC_RTE_REMOTE_IRR 0x4000
#define IOAPIC_RTE_ACTIVE_LOW 0x2000
#define IOAPIC_RTE_DELIVS 0x1000
#define IOAPIC_RTE_MASKED 0x10000

/* 8259A (datasheet: ICW1-4, OCW1-3) and the PIIX ELCR. */
#define PIC_MASTER_CMD 0x20
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_CMD 0xa0
#define PIC_SLAVE_DATA 0xa1
#define PIC_ELCR1 0x4d0
#define PIC_ELCR2 0x4d1
#define PIC_OCW2_EOI 0x20
#define PIC_OCW2_SEOI 0x60 /* | level */
#define PIC_OCW3_READ_IRR 0x0a
#define PIC_OCW3_READ_ISR 0x0b
#define PIC_OCW3_POLL 0x0c
#define PIC_POLL_INT 0x80 /* poll word: an IRQ was pending */

typedef void (*kit_irq_handler)(unsigned vector);

/* Call handler for vector (32-255); NULL makes the vector unexpected. */
void kit_irq_set(unsigned vector, kit_irq_handler handler);
/* Interrupts taken per vector, all CPUs, counted before the handler. */
extern volatile uint32_t kit_irq_count[256];
/* Spurious interrupts seen: local APIC (vector 0xff), PIC IRQ 7 and 15. */
extern volatile uint32_t kit_lapic_spurious, kit_pic_spurious;

static inline void kit_sti(void)
{
	__asm__ volatile("sti" : : : "memory");
}

static inline void kit_cli(void)
{
	__asm__ volatile("cli" : : : "memory");
}

/*
 * Enable interrupts and halt until one arrives: STI's one-instruction
 * shadow means an interrupt pending now wakes the HLT, never gets lost
 * between the two. Returns with IF = 1.
 */
static inline void kit_sti_hlt(void)
{
	__asm__ volatile("sti; hlt" : : : "memory");
}

/* The interrupt controllers, set up as the header comment says. */
void kit_intr_init(void);

static inline uint32_t kit_lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(LAPIC_BASE + reg);
}

static inline void kit_lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(LAPIC_BASE + reg) = v;
}

static inline void kit_lapic_eoi(void)
{
	kit_lapic_write(LAPIC_EOI, 0);
}

uint32_t kit_lapic_id(void);
/*
 * Software-enable this CPU's local APIC: spurious vector 0xff, TPR 0,
 * timer, error and performance LVTs masked; LINT0 ExtINT and LINT1 NMI
 * if virtual_wire (the BSP), both masked otherwise.
 */
void kit_lapic_enable(bool virtual_wire);
/* Whether vector's bit is set in ISR, IRR or TMR. */
bool kit_lapic_isr(unsigned vector);
bool kit_lapic_irr(unsigned vector);
bool kit_lapic_tmr(unsigned vector);
/* Send an IPI: dest APIC ID (physical) and the low ICR word. */
void kit_lapic_ipi(uint32_t dest, uint32_t icr_lo);
void kit_lapic_self_ipi(unsigned vector);
/* Timer: count at bus clock / dcr (LAPIC_DCR_*), fixed vector. */
void kit_lapic_timer_start(unsigned vector, uint32_t count, uint32_t dcr,
			   bool periodic);
void kit_lapic_timer_stop(void);

uint32_t kit_ioapic_read(uint32_t reg);
void kit_ioapic_write(uint32_t reg, uint32_t v);
uint64_t kit_ioapic_rte(unsigned pin);
void kit_ioapic_set_rte(unsigned pin, uint64_t rte);
/* Redirection table entries: version register bits 16-23, plus one. */
unsigned kit_ioapic_pins(void);
/*
 * Route pin to vector, fixed delivery, physical destination dest;
 * flags: IOAPIC_RTE_LEVEL, _ACTIVE_LOW, _MASKED.
 */
void kit_ioapic_route(unsigned pin, unsigned vector, uint32_t flags,
		      uint32_t dest);
void kit_ioapic_mask(unsigned pin, bool masked);

/*
 * 8259A pair: ICW1-ICW4 (edge, cascade on IRQ 2, 8086 mode, normal EOI),
 * vectors 0x20-0x2f, all masked but the cascade input. Installs handlers
 * for IRQ 7 and 15 that count spurious interrupts (ISR bit clear; for 15
 * also EOI the master's cascade input).
 */
void kit_pic_init(void);
void kit_pic_mask(unsigned irq);
void kit_pic_unmask(unsigned irq);
/* Non-specific EOI: slave (IRQ 8-15) and master. */
void kit_pic_eoi(unsigned irq);
/* OCW2 specific EOI to the chip of irq, for its level only. */
void kit_pic_eoi_specific(unsigned irq);
/* IRR, ISR (OCW3) and IMR: slave << 8 | master. */
uint16_t kit_pic_irr(void);
uint16_t kit_pic_isr(void);
uint16_t kit_pic_imr(void);
/* OCW3 poll command, then read the poll word of one chip. */
uint8_t kit_pic_poll(bool slave);

#endif
