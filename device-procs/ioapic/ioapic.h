/*
 * Intel 82093AA I/O APIC model (24 pins, version 0x11): pure register and
 * delivery logic, no system calls.
 *
 * The state lives in the device's state page (state.h): no pointers, no
 * globals. The model never talks to a local APIC itself; every function
 * that can raise an interrupt fills a struct ioapic_fx with the messages to
 * send, in the MSI format of the Intel SDM vol. 3, 11.11 (the front-side
 * bus form of the 82093AA's APIC-bus messages). fx->n is set to 0 first;
 * at most one message per pin is produced per call. A NULL fx discards
 * the messages (the state still records them as sent).
 *
 * Send the messages before committing the state: a replay after a crash
 * then repeats a message (harmless: the LAPIC coalesces a pending vector)
 * instead of losing one (a level pin would keep its remote IRR forever).
 *
 * Delivery: a message is accepted as soon as it is handed to the caller,
 * so the delivery status bit (3.2.4 bit 12, "send pending") always reads 0,
 * and a level entry's remote IRR is set when its message is produced.
 *
 * Input pins: the caller reports the electrical level of each pin and, per
 * pin, the count of low-to-high transitions since VM start (irqline.h), so
 * that a pulse shorter than the time between two calls is not lost.
 *  - Edge entries (trigger mode 0, and every SMI, NMI, INIT or ExtINT
 *    entry: the datasheet requires edge mode for them) send one message per
 *    call for the asserting edges seen (rising, or falling when active
 *    low). Further edges seen in the same call, e.g. after the process was
 *    restarted, are owed (up to IOAPIC_OWED_MAX per pin) and sent one per
 *    pin per ioapic_poll() call, which the caller paces (about 1 ms) so
 *    that the guest can take each before the next arrives. A new edge is
 *    never held back behind owed ones. Edges at a masked pin are dropped,
 *    and so are owed edges when their entry is masked or made level (3.2.4
 *    bit 16: "not delivered or held pending").
 *  - Level entries send one message while the pin is asserted (after
 *    polarity), the entry unmasked and remote IRR clear, and set remote
 *    IRR; a matching EOI (ioapic_eoi) clears it and re-sends if the pin is
 *    still asserted. Writing an entry re-evaluates it, so unmasking an
 *    asserted pin sends at once. Making the entry edge-triggered clears
 *    remote IRR, which Linux relies on to clear a stuck remote IRR on I/O
 *    APICs older than version 0x20 (no EOI register).
 *
 * MMIO: offsets within the 4 KiB page. IOREGSEL (0x00) and IOWIN (0x10)
 * are 32-bit registers; every other offset reads 0 and ignores writes
 * (the 0x40 EOI register of version 0x20 does not exist here). 3.0 of the
 * datasheet loads IOREGSEL with a byte write and requires dword access to
 * IOWIN; for other accesses the model treats each of the two registers as
 * four bytes: reads return the register shifted so that the byte at off is
 * in bits 0-7, and a write of n bytes replaces those bytes of the register
 * (read-modify-write of the selected register) and leaves the others.
 * Bytes beyond the register's dword fall on reserved offsets and are lost.
 */
#ifndef CELLVM_IOAPIC_H
#define CELLVM_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_BASE 0xfec00000u
#define IOAPIC_PINS 24
#define IOAPIC_OWED_MAX 64 /* owed edges kept per pin */

/* Direct (memory-mapped) registers, 3.1. */
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN 0x10

/* Indirect registers selected by IOREGSEL, 3.2 (table 2). */
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REG_ARB 0x02
#define IOAPIC_REG_REDTBL 0x10 /* 0x10 + 2n: low dword of pin n, +1: high */

#define IOAPIC_ID_SHIFT 24 /* 3.2.1: ID in bits 24-27 */
#define IOAPIC_ID_MASK 0x0fu
#define IOAPIC_VERSION 0x11
#define IOAPIC_VER_VALUE 0x00170011u /* 3.2.2: max entry 0x17, version */

