/*
 * The device loop's units of work and its wait (see devloop.h): requests,
 * messages, IRQ line changes and timers, each one committed change.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "devloop_int.h"
#include "futex.h"
#include "log.h"

/* How long the loop polls for new work before it sleeps. */
#define DEV_SPIN_NS 20000ull
/* How often a busy loop still looks at control messages and timers. */
#define DEV_CHORES_NS 1000000ull

/* --- the device's view --- */

void *dev_state(struct devloop *d)
{
	if (d->c)
		return (char *)d->c + d->model_off;
	return (char *)state_ro(&d->st, 0) + d->model_off;
}

void *dev_block(struct devloop *d, unsigned i, int write)
{
	if (write && d->c)
		return state_rw(&d->st, i + 1);
	return (void *)state_ro(&d->st, i + 1);
}

unsigned dev_nblocks(const struct devloop *d)
{
	return d->st.nblocks - 1;
}

unsigned dev_cpus(const struct devloop *d)
{
	return d->nvcpus;
}

struct mailbox_page *dev_mailbox(struct devloop *d)
{
	return d->mbox;
}

const struct irq_page *dev_irq_page(struct devloop *d)
{
	return d->irq;
}

void dev_send(struct devloop *d, unsigned out, uint64_t addr, uint64_t data)
{
	struct ring_req m = { 0 };

	if (!d->c || out >= d->nout)
		return;
	m.addr = addr;
	m.data = data;
	m.id = ++d->c->out_seq[out];
	m.vcpu = (uint16_t)d->source_id;
	m.size = 8;
	m.flags = RING_WRITE | RING_MSG;
	ring_post(d->out[out], &m);
}

void dev_pulse(struct devloop *d)
{
	if (d->c)
		d->pulses++;
}

/* --- changes --- */

static struct dev_common *devwork_begin(struct devloop *d)
{
	state_begin(&d->st);
	d->c = state_rw(&d->st, 0);
	d->pulses = 0;
	return d->c;
}

/* Publish the line level if it changed (always, the first time). */
static void devwork_irq(struct devloop *d, int level)
{
	if (!d->irq || !d->source || level == d->irq_published)
		return;
	irq_line_set(d->irq, d->gsi, d->source, level);
	d->irq_published = level;
}

/*
 * End a change: the model's line level goes in with it. Pulses go out
 * before the commit: one repeated by a replay is an extra edge, one lost
 * after the commit would be a lost interrupt.
 */
static void devwork_commit(struct devloop *d)
{
	struct dev_common *c = d->c;

	c->irq_level = d->ops->irq ? d->ops->irq(d->dev, d) : 0;
	while (d->irq && d->source && d->pulses) {
		irq_line_pulse(d->irq, d->gsi);
		d->pulses--;
	}
	state_commit(&d->st);
	d->c = NULL;
	devwork_irq(d, c->irq_level ? 1 : 0);
	if (d->ops->committed)
		d->ops->committed(d->dev, d);
}

