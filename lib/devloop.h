/*
 * The device process loop, shared by every device that does no DMA.
 *
 * devloop_main() enters the sandbox, takes its setup from the broker, maps
 * its ring, state page, IRQ-line page and status page, and serves requests
 * until the broker kills it. Per request it:
 *
 *   1. copies the request out of the ring and the state to its other copy;
 *   2. calls ops->access() on that copy, which may perform side effects that
 *      are safe to repeat (the UART's output records carry sequence numbers);
 *   3. commits the copy with the ring tail and the answer it owes in one
 *      store (state.h);
 *   4. publishes the IRQ level, answers a read, releases the ring slot.
 *
 * A process killed anywhere in 1-4 is replaced by the broker; the new
 * instance redoes an uncommitted request from the same state and re-sends
 * what a committed one owed (answer, IRQ level, slot release). The guest
 * sees a slow device, never a lost or doubled access.
 */
#ifndef CELLVM_DEVLOOP_H
#define CELLVM_DEVLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "ring.h"

/* Generic part of every device state copy, before the model's own. */
struct dev_common {
	uint32_t ring_tail; /* first request not yet committed */
	uint32_t irq_level; /* level the model wants on its line */
	uint32_t owed_vcpu; /* the last committed request was a read ... */
	uint32_t owed_id;   /* ... with this id ... */
	uint64_t owed_data; /* ... answered with this */
	uint32_t owes_answer;
	uint32_t pad;
};

struct dev_ops {
	const char *name;  /* "uart": the process is cellvm-dev-<name> */
	size_t state_size; /* bytes of the model's state */

	/* Take device-specific fields and descriptors of the setup. */
	int (*setup)(void *dev, const Cellvm__SetupDeviceRequest *req, int *fds,
		     size_t nfds);
	/* Power-on state. */
	void (*reset)(void *dev, void *st);
	/* A state found in the page after a restart: is it sane? */
	bool (*valid)(void *dev, const void *st);
	/*
	 * One access on the working copy st. Returns the value of a read.
	 * Side effects must be safe to repeat.
	 */
	uint64_t (*access)(void *dev, void *st, const struct ring_req *req,
			   uint64_t now);
	/* Work that is not a ring request (input, timers); true if st changed. */
	bool (*poll)(void *dev, void *st, uint64_t now);
	/* Next time poll() has work to do, 0 for none. */
	uint64_t (*deadline)(void *dev, const void *st);
	/* Level the device's line should have in state st. */
	bool (*irq)(void *dev, const void *st);
	/* Called after a commit (publish hints to the broker). May be NULL. */
	void (*committed)(void *dev, const void *st);
	/* Handle a control message the loop does not know. May be NULL. */
	int (*control)(void *dev, const ctl_msg *msg);
};

/* Run the device. Never returns on success; returns an exit status. */
int devloop_main(const struct dev_ops *ops, void *dev, const char *policy_text);

#endif