/* Redirection table entry, 3.2.4. */
#define IOAPIC_RTE_VECTOR 0x000000ffull
#define IOAPIC_RTE_DELMOD 0x00000700ull
#define IOAPIC_RTE_DELMOD_SHIFT 8
#define IOAPIC_RTE_DESTMOD 0x00000800ull    /* 1: logical */
#define IOAPIC_RTE_DELIVS 0x00001000ull	    /* read-only, always 0 here */
#define IOAPIC_RTE_INTPOL 0x00002000ull	    /* 1: active low */
#define IOAPIC_RTE_REMOTE_IRR 0x00004000ull /* read-only */
#define IOAPIC_RTE_TRIGGER 0x00008000ull    /* 1: level */
#define IOAPIC_RTE_MASK 0x00010000ull
#define IOAPIC_RTE_DEST_SHIFT 56
#define IOAPIC_RTE_DEST (0xffull << IOAPIC_RTE_DEST_SHIFT)

#define IOAPIC_DELMOD_FIXED 0
#define IOAPIC_DELMOD_LOWEST 1
#define IOAPIC_DELMOD_SMI 2
#define IOAPIC_DELMOD_NMI 4
#define IOAPIC_DELMOD_INIT 5
#define IOAPIC_DELMOD_EXTINT 7 /* modes 3 and 6 are reserved: never sent */

/* Interrupt message, SDM vol. 3, 11.11.1 (address) and 11.11.2 (data). */
#define IOAPIC_MSI_ADDR_BASE 0xfee00000u
#define IOAPIC_MSI_ADDR_DEST_SHIFT 12
#define IOAPIC_MSI_ADDR_DM_LOGICAL 0x4u
#define IOAPIC_MSI_DATA_DELMOD_SHIFT 8
#define IOAPIC_MSI_DATA_ASSERT 0x4000u
#define IOAPIC_MSI_DATA_LEVEL 0x8000u

struct ioapic_state {
	uint8_t ioregsel; /* IOREGSEL bits 0-7 (3.1.1) */
	uint8_t id;	  /* IOAPICID, 0-15; IOAPICARB reads the same */
	uint8_t pad[2];
	uint32_t levels;	      /* electrical pin levels last seen */
	uint64_t redtbl[IOAPIC_PINS]; /* writable bits and remote IRR */
	uint32_t rises[IOAPIC_PINS];  /* rise counts last seen */
	uint8_t owed[IOAPIC_PINS];    /* edges seen, not yet sent */
};

struct ioapic_msg {
	uint64_t addr;
	uint32_t data;
};

struct ioapic_fx {
	unsigned n;
	struct ioapic_msg msg[IOAPIC_PINS];
};

/*
 * Power-on state: every entry masked, ID 0, pins seen low with no rises.
 * After a reset later in the VM's life, call ioapic_set_pins() once with
 * the current lines so that the model learns them (nothing is sent: every
 * entry is masked).
 */
void ioapic_reset(struct ioapic_state *s);

/* A state found in a state page: reserved bits clear, counts in range? */
bool ioapic_state_valid(const struct ioapic_state *s);

/* Set the 4-bit ID as firmware would (MP table / MADT); id & 0xf is kept. */
void ioapic_set_id(struct ioapic_state *s, uint8_t id);

/*
 * Guest read at off in the page: the register holding byte off, shifted
 * right by 8 * (off & 3); the caller keeps the low bytes it needs. Reads
 * have no side effects.
 */
uint32_t ioapic_read(const struct ioapic_state *s, unsigned off);

/* Guest 32-bit write at off: ioapic_write_bytes(s, off, 4, val, fx). */
void ioapic_write(struct ioapic_state *s, unsigned off, uint32_t val,
		  struct ioapic_fx *fx);

/* Guest write of size (1-4) bytes at off; val holds them in its low bytes. */
void ioapic_write_bytes(struct ioapic_state *s, unsigned off, unsigned size,
			uint32_t val, struct ioapic_fx *fx);

/*
 * The input pins changed (or may have): bit n of levels is the electrical
 * level of pin n, before polarity; rises[n] the wrapping count of its
 * low-to-high transitions since VM start, or rises NULL if unknown (then
 * only level changes count).
 */
void ioapic_set_pins(struct ioapic_state *s, uint32_t levels,
		     const uint32_t rises[IOAPIC_PINS], struct ioapic_fx *fx);

/* An EOI for vector broadcast by a local APIC (level-triggered only). */
void ioapic_eoi(struct ioapic_state *s, uint8_t vector, struct ioapic_fx *fx);

/* Any edge owed? Then call ioapic_poll() about once a millisecond. */
bool ioapic_owed(const struct ioapic_state *s);

/* Send one owed edge per pin that owes one. */
void ioapic_poll(struct ioapic_state *s, struct ioapic_fx *fx);

#endif
