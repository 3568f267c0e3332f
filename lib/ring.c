#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <string.h>

#include "clock.h"
#include "futex.h"
#include "ring.h"

/*
 * How long a waiting side spins before it sleeps. A device on another core
 * answers within a few microseconds; a device on the same core cannot run
 * until we stop spinning, so the spin is bounded in time, not iterations.
 */
#define RING_SPIN_NS 8000ull

#define SLOT_MASK (RING_SLOTS - 1)

size_t ring_size(unsigned nvcpus)
{
	return sizeof(struct ring) +
	       (size_t)nvcpus * sizeof(struct ring_answer);
}

void ring_init(struct ring *r, unsigned nvcpus)
{
	unsigned i;

	memset(r, 0, ring_size(nvcpus));
	r->nslots = RING_SLOTS;
	r->nvcpus = nvcpus;
	for (i = 0; i < RING_SLOTS; i++)
		atomic_store_explicit(&r->slot[i].seq, i, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	r->magic = RING_MAGIC;
}

int ring_check(const struct ring *r, size_t len, unsigned nvcpus)
{
	if (nvcpus == 0 || nvcpus > RING_MAX_VCPUS)
		return -EINVAL;
	if (len < ring_size(nvcpus))
		return -EINVAL;
	if (r->magic != RING_MAGIC || r->nslots != RING_SLOTS ||
	    r->nvcpus < nvcpus)
		return -EINVAL;
	return 0;
}

/* Tell a sleeping consumer that something was posted. */
static void ring_ring(struct ring *r)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&r->sleeping, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&r->doorbell, 1,
					  memory_order_release);
		futex_wake(&r->doorbell, 1);
	}
}

/* The ring is full at pos: sleep until the consumer frees slot s. */
static void ring_wait_space(struct ring *r, struct ring_slot *s, uint32_t pos)
{
	uint32_t seq;

	atomic_fetch_add(&r->space_waiters, 1);
	seq = atomic_load(&s->seq);
	if ((int32_t)(seq - pos) < 0)
		futex_wait(&s->seq, seq, 0);
	atomic_fetch_sub(&r->space_waiters, 1);
}

static void ring_put(struct ring *r, const struct ring_req *req)
{
	struct ring_slot *s;
	uint64_t spin_end = 0;
	uint32_t pos, seq;
	int32_t dif;

	pos = atomic_load_explicit(&r->head, memory_order_relaxed);
	for (;;) {
		s = &r->slot[pos & SLOT_MASK];
		seq = atomic_load_explicit(&s->seq, memory_order_acquire);
		dif = (int32_t)(seq - pos);
		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(
				    &r->head, &pos, pos + 1,
				    memory_order_relaxed, memory_order_relaxed))
				break;
			continue;
		}
		if (dif < 0) {
			/* Full: the consumer has not released this slot yet. */
			if (!spin_end)
				spin_end = now_ns() + RING_SPIN_NS;
			if (now_ns() > spin_end) {
				ring_wait_space(r, s, pos);
				spin_end = 0;
			}
		}
		cpu_relax();
		pos = atomic_load_explicit(&r->head, memory_order_relaxed);
	}
	s->req = *req;
	atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
}

void ring_post(struct ring *r, const struct ring_req *req)
{
	ring_put(r, req);
	ring_ring(r);
}

void ring_post_lazy(struct ring *r, const struct ring_req *req)
{
	ring_put(r, req);
}

uint64_t ring_call(struct ring *r, const struct ring_req *req)
{
	struct ring_answer *a = &r->answer[req->vcpu];
	uint64_t spin_end;
	uint32_t cur;

	ring_post(r, req);
	spin_end = now_ns() + RING_SPIN_NS;
	do {
		if (atomic_load_explicit(&a->id, memory_order_acquire) ==
		    req->id)
			return a->data;
		/* If the device shares this core, let it run now. */
		sched_yield();
	} while (now_ns() < spin_end);
	atomic_store_explicit(&a->waiting, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	while ((cur = atomic_load_explicit(&a->id, memory_order_acquire)) !=
	       req->id)
		futex_wait(&a->id, cur, 0);
	atomic_store_explicit(&a->waiting, 0, memory_order_relaxed);
	return a->data;
}

bool ring_peek(struct ring *r, uint32_t pos, struct ring_req *out)
{
	struct ring_slot *s = &r->slot[pos & SLOT_MASK];

	if (atomic_load_explicit(&s->seq, memory_order_acquire) != pos + 1)
		return false;
	*out = s->req;
	return true;
}

void ring_release(struct ring *r, uint32_t pos)
{
	struct ring_slot *s = &r->slot[pos & SLOT_MASK];

	atomic_store_explicit(&s->seq, pos + RING_SLOTS, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&r->space_waiters, memory_order_relaxed))
		futex_wake(&s->seq, INT_MAX);
}

void ring_answer(struct ring *r, unsigned nvcpus, uint16_t vcpu, uint32_t id,
		 uint64_t data)
{
	struct ring_answer *a;

	if (vcpu >= nvcpus)
		return;
	a = &r->answer[vcpu];
	a->data = data;
	atomic_store_explicit(&a->id, id, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&a->waiting, memory_order_relaxed))
		futex_wake(&a->id, 1);
}

void ring_recover(struct ring *r, uint32_t tail)
{
	uint32_t pos = tail - 1;
	struct ring_slot *s = &r->slot[pos & SLOT_MASK];
	uint32_t posted = pos + 1;

	if (atomic_compare_exchange_strong(&s->seq, &posted, pos + RING_SLOTS))
		futex_wake(&s->seq, INT_MAX);
}

unsigned ring_repair(struct ring *r)
{
	uint32_t head = atomic_load(&r->head), pos, i;
	struct ring_slot *s;
	unsigned n = 0;

	/* The last lap before head: a slot still free for its position
	 * there was claimed and never posted. */
	for (i = 1; i <= RING_SLOTS; i++) {
		pos = head - i;
		s = &r->slot[pos & SLOT_MASK];
		if (atomic_load_explicit(&s->seq, memory_order_acquire) != pos)
			continue;
		memset(&s->req, 0, sizeof(s->req));
		atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
		n++;
	}
	if (n)
		ring_ring(r);
	return n;
}

uint32_t ring_oldest(struct ring *r)
{
	uint32_t head = atomic_load(&r->head), oldest = head, pos, i;

	for (i = 0; i < RING_SLOTS; i++) {
		pos = atomic_load(&r->slot[i].seq) - 1;
		/* Posted, and within the last lap before head? */
		if ((pos & SLOT_MASK) == i && head - pos - 1 < RING_SLOTS &&
		    head - pos > head - oldest)
			oldest = pos;
	}
	return oldest;
}

uint32_t ring_prepare_sleep(struct ring *r)
{
	atomic_store_explicit(&r->sleeping, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	return atomic_load_explicit(&r->doorbell, memory_order_acquire);
}

void ring_sleep(struct ring *r, uint32_t db, uint64_t deadline_ns)
{
	futex_wait(&r->doorbell, db, deadline_ns);
	atomic_store_explicit(&r->sleeping, 0, memory_order_relaxed);
}

void ring_cancel_sleep(struct ring *r)
{
	atomic_store_explicit(&r->sleeping, 0, memory_order_relaxed);
}

void ring_kick(struct ring *r)
{
	atomic_fetch_add_explicit(&r->doorbell, 1, memory_order_release);
	futex_wake(&r->doorbell, 1);
}
