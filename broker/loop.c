/*
 * The broker's event loop: child messages, child deaths (restart devices,
 * give up on the rest), the serial console, signals and test triggers.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "api.h"
#include "broker.h"
#include "clock.h"
#include "learn.h"
#include "log.h"
#include "virtio_pci.h"

#define STOP_TIMEOUT_MS 3000
#define RESTART_WINDOW_NS (60ull * 1000000000ull)
#define RESTART_BUDGET 20 /* restarts of one device per window */
#define TRIGGER_GAP_NS (200ull * 1000000ull) /* between test triggers */

/* epoll data: what woke us. */
enum {
	EV_SIGNAL = 1,
	EV_CONSOLE_OUT,
	EV_STDIN,
	EV_LEARN,	  /* a learning child's system call waits (learn.h) */
	EV_CTL = 0x100,	  /* + child number */
	EV_PIDFD = 0x200, /* + child number */
	EV_INPUT = 0x300, /* + child number: its backing fd has input */
	/* + the number of a control socket descriptor (api.h) */
	EV_API = CTLSOCK_EV,
	EV_LOG = 0x500, /* + child number: its log pipe (logrelay.h) */
};

static struct child *loop_child(struct family *f, unsigned n)
{
	if (n == 0)
		return &f->runner;
	if (n == 1)
		return &f->mmu;
	return n - 2 < f->ndev ? &f->dev[n - 2] : NULL;
}

static unsigned loop_nchildren(const struct family *f)
{
	return 2 + f->ndev;
}

