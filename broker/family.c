/*
 * Starting a VM's process family: open what the children need, start them
 * all, hand each its descriptors, wait until every one is serving, then
 * give the runner /dev/kvm and let the guest go.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "broker.h"
#include "clock.h"
#include "config.h"
#include "irqline.h"
#include "learn.h"
#include "mailbox.h"
#include "log.h"
#include "shm.h"
#include "state.h"

#define START_TIMEOUT_MS 10000
#define DEV_MAX_STATE (1u << 20) /* bytes of one block */

/* The children live next to cellvm in a build tree, else in libexecdir. */
static int family_find_dir(struct family *f)
{
	char self[4096], probe[4200];
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(f->dir, sizeof(f->dir), "%s", dirname(self));
		snprintf(probe, sizeof(probe), "%s/cellvm-vcpu", f->dir);
		if (access(probe, X_OK) == 0)
			return 0;
	}
	snprintf(f->dir, sizeof(f->dir), "%s", CELLVM_LIBEXECDIR);
	snprintf(probe, sizeof(probe), "%s/cellvm-vcpu", f->dir);
	if (access(probe, X_OK) == 0)
		return 0;
	log_err("cannot find cellvm-vcpu next to cellvm or in %s",
		CELLVM_LIBEXECDIR);
	return -ENOENT;
}

static int family_open_kvm(struct family *f)
{
	int v;

	f->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (f->kvm_fd < 0) {
		log_err("cannot open /dev/kvm: %s%s", strerror(errno),
			errno == ENOENT	  ? " (is KVM enabled in this kernel, "
					    "kvm_intel or kvm_amd loaded?)"
			: errno == EACCES ? " (is this user in the kvm group?)"
					  : "");
		return -errno;
	}
	v = ioctl(f->kvm_fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION) {
		log_err("/dev/kvm is not a KVM device with API version %d",
			KVM_API_VERSION);
		return -ENODEV;
	}
	return 0;
}

static int family_open_file(const char *path, const char *what)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_err("cannot open %s '%s': %s", what, path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_err("%s '%s' is not a regular file", what, path);
		close(fd);
		return -EINVAL;
	}
	return fd;
}

static int family_open(struct family *f)
{
	const struct options *o = f->opt;
	int r;

	f->kernel_fd = family_open_file(o->kernel, "kernel");
	if (f->kernel_fd < 0)
		return f->kernel_fd;
	if (o->initrd) {
		f->initrd_fd = family_open_file(o->initrd, "initrd");
		if (f->initrd_fd < 0)
			return f->initrd_fd;
	}
	r = family_open_kvm(f);
	if (r < 0)
		return r;
	f->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (f->devnull < 0) {
		log_err("cannot open /dev/null: %s", strerror(errno));
		return -errno;
	}
	f->ram_fd = shm_create("cellvm-ram", o->mem);
	if (f->ram_fd < 0) {
		log_err("cannot create %llu MiB of guest RAM: %s",
			(unsigned long long)(o->mem >> 20),
			strerror(-f->ram_fd));
		return f->ram_fd;
	}
	return 0;
}

/* The shared pages of the interrupt path: lines and mailboxes. */
static int family_irq_pages(struct family *f)
{
	size_t mlen = mailbox_page_size(f->opt->cpus);
	struct mailbox_page *mb;
	struct irq_page *p;

	f->irq_fd = shm_create("cellvm-irq", sizeof(struct irq_page));
	if (f->irq_fd < 0)
		return f->irq_fd;
	p = shm_map(f->irq_fd, sizeof(*p), 1);
	if (!p)
		return -errno;
	irq_page_init(p);
	f->irq = p;
	f->mbox_fd = shm_create("cellvm-mailbox", mlen);
	if (f->mbox_fd < 0)
		return f->mbox_fd;
	mb = shm_map(f->mbox_fd, mlen, 1);
	if (!mb)
		return -errno;
	mailbox_page_init(mb, f->opt->cpus);
	munmap(mb, mlen);
	return 0;
}

/* A message ring from device from to device to (struct link). */
static int family_link(struct family *f, unsigned from, unsigned to)
{
	struct link *l;
	struct ring *r;

	if (f->nlinks == BROKER_MAX_LINKS)
		return -E2BIG;
	l = &f->link[f->nlinks];
	l->fd = shm_create("cellvm-channel", ring_size(1));
	if (l->fd < 0)
		return l->fd;
	r = shm_map(l->fd, ring_size(1), 1);
	if (!r)
		return -errno;
	ring_init(r, 1);
	munmap(r, ring_size(1));
	l->from = from;
	l->to = to;
	f->nlinks++;
	return 0;
}

/*
 * The message rings: I/O APIC <-> LAPIC first (each one's first input and
 * output), then per PCI device one ring from the PCI host (the host's
 * outputs in slot order) and one to the LAPIC (MSI-X).
 */
