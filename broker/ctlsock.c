/*
 * The broker's control socket (proto/api.proto), served from the event
 * loop: status, stats, pause/resume, stop, restart and kill of a device,
 * list. Each packet is one Request and gets one Reply; one that does not
 * parse gets an ErrorReply and changes nothing. Pause and restart answer
 * later, once done (the runner's PauseReply, the device back up); a
 * connection waits for its answer before it may ask again.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "broker.h"
#include "clock.h"
#include "log.h"
#include "proto/api.pb-c.h"

#define CTLSOCK_MAX_CLIENTS 16
#define CTLSOCK_MAX_REQUEST 4096
#define CTLSOCK_MAX_PROCS (2 + BROKER_MAX_DEVICES)

typedef Cellvm__Api__Reply api_reply;

enum api_pending {
	API_NONE,
	API_PAUSE,   /* until the runner's PauseReply */
	API_RESTART, /* until child is back */
};

struct api_client {
	int fd; /* -1: a free slot */
	enum api_pending pending;
	const struct child *child;
	pid_t old_pid;
	bool broken; /* a reply could not be sent: drop it */
};

struct ctlsock {
	struct rundir rd;
	char name[VM_NAME_MAX + 1];
	int listen_fd;
	bool pausing, paused;
	struct api_client client[CTLSOCK_MAX_CLIENTS];
};

static struct child *api_child(struct family *f, unsigned n)
{
	if (n == 0)
		return &f->runner;
	if (n == 1)
		return &f->mmu;
	return n - 2 < f->ndev ? &f->dev[n - 2] : NULL;
}

static uint64_t api_ms(uint64_t since_ns)
{
	return since_ns ? (now_ns() - since_ns) / 1000000ull : 0;
}

static Cellvm__Api__VmState api_state(const struct family *f)
{
	if (f->stopping)
		return CELLVM__API__VM_STATE__VM_STATE_STOPPING;
	if (f->api->paused)
		return CELLVM__API__VM_STATE__VM_STATE_PAUSED;
	if (f->api->pausing)
		return CELLVM__API__VM_STATE__VM_STATE_PAUSING;
	return CELLVM__API__VM_STATE__VM_STATE_RUNNING;
}

