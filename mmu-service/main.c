/*
 * cellvm-mmu: owns the guest-physical memory map. Loads the kernel, initrd
 * and command line into guest RAM, builds the boot tables, places the
 * devices' ranges and answers with the plan the vCPU runner applies.
 * It holds guest RAM and the files it was handed; never /dev/kvm, never a
 * path of its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "loader.h"
#include "log.h"
#include "sandbox.h"
#include "shm.h"

extern const char policy_text[];

#define MMU_MAX_FILE (1ull << 30)
#define PIO_PORTS 0x10000ull

enum {
	MMU_EXIT_SANDBOX = 3,
	MMU_EXIT_CHANNEL = 5,
};

struct load {
	struct guest_mem mem;
	struct mem_slot slot[MEM_MAX_SLOTS];
	int nslots;
	uint8_t *kernel, *initrd;
	size_t kernel_size, initrd_size;
	struct boot_cpu cpu;
	enum boot_protocol proto;
	char err[256];
};

static const char *name(const char *given, const char *fallback)
{
	return given && *given ? given : fallback;
}

/* Read a whole file handed over by the broker. */
static int mmu_read_file(int fd, const char *what, uint64_t max, uint8_t **out,
			 size_t *size, char *err, size_t errlen)
{
	struct stat st;
	size_t done = 0;
	ssize_t n;

	if (shm_fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", what);
		return -EINVAL;
	}
	if (st.st_size == 0 || (uint64_t)st.st_size > max) {
		snprintf(err, errlen, "%s: size %lld is %s", what,
			 (long long)st.st_size,
			 st.st_size ? "larger than guest RAM allows" : "zero");
		return -E2BIG;
	}
	*out = malloc((size_t)st.st_size);
	if (!*out)
		return -ENOMEM;
	while (done < (size_t)st.st_size) {
		n = pread(fd, *out + done, (size_t)st.st_size - done,
			  (off_t)done);
		if (n <= 0) {
			snprintf(err, errlen, "%s: read failed: %s", what,
				 n < 0 ? strerror(errno) : "file shrank");
			return -EIO;
		}
		done += (size_t)n;
	}
	*size = done;
	return 0;
}

