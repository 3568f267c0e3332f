/*
 * The device process loop, shared by every device process.
 *
 * devloop_main() enters the sandbox, takes its setup from the broker, maps
 * its rings and pages and serves until the broker kills it. Every unit of
 * work (a request from a vCPU, a message from another device, a change of
 * the IRQ lines it watches, a timer) is one change of its state page
 * (state.h):
 *
 *   1. copy the request or message out of its ring, begin a change;
 *   2. call the device (ops), which reads and writes its state through
 *      dev_state()/dev_block() and may have side effects that are safe to
 *      repeat: dev_send() messages carry sequence numbers the consumer
 *      deduplicates, UART output records carry byte numbers;
 *   3. commit the change with the ring tails, the answer a read is owed and
 *      the IRQ level, all in one store;
 *   4. publish the IRQ level, answer the read, release the ring slot.
 *
 * A process killed anywhere in 1-4 is replaced by the broker; the new
 * instance redoes an uncommitted unit from the same state and re-sends
 * what a committed one owed. The guest sees a slow device, never a lost or
 * doubled access.
 */
#ifndef CELLVM_DEVLOOP_H
#define CELLVM_DEVLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "irqline.h"
#include "mailbox.h"
#include "ring.h"

/* The LAPIC takes messages from the I/O APIC and every MSI-capable device;
 * the PCI host sends configuration changes to every PCI device. */
#define DEV_MAX_INPUTS 12
#define DEV_MAX_OUTPUTS 12
#define DEV_MAX_SOURCES 32

/* Generic part of block 0 of every device state, before the model's own. */
struct dev_common {
	uint32_t initialised; /* the device's reset was committed */
	uint32_t ring_tail;   /* first request not yet committed */
	uint32_t irq_level;   /* level the model wants on its line */
	uint32_t owes_answer; /* the last committed request was a read ... */
	uint32_t owed_vcpu;   /* ... of this vCPU ... */
	uint32_t owed_id;     /* ... with this id ... */
	uint64_t owed_data;   /* ... answered with this */
	uint32_t in_tail[DEV_MAX_INPUTS];  /* message rings consumed */
	uint32_t out_seq[DEV_MAX_OUTPUTS]; /* last message sent on each */
	uint32_t in_seen[DEV_MAX_SOURCES]; /* last message applied per source */
};

struct devloop;

struct dev_ops {
	const char *name;	 /* "uart": the process is cellvm-dev-<name> */
	size_t state_size;	 /* bytes of the model's part of block 0 */
	size_t block_size;	 /* bytes of each further block */
	unsigned blocks_per_cpu; /* further blocks per vCPU (0: none) */
	uint32_t watch_lines;	 /* IRQ lines whose changes call lines() */
	/* Requests already posted when a message is seen or a timer is
	 * due are served before it (the LAPIC: see mailbox.h). */
	bool exits_first;

	/* Take device-specific fields and descriptors of the setup. */
	int (*setup)(void *dev, struct devloop *d,
		     const Cellvm__SetupDeviceRequest *req, int *fds,
		     size_t nfds);
	/* Power-on state (in a change). */
	void (*reset)(void *dev, struct devloop *d);
	/* A committed state found after a restart: is it sane? */
	bool (*valid)(void *dev, struct devloop *d);
	/* One access (in a change). Returns the value of a read. */
	uint64_t (*access)(void *dev, struct devloop *d,
			   const struct ring_req *req, uint64_t now);
	/* A message from another device on input ring in (in a change). */
	void (*message)(void *dev, struct devloop *d, unsigned in,
			const struct ring_req *msg, uint64_t now);
	/* The watched IRQ lines changed (in a change). */
	void (*lines)(void *dev, struct devloop *d, uint32_t levels,
		      const _Atomic uint32_t *rises, uint64_t now);
	/* Other work: input, timers (in a change); true if it did any. */
	bool (*poll)(void *dev, struct devloop *d, uint64_t now);
	/* Next time poll() has work, 0 for none (reads committed state). */
	uint64_t (*deadline)(void *dev, struct devloop *d);
	/* Level of the device's line (in a change, after the work). */
	bool (*irq)(void *dev, struct devloop *d);
	/* After each commit, and once after start or restart. */
	void (*committed)(void *dev, struct devloop *d);
	/* A control message the loop does not know. */
	int (*control)(void *dev, struct devloop *d, const ctl_msg *msg);
};

/* Run the device. Never returns on success; returns an exit status. */
int devloop_main(const struct dev_ops *ops, void *dev, const char *policy_text);

/* --- for the device, while it works --- */

/* The model's part of block 0: writable in a change, else read-only. */
void *dev_state(struct devloop *d);
/* Further block i (0-based): write != 0 only in a change. */
void *dev_block(struct devloop *d, unsigned i, int write);
unsigned dev_nblocks(const struct devloop *d);
unsigned dev_cpus(const struct devloop *d);
/* Send a message on output ring out (replay-safe: sequence numbered). */
void dev_send(struct devloop *d, unsigned out, uint64_t addr, uint64_t data);
/* A short pulse (a rising edge) on the device's line, with the change. */
void dev_pulse(struct devloop *d);
/* The mailbox page, for the LAPIC (NULL for others). */
struct mailbox_page *dev_mailbox(struct devloop *d);
/* The IRQ-line page, for devices that map it (NULL for others). */
const struct irq_page *dev_irq_page(struct devloop *d);

#endif
