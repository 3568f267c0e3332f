/*
 * The device loop's start-up and control channel (see devloop.h); the work
 * itself is in devwork.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "devloop_int.h"
#include "log.h"
#include "sandbox.h"
#include "shm.h"
#include "trigger.h"

/* Test builds: lines of the log-flood trigger, more than a pipe holds. */
#define DEVLOOP_FLOOD_LINES 2000

/* Exit statuses of a device process (the broker reports them). */
enum {
	DEV_EXIT_SANDBOX = 3,
	DEV_EXIT_SETUP = 4,
	DEV_EXIT_CHANNEL = 5,
};

static size_t devloop_size0(const struct dev_ops *ops)
{
	return sizeof(struct dev_common) + ((ops->state_size + 7) & ~7ul);
}

static unsigned devloop_blocks(const struct dev_ops *ops, unsigned cpus)
{
	return 1 + ops->blocks_per_cpu * cpus;
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

/* Map n message rings; a producer's ring is laid out for no vCPU. */
static int devloop_rings(struct ring **r, size_t n, const int32_t *field,
			 int *fds, size_t nfds, bool produce, const char *what)
{
	size_t i;

	for (i = 0; i < n; i++) {
		r[i] = devloop_map(fds, nfds, field[i], ring_size(1), what);
		if (!r[i] || ring_check(r[i], ring_size(1), 1) < 0)
			return -EINVAL;
		/* We are the only producer: finish what a dead one began. */
		if (produce && ring_repair(r[i]))
			log_warn("filled a message slot a dead instance left");
	}
	return 0;
}

/* Fresh state (or a corrupt one): the device's reset, as one change. */
static void devloop_reset(struct devloop *d, bool keep_queues)
{
	struct dev_common *c;
	unsigned i;

	state_begin(&d->st);
	d->c = c = state_rw(&d->st, 0);
	if (keep_queues) {
		/* Our record of the queues is lost with the rest: rebuild
		 * the positions from the rings themselves. */
		memset(c, 0, sizeof(*c));
		c->ring_tail = ring_oldest(d->ring);
		for (i = 0; i < d->nin; i++)
			c->in_tail[i] = ring_oldest(d->in[i]);
	}
	memset((char *)c + d->model_off, 0, d->ops->state_size);
	d->ops->reset(d->dev, d);
	c->initialised = 1;
	c->irq_level = d->ops->irq ? d->ops->irq(d->dev, d) : 0;
	state_commit(&d->st);
	d->c = NULL;
}

static int devloop_state(struct devloop *d, void *page, size_t len)
{
	unsigned nblocks = devloop_blocks(d->ops, d->nvcpus);
	const struct dev_common *c;
	void *init;
	int r;

	r = state_attach(&d->st, page, len, devloop_size0(d->ops), nblocks,
			 d->ops->block_size);
	if (r < 0)
		return r;
	if (r == 0) {
		init = calloc(1, devloop_size0(d->ops));
		if (!init)
			return -ENOMEM;
		state_init(&d->st, init);
		free(init);
	}
	c = state_ro(&d->st, 0);
	if (!c->initialised) {
		devloop_reset(d, false);
	} else if (!d->ops->valid(d->dev, d)) {
		log_warn("state page is corrupt; resetting the device");
		devloop_reset(d, true);
	} else {
		log_info("resuming at request %u", c->ring_tail);
	}
	return 0;
}

static int devloop_setup(struct devloop *d, const Cellvm__SetupDeviceRequest *s,
			 int *fds, size_t nfds)
{
	size_t len;
	void *page;
	int r;

	if (s->cpus == 0 || s->cpus > RING_MAX_VCPUS ||
	    s->n_input_fds > DEV_MAX_INPUTS ||
	    s->n_output_fds > DEV_MAX_OUTPUTS ||
	    s->source_id >= DEV_MAX_SOURCES) {
		log_err("setup: bad vCPU count, rings or source");
		return -EINVAL;
	}
	d->nvcpus = s->cpus;
	d->source_id = s->source_id;
	d->ring = devloop_map(fds, nfds, s->ring_fd, ring_size(d->nvcpus),
			      "ring");
	len = state_page_size(devloop_size0(d->ops),
			      devloop_blocks(d->ops, d->nvcpus),
			      d->ops->block_size);
	page = devloop_map(fds, nfds, s->state_fd, len, "state page");
	d->status = devloop_map(fds, nfds, s->status_fd, status_size(0),
				"status page");
	if (!d->ring || !page || !d->status)
		return -EINVAL;
	if (ring_check(d->ring, ring_size(d->nvcpus), d->nvcpus) < 0) {
		log_err("setup: the ring is not laid out for %u vCPUs",
			d->nvcpus);
		return -EINVAL;
	}
	sandbox_set_note(&d->status->bad_syscall);
	d->nin = (unsigned)s->n_input_fds;
	d->nout = (unsigned)s->n_output_fds;
	r = devloop_rings(d->in, s->n_input_fds, s->input_fds, fds, nfds, false,
			  "input ring");
	if (!r)
		r = devloop_rings(d->out, s->n_output_fds, s->output_fds, fds,
				  nfds, true, "output ring");
	if (r < 0)
		return r;
	if (s->irq_fd) {
		d->irq = devloop_map(fds, nfds, s->irq_fd,
				     sizeof(struct irq_page), "IRQ-line page");
		/* A device that only watches lines has no source bit. */
		if (!d->irq || (s->irq_source && s->gsi >= IRQ_LINES))
			return -EINVAL;
		d->gsi = s->gsi;
		d->source = s->irq_source;
	}
	if (s->mailbox_fd) {
		d->mbox =
			devloop_map(fds, nfds, s->mailbox_fd,
				    mailbox_page_size(d->nvcpus), "mailboxes");
		if (!d->mbox || d->mbox->magic != MAILBOX_MAGIC)
			return -EINVAL;
	}
	log_set_level((int)s->log_level);
	if (d->ops->setup) {
		r = d->ops->setup(d->dev, d, s, fds, nfds);
		if (r < 0)
			return r;
	}
	return devloop_state(d, page, len);
}

#if CELLVM_TEST_HOOKS
/* What a device gone mad might write to its stderr: a line longer than
 * any the relay keeps, then more lines than it passes on in a second. */
static void devloop_log_flood(void)
{
	char line[3 * 1024];
	size_t n;
	int i;

	n = (size_t)snprintf(line, sizeof(line),
			     "%s: test trigger: ", log_name());
	memset(line + n, 'x', sizeof(line) - n - 1);
	line[sizeof(line) - 1] = '\n';
	(void)!write(STDERR_FILENO, line, sizeof(line));
	for (i = 1; i <= DEVLOOP_FLOOD_LINES; i++)
		log_warn("test trigger: log flood line %d of %d", i,
			 DEVLOOP_FLOOD_LINES);
}
#endif

static void devloop_test_trigger(struct devloop *d,
				 const Cellvm__TestTriggerRequest *t)
{
#if CELLVM_TEST_HOOKS
	if (trigger_is_escape(t->action)) {
		trigger_escape(t, d->pid);
		return;
	}
	switch (t->action) {
	case CELLVM__TEST_TRIGGER_REQUEST__ACTION__CORRUPT_STATE:
		/* What a device with a wild pointer might leave behind. */
		log_warn("test trigger: corrupting the state page");
		memset(dev_state(d), 0xff, d->ops->state_size);
		/* Die, to be restarted on that state. */
		__attribute__((fallthrough));
	case CELLVM__TEST_TRIGGER_REQUEST__ACTION__BAD_SYSCALL:
		log_warn("test trigger: making a system call outside the "
			 "policy");
		/* What a compromised device would try first: a socket. */
		syscall(SYS_socket, 2 /* AF_INET */, 1 /* SOCK_STREAM */, 0);
		break;
	case CELLVM__TEST_TRIGGER_REQUEST__ACTION__KEEP_FD:
		log_warn("test trigger: keeping a descriptor it was not meant "
			 "to hold");
		break;
	case CELLVM__TEST_TRIGGER_REQUEST__ACTION__LOG_FLOOD:
		devloop_log_flood();
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

static void devloop_drain(struct devloop *d)
{
	Cellvm__DrainReply rep = CELLVM__DRAIN_REPLY__INIT;
	ctl_msg out = CELLVM__CONTROL__INIT;

	devwork_serve(d);
	rep.requests = atomic_load(&d->status->dev.requests);
	out.body_case = CELLVM__CONTROL__BODY_DRAIN_REPLY;
	out.drain_reply = &rep;
	ctl_send(d->ctl, &out, NULL, 0);
}

int devloop_control(struct devloop *d);

/* Handle pending control messages; -1 when the broker is gone. */
int devloop_control(struct devloop *d)
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
#if CELLVM_TEST_HOOKS
		/* keep-fd: hold what came with it, as a process handed one
		 * descriptor too many would (the policy audit must see it). */
		if (m->body_case == CELLVM__CONTROL__BODY_TEST_TRIGGER &&
		    m->test_trigger->action ==
			    CELLVM__TEST_TRIGGER_REQUEST__ACTION__KEEP_FD)
			nfds = 0;
#endif
		ctl_close_fds(fds, nfds);
		switch (m->body_case) {
		case CELLVM__CONTROL__BODY_DRAIN:
			devloop_drain(d);
			break;
		case CELLVM__CONTROL__BODY_TEST_TRIGGER:
			devloop_test_trigger(d, m->test_trigger);
			break;
		default:
			if (!d->ops->control ||
			    d->ops->control(d->dev, d, m) < 0)
				log_warn("unexpected control message %d",
					 m->body_case);
		}
		ctl_free(m);
	}
}

int devloop_main(const struct dev_ops *ops, void *dev, const char *policy_text)
{
	static struct devloop d;
	int fds[CTL_MAX_FDS];
	char name[64];
	size_t nfds;
	ctl_msg *m = NULL;
	int r;

	d.ops = ops;
	d.dev = dev;
	d.ctl = CTL_FD;
	d.irq_published = -1;
	d.model_off = sizeof(struct dev_common);
	snprintf(name, sizeof(name), "cellvm-dev-%s", ops->name);
	log_init(name, 1);
	sched_short_slice();
	d.pid = getpid();
	if (sandbox_enter(policy_text) < 0)
		return DEV_EXIT_SANDBOX;
	if (ctl_send_hello(d.ctl, CELLVM__PROC_KIND__PROC_DEVICE, name,
			   devloop_size0(ops), ops->block_size,
			   ops->blocks_per_cpu) < 0)
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
	devwork_resume(&d);
	atomic_store(&d.status->ready, 1);
	if (ctl_send_simple(d.ctl, CELLVM__CONTROL__BODY_READY) < 0)
		return DEV_EXIT_CHANNEL;
	devwork_run(&d);
	return 0;
}