static void api_send(struct api_client *cl, const api_reply *rep)
{
	size_t len = cellvm__api__reply__get_packed_size(rep);
	uint8_t *buf = malloc(len ? len : 1);
	ssize_t n = -1;

	if (buf) {
		cellvm__api__reply__pack(rep, buf);
		n = send(cl->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	free(buf);
	/* A client that does not read its replies is dropped, never
	 * waited for. */
	if (n != (ssize_t)len)
		cl->broken = true;
}

static void api_error(struct api_client *cl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void api_error(struct api_client *cl, const char *fmt, ...)
{
	Cellvm__Api__ErrorReply e = CELLVM__API__ERROR_REPLY__INIT;
	api_reply rep = CELLVM__API__REPLY__INIT;
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	e.message = text;
	rep.body_case = CELLVM__API__REPLY__BODY_ERROR;
	rep.error = &e;
	api_send(cl, &rep);
}

static void ctlsock_drop(struct family *f, struct api_client *cl);

static void api_listen_to(struct family *f, struct api_client *cl,
			  uint32_t events)
{
	struct epoll_event ev = { .events = events };

	ev.data.u64 = CTLSOCK_EV + 1 + (uint64_t)(cl - f->api->client);
	epoll_ctl(f->epoll, EPOLL_CTL_MOD, cl->fd, &ev);
}

/* Answer later: read nothing more from cl meanwhile (its next requests
 * wait in the socket, so that replies keep their order). */
static void api_defer(struct family *f, struct api_client *cl,
		      enum api_pending what)
{
	cl->pending = what;
	api_listen_to(f, cl, 0);
}

/* A deferred reply went out: listen to cl again. */
static void api_answered(struct family *f, struct api_client *cl)
{
	cl->pending = API_NONE;
	cl->child = NULL;
	if (cl->broken)
		ctlsock_drop(f, cl);
	else
		api_listen_to(f, cl, EPOLLIN);
}

static void api_done(struct family *f, struct api_client *cl)
{
	Cellvm__Api__DoneReply d = CELLVM__API__DONE_REPLY__INIT;
	api_reply rep = CELLVM__API__REPLY__INIT;

	d.state = api_state(f);
	rep.body_case = CELLVM__API__REPLY__BODY_DONE;
	rep.done = &d;
	api_send(cl, &rep);
}

/* The processes of the family, filled into p (CTLSOCK_MAX_PROCS). */
static size_t api_processes(struct family *f, Cellvm__Api__Process *p,
			    Cellvm__Api__Process **pp)
{
	const struct child *c;
	size_t n = 0;
	unsigned i;

	for (i = 0; (c = api_child(f, i)) != NULL; i++) {
		cellvm__api__process__init(&p[n]);
		p[n].name = (char *)c->name;
		p[n].alive = c->alive;
		p[n].pid = c->alive ? (uint32_t)c->pid : 0;
		p[n].uptime_ms = c->alive ? api_ms(c->started_ns) : 0;
		p[n].restarts = c->restarts;
		p[n].last_exit = (char *)c->last_exit;
		pp[n] = &p[n];
		n++;
	}
	return n;
}

static void api_status(struct family *f, struct api_client *cl)
{
	Cellvm__Api__StatusReply s = CELLVM__API__STATUS_REPLY__INIT;
	Cellvm__Api__Process p[CTLSOCK_MAX_PROCS], *pp[CTLSOCK_MAX_PROCS];
	api_reply rep = CELLVM__API__REPLY__INIT;

	s.name = f->api->name;
	s.state = api_state(f);
	s.broker_pid = (uint32_t)getpid();
	s.uptime_ms = api_ms(f->started_ns);
	s.cpus = f->opt->cpus;
	s.mem_size = f->opt->mem;
	s.n_processes = api_processes(f, p, pp);
	s.processes = pp;
	rep.body_case = CELLVM__API__REPLY__BODY_STATUS;
	rep.status = &s;
	api_send(cl, &rep);
}

static void api_list(struct family *f, struct api_client *cl)
{
	Cellvm__Api__ListReply l = CELLVM__API__LIST_REPLY__INIT;
	Cellvm__Api__Process p[CTLSOCK_MAX_PROCS], *pp[CTLSOCK_MAX_PROCS];
	api_reply rep = CELLVM__API__REPLY__INIT;

	l.n_processes = api_processes(f, p, pp);
	l.processes = pp;
	rep.body_case = CELLVM__API__REPLY__BODY_LIST;
	rep.list = &l;
	api_send(cl, &rep);
}

/* The counters of KVM's kvm_vcpu_stat the runner counts. insn_emulation
 * happens inside KVM, out of its sight: left absent. */
static void api_vcpu_stats(const struct vcpu_stat *v, unsigned id,
			   Cellvm__Api__VcpuStats *s)
{
	cellvm__api__vcpu_stats__init(s);
	s->id = id;
	s->exits = atomic_load(&v->exits);
	s->io_exits = atomic_load(&v->io_exits);
	s->mmio_exits = atomic_load(&v->mmio_exits);
	s->halt_exits = atomic_load(&v->halt_exits);
	s->irq_window_exits = atomic_load(&v->irq_window_exits);
	s->irq_injections = atomic_load(&v->irq_injections);
	s->signal_exits = atomic_load(&v->signal_exits);
	s->unclaimed_io = atomic_load(&v->unclaimed_io);
}

static void api_dev_stats(const struct child *c, Cellvm__Api__DeviceStats *s,
			  Cellvm__Api__Value *lat)
{
	const struct dev_stat *d = &c->status->dev;

	cellvm__api__device_stats__init(s);
	s->name = (char *)c->dev->name;
	s->requests = atomic_load(&d->requests);
	s->reads = atomic_load(&d->reads);
	s->writes = atomic_load(&d->writes);
	s->restarts = c->restarts;
	s->bad_requests = atomic_load(&d->bad_requests);
	s->replays = atomic_load(&d->replays);
	cellvm__api__value__init(&lat[0]);
	cellvm__api__value__init(&lat[1]);
	lat[0].value = status_percentile(d, 50);
	lat[1].value = status_percentile(d, 99);
	if (lat[0].value) {
		s->latency_p50_ns = &lat[0];
		s->latency_p99_ns = &lat[1];
	}
}

static void api_stats(struct family *f, struct api_client *cl)
{
	static Cellvm__Api__VcpuStats v[255], *vp[255];
	Cellvm__Api__StatsReply s = CELLVM__API__STATS_REPLY__INIT;
	Cellvm__Api__DeviceStats d[BROKER_MAX_DEVICES], *dp[BROKER_MAX_DEVICES];
	Cellvm__Api__Value lat[2 * BROKER_MAX_DEVICES];
	api_reply rep = CELLVM__API__REPLY__INIT;
	const struct proc_status *rs = f->runner.status;
	unsigned i;

	s.name = f->api->name;
	for (i = 0; rs && i < f->opt->cpus && i < rs->nvcpus && i < 255; i++) {
		api_vcpu_stats(&rs->vcpu[i], i, &v[i]);
		vp[i] = &v[i];
	}
	s.n_vcpus = i;
	s.vcpus = vp;
	for (i = 0; i < f->ndev; i++) {
		api_dev_stats(&f->dev[i], &d[i], &lat[2 * i]);
		dp[i] = &d[i];
	}
	s.n_devices = f->ndev;
	s.devices = dp;
	rep.body_case = CELLVM__API__REPLY__BODY_STATS;
	rep.stats = &s;
	api_send(cl, &rep);
}

static void api_pause(struct family *f, struct api_client *cl)
{
	struct ctlsock *s = f->api;

	if (s->paused) {
		api_done(f, cl);
		return;
	}
	if (!s->pausing) {
		if (!f->runner.alive ||
		    ctl_send_simple(f->runner.ctl,
				    CELLVM__CONTROL__BODY_PAUSE) < 0) {
			api_error(cl, "cannot reach cellvm-vcpu");
			return;
		}
		s->pausing = true;
	}
	api_defer(f, cl, API_PAUSE);
}

void ctlsock_paused(struct family *f)
{
	struct ctlsock *s = f->api;
	unsigned i;

	if (!s || !s->pausing)
		return; /* resumed meanwhile: its reply went out then */
	s->pausing = false;
	s->paused = true;
	log_info("the VM is paused");
	for (i = 0; i < CTLSOCK_MAX_CLIENTS; i++) {
		if (s->client[i].fd >= 0 && s->client[i].pending == API_PAUSE) {
			api_done(f, &s->client[i]);
			api_answered(f, &s->client[i]);
		}
	}
}

static void api_resume(struct family *f, struct api_client *cl)
{
	struct ctlsock *s = f->api;
	bool pausing = s->pausing;
	unsigned i;

	if (s->paused || s->pausing) {
		if (!f->runner.alive ||
		    ctl_send_simple(f->runner.ctl,
				    CELLVM__CONTROL__BODY_RESUME) < 0) {
			api_error(cl, "cannot reach cellvm-vcpu");
			return;
		}
		s->paused = s->pausing = false;
		log_info("the VM is resumed");
	}
	/* A pause overtaken by this resume is answered now: running. */
	for (i = 0; pausing && i < CTLSOCK_MAX_CLIENTS; i++) {
		if (s->client[i].fd >= 0 && s->client[i].pending == API_PAUSE) {
			api_done(f, &s->client[i]);
			api_answered(f, &s->client[i]);
		}
	}
	api_done(f, cl);
}

/* A child by name (cellvm-dev-uart, uart, cellvm-mmu, mmu) or pid. */
static struct child *api_find(struct family *f, const char *name)
{
	struct child *c;
	const char *tail;
	char *end;
	long pid = strtol(name, &end, 10);
	unsigned i;

	for (i = 0; (c = api_child(f, i)) != NULL; i++) {
		tail = c->name;
		if (strncmp(tail, "cellvm-", 7) == 0)
			tail += 7;
		if (strncmp(tail, "dev-", 4) == 0)
			tail += 4;
		if (strcmp(c->name, name) == 0 || strcmp(tail, name) == 0)
			return c;
		if (*name && !*end && c->alive && pid == c->pid)
			return c;
	}
	return NULL;
}

/* The child a restart or kill names, or NULL after an error reply. */
static struct child *api_target(struct family *f, struct api_client *cl,
				const char *name)
{
	struct child *c = api_find(f, name ? name : "");

	if (!c) {
		api_error(cl, "no process '%s' in this VM", name);
		return NULL;
	}
	if (c->kind == CHILD_VCPU) {
		api_error(cl,
			  "%s holds the VM and cannot be restarted; use "
			  "'stop'",
			  c->name);
		return NULL;
	}
	if (f->stopping) {
		api_error(cl, "the VM is stopping");
		return NULL;
	}
	return c;
}

static void api_restart(struct family *f, struct api_client *cl,
			const char *name)
{
	struct child *c = api_target(f, cl, name);

	if (!c)
		return;
	if (!c->alive && !c->restart_at) {
		api_error(cl, "%s is gone and will not come back", c->name);
		return;
	}
	cl->child = c;
	cl->old_pid = c->alive ? c->pid : 0;
	api_defer(f, cl, API_RESTART);
	/* Dead already: its restart is on the way. */
	if (c->alive) {
		log_info("%s[%d]: restarting it on request", c->name,
			 (int)c->pid);
		child_kill(c);
	}
}

void ctlsock_restarted(struct family *f, const struct child *c)
{
	Cellvm__Api__RestartReply r = CELLVM__API__RESTART_REPLY__INIT;
	api_reply rep = CELLVM__API__REPLY__INIT;
	struct ctlsock *s = f->api;
	unsigned i;

	if (!s)
		return;
	r.name = (char *)c->name;
	r.new_pid = (uint32_t)c->pid;
	rep.body_case = CELLVM__API__REPLY__BODY_RESTART;
	rep.restart = &r;
	for (i = 0; i < CTLSOCK_MAX_CLIENTS; i++) {
		struct api_client *cl = &s->client[i];

		if (cl->fd < 0 || cl->pending != API_RESTART || cl->child != c)
			continue;
		r.old_pid = (uint32_t)cl->old_pid;
		api_send(cl, &rep);
		api_answered(f, cl);
	}
}

static void api_kill(struct family *f, struct api_client *cl, const char *name)
{
	Cellvm__Api__KillReply k = CELLVM__API__KILL_REPLY__INIT;
	api_reply rep = CELLVM__API__REPLY__INIT;
	struct child *c = api_target(f, cl, name);

	if (!c)
		return;
	if (!c->alive) {
		api_error(cl, "%s is not running (a restart is pending)",
			  c->name);
		return;
	}
	log_info("%s[%d]: killing it on request", c->name, (int)c->pid);
	child_kill(c);
	k.name = c->name;
	k.pid = (uint32_t)c->pid;
	rep.body_case = CELLVM__API__REPLY__BODY_KILL;
	rep.kill = &k;
	api_send(cl, &rep);
}

static void api_dispatch(struct family *f, struct api_client *cl,
			 const Cellvm__Api__Request *req)
{
	switch (req->body_case) {
	case CELLVM__API__REQUEST__BODY_STATUS:
		api_status(f, cl);
		break;
	case CELLVM__API__REQUEST__BODY_STATS:
		api_stats(f, cl);
		break;
	case CELLVM__API__REQUEST__BODY_PAUSE:
		api_pause(f, cl);
		break;
	case CELLVM__API__REQUEST__BODY_RESUME:
		api_resume(f, cl);
		break;
	case CELLVM__API__REQUEST__BODY_STOP:
		/* Answered first: the stop ends with this socket closed. */
		f->api->paused = f->api->pausing = false;
		log_info("stopping the VM on request");
		loop_stop(f, 0);
		api_done(f, cl);
		break;
	case CELLVM__API__REQUEST__BODY_RESTART:
		api_restart(f, cl, req->restart->device);
		break;
	case CELLVM__API__REQUEST__BODY_KILL:
		api_kill(f, cl, req->kill->device);
		break;
	case CELLVM__API__REQUEST__BODY_LIST:
		api_list(f, cl);
		break;
	default:
		api_error(cl, "unknown request %d", (int)req->body_case);
	}
}

static void ctlsock_drop(struct family *f, struct api_client *cl)
{
	epoll_ctl(f->epoll, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
}

/* recv() said 0: an empty packet, or the peer is gone? */
static bool ctlsock_hung_up(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP));
}

static void ctlsock_serve(struct family *f, struct api_client *cl)
{
	uint8_t buf[CTLSOCK_MAX_REQUEST];
	Cellvm__Api__Request *req;
	ssize_t n;

	if (cl->pending != API_NONE) {
		/* Not listening to it, but a hang-up is always reported. */
		if (ctlsock_hung_up(cl->fd))
			ctlsock_drop(f, cl);
		return;
	}
	/* MSG_TRUNC: the packet's real length, to refuse a long one. */
	n = recv(cl->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0 || (n == 0 && ctlsock_hung_up(cl->fd))) {
		ctlsock_drop(f, cl);
		return;
	}
	if ((size_t)n > sizeof(buf)) {
		api_error(cl, "request of %zd bytes: at most %zu", n,
			  sizeof(buf));
	} else {
		req = cellvm__api__request__unpack(NULL, (size_t)n, buf);
		if (!req ||
		    req->body_case == CELLVM__API__REQUEST__BODY__NOT_SET)
			api_error(cl, "malformed request: not a "
				      "cellvm.api.Request");
		else
			api_dispatch(f, cl, req);
		if (req)
			cellvm__api__request__free_unpacked(req, NULL);
	}
	if (cl->broken)
		ctlsock_drop(f, cl);
}

/* Only our own user (or root) may steer the VM; the directory and the
 * socket's mode say so too. */
static bool ctlsock_peer_ok(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	return cr.uid == 0 || cr.uid == geteuid();
}

static void ctlsock_accept(struct family *f)
{
	struct ctlsock *s = f->api;
	struct epoll_event ev = { .events = EPOLLIN };
	struct api_client *cl = NULL;
	unsigned i;
	int fd;

	fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	for (i = 0; i < CTLSOCK_MAX_CLIENTS && !cl; i++) {
		if (s->client[i].fd < 0)
			cl = &s->client[i];
	}
	if (!cl || !ctlsock_peer_ok(fd)) {
		struct api_client tmp = { .fd = fd };

		if (!cl)
			api_error(&tmp, "too many clients (%d)",
				  CTLSOCK_MAX_CLIENTS);
		close(fd);
		return;
	}
	ev.data.u64 = CTLSOCK_EV + 1 + (uint64_t)(cl - s->client);
	if (epoll_ctl(f->epoll, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return;
	}
	cl->fd = fd;
}

void ctlsock_event(struct family *f, unsigned what)
{
	if (!f->api)
		return;
	if (what == 0)
		ctlsock_accept(f);
	else if (what - 1 < CTLSOCK_MAX_CLIENTS &&
		 f->api->client[what - 1].fd >= 0)
		ctlsock_serve(f, &f->api->client[what - 1]);
}

int ctlsock_watch(struct family *f)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = CTLSOCK_EV };

	if (!f->api)
		return 0;
	if (epoll_ctl(f->epoll, EPOLL_CTL_ADD, f->api->listen_fd, &ev) < 0)
		return -errno;
	return 0;
}

int ctlsock_open(struct family *f)
{
	struct ctlsock *s;
	sigset_t set;
	unsigned i;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->listen_fd = -1;
	for (i = 0; i < CTLSOCK_MAX_CLIENTS; i++)
		s->client[i].fd = -1;
	if (f->opt->name)
		snprintf(s->name, sizeof(s->name), "%s", f->opt->name);
	else
		snprintf(s->name, sizeof(s->name), "vm-%d", (int)getpid());
	/*
	 * The stop signals wait from here until the event loop takes them
	 * (its signalfd): one during start-up must not leave the directory
	 * behind.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	r = rundir_claim(&s->rd, s->name);
	if (r < 0) {
		free(s);
		return r;
	}
	/* The name is ours: every line from here on says so. */
	log_set_vm(s->name);
	f->api = s;
	s->listen_fd = rundir_listen(&s->rd);
	if (s->listen_fd < 0) {
		r = s->listen_fd;
		log_err("cannot make the control socket in %s: %s", s->rd.path,
			strerror(-r));
		ctlsock_close(f);
		return r;
	}
	log_info("VM '%s': control socket %s/%s", s->name, s->rd.path,
		 RUNDIR_SOCK);
	return 0;
}

void ctlsock_close(struct family *f)
{
	struct ctlsock *s = f->api;
	unsigned i;

	if (!s)
		return;
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	/* The directory first: a client that waits for the end of its
	 * connection then finds it gone. */
	rundir_release(&s->rd);
	for (i = 0; i < CTLSOCK_MAX_CLIENTS; i++) {
		if (s->client[i].fd >= 0)
			close(s->client[i].fd);
	}
	free(s);
	f->api = NULL;
}
