#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "clock.h"
#include "devloop.h"
#include "futex.h"
#include "irqline.h"
#include "log.h"
#include "sandbox.h"
#include "shm.h"
#include "state.h"
#include "status.h"

/* Exit statuses of a device process (the broker reports them). */
enum {
	DEV_EXIT_SANDBOX = 3,
	DEV_EXIT_SETUP = 4,
	DEV_EXIT_CHANNEL = 5,
};

/* How long the loop polls an empty ring before it sleeps. */
#define DEV_SPIN_NS 20000ull
/* How often a busy loop still looks at control messages and input. */
#define DEV_CHORES_NS 1000000ull

struct devloop {
	const struct dev_ops *ops;
	void *dev;
	int ctl;
	unsigned nvcpus;
	struct ring *ring;
	struct state_page *sp;
	size_t state_size; /* dev_common + the model's state */
	struct irq_page *irq;
	unsigned gsi;
	uint32_t source;
	int irq_published; /* -1 unknown, else the level last set */
	struct proc_status *status;
	uint32_t tail;
	uint32_t chores_db; /* doorbell value when chores last ran */
};

static void *model_of(void *common)
{
	return (struct dev_common *)common + 1;
}

static void *devloop_map(int *fds, size_t nfds, int field, size_t size,
			 const char *what)
{
	int fd = ctl_take_fd(fds, nfds, field);
	void *p;

	if (fd < 0) {
		log_err("setup: no %s descriptor", what);
		return NULL;
	}
	p = shm_map(fd, size, 1);
	if (!p)
		log_err("setup: cannot map %s: %s", what, strerror(errno));
	close(fd);
	return p;
}

/* A committed state from an earlier instance: finish what it owed. */
static void devloop_resume(struct devloop *d)
{
	const struct dev_common *c = state_cur(d->sp);

	d->tail = c->ring_tail;
	ring_recover(d->ring, d->tail);
	if (c->owes_answer)
		ring_answer(d->ring, d->nvcpus, (uint16_t)c->owed_vcpu,
			    c->owed_id, c->owed_data);
	log_info("resuming at request %u", d->tail);
}

static int devloop_state(struct devloop *d)
{
	struct dev_common *fresh;
	const void *cur;

	if (state_valid(d->sp, d->state_size)) {
		cur = state_cur(d->sp);
		if (d->ops->valid(d->dev, model_of((void *)cur))) {
			devloop_resume(d);
			return 0;
		}
		log_warn("state page is corrupt; resetting the device");
		d->tail = ring_oldest(d->ring);
	}
	fresh = calloc(1, d->state_size);
	if (!fresh)
		return -ENOMEM;
	fresh->ring_tail = d->tail;
	d->ops->reset(d->dev, model_of(fresh));
	state_init(d->sp, fresh, d->state_size);
	free(fresh);
	return 0;
}

static int devloop_setup(struct devloop *d, const Cellvm__SetupDeviceRequest *s,
			 int *fds, size_t nfds)
{
	int r;

	if (s->cpus == 0 || s->cpus > RING_MAX_VCPUS) {
		log_err("setup: bad vCPU count %u", s->cpus);
		return -EINVAL;
	}
	d->nvcpus = s->cpus;
	d->ring = devloop_map(fds, nfds, s->ring_fd, ring_size(d->nvcpus),
			      "ring");
	d->sp = devloop_map(fds, nfds, s->state_fd,
			    state_page_size(d->state_size), "state page");
	d->status = devloop_map(fds, nfds, s->status_fd, status_size(0),
				"status page");
	if (!d->ring || !d->sp || !d->status)
		return -EINVAL;
	if (ring_check(d->ring, ring_size(d->nvcpus), d->nvcpus) < 0) {
		log_err("setup: the ring is not laid out for %u vCPUs",
			d->nvcpus);
		return -EINVAL;
	}
	sandbox_set_note(&d->status->bad_syscall);
	if (s->irq_fd) {
		d->irq = devloop_map(fds, nfds, s->irq_fd,
				     sizeof(struct irq_page), "IRQ-line page");
		if (!d->irq || s->gsi >= IRQ_LINES || s->irq_source == 0)
			return -EINVAL;
		d->gsi = s->gsi;
		d->source = s->irq_source;
	}
	d->irq_published = -1;
	log_set_level((int)s->log_level);
	if (d->ops->setup) {
		r = d->ops->setup(d->dev, s, fds, nfds);
		if (r < 0)
			return r;
	}
	return devloop_state(d);
}