static int loop_watch(struct family *f, int fd, uint64_t what)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = what };

	if (epoll_ctl(f->epoll, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

static int loop_watch_child(struct family *f, unsigned n)
{
	struct child *c = loop_child(f, n);
	int r;

	r = loop_watch(f, c->ctl, EV_CTL + n);
	if (!r)
		r = loop_watch(f, c->pidfd, EV_PIDFD + n);
	if (!r && c->log.open)
		r = loop_watch(f, c->log.fd, EV_LOG + n);
	return r;
}

/*
 * A device that receives from its backing fd (the network device's tap)
 * sleeps on its ring; the broker watches the fd for it, edge-triggered
 * (one wakeup per arrival, not one per poll while frames wait).
 */
static int loop_watch_input(struct family *f, unsigned n)
{
	struct child *c = loop_child(f, n);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET,
				  .data.u64 = EV_INPUT + n };

	if (!c->dev || c->dev->virtio_type != VIRTIO_ID_NET ||
	    c->dev->backing_fd < 0)
		return 0;
	if (epoll_ctl(f->epoll, EPOLL_CTL_ADD, c->dev->backing_fd, &ev) < 0)
		return -errno;
	return 0;
}

/* The PCI host's table of functions: one per PCI device, in slot order,
 * each told on the host's output of the same rank. */
static void device_pci_functions(struct family *f,
				 Cellvm__SetupDeviceRequest *req,
				 Cellvm__PciFunction *fn,
				 Cellvm__PciFunction **fnp)
{
	unsigned i, n = 0;

	for (i = 0; i < f->ndev; i++) {
		const struct dev_desc *d = f->dev[i].dev;

		if (!d->pci_slot)
			continue;
		cellvm__pci_function__init(&fn[n]);
		fn[n].slot = d->pci_slot;
		fn[n].virtio_type = d->virtio_type;
		fn[n].bar0 = (uint32_t)d->range[0].base;
		fn[n].msix_vectors = VIRTIO_MSIX_MAX;
		fn[n].output = n;
		fnp[n] = &fn[n];
		n++;
	}
	req->n_pci_functions = n;
	req->pci_functions = fnp;
}

int device_setup(struct family *f, struct child *c)
{
	Cellvm__SetupDeviceRequest req = CELLVM__SETUP_DEVICE_REQUEST__INIT;
	const struct dev_desc *dd = c->dev;
	ctl_msg m = CELLVM__CONTROL__INIT;
	int32_t in[BROKER_MAX_LINKS], out[BROKER_MAX_LINKS];
	Cellvm__PciFunction fn[BROKER_MAX_VIRTIO], *fnp[BROKER_MAX_VIRTIO];
	int fds[CTL_MAX_FDS], nfds = 0;
	unsigned i;

	req.name = (char *)dd->name;
	req.cpus = f->opt->cpus;
	req.start = dd->range[0].base;
	req.source_id = c->index;
	req.mem_size = f->opt->mem;
	req.log_level = (uint32_t)log_get_level();
	for (i = 0; i < f->nlinks; i++) {
		const struct link *l = &f->link[i];

		if (l->to == c->index)
			in[req.n_input_fds++] = ctl_add_fd(fds, &nfds, l->fd);
		if (l->from == c->index)
			out[req.n_output_fds++] = ctl_add_fd(fds, &nfds, l->fd);
	}
	req.input_fds = in;
	req.output_fds = out;
	if (dd->pci_host)
		device_pci_functions(f, &req, fn, fnp);
	if (dd->pci_slot) {
		/* A DMA device: guest RAM, and what backs it. */
		req.pci_slot = dd->pci_slot;
		req.ram_fd = ctl_add_fd(fds, &nfds, f->ram_fd);
		if (dd->backing_fd >= 0)
			req.backing_fd = ctl_add_fd(fds, &nfds, dd->backing_fd);
		req.read_only = dd->read_only;
		if (dd->virtio_type == VIRTIO_ID_NET) {
			req.mac.data = (uint8_t *)f->opt->mac;
			req.mac.len = sizeof(f->opt->mac);
		}
	}
	if (dd->mailbox)
		req.mailbox_fd = ctl_add_fd(fds, &nfds, f->mbox_fd);
	req.ring_fd = ctl_add_fd(fds, &nfds, c->ring_fd);
	req.state_fd = ctl_add_fd(fds, &nfds, c->state_fd);
	req.status_fd = ctl_add_fd(fds, &nfds, c->status_fd);
	if (dd->irq_page)
		req.irq_fd = ctl_add_fd(fds, &nfds, f->irq_fd);
	if (dd->gsi >= 0) {
		req.gsi = (uint32_t)dd->gsi;
		req.irq_source = 1u << c->index;
	}
	if (dd->console) {
		req.out_fd = ctl_add_fd(fds, &nfds, f->con.out_wr);
		req.in_fd = ctl_add_fd(fds, &nfds, f->con.in_fd);
	}
	m.body_case = CELLVM__CONTROL__BODY_SETUP_DEVICE;
	m.setup_device = &req;
	return ctl_send(c->ctl, &m, fds, (size_t)nfds);
}

static void loop_schedule_restart(struct family *f, unsigned n,
				  const char *cause);

/*
 * Bring a dead device back on the same state, ring and descriptors. The
 * MMU service comes back idle: the guest's memory map is loaded already and
 * it holds nothing the broker could not hand it again.
 */
static int loop_restart(struct family *f, unsigned n)
{
	struct child *c = loop_child(f, n);
	ctl_msg *rep = NULL;
	int r;

	c->restart_at = 0;
	/* Everything the dead UART sent is in the pipe: relay it first, so
	 * the sequence number a reset UART starts from is the true one. */
	if (c->dev && c->dev->console)
		while (console_pump_output(f) > 0)
			;
	r = child_spawn(f, c);
	if (!r)
		r = family_hello(f, c);
	if (!r && c->kind == CHILD_DEVICE)
		r = device_setup(f, c);
	if (!r && c->kind == CHILD_DEVICE)
		r = child_expect(f, c, CELLVM__CONTROL__BODY_READY,
				 STOP_TIMEOUT_MS, &rep);
	if (!r)
		r = loop_watch_child(f, n);
	if (r < 0) {
		/* Killed again while starting, or broken: try again, within
		 * the budget. */
		char cause[160];

		child_kill(c);
		child_reap(c, cause, sizeof(cause));
		/* child_expect() says how a child it waited on died; a death
		 * it did not see (the hello or the setup could not be sent)
		 * is said here, so every death shows once. */
		if (strcmp(cause, "is gone") != 0)
			log_err("%s %s", c->name, cause);
		loop_schedule_restart(f, n, "failed to restart");
		return r;
	}
	ctl_free(rep);
	if (c->ring)
		ring_kick(c->ring);
	log_warn("%s restarted as pid %d (restart %u)", c->name, (int)c->pid,
		 c->restarts);
	ctlsock_restarted(f, c);
	return 0;
}

/* Exponential back-off: at once, then 10 ms doubling up to 1 s. */
static uint64_t loop_backoff(unsigned window_restarts)
{
	uint64_t ms = 0;

	if (window_restarts > 1)
		ms = 10ull << (window_restarts - 2 > 6 ? 6
						       : window_restarts - 2);
	if (ms > 1000)
		ms = 1000;
	return ms * 1000000ull;
}

/* A device died: restart it after a back-off, within the budget. */
static void loop_schedule_restart(struct family *f, unsigned n,
				  const char *cause)
{
	struct child *c = loop_child(f, n);
	uint64_t t = now_ns();

	if (t - c->window_start > RESTART_WINDOW_NS) {
		c->window_start = t;
		c->window_restarts = 0;
	}
	if (++c->window_restarts > RESTART_BUDGET) {
		log_err("%s %s; it died %u times in a minute, stopping the VM",
			c->name, cause, RESTART_BUDGET);
		loop_stop(f, 1);
		return;
	}
	c->restarts++;
	c->restart_at = t + loop_backoff(c->window_restarts);
	if (c->restart_at == t)
		c->restart_at = t + 1;
}

static void loop_child_died(struct family *f, unsigned n)
{
	struct child *c = loop_child(f, n);
	pid_t pid = c->pid;
	char cause[160];

	child_reap(c, cause, sizeof(cause));
	if (f->stopping)
		return;
	if (c->kind == CHILD_VCPU) {
		/* The VM lives in the runner: it cannot be restarted. */
		log_err("%s %s; stopping the VM", c->name, cause);
		loop_stop(f, 1);
		return;
	}
	log_warn("%s[%d] %s; restarting it", c->name, (int)pid, cause);
	loop_schedule_restart(f, n, cause);
}

static void loop_vm_stopped(struct family *f, const Cellvm__VmStoppedNotice *s)
{
	switch (s->reason) {
	case CELLVM__VM_STOPPED_NOTICE__REASON__SHUTDOWN:
		log_info("vCPU %u: %s", s->vcpu, s->detail);
		loop_stop(f, 0);
		break;
	default:
		log_err("vCPU %u: %s", s->vcpu, s->detail);
		loop_stop(f, 1);
	}
}

static void loop_message(struct family *f, unsigned n)
{
	struct child *c = loop_child(f, n);
	int fds[CTL_MAX_FDS];
	size_t nfds;
	ctl_msg *m = NULL;
	int r;

	r = ctl_recv(c->ctl, &m, fds, &nfds, 1);
	if (r == -EAGAIN)
		return;
	if (r < 0 || !m)
		return; /* the pidfd reports the death */
	if (learn_message(f, c, m, fds, nfds)) {
		ctl_close_fds(fds, nfds);
		ctl_free(m);
		return;
	}
	ctl_close_fds(fds, nfds);
	switch (m->body_case) {
	case CELLVM__CONTROL__BODY_GUEST_EXIT:
		if (c->kind == CHILD_DEVICE)
			loop_stop(f, (int)(m->guest_exit->status & 0xff));
		break;
	case CELLVM__CONTROL__BODY_SYSTEM_EVENT:
		if (c->kind == CHILD_DEVICE) {
			log_info(
				"the guest %s the machine",
				m->system_event->kind ==
						CELLVM__SYSTEM_EVENT_NOTICE__KIND__POWER_OFF
					? "powered off"
					: "reset");
			loop_stop(f, 0);
		}
		break;
	case CELLVM__CONTROL__BODY_VM_STOPPED:
		if (c->kind == CHILD_VCPU)
			loop_vm_stopped(f, m->vm_stopped);
		break;
	case CELLVM__CONTROL__BODY_PAUSE_REPLY:
		if (c->kind == CHILD_VCPU)
			ctlsock_paused(f);
		break;
	case CELLVM__CONTROL__BODY_ERROR:
		log_err("%s", m->error->message);
		break;
	default:
		log_debug("%s: unexpected message %d", c->name, m->body_case);
	}
	ctl_free(m);
}

static void loop_signal(struct family *f)
{
	struct signalfd_siginfo si;

	if (read(f->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	log_info("%s: stopping the VM", strsignal((int)si.ssi_signo));
	loop_stop(f, 128 + (int)si.ssi_signo);
}

/* Another live device: the target of an escape attempt on a peer. */
static pid_t loop_trigger_peer(const struct family *f, const struct child *c)
{
	unsigned i;

	for (i = 0; i < f->ndev; i++) {
		if (&f->dev[i] != c && f->dev[i].alive)
			return f->dev[i].pid;
	}
	return 0;
}

/*
 * Send test trigger t to its device (the first of that name). Triggers to
 * one device go one at a time: a device that is down (killed by the one
 * before, restart pending) gets it once it is back, and one that was just
 * sent a trigger gets the next TRIGGER_GAP_NS later, so that none lands in
 * the socket of a process dying of the one before. Returns 0 once sent (or
 * when no device has that name), else when to try again: ~0 for "when the
 * device is back" (its restart time or its death wakes the loop).
 */
static uint64_t loop_trigger(struct family *f, struct test_trigger *t,
			     uint64_t now)
{
	Cellvm__TestTriggerRequest req = CELLVM__TEST_TRIGGER_REQUEST__INIT;
	ctl_msg m = CELLVM__CONTROL__INIT;
	struct child *c = NULL;
	unsigned i;

	for (i = 0; i < f->ndev && !c; i++) {
		if (strcmp(f->dev[i].dev->name, t->device) == 0)
			c = &f->dev[i];
	}
	if (c && !c->alive)
		return ~0ull;
	if (c && c->trigger_ns && now < c->trigger_ns + TRIGGER_GAP_NS)
		return c->trigger_ns + TRIGGER_GAP_NS;
	t->sent = true;
	if (!c)
		return 0;
	c->trigger_ns = now;
	req.action = t->action;
	req.runner_pid = f->runner.alive ? f->runner.pid : 0;
	req.peer_pid = loop_trigger_peer(f, c);
	m.body_case = CELLVM__CONTROL__BODY_TEST_TRIGGER;
	m.test_trigger = &req;
	if (t->action == CELLVM__TEST_TRIGGER_REQUEST__ACTION__KEEP_FD) {
		/* One descriptor more than the device should hold. */
		int extra = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		ctl_send(c->ctl, &m, &extra, extra >= 0 ? 1 : 0);
		if (extra >= 0)
			close(extra);
	} else {
		ctl_send(c->ctl, &m, NULL, 0);
	}
	ring_kick(c->ring);
	return 0;
}

/* Timed work: restarts and test triggers. Returns the next epoll timeout. */
static int loop_timers(struct family *f)
{
	uint64_t t = now_ns(), next = 0, at;
	unsigned i;

	for (i = 1; i < loop_nchildren(f) && !f->stopping; i++) {
		at = loop_child(f, i)->restart_at;
		if (at && at <= t)
			loop_restart(f, i);
		at = loop_child(f, i)->restart_at;
		if (at && (!next || at < next))
			next = at;
	}
	for (i = 0; i < f->opt->ntriggers && !f->stopping; i++) {
		struct test_trigger *tr =
			(struct test_trigger *)&f->opt->trigger[i];

		at = f->started_ns + tr->after_ms * 1000000ull;
		if (tr->sent)
			continue;
		if (at <= t)
			at = loop_trigger(f, tr, t);
		if (at && at != ~0ull && (!next || at < next))
			next = at;
	}
	/* A full input ring is looked at again every 10 ms. */
	if (console_input_blocked(f) && (!next || t + 10000000ull < next))
		next = t + 10000000ull;
	if (f->con.stdin_polled && f->con.stdin_open &&
	    !console_input_blocked(f))
		return 0;
	if (!next)
		return -1;
	return next <= t ? 0 : (int)((next - t) / 1000000ull) + 1;
}

/* Read stdin only while the UART's input ring has room. */
static void loop_stdin(struct family *f)
{
	struct console *c = &f->con;
	bool want = c->stdin_open && !console_input_blocked(f);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_STDIN };

	if (c->stdin_polled) {
		if (want)
			console_pump_input(f);
		return;
	}
	if (want == c->stdin_watched)
		return;
	epoll_ctl(f->epoll, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, STDIN_FILENO,
		  &ev);
	c->stdin_watched = want;
}

static int loop_init(struct family *f)
{
	sigset_t set;
	unsigned n;
	int r;

	f->epoll = epoll_create1(EPOLL_CLOEXEC);
	if (f->epoll < 0)
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	f->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (f->sigfd < 0)
		return -errno;
	r = loop_watch(f, f->sigfd, EV_SIGNAL);
	if (!r && f->learn)
		r = loop_watch(f, learn_fd(f->learn), EV_LEARN);
	if (!r)
		r = loop_watch(f, f->con.out_rd, EV_CONSOLE_OUT);
	if (!r && f->con.stdin_open) {
		r = loop_watch(f, STDIN_FILENO, EV_STDIN);
		f->con.stdin_watched = r == 0;
		/* Regular files and /dev/null cannot be watched, only read. */
		f->con.stdin_polled = r == -EPERM;
		if (r == -EPERM)
			r = 0;
	}
	for (n = 0; !r && n < loop_nchildren(f); n++)
		r = loop_watch_child(f, n);
	for (n = 0; !r && n < loop_nchildren(f); n++)
		r = loop_watch_input(f, n);
	if (!r)
		r = ctlsock_watch(f);
	return r;
}

static void loop_event(struct family *f, uint64_t what)
{
	struct child *c;

	if (what >= EV_LOG) {
		c = loop_child(f, (unsigned)(what - EV_LOG));
		if (c)
			logrelay_pump(c);
	} else if (what >= EV_API) {
		ctlsock_event(f, (unsigned)(what - EV_API));
	} else if (what >= EV_INPUT) {
		/* Frames for the network device: wake it to take them. */
		c = loop_child(f, (unsigned)(what - EV_INPUT));
		if (c && c->ring)
			ring_kick(c->ring);
	} else if (what == EV_SIGNAL)
		loop_signal(f);
	else if (what == EV_CONSOLE_OUT)
		console_pump_output(f);
	else if (what == EV_STDIN)
		console_pump_input(f);
	else if (what == EV_LEARN)
		learn_service(f->learn);
	else if (what >= EV_PIDFD)
		loop_child_died(f, (unsigned)(what - EV_PIDFD));
	else if (what >= EV_CTL)
		loop_message(f, (unsigned)(what - EV_CTL));
}

int loop_run(struct family *f)
{
	struct epoll_event ev[16];
	int n, i, r;

	r = loop_init(f);
	if (r < 0) {
		log_err("cannot set up the event loop: %s", strerror(-r));
		f->exit_status = 1;
		return 1;
	}
	while (!f->stopping) {
		n = epoll_wait(f->epoll, ev, 16, loop_timers(f));
		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			loop_stop(f, 1);
		}
		for (i = 0; i < n && !f->stopping; i++)
			loop_event(f, ev[i].data.u64);
		loop_stdin(f);
	}
	return f->exit_status;
}

/* Ask a device to finish every request it was posted, and wait for it. */
static void loop_drain(struct family *f, unsigned n)
{
	struct child *c = loop_child(f, n);
	ctl_msg *rep = NULL;

	if (!c->alive && c->restart_at && loop_restart(f, n) < 0)
		return;
	if (!c->alive)
		return;
	if (ctl_send_simple(c->ctl, CELLVM__CONTROL__BODY_DRAIN) < 0)
		return;
	ring_kick(c->ring);
	if (child_expect(f, c, CELLVM__CONTROL__BODY_DRAIN_REPLY,
			 STOP_TIMEOUT_MS, &rep) == 0)
		ctl_free(rep);
}

/*
 * Stop the VM: pause the vCPUs so nothing new is posted, let every device
 * finish what was posted before (a guest's last words before its exit
 * request must not be lost), relay the remaining output.
 */
void loop_stop(struct family *f, int status)
{
	ctl_msg *rep = NULL;
	unsigned i;

	if (f->stopping)
		return;
	f->stopping = true;
	f->exit_status = status;
	for (i = 0; i < f->ndev; i++) {
		if (!f->dev[i].alive && f->dev[i].restart_at)
			loop_restart(f, i + 2);
	}
	if (f->runner.alive &&
	    ctl_send_simple(f->runner.ctl, CELLVM__CONTROL__BODY_PAUSE) == 0 &&
	    child_expect(f, &f->runner, CELLVM__CONTROL__BODY_PAUSE_REPLY,
			 STOP_TIMEOUT_MS, &rep) == 0)
		ctl_free(rep);
	for (i = 0; i < f->ndev; i++)
		loop_drain(f, i + 2);
	while (console_pump_output(f) > 0)
		;
}