static bool devwork_req_ok(const struct devloop *d, const struct ring_req *q)
{
	if (q->vcpu >= d->nvcpus)
		return false;
	return q->size == 1 || q->size == 2 || q->size == 4 || q->size == 8;
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static void devwork_request(struct devloop *d, const struct ring_req *q)
{
	struct dev_common *c = devwork_begin(d);
	bool read = !(q->flags & RING_WRITE);
	bool answer = read || (q->flags & RING_SYNC);
	uint32_t pos = c->ring_tail;
	uint64_t data = ~0ull, t0 = now_ns();

	if (devwork_req_ok(d, q)) {
		data = d->ops->access(d->dev, d, q, t0);
		atomic_fetch_add(read ? &d->status->dev.reads
				      : &d->status->dev.writes,
				 1);
	} else {
		atomic_fetch_add(&d->status->dev.bad_requests, 1);
	}
	data &= size_mask(q->size);
	c->ring_tail = pos + 1;
	c->owes_answer = answer;
	c->owed_vcpu = q->vcpu;
	c->owed_id = q->id;
	c->owed_data = data;
	devwork_commit(d);
	if (answer)
		ring_answer(d->ring, d->nvcpus, q->vcpu, q->id, data);
	ring_release(d->ring, pos);
	atomic_fetch_add(&d->status->dev.requests, 1);
	status_latency(&d->status->dev, now_ns() - t0);
}

/* A message; one already applied (its producer replayed) is skipped. */
static void devwork_message(struct devloop *d, unsigned in,
			    const struct ring_req *m)
{
	struct dev_common *c = devwork_begin(d);
	uint32_t pos = c->in_tail[in];
	unsigned src = m->vcpu;

	if (!(m->flags & RING_MSG) || src >= DEV_MAX_SOURCES) {
		atomic_fetch_add(&d->status->dev.bad_requests, 1);
	} else if ((int32_t)(m->id - c->in_seen[src]) > 0) {
		c->in_seen[src] = m->id;
		if (d->ops->message)
			d->ops->message(d->dev, d, in, m, now_ns());
	}
	c->in_tail[in] = pos + 1;
	devwork_commit(d);
	ring_release(d->in[in], pos);
}

/*
 * The exit-ring requests posted before a message was seen, for a device
 * that asks for them first (dev_ops.exits_first): posting a message may
 * be a consequence of one of them (through the guest), never the reverse.
 */
static void devwork_exits_before(struct devloop *d)
{
	uint32_t end = atomic_load(&d->ring->head);
	struct ring_req q;
	unsigned n;

	for (n = 0; n < RING_SLOTS; n++) {
		const struct dev_common *c = state_ro(&d->st, 0);

		if (c->ring_tail == end ||
		    !ring_peek(d->ring, c->ring_tail, &q))
			return;
		devwork_request(d, &q);
	}
}

bool devwork_serve(struct devloop *d)
{
	const struct dev_common *c;
	struct ring_req q;
	bool any = false;
	unsigned i;

	/*
	 * Messages first: a device that posted one to us before a vCPU
	 * went on (the PCI host's sync config writes) is then seen to have
	 * acted before anything that vCPU asks of us next. A device with
	 * exits_first wants the other causal order (mailbox.h): what a
	 * vCPU posted before the message was seen comes before it.
	 */
	for (;;) {
		c = state_ro(&d->st, 0);
		for (i = 0; i < d->nin; i++) {
			if (ring_peek(d->in[i], c->in_tail[i], &q))
				break;
		}
		if (i < d->nin) {
			if (d->ops->exits_first)
				devwork_exits_before(d);
			devwork_message(d, i, &q);
			any = true;
			continue;
		}
		if (!ring_peek(d->ring, c->ring_tail, &q))
			return any;
		devwork_request(d, &q);
		any = true;
	}
}

/* The watched IRQ lines moved: let the device see them. */
static void devwork_lines(struct devloop *d)
{
	uint32_t seq;

	if (!d->ops->watch_lines || !d->irq)
		return;
	seq = atomic_load(&d->irq->seq);
	if (seq == d->lines_seq)
		return;
	d->lines_seq = seq;
	devwork_begin(d);
	d->ops->lines(d->dev, d, irq_line_levels(d->irq) & d->ops->watch_lines,
		      d->irq->rises, now_ns());
	devwork_commit(d);
}

static void devwork_poll(struct devloop *d)
{
	uint64_t now;

	if (!d->ops->poll)
		return;
	/* Timers due by now come after what was posted by now. */
	now = now_ns();
	if (d->ops->exits_first)
		devwork_exits_before(d);
	devwork_begin(d);
	if (d->ops->poll(d->dev, d, now)) {
		devwork_commit(d);
	} else {
		state_abort(&d->st);
		d->c = NULL;
	}
}

/* A committed state from an earlier instance: finish what it owed. */
void devwork_resume(struct devloop *d)
{
	const struct dev_common *c = state_ro(&d->st, 0);
	unsigned i;

	ring_recover(d->ring, c->ring_tail);
	for (i = 0; i < d->nin; i++)
		ring_recover(d->in[i], c->in_tail[i]);
	if (c->owes_answer)
		ring_answer(d->ring, d->nvcpus, (uint16_t)c->owed_vcpu,
			    c->owed_id, c->owed_data);
	d->irq_published = -1;
	devwork_irq(d, c->irq_level ? 1 : 0);
	d->lines_seq = d->irq ? atomic_load(&d->irq->seq) - 1 : 0;
	if (d->ops->committed)
		d->ops->committed(d->dev, d);
}

/* --- the loop --- */

static uint64_t devwork_deadline(struct devloop *d)
{
	return d->ops->deadline ? d->ops->deadline(d->dev, d) : 0;
}

int devloop_control(struct devloop *d);

/* Control messages, IRQ lines and non-ring work (input, timers). */
static void devwork_chores(struct devloop *d)
{
	d->chores_db = atomic_load(&d->ring->doorbell);
	if (devloop_control(d) < 0)
		exit(0);
	devwork_lines(d);
	devwork_poll(d);
}

/* Anything posted, or a line moved, since we last looked? */
static bool devwork_pending(struct devloop *d)
{
	const struct dev_common *c = state_ro(&d->st, 0);
	struct ring_req q;
	unsigned i;

	if (ring_peek(d->ring, c->ring_tail, &q))
		return true;
	for (i = 0; i < d->nin; i++) {
		if (ring_peek(d->in[i], c->in_tail[i], &q))
			return true;
	}
	return d->ops->watch_lines && d->irq &&
	       atomic_load(&d->irq->seq) != d->lines_seq;
}

/* Sleep until a ring is posted to or kicked, a line moves, or deadline. */
static void devwork_sleep(struct devloop *d, uint64_t deadline)
{
	struct futex_word w[2 + DEV_MAX_INPUTS];
	unsigned n = 0, i;

	w[n].word = &d->ring->doorbell;
	w[n++].val = ring_prepare_sleep(d->ring);
	for (i = 0; i < d->nin; i++) {
		w[n].word = &d->in[i]->doorbell;
		w[n++].val = ring_prepare_sleep(d->in[i]);
	}
	if (d->ops->watch_lines && d->irq) {
		w[n].word = &d->irq->seq;
		w[n++].val = irq_page_prepare_sleep(d->irq);
	}
	/* Re-check after announcing the sleep: a post before it was seen by
	 * nobody; a kick that came while busy still has a message waiting. */
	if (!devwork_pending(d) && w[0].val == d->chores_db)
		futex_wait_any(w, n, deadline);
	ring_cancel_sleep(d->ring);
	for (i = 0; i < d->nin; i++)
		ring_cancel_sleep(d->in[i]);
	if (d->ops->watch_lines && d->irq)
		irq_page_end_sleep(d->irq);
}

void devwork_run(struct devloop *d)
{
	uint64_t idle_since = now_ns(), chores = 0, deadline, t;

	for (;;) {
		if (devwork_serve(d))
			idle_since = now_ns();
		deadline = devwork_deadline(d);
		t = now_ns();
		/* A busy ring must not starve the other work. */
		if (t - chores >= DEV_CHORES_NS ||
		    (deadline && deadline <= t) ||
		    (d->irq && atomic_load(&d->irq->seq) != d->lines_seq &&
		     d->ops->watch_lines)) {
			devwork_chores(d);
			chores = t;
			continue;
		}
		/*
		 * Stay awake a little for the next request, giving way to a
		 * vCPU that shares this core (the scheduler likes to put a
		 * woken device next to its waker). But never with a timer
		 * pending: a yield to a vCPU thread busy in the guest hands
		 * it the rest of its time slice, milliseconds, and the timer
		 * would fire that late; sleeping on the deadline instead
		 * gets the wakeup preemption a sleeper has.
		 */
		if (t - idle_since < DEV_SPIN_NS && !deadline) {
			sched_yield();
			continue;
		}
		devwork_sleep(d, deadline);
		/* Woken: a post, a kick from the broker, a line, a deadline. */
		devwork_chores(d);
		chores = idle_since = now_ns();
	}
}