/* Publish the line level if it changed (always, the first time). */
static void devloop_irq(struct devloop *d, const struct dev_common *c)
{
	int level = c->irq_level ? 1 : 0;

	if (!d->irq || level == d->irq_published)
		return;
	irq_line_set(d->irq, d->gsi, d->source, level);
	d->irq_published = level;
}

static bool devloop_req_ok(const struct devloop *d, const struct ring_req *q)
{
	if (q->vcpu >= d->nvcpus)
		return false;
	return q->size == 1 || q->size == 2 || q->size == 4 || q->size == 8;
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static void devloop_handle(struct devloop *d, const struct ring_req *q)
{
	struct dev_common *c = state_begin(d->sp);
	bool read = !(q->flags & RING_WRITE);
	uint64_t data = ~0ull;

	if (devloop_req_ok(d, q)) {
		data = d->ops->access(d->dev, model_of(c), q, now_ns());
		atomic_fetch_add(read ? &d->status->dev.reads
				      : &d->status->dev.writes,
				 1);
	} else {
		atomic_fetch_add(&d->status->dev.bad_requests, 1);
	}
	c->ring_tail = d->tail + 1;
	c->irq_level = d->ops->irq(d->dev, model_of(c));
	c->owes_answer = read;
	c->owed_vcpu = q->vcpu;
	c->owed_id = q->id;
	c->owed_data = data & size_mask(q->size);
	state_commit(d->sp);

	devloop_irq(d, c);
	if (read)
		ring_answer(d->ring, d->nvcpus, q->vcpu, q->id, c->owed_data);
	ring_release(d->ring, d->tail);
	d->tail++;
	atomic_fetch_add(&d->status->dev.requests, 1);
	if (d->ops->committed)
		d->ops->committed(d->dev, model_of(c));
}

/* Serve every posted request; true if there was any. */
static bool devloop_serve(struct devloop *d)
{
	struct ring_req q;
	bool any = false;

	while (ring_peek(d->ring, d->tail, &q)) {
		devloop_handle(d, &q);
		any = true;
	}
	return any;
}

static void devloop_poll(struct devloop *d)
{
	struct dev_common *c;

	if (!d->ops->poll)
		return;
	c = state_begin(d->sp);
	if (!d->ops->poll(d->dev, model_of(c), now_ns()))
		return;
	c->irq_level = d->ops->irq(d->dev, model_of(c));
	state_commit(d->sp);
	devloop_irq(d, c);
	if (d->ops->committed)
		d->ops->committed(d->dev, model_of(c));
}

static void devloop_test_trigger(struct devloop *d,
				 const Cellvm__TestTriggerRequest *t)
{
#if CELLVM_TEST_HOOKS
	switch (t->action) {
	case CELLVM__TEST_TRIGGER_REQUEST__ACTION__CORRUPT_STATE:
		/* What a device with a wild pointer might leave behind. */
		log_warn("test trigger: corrupting the state page");
		memset(model_of((void *)state_cur(d->sp)), 0xff,
		       d->ops->state_size);
		/* Die, to be restarted on that state. */
		__attribute__((fallthrough));
	case CELLVM__TEST_TRIGGER_REQUEST__ACTION__BAD_SYSCALL:
		log_warn("test trigger: making a system call outside the "
			 "policy");
		/* What a compromised device would try first: a socket. */
		syscall(SYS_socket, 2 /* AF_INET */, 1 /* SOCK_STREAM */, 0);
		break;
	default:
		break;
	}
#else
	(void)d;
	(void)t;
	log_warn("test triggers are not built in; ignored");
#endif
}

/* Handle pending control messages; -1 when the broker is gone. */
static int devloop_control(struct devloop *d)
{
	int fds[CTL_MAX_FDS];
	size_t nfds;
	ctl_msg *m = NULL;
	int r;

	for (;;) {
		r = ctl_recv(d->ctl, &m, fds, &nfds, 1);
		if (r == -EAGAIN)
			return 0;
		if (r < 0 || !m)
			return -1;
		ctl_close_fds(fds, nfds);
		switch (m->body_case) {
		case CELLVM__CONTROL__BODY_DRAIN: {
			Cellvm__DrainReply rep = CELLVM__DRAIN_REPLY__INIT;
			ctl_msg out = CELLVM__CONTROL__INIT;

			devloop_serve(d);
			rep.requests = atomic_load(&d->status->dev.requests);
			out.body_case = CELLVM__CONTROL__BODY_DRAIN_REPLY;
			out.drain_reply = &rep;
			ctl_send(d->ctl, &out, NULL, 0);
			break;
		}
		case CELLVM__CONTROL__BODY_TEST_TRIGGER:
			devloop_test_trigger(d, m->test_trigger);
			break;
		default:
			if (!d->ops->control || d->ops->control(d->dev, m) < 0)
				log_warn("unexpected control message %d",
					 m->body_case);
		}
		ctl_free(m);
	}
}

static uint64_t devloop_deadline(struct devloop *d)
{
	if (!d->ops->deadline)
		return 0;
	return d->ops->deadline(d->dev, model_of((void *)state_cur(d->sp)));
}

/* Control messages and non-ring work (input, timers). */
static void devloop_chores(struct devloop *d)
{
	d->chores_db = atomic_load(&d->ring->doorbell);
	if (devloop_control(d) < 0)
		exit(0);
	devloop_poll(d);
}

static void devloop_run(struct devloop *d)
{
	uint64_t idle_since = now_ns(), chores = 0, deadline, t;
	struct ring_req q;
	uint32_t db;

	for (;;) {
		if (devloop_serve(d))
			idle_since = now_ns();
		deadline = devloop_deadline(d);
		t = now_ns();
		/* A busy ring must not starve the other work. */
		if (t - chores >= DEV_CHORES_NS ||
		    (deadline && deadline <= t)) {
			devloop_chores(d);
			chores = t;
		}
		if (t - idle_since < DEV_SPIN_NS) {
			/* Stay awake for the next request, but give way to a
			 * vCPU that shares this core. */
			sched_yield();
			continue;
		}
		db = ring_prepare_sleep(d->ring);
		if (ring_peek(d->ring, d->tail, &q)) {
			ring_cancel_sleep(d->ring);
			continue;
		}
		/* A kick that came while we were busy: its message waits. */
		if (db != d->chores_db) {
			ring_cancel_sleep(d->ring);
			devloop_chores(d);
			continue;
		}
		ring_sleep(d->ring, db, deadline);
		/* Woken: a post, a kick from the broker, or the deadline. */
		devloop_chores(d);
		chores = idle_since = now_ns();
	}
}

int devloop_main(const struct dev_ops *ops, void *dev, const char *policy_text)
{
	struct devloop d = { .ops = ops, .dev = dev, .ctl = CTL_FD };
	int fds[CTL_MAX_FDS];
	char name[64];
	size_t nfds;
	ctl_msg *m = NULL;
	int r;

	snprintf(name, sizeof(name), "cellvm-dev-%s", ops->name);
	log_init(name, 1);
	if (sandbox_enter(policy_text) < 0)
		return DEV_EXIT_SANDBOX;
	d.state_size = sizeof(struct dev_common) + ops->state_size;
	if (ctl_send_hello(d.ctl, CELLVM__PROC_KIND__PROC_DEVICE, name,
			   state_page_size(d.state_size)) < 0)
		return DEV_EXIT_CHANNEL;
	r = ctl_recv(d.ctl, &m, fds, &nfds, 0);
	if (r < 0 || !m)
		return DEV_EXIT_CHANNEL;
	if (m->body_case != CELLVM__CONTROL__BODY_SETUP_DEVICE) {
		log_err("expected a SetupDeviceRequest");
		return DEV_EXIT_SETUP;
	}
	r = devloop_setup(&d, m->setup_device, fds, nfds);
	ctl_close_fds(fds, nfds);
	ctl_free(m);
	if (r < 0) {
		ctl_send_error(d.ctl, "%s: setup failed: %s", name,
			       strerror(-r));
		return DEV_EXIT_SETUP;
	}
	devloop_irq(&d, state_cur(d.sp));
	atomic_store(&d.status->ready, 1);
	if (ctl_send_simple(d.ctl, CELLVM__CONTROL__BODY_READY) < 0)
		return DEV_EXIT_CHANNEL;
	devloop_run(&d);
	return 0;
}
