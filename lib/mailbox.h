/*
 * Mailboxes: what the local APIC process offers each vCPU for injection,
 * read by the vCPU runner (ARCHITECTURE.md, "Interrupt path").
 *
 * One 64-bit word per vCPU, replaced as a whole so the runner always reads
 * a consistent offer: the highest-priority deliverable vector, a pending
 * NMI, INIT or SIPI, and whether LINT0 takes the PIC's INTR (ExtINT). The
 * wake word moves with every change (a halted vCPU sleeps on it); kick
 * moves when any mailbox gains something (the runner's kicker thread
 * sleeps on it and signals vCPUs that are inside KVM_RUN).
 *
 * The runner reports what it did with an offer through calls on the LAPIC's
 * exit ring (RING_CTRL, addr = MB_ACCEPT_*), in order with that vCPU's
 * later APIC accesses; the LAPIC updates the mailbox before it answers.
 * The LAPIC takes a report before any interrupt message it sees, or timer
 * that is due, after the report was posted (dev_ops.exits_first): an
 * interrupt caused by the guest's handler, such as an RTC's next periodic
 * edge once the handler read register C, must not merge into the IRR bit
 * of the injection that ran that handler.
 */
#ifndef CELLVM_MAILBOX_H
#define CELLVM_MAILBOX_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define MAILBOX_MAGIC 0x786f626du /* "mbox" */

#define MB_VECTOR(w) ((unsigned)((w)&0xff))
#define MB_SIPI_VECTOR(w) ((unsigned)(((w) >> 8) & 0xff))
#define MB_INTR (1ull << 16)   /* MB_VECTOR is deliverable */
#define MB_NMI (1ull << 17)    /* an NMI is pending */
#define MB_INIT (1ull << 18)   /* an INIT is pending */
#define MB_SIPI (1ull << 19)   /* a startup IPI with MB_SIPI_VECTOR */
#define MB_EXTINT (1ull << 20) /* LINT0 passes the PIC's INTR (ExtINT) */

/* What a RING_CTRL request to the LAPIC (addr) reports. */
enum {
	MB_ACCEPT_INTR = 1, /* data: the vector injected */
	MB_ACCEPT_NMI = 2,
	MB_ACCEPT_INIT = 3,
	MB_ACCEPT_SIPI = 4,
	MB_ACCEPT_EXTINT = 5, /* took a vector from the PIC (INTA) */
};

/* A RING_CTRL request to the PIC: the interrupt acknowledge cycle. */
#define PIC_CTRL_INTA 1

struct mailbox {
	alignas(64) _Atomic uint64_t word;
	_Atomic uint32_t wake; /* the offer's generation; moves before word */
	/* Written by the runner: where the vCPU is, so the LAPIC wakes only
	 * what needs waking. Set before the vCPU reads word (and the LAPIC
	 * reads these after writing it): one of the two sees the other. */
	_Atomic uint32_t in_guest; /* inside (or entering) KVM_RUN */
	_Atomic uint32_t sleeping; /* halted, or waiting for a SIPI */
};

struct mailbox_page {
	uint32_t magic;
	uint32_t nvcpus;
	alignas(64) _Atomic uint32_t kick;
	_Atomic uint32_t kicker_waiting;
	alignas(64) struct mailbox mb[];
};

size_t mailbox_page_size(unsigned nvcpus);
void mailbox_page_init(struct mailbox_page *p, unsigned nvcpus);

/*
 * LAPIC: offer word to vCPU cpu (of nvcpus, the LAPIC's own count). Wakes
 * the vCPU and the kicker only when the offer changed.
 */
void mailbox_post(struct mailbox_page *p, unsigned nvcpus, unsigned cpu,
		  uint64_t word);

#endif