static int family_links(struct family *f)
{
	int ioapic = -1, lapic = -1, host = -1, r = 0;
	unsigned i;

	for (i = 0; i < f->ndev; i++) {
		const struct dev_desc *d = f->dev[i].dev;

		if (d->ioapic)
			ioapic = (int)i;
		if (d->mailbox)
			lapic = (int)i;
		if (d->pci_host)
			host = (int)i;
	}
	if (ioapic < 0 || lapic < 0 || host < 0)
		return -EINVAL;
	r = family_link(f, (unsigned)ioapic, (unsigned)lapic);
	if (!r)
		r = family_link(f, (unsigned)lapic, (unsigned)ioapic);
	for (i = 0; !r && i < f->ndev; i++) {
		if (!f->dev[i].dev->pci_slot)
			continue;
		r = family_link(f, (unsigned)host, i);
		if (!r)
			r = family_link(f, i, (unsigned)lapic);
	}
	return r;
}

static int family_devices(struct family *f)
{
	unsigned i;
	int r;

	r = pcidev_plan(f);
	if (r < 0)
		return r;
	for (i = 0; i < dev_table_len + f->npcidev; i++) {
		struct child *c = &f->dev[f->ndev];
		size_t len = ring_size(f->opt->cpus);

		memset(c, 0, sizeof(*c));
		c->kind = CHILD_DEVICE;
		c->dev = i < dev_table_len ? &dev_table[i]
					   : &f->pcidev[i - dev_table_len];
		c->index = f->ndev++;
		c->pidfd = c->ctl = c->state_fd = -1;
		snprintf(c->name, sizeof(c->name), "cellvm-dev-%s",
			 c->dev->name);
		c->ring_fd = shm_create("cellvm-ring", len);
		if (c->ring_fd < 0)
			return c->ring_fd;
		c->ring = shm_map(c->ring_fd, len, 1);
		if (!c->ring)
			return -errno;
		ring_init(c->ring, f->opt->cpus);
		r = child_status_page(c, 0);
		if (r < 0)
			return r;
	}
	return family_links(f);
}

static void family_child_init(struct child *c, const char *name,
			      enum child_kind kind)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->kind = kind;
	c->pidfd = c->ctl = c->ring_fd = c->state_fd = -1;
}

/* Hello from a device: create its state page the first time. */
static int family_device_hello(struct family *f, struct child *c,
			       const Cellvm__HelloNotice *h)
{
	uint64_t size;

	if (h->state_size == 0 || h->state_size > DEV_MAX_STATE ||
	    h->block_size > DEV_MAX_STATE || h->blocks_per_cpu > 1) {
		log_err("%s asks for a state page laid out as %llu + %u x %llu "
			"bytes",
			c->name, (unsigned long long)h->state_size,
			h->blocks_per_cpu, (unsigned long long)h->block_size);
		return -EINVAL;
	}
	size = state_page_size(h->state_size,
			       1 + h->blocks_per_cpu * f->opt->cpus,
			       h->block_size);
	if (c->state_fd >= 0) {
		if (size != c->state_size) {
			log_err("%s changed its state layout", c->name);
			return -EINVAL;
		}
		return 0;
	}
	c->state_size = size;
	c->state_fd = shm_create("cellvm-state", c->state_size);
	return c->state_fd < 0 ? c->state_fd : 0;
}

int family_hello(struct family *f, struct child *c)
{
	ctl_msg *m = NULL;
	int r;

	r = child_expect(f, c, CELLVM__CONTROL__BODY_HELLO, START_TIMEOUT_MS,
			 &m);
	if (r < 0)
		return r;
	if (c->kind == CHILD_DEVICE)
		r = family_device_hello(f, c, m->hello);
	ctl_free(m);
	return r;
}