/* Device ranges: inside their space, apart from each other and from RAM. */
static int mmu_check_regions(const Cellvm__LoadKernelRequest *req, char *err,
			     size_t errlen)
{
	size_t i, j;

	for (i = 0; i < req->n_regions; i++) {
		const Cellvm__Region *a = req->regions[i];
		uint64_t end = a->start + a->size;
		int pio = a->space == CELLVM__REGION__SPACE__PIO;

		if (a->size == 0 || end < a->start ||
		    (pio && end > PIO_PORTS) ||
		    (!pio &&
		     (a->start < MEM_HOLE_START || end > MEM_HIGH_START))) {
			snprintf(err, errlen,
				 "device %s: range [0x%llx, +0x%llx) is not "
				 "in the %s space",
				 a->owner, (unsigned long long)a->start,
				 (unsigned long long)a->size,
				 pio ? "port" : "MMIO hole");
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			const Cellvm__Region *b = req->regions[j];

			if (a->space == b->space &&
			    a->start < b->start + b->size && b->start < end) {
				snprintf(err, errlen,
					 "devices %s and %s overlap", b->owner,
					 a->owner);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int mmu_load(struct load *l, const Cellvm__LoadKernelRequest *req,
		    int *fds, size_t nfds)
{
	struct kernel_args a = { 0 };
	int ram, kfd, ifd, r;
	char msg[200];

	l->nslots = mem_layout(req->mem_size, &l->mem, l->slot);
	if (l->nslots < 0) {
		snprintf(l->err, sizeof(l->err), "bad memory size %llu",
			 (unsigned long long)req->mem_size);
		return l->nslots;
	}
	r = mmu_check_regions(req, l->err, sizeof(l->err));
	if (r < 0)
		return r;
	ram = ctl_take_fd(fds, nfds, req->ram_fd);
	kfd = ctl_take_fd(fds, nfds, req->kernel_fd);
	if (ram < 0 || kfd < 0) {
		snprintf(l->err, sizeof(l->err), "no RAM or kernel descriptor");
		return -EBADF;
	}
	l->mem.ram = shm_map(ram, l->mem.size, 1);
	close(ram);
	if (!l->mem.ram) {
		snprintf(l->err, sizeof(l->err), "cannot map guest RAM: %s",
			 strerror(errno));
		return -errno;
	}
	r = mmu_read_file(kfd, name(req->kernel_name, "kernel"), MMU_MAX_FILE,
			  &l->kernel, &l->kernel_size, l->err, sizeof(l->err));
	close(kfd);
	if (r < 0)
		return r;
	ifd = ctl_take_fd(fds, nfds, req->initrd_fd);
	if (ifd >= 0) {
		r = mmu_read_file(ifd, name(req->initrd_name, "initrd"),
				  l->mem.low_size, &l->initrd, &l->initrd_size,
				  l->err, sizeof(l->err));
		close(ifd);
		if (r < 0)
			return r;
	}
	a.kernel = l->kernel;
	a.kernel_size = l->kernel_size;
	a.initrd = l->initrd;
	a.initrd_size = l->initrd_size;
	a.cmdline = req->cmdline ? req->cmdline : "";
	a.cpus = req->cpus;
	r = load_kernel(&l->mem, &a, &l->cpu, &l->proto, msg, sizeof(msg));
	if (r < 0)
		snprintf(l->err, sizeof(l->err), "%s: %s",
			 name(req->kernel_name, "kernel"), msg);
	return r;
}

static Cellvm__Segment *mmu_seg(Cellvm__Segment *out, const struct seg *s)
{
	cellvm__segment__init(out);
	out->seg_base = s->base;
	out->limit = s->limit;
	out->selector = s->selector;
	out->type = s->type;
	out->present = s->present;
	out->dpl = s->dpl;
	out->db = s->db;
	out->s = s->s;
	out->l = s->l;
	out->g = s->g;
	return out;
}

static void mmu_cpu(Cellvm__VcpuState *v, Cellvm__Segment seg[8],
		    Cellvm__DescTable dt[2], const struct boot_cpu *c)
{
	cellvm__vcpu_state__init(v);
	v->rip = c->rip;
	v->rsp = c->rsp;
	v->rflags = c->rflags;
	v->rax = c->rax;
	v->rbx = c->rbx;
	v->rcx = c->rcx;
	v->rdx = c->rdx;
	v->rsi = c->rsi;
	v->rdi = c->rdi;
	v->rbp = c->rbp;
	v->cr0 = c->cr0;
	v->cr3 = c->cr3;
	v->cr4 = c->cr4;
	v->efer = c->efer;
	v->cs = mmu_seg(&seg[0], &c->cs);
	v->ds = mmu_seg(&seg[1], &c->ds);
	v->es = mmu_seg(&seg[2], &c->es);
	v->fs = mmu_seg(&seg[3], &c->fs);
	v->gs = mmu_seg(&seg[4], &c->gs);
	v->ss = mmu_seg(&seg[5], &c->ss);
	v->tr = mmu_seg(&seg[6], &c->tr);
	v->ldt = mmu_seg(&seg[7], &c->ldt);
	cellvm__desc_table__init(&dt[0]);
	cellvm__desc_table__init(&dt[1]);
	dt[0].table_base = c->gdt_base;
	dt[0].limit = c->gdt_limit;
	dt[1].table_base = c->idt_base;
	dt[1].limit = c->idt_limit;
	v->gdt = &dt[0];
	v->idt = &dt[1];
}

static int mmu_reply_plan(int ctl, const struct load *l,
			  const Cellvm__LoadKernelRequest *req)
{
	Cellvm__LoadKernelReply rep = CELLVM__LOAD_KERNEL_REPLY__INIT;
	ctl_msg m = CELLVM__CONTROL__INIT;
	Cellvm__Plan plan = CELLVM__PLAN__INIT;
	Cellvm__Slot slot[MEM_MAX_SLOTS], *slotp[MEM_MAX_SLOTS];
	Cellvm__VcpuState cpu;
	Cellvm__Segment seg[8];
	Cellvm__DescTable dt[2];
	int i;

	for (i = 0; i < l->nslots; i++) {
		cellvm__slot__init(&slot[i]);
		slot[i].slot = (uint32_t)i;
		slot[i].gpa = l->slot[i].gpa;
		slot[i].size = l->slot[i].size;
		slot[i].offset = l->slot[i].offset;
		slotp[i] = &slot[i];
	}
	plan.n_slots = (size_t)l->nslots;
	plan.slots = slotp;
	/* Fixed ranges are placed as asked; the check above vetted them. */
	plan.n_regions = req->n_regions;
	plan.regions = req->regions;
	mmu_cpu(&cpu, seg, dt, &l->cpu);
	plan.boot = &cpu;
	plan.protocol = l->proto == BOOT_PVH ? "pvh" : "linux64";
	rep.plan = &plan;
	m.body_case = CELLVM__CONTROL__BODY_LOAD_KERNEL_REPLY;
	m.load_kernel_reply = &rep;
	return ctl_send(ctl, &m, NULL, 0);
}

static int mmu_reply_error(int ctl, const char *err)
{
	Cellvm__LoadKernelReply rep = CELLVM__LOAD_KERNEL_REPLY__INIT;
	ctl_msg m = CELLVM__CONTROL__INIT;

	rep.error = (char *)err;
	m.body_case = CELLVM__CONTROL__BODY_LOAD_KERNEL_REPLY;
	m.load_kernel_reply = &rep;
	return ctl_send(ctl, &m, NULL, 0);
}

static int mmu_handle(int ctl, const Cellvm__LoadKernelRequest *req, int *fds,
		      size_t nfds)
{
	static struct load l;

	if (l.mem.ram)
		return ctl_send_error(ctl, "the kernel is loaded already");
	if (mmu_load(&l, req, fds, nfds) < 0)
		return mmu_reply_error(ctl, l.err);
	free(l.kernel);
	free(l.initrd);
	l.kernel = l.initrd = NULL;
	log_info("loaded %s (%s), %llu MiB of RAM",
		 name(req->kernel_name, "kernel"),
		 l.proto == BOOT_PVH ? "PVH" : "64-bit boot protocol",
		 (unsigned long long)(l.mem.size >> 20));
	return mmu_reply_plan(ctl, &l, req);
}

int main(void)
{
	int fds[CTL_MAX_FDS];
	size_t nfds;
	ctl_msg *m = NULL;

	log_init("cellvm-mmu", 1);
	if (sandbox_enter(policy_text) < 0)
		return MMU_EXIT_SANDBOX;
	if (ctl_send_hello(CTL_FD, CELLVM__PROC_KIND__PROC_MMU, "cellvm-mmu", 0,
			   0, 0) < 0)
		return MMU_EXIT_CHANNEL;
	for (;;) {
		if (ctl_recv(CTL_FD, &m, fds, &nfds, 0) < 0 || !m)
			return 0;
		if (m->body_case == CELLVM__CONTROL__BODY_LOAD_KERNEL)
			mmu_handle(CTL_FD, m->load_kernel, fds, nfds);
		else
			log_warn("unexpected control message %d", m->body_case);
		ctl_close_fds(fds, nfds);
		ctl_free(m);
	}
}
