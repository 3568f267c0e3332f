/*
 * Exit rings: the data path from vCPU threads to one device.
 *
 * A ring lives in a sealed memfd shared by the vCPU runner (producers: one
 * thread per vCPU) and one device process (the single consumer). Slots are
 * fixed-size and carry a sequence number (a bounded MPSC queue after Dmitry
 * Vyukov): slot i is free for position p when seq == p, posted when
 * seq == p + 1, and released by the consumer with seq = p + RING_SLOTS.
 *
 * Writes are posted: the vCPU re-enters the guest at once. Reads are calls:
 * the vCPU waits on its own answer slot (spin, then futex) until the device
 * stores the request's id there. The ring keeps order, so a read sees every
 * earlier write to that device.
 *
 * The consumer's position (tail) is not in the ring: the device keeps it in
 * its state page and commits it together with its registers, so that a
 * restarted device resumes at the first request whose effects it had not
 * committed (see devloop.h). Both sides treat the shared memory as hostile:
 * sizes come from each side's own setup, never from the ring itself.
 */
#ifndef CELLVM_RING_H
#define CELLVM_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RING_MAGIC 0x676e6972u /* "ring" */
#define RING_SLOTS 256u	       /* a power of two */
#define RING_MAX_VCPUS 1024u

enum {
	RING_WRITE = 1 << 0, /* else a read: the vCPU waits for the answer */
	RING_MMIO = 1 << 1,  /* else a port access */
	RING_CTRL = 1 << 2,  /* from the runner itself, not a guest access */
	RING_MSG = 1 << 3,   /* a message from another device (vcpu: its
			      * source id, id: its sequence number) */
	RING_SYNC = 1 << 4,  /* a write the vCPU waits on, like a read */
};

struct ring_req {
	uint64_t addr; /* port number or guest-physical address */
	uint64_t data; /* value written */
	uint32_t id;   /* per-vCPU request number, echoed in the answer */
	uint16_t vcpu;
	uint8_t size; /* 1, 2, 4 or 8 */
	uint8_t flags;
};

struct ring_slot {
	_Atomic uint32_t seq;
	uint32_t pad;
	struct ring_req req;
};

struct ring_answer {
	alignas(64) _Atomic uint32_t id; /* last id answered; the futex word */
	_Atomic uint32_t waiting;	 /* the vCPU sleeps on id */
	uint64_t data;
};

struct ring {
	uint32_t magic;
	uint32_t nslots;
	uint32_t nvcpus;
	uint32_t pad;
	alignas(64) _Atomic uint32_t head; /* next position producers claim */
	alignas(64) _Atomic uint32_t doorbell; /* consumer's futex word */
	_Atomic uint32_t sleeping;	       /* consumer is going to sleep */
	alignas(64) _Atomic uint32_t
		space_waiters; /* producers on a full ring */
	alignas(64) struct ring_slot slot[RING_SLOTS];
	struct ring_answer answer[]; /* nvcpus of them */
};

/* Bytes of shared memory a ring with nvcpus answer slots needs. */
size_t ring_size(unsigned nvcpus);

/* Broker: lay out a fresh ring in zeroed memory. */
void ring_init(struct ring *r, unsigned nvcpus);

/* Either side: 0 if the mapping of len bytes holds a ring for nvcpus. */
int ring_check(const struct ring *r, size_t len, unsigned nvcpus);

/* --- producer side (vCPU threads) --- */

/* Post a request; waits only while the ring is full. */
void ring_post(struct ring *r, const struct ring_req *req);

/*
 * Post without waking the consumer: it takes the request, in order, the
 * next time it looks at the ring for any reason. For reports nothing
 * waits on.
 */
void ring_post_lazy(struct ring *r, const struct ring_req *req);

/*
 * Post a read and wait for its answer. req->id must be new for this vCPU
 * (the caller counts) and req->vcpu < nvcpus. Returns the answered data.
 */
uint64_t ring_call(struct ring *r, const struct ring_req *req);

/*
 * A restarted producer of a message ring it alone posts to: a dead
 * instance may have claimed a slot (moved head) and died before posting
 * it, which would stop the consumer there for good. Post filler into any
 * such slot: flags 0 and id 0 (a consumer ignores a request that is not
 * RING_MSG, and counts it as bad). Returns the number of slots filled.
 */
unsigned ring_repair(struct ring *r);

/* --- consumer side (the device) --- */

/* True, with a copy of the request, if position pos has been posted. */
bool ring_peek(struct ring *r, uint32_t pos, struct ring_req *out);

/* Hand the slot of position pos back to the producers. */
void ring_release(struct ring *r, uint32_t pos);

/* Answer a read of vCPU vcpu (checked against nvcpus, the device's own). */
void ring_answer(struct ring *r, unsigned nvcpus, uint16_t vcpu, uint32_t id,
		 uint64_t data);

/*
 * After a restart: release position tail - 1 if the dead instance committed
 * it but died before releasing it.
 */
void ring_recover(struct ring *r, uint32_t tail);

/*
 * The consumer's position rebuilt from the ring alone (a posted slot's
 * sequence number names its position): the oldest posted position, or head
 * if nothing is posted. For a device whose own record of it is lost.
 */
uint32_t ring_oldest(struct ring *r);

/*
 * Going to sleep: announce it and return the doorbell value to pass to
 * ring_sleep(). Check every source of work after this call, before sleeping.
 */
uint32_t ring_prepare_sleep(struct ring *r);

/* Sleep until the doorbell moves from db or the deadline (0: none) passes. */
void ring_sleep(struct ring *r, uint32_t db, uint64_t deadline_ns);

/* Work turned up after ring_prepare_sleep(): stay awake. */
void ring_cancel_sleep(struct ring *r);

/* Wake the consumer unconditionally (broker: control message, input). */
void ring_kick(struct ring *r);

#endif