static int family_load_kernel(struct family *f, ctl_msg **reply)
{
	Cellvm__LoadKernelRequest req = CELLVM__LOAD_KERNEL_REQUEST__INIT;
	Cellvm__Region reg[BROKER_MAX_DEVICES * DEV_MAX_RANGES];
	Cellvm__Region *regp[BROKER_MAX_DEVICES * DEV_MAX_RANGES];
	ctl_msg m = CELLVM__CONTROL__INIT;
	int fds[3], nfds = 0, r;
	unsigned i, j, n = 0;

	for (i = 0; i < f->ndev; i++) {
		const struct dev_desc *d = f->dev[i].dev;

		for (j = 0; j < DEV_MAX_RANGES && d->range[j].size; j++) {
			cellvm__region__init(&reg[n]);
			reg[n].space = d->range[j].space;
			reg[n].start = d->range[j].base;
			reg[n].size = d->range[j].size;
			reg[n].ring = f->dev[i].index;
			reg[n].owner = (char *)d->name;
			reg[n].sync_writes = d->range[j].sync;
			regp[n] = &reg[n];
			n++;
		}
	}
	req.n_regions = n;
	req.regions = regp;
	req.mem_size = f->opt->mem;
	req.cpus = f->opt->cpus;
	req.cmdline = (char *)(f->opt->cmdline ? f->opt->cmdline : "");
	req.kernel_name = (char *)f->opt->kernel;
	req.initrd_name = (char *)(f->opt->initrd ? f->opt->initrd : "");
	req.ram_fd = ctl_add_fd(fds, &nfds, f->ram_fd);
	req.kernel_fd = ctl_add_fd(fds, &nfds, f->kernel_fd);
	if (f->initrd_fd >= 0) {
		req.initrd_fd = ctl_add_fd(fds, &nfds, f->initrd_fd);
	}
	m.body_case = CELLVM__CONTROL__BODY_LOAD_KERNEL;
	m.load_kernel = &req;
	r = ctl_send(f->mmu.ctl, &m, fds, (size_t)nfds);
	if (r < 0)
		return r;
	r = child_expect(f, &f->mmu, CELLVM__CONTROL__BODY_LOAD_KERNEL_REPLY,
			 START_TIMEOUT_MS * 3, reply);
	if (r < 0)
		return r;
	if ((*reply)->load_kernel_reply->error &&
	    *(*reply)->load_kernel_reply->error) {
		log_err("%s", (*reply)->load_kernel_reply->error);
		return -EINVAL;
	}
	if (!(*reply)->load_kernel_reply->plan) {
		log_err("cellvm-mmu sent no plan");
		return -EPROTO;
	}
	return 0;
}

static int family_setup_runner(struct family *f, Cellvm__Plan *plan)
{
	Cellvm__SetupRunnerRequest req = CELLVM__SETUP_RUNNER_REQUEST__INIT;
	ctl_msg m = CELLVM__CONTROL__INIT, *rep;
	int32_t ring_idx[BROKER_MAX_DEVICES];
	int fds[5 + BROKER_MAX_DEVICES], nfds = 0, r;
	unsigned i;

	req.plan = plan;
	req.cpus = f->opt->cpus;
	req.kvm_fd = ctl_add_fd(fds, &nfds, f->kvm_fd);
	req.ram_fd = ctl_add_fd(fds, &nfds, f->ram_fd);
	req.status_fd = ctl_add_fd(fds, &nfds, f->runner.status_fd);
	for (i = 0; i < f->ndev; i++) {
		ring_idx[i] = ctl_add_fd(fds, &nfds, f->dev[i].ring_fd);
		if (f->dev[i].dev->pic)
			req.pic_ring = i + 1;
		if (f->dev[i].dev->mailbox)
			req.lapic_ring = i + 1;
	}
	req.n_ring_fds = f->ndev;
	req.ring_fds = ring_idx;
	req.mailbox_fd = ctl_add_fd(fds, &nfds, f->mbox_fd);
	req.irq_fd = ctl_add_fd(fds, &nfds, f->irq_fd);
	m.body_case = CELLVM__CONTROL__BODY_SETUP_RUNNER;
	m.setup_runner = &req;
	r = ctl_send(f->runner.ctl, &m, fds, (size_t)nfds);
	/* The packet holds its own reference: only the runner has /dev/kvm
	 * from here on, before any guest code runs. */
	close(f->kvm_fd);
	f->kvm_fd = -1;
	if (r < 0)
		return r;
	r = child_expect(f, &f->runner, CELLVM__CONTROL__BODY_READY,
			 START_TIMEOUT_MS, &rep);
	if (r < 0)
		return r;
	ctl_free(rep);
	return 0;
}

static int family_spawn_all(struct family *f)
{
	unsigned i;
	int r;

	family_child_init(&f->mmu, "cellvm-mmu", CHILD_MMU);
	family_child_init(&f->runner, "cellvm-vcpu", CHILD_VCPU);
	r = child_status_page(&f->mmu, 0);
	if (!r)
		r = child_status_page(&f->runner, f->opt->cpus);
	if (!r)
		r = child_spawn(f, &f->mmu);
	for (i = 0; !r && i < f->ndev; i++)
		r = child_spawn(f, &f->dev[i]);
	if (!r)
		r = child_spawn(f, &f->runner);
	if (r < 0) {
		log_err("cannot start the VM's processes: %s", strerror(-r));
		return r;
	}
	r = family_hello(f, &f->mmu);
	for (i = 0; !r && i < f->ndev; i++)
		r = family_hello(f, &f->dev[i]);
	if (!r)
		r = family_hello(f, &f->runner);
	return r;
}

