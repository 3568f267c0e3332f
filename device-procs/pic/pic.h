/*
 * The PC's two cascaded Intel 8259A PICs and the PIIX ELCR: pure register
 * logic, no system calls.
 *
 * The state lives in the device's state page (state.h), so everything the
 * model knows is in struct pic_state: no pointers, no globals. The master
 * answers at 0x20/0x21, the slave at 0xa0/0xa1 with its INT output wired to
 * the master's IR2; the ELCR at 0x4d0 (master) and 0x4d1 (slave) makes a
 * line level-triggered. ISA line n is IR n of the master (n < 8) or IR n-8
 * of the slave. ISA line 2 has no pin: IR2 is the cascade.
 *
 * Inputs come from the IRQ-line page through pic_set_lines(): the levels
 * and, per line, a count of low-to-high transitions, so that a pulse the
 * process slept through still latches an edge-triggered request. An edge
 * sets the line's IRR bit, merging into it if it is set already, as on the
 * chip. When one call sees k > 1 edges of a line (pulses the process slept
 * through, or edges missed while it was dead and restarting), the k - 1
 * beyond the first are owed and put into IRR one at a time, each time an
 * acknowledge clears it, so that the guest still sees each of them once.
 * The debt is capped at PIC_OWED_MAX per line.
 *
 * The caller reads pic_intr() after every call that may change it and,
 * when the CPU takes the interrupt, runs pic_intack() for the vector.
 */
#ifndef CELLVM_PIC_H
#define CELLVM_PIC_H

#include <stdbool.h>
#include <stdint.h>

/* I/O ports. */
#define PIC_MASTER_CMD 0x20
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_CMD 0xa0
#define PIC_SLAVE_DATA 0xa1
#define PIC_ELCR_MASTER 0x4d0
#define PIC_ELCR_SLAVE 0x4d1

#define PIC_MASTER 0 /* index in pic_state.chip */
#define PIC_SLAVE 1
#define PIC_LINES 16	  /* ISA IRQ 0-15 */
#define PIC_CASCADE_IR 2  /* master input driven by the slave's INT */
#define PIC_OWED_MAX 1000 /* edges a line may be owed */

/* ICW1 (command port, D4 = 1). */
#define PIC_ICW1_IC4 0x01  /* ICW4 needed */
#define PIC_ICW1_SNGL 0x02 /* single: no ICW3 */
#define PIC_ICW1_ADI 0x04  /* call address interval, MCS-80/85 only */
#define PIC_ICW1_LTIM 0x08 /* level-triggered mode */
#define PIC_ICW1_INIT 0x10 /* D4: identifies ICW1 */

/* ICW4. */
#define PIC_ICW4_UPM 0x01  /* 8086/8088 mode */
#define PIC_ICW4_AEOI 0x02 /* automatic end of interrupt */
#define PIC_ICW4_MS 0x04   /* master (buffered mode only) */
#define PIC_ICW4_BUF 0x08  /* buffered mode */
#define PIC_ICW4_SFNM 0x10 /* special fully nested mode */

/* OCW2 (command port, D4 = D3 = 0): R, SL, EOI and the level L2-L0. */
#define PIC_OCW2_LEVEL 0x07
#define PIC_OCW2_EOI 0x20
#define PIC_OCW2_SL 0x40
#define PIC_OCW2_R 0x80
#define PIC_OCW2_ROTATE_AEOI_CLEAR 0x00
#define PIC_OCW2_NONSPECIFIC_EOI 0x20
#define PIC_OCW2_NOP 0x40
#define PIC_OCW2_SPECIFIC_EOI 0x60
#define PIC_OCW2_ROTATE_AEOI_SET 0x80
#define PIC_OCW2_ROTATE_NONSPECIFIC_EOI 0xa0
#define PIC_OCW2_SET_PRIORITY 0xc0
#define PIC_OCW2_ROTATE_SPECIFIC_EOI 0xe0

/* OCW3 (command port, D4 = 0, D3 = 1). */
#define PIC_OCW3_RIS 0x01  /* read ISR (with RR), else IRR */
#define PIC_OCW3_RR 0x02   /* read register command */
#define PIC_OCW3_P 0x04	   /* poll command */
#define PIC_OCW3_SEL 0x08  /* D3: identifies OCW3 */
#define PIC_OCW3_SMM 0x20  /* special mask mode (with ESMM) */
#define PIC_OCW3_ESMM 0x40 /* enable special mask mode change */

#define PIC_POLL_INT 0x80 /* poll word: I, an interrupt is requesting */

/* ELCR bits a PIIX implements: not IRQ 0, 1, 2, 8 and 13. */
#define PIC_ELCR_MASTER_MASK 0xf8
#define PIC_ELCR_SLAVE_MASK 0xde

struct pic_chip {
	uint8_t irr;	      /* interrupt request register */
	uint8_t isr;	      /* in-service register */
	uint8_t imr;	      /* interrupt mask register (OCW1) */
	uint8_t elcr;	      /* bit n: IRn level-triggered */
	uint8_t base;	      /* ICW2 T7-T3: the vector of IR0 */
	uint8_t icw1;	      /* IC4, SNGL, ADI, LTIM as last written */
	uint8_t icw3;	      /* master: IRs with a slave; slave: its ID */
	uint8_t icw4;	      /* uPM, AEOI, M/S, BUF, SFNM; 0 without IC4 */
	uint8_t icw_next;     /* 2, 3, 4: the ICW the data port expects; 0 */
	uint8_t lowest;	      /* the IR with the lowest priority (0-7) */
	uint8_t read_isr;     /* OCW3 RIS: command port reads ISR */
	uint8_t poll;	      /* OCW3 P: the next read is the poll word */
	uint8_t special_mask; /* OCW3 SMM */
	uint8_t rotate_aeoi;  /* OCW2: rotate in automatic EOI mode */
	uint8_t pad[2];
};

struct pic_state {
	struct pic_chip chip[2]; /* PIC_MASTER, PIC_SLAVE */
	uint16_t levels;	 /* bit n: line n at the last pic_set_lines() */
	uint16_t pad;
	uint32_t rises[PIC_LINES]; /* rise counts at the last pic_set_lines() */
	uint16_t owed[PIC_LINES];  /* edges counted, not yet put in IRR */
};

/*
 * Power on: the 8259A datasheet leaves the state before initialisation
 * undefined. Both chips come up as an ICW1 without ICW4 leaves them, but
 * with the data port taking OCW1 and every input masked (QEMU: unmasked);
 * vector base 0, all lines edge-triggered, levels and rise counts 0 (the
 * IRQ-line page at VM start).
 */
void pic_reset(struct pic_state *s);

/* A state found in a state page: every field within its range? */
bool pic_state_valid(const struct pic_state *s);

/* Guest IN from port (0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1; others read
 * 0xff). A read after a poll command acknowledges, as on the chip. */
uint8_t pic_read(struct pic_state *s, uint16_t port);

/* Guest OUT to port (others are ignored). */
void pic_write(struct pic_state *s, uint16_t port, uint8_t val);

/*
 * New input: levels bit n is line n now, rises[n] the wrapping count of its
 * low-to-high transitions since the VM started. rises may be NULL: then
 * only level changes are seen (and the stored counts are kept).
 */
void pic_set_lines(struct pic_state *s, uint16_t levels,
		   const uint32_t rises[PIC_LINES]);

/* The master's INT output: a request the CPU should take. */
bool pic_intr(const struct pic_state *s);

/* The INTA cycle: the vector, moving the request into service. */
uint8_t pic_intack(struct pic_state *s);

#endif