static int family_start(struct family *f)
{
	ctl_msg *plan = NULL, *rep;
	unsigned i;
	int r;

	r = family_find_dir(f);
	if (!r)
		r = family_open(f);
	if (!r)
		r = family_irq_pages(f);
	if (!r)
		r = family_devices(f);
	if (!r)
		r = console_init(f);
	/* Limits before the first child, while the broker may still be
	 * root. */
	if (!r)
		r = cgroup_setup(f, log_vm());
	/* All is open: a root broker is root no more from here on. */
	if (!r)
		r = jail_setup(f);
	if (r < 0)
		return r;
	r = family_spawn_all(f);
	if (r < 0)
		return r;
	r = family_load_kernel(f, &plan);
	for (i = 0; !r && i < f->ndev; i++)
		r = device_setup(f, &f->dev[i]);
	for (i = 0; !r && i < f->ndev; i++) {
		r = child_expect(f, &f->dev[i], CELLVM__CONTROL__BODY_READY,
				 START_TIMEOUT_MS, &rep);
		if (!r)
			ctl_free(rep);
	}
	if (!r)
		r = family_setup_runner(f, plan->load_kernel_reply->plan);
	ctl_free(plan);
	close(f->kernel_fd);
	f->kernel_fd = -1;
	if (f->initrd_fd >= 0)
		close(f->initrd_fd);
	f->initrd_fd = -1;
	return r;
}

static void family_teardown(struct family *f)
{
	struct child *all[2 + BROKER_MAX_DEVICES];
	char cause[160];
	unsigned i, n = 0;

	all[n++] = &f->runner;
	all[n++] = &f->mmu;
	for (i = 0; i < f->ndev; i++)
		all[n++] = &f->dev[i];
	for (i = 0; i < n; i++)
		child_kill(all[i]);
	for (i = 0; i < n; i++)
		child_reap(all[i], cause, sizeof(cause));
	pcidev_close(f);
	console_restore(f);
	cgroup_close(f);
	jail_close(f);
}

static void family_stats(const struct family *f)
{
	const struct proc_status *s = f->runner.status;
	unsigned i;

	if (!s)
		return;
	for (i = 0; i < f->opt->cpus; i++) {
		const struct vcpu_stat *v = &s->vcpu[i];

		fprintf(stderr,
			"vcpu%u: exits %llu io_exits %llu mmio_exits %llu "
			"halt_exits %llu irq_window_exits %llu "
			"irq_injections %llu signal_exits %llu "
			"unclaimed_io %llu\n",
			i, (unsigned long long)v->exits,
			(unsigned long long)v->io_exits,
			(unsigned long long)v->mmio_exits,
			(unsigned long long)v->halt_exits,
			(unsigned long long)v->irq_window_exits,
			(unsigned long long)v->irq_injections,
			(unsigned long long)v->signal_exits,
			(unsigned long long)v->unclaimed_io);
	}
	fprintf(stderr, "irq: high lines:");
	for (i = 0; f->irq && i < IRQ_LINES; i++) {
		if (irq_line_get(f->irq, i))
			fprintf(stderr, " %u", i);
	}
	fprintf(stderr, "\n");
	for (i = 0; i < f->ndev; i++) {
		const struct child *c = &f->dev[i];

		fprintf(stderr,
			"%s: requests %llu reads %llu writes %llu "
			"restarts %u\n",
			c->name, (unsigned long long)c->status->dev.requests,
			(unsigned long long)c->status->dev.reads,
			(unsigned long long)c->status->dev.writes, c->restarts);
	}
}

int family_run(const struct options *opt)
{
	static struct family f;
	int r;

	f.opt = opt;
	f.kvm_fd = f.kernel_fd = f.initrd_fd = f.ram_fd = f.irq_fd = -1;
	f.mbox_fd = -1;
	f.devnull = f.epoll = f.sigfd = -1;
	f.jail.lock_fd = f.jail.dir_fd = -1;
	f.runner.pidfd = f.mmu.pidfd = -1;
	f.started_ns = now_ns();
	/* The name first: a clash is one line, before anything starts. */
	if (ctlsock_open(&f) < 0)
		return 1;
	if (opt->learn) {
		f.learn = learn_new();
		if (!f.learn) {
			ctlsock_close(&f);
			return 1;
		}
	}
	r = family_start(&f);
	if (r == 0)
		loop_run(&f);
	else
		f.exit_status = 1;
	if (opt->stats)
		family_stats(&f);
	family_teardown(&f);
	if (f.learn) {
		/* Every child is gone: the counts are final. */
		learn_report(f.learn, &f, stdout, opt->learn_json);
		learn_free(f.learn);
		f.learn = NULL;
	}
	/* Last: a client that asked to stop sees the end once all is gone. */
	ctlsock_close(&f);
	return f.exit_status;
}
