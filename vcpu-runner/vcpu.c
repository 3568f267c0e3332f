/*
 * One thread per vCPU: enter the guest, handle the exit, repeat. Port and
 * MMIO exits go to the owning device's ring: writes are posted, reads wait
 * for the answer. Nothing here allocates or logs per exit; it counts.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "futex.h"
#include "log.h"
#include "runner.h"

static void seg_to_kvm(struct kvm_segment *k, const Cellvm__Segment *s)
{
	memset(k, 0, sizeof(*k));
	if (!s) {
		k->unusable = 1;
		return;
	}
	k->base = s->seg_base;
	k->limit = s->limit;
	k->selector = (uint16_t)s->selector;
	k->type = (uint8_t)s->type;
	k->present = s->present;
	k->dpl = (uint8_t)s->dpl;
	k->db = s->db;
	k->s = s->s;
	k->l = s->l;
	k->g = s->g;
	k->unusable = !s->present;
}

static int vcpu_set_boot(struct vcpu *v, const Cellvm__VcpuState *b)
{
	struct kvm_sregs sr;
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_SREGS, &sr) < 0)
		return -errno;
	seg_to_kvm(&sr.cs, b->cs);
	seg_to_kvm(&sr.ds, b->ds);
	seg_to_kvm(&sr.es, b->es);
	seg_to_kvm(&sr.fs, b->fs);
	seg_to_kvm(&sr.gs, b->gs);
	seg_to_kvm(&sr.ss, b->ss);
	seg_to_kvm(&sr.tr, b->tr);
	seg_to_kvm(&sr.ldt, b->ldt);
	if (b->gdt) {
		sr.gdt.base = b->gdt->table_base;
		sr.gdt.limit = (uint16_t)b->gdt->limit;
	}
	if (b->idt) {
		sr.idt.base = b->idt->table_base;
		sr.idt.limit = (uint16_t)b->idt->limit;
	}
	sr.cr0 = b->cr0;
	sr.cr3 = b->cr3;
	sr.cr4 = b->cr4;
	sr.efer = b->efer;
	if (ioctl(v->fd, KVM_SET_SREGS, &sr) < 0)
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rip = b->rip;
	regs.rsp = b->rsp;
	regs.rflags = b->rflags ? b->rflags : 0x2;
	regs.rax = b->rax;
	regs.rbx = b->rbx;
	regs.rcx = b->rcx;
	regs.rdx = b->rdx;
	regs.rsi = b->rsi;
	regs.rdi = b->rdi;
	regs.rbp = b->rbp;
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

/* The CPUID KVM supports, with this vCPU's initial APIC ID. */
static int vcpu_cpuid(struct vcpu *v)
{
	const struct kvm_cpuid2 *all = v->vm->cpuid;
	size_t len = sizeof(*all) + all->nent * sizeof(all->entries[0]);
	struct kvm_cpuid2 *c = malloc(len);
	int r = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, all, len);
	cpuid_for_vcpu(c, v->id);
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		r = -errno;
	free(c);
	return r;
}

int vcpu_init(struct vm *vm, struct vcpu *v, unsigned id,
	      const Cellvm__VcpuState *boot)
{
	int r;

	v->vm = vm;
	v->id = id;
	v->stat = &vm->status->vcpu[id];
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		log_err("KVM_CREATE_VCPU %u: %s", id, strerror(errno));
		return -errno;
	}
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED)
		return -errno;
	r = vcpu_cpuid(v);
	if (r < 0) {
		log_err("KVM_SET_CPUID2: %s", strerror(-r));
		return r;
	}
	if (boot) {
		r = vcpu_set_boot(v, boot);
		if (r < 0) {
			log_err("cannot set the boot vCPU state: %s",
				strerror(-r));
			return r;
		}
	}
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	atomic_store(&v->wake, 1);
	futex_wake(&v->wake, 1);
	v->run->immediate_exit = 1;
	if (v->thread)
		pthread_kill(v->thread, SIGUSR1);
}

/*
 * A report of the runner itself to a device (RING_CTRL), posted without
 * waking it: the device takes it before anything later from this vCPU.
 */
void vcpu_post(struct vcpu *v, int ring, uint64_t addr, uint64_t data)
{
	struct ring_req req = { 0 };

	req.addr = addr;
	req.data = data;
	req.size = 8;
	req.vcpu = (uint16_t)v->id;
	req.flags = RING_CTRL | RING_WRITE;
	ring_post_lazy(v->vm->ring[ring], &req);
}

/* A request of the runner itself to a device (RING_CTRL): its answer. */
uint64_t vcpu_call(struct vcpu *v, int ring, uint64_t addr, uint64_t data)
{
	struct ring_req req = { 0 };

	req.addr = addr;
	req.data = data;
	req.size = 8;
	req.vcpu = (uint16_t)v->id;
	req.flags = RING_CTRL;
	req.id = ++v->next_id;
	return ring_call(v->vm->ring[ring], &req);
}

/* One access of size bytes at addr; data is the exit's buffer. */
static void vcpu_access(struct vcpu *v, int ring, uint64_t addr, unsigned size,
			int write, uint8_t *data, uint8_t flags, bool sync)
{
	struct ring_req req = { 0 };
	uint64_t val;

	if (ring < 0) {
		/* Unclaimed: reads float high, writes go nowhere. */
		count_inc(&v->stat->unclaimed_io);
		if (!write)
			memset(data, 0xff, size);
		return;
	}
	req.addr = addr;
	req.size = (uint8_t)size;
	req.vcpu = (uint16_t)v->id;
	req.flags = flags;
	if (write) {
		req.flags |= RING_WRITE;
		memcpy(&req.data, data, size);
		if (!sync) {
			ring_post(v->vm->ring[ring], &req);
			return;
		}
		/* The device must be done before the guest goes on (a TPR or
		 * EOI write changes what may be injected next). */
		req.flags |= RING_SYNC;
		req.id = ++v->next_id;
		ring_call(v->vm->ring[ring], &req);
		return;
	}
	req.id = ++v->next_id;
	val = ring_call(v->vm->ring[ring], &req);
	memcpy(data, &val, size);
}

static void vcpu_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned size = run->io.size, i;
	uint64_t off = run->io.data_offset;
	int write = run->io.direction == KVM_EXIT_IO_OUT;
	uint8_t *data = (uint8_t *)run + off;

	count_inc(&v->stat->io_exits);
	if ((size != 1 && size != 2 && size != 4) || off > v->vm->run_size ||
	    (uint64_t)size * run->io.count > v->vm->run_size - off) {
		vm_stopped(v->vm, v->id,
			   CELLVM__VM_STOPPED_NOTICE__REASON__HOST_ERROR,
			   "malformed I/O exit");
		return;
	}
	/* String I/O (REP INS/OUTS) comes as count accesses in a row. */
	for (i = 0; i < run->io.count; i++, data += size) {
		uint16_t port = run->io.port;
		bool sync;
		int ring = dispatch_pio(&v->vm->dispatch, port, &sync);

		vcpu_access(v, ring, port, size, write, data, 0, sync);
	}
}

static void vcpu_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned len = run->mmio.len;
	bool sync;
	int ring;

	count_inc(&v->stat->mmio_exits);
	if (len == 0 || len > 8) {
		vm_stopped(v->vm, v->id,
			   CELLVM__VM_STOPPED_NOTICE__REASON__HOST_ERROR,
			   "malformed MMIO exit");
		return;
	}
	ring = dispatch_mmio(&v->vm->dispatch, run->mmio.phys_addr, &sync);
	vcpu_access(v, ring, run->mmio.phys_addr, len, run->mmio.is_write,
		    run->mmio.data, RING_MMIO, sync);
}

/* Park while the VM is paused or stopped. */
static void vcpu_park(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint32_t p;

	atomic_fetch_add(&vm->parked, 1);
	futex_wake(&vm->parked, INT_MAX);
	while ((p = atomic_load(&vm->paused)) != 0 || atomic_load(&vm->stopped))
		futex_wait(&vm->paused, p, 0);
	atomic_fetch_sub(&vm->parked, 1);
}

static void vcpu_internal_error(struct vcpu *v)
{
	struct kvm_regs regs;
	unsigned long long rip = 0;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) == 0)
		rip = regs.rip;
	vm_stopped(v->vm, v->id,
		   CELLVM__VM_STOPPED_NOTICE__REASON__INTERNAL_ERROR,
		   "KVM internal error %u (%s) at rip 0x%llx",
		   v->run->internal.suberror,
		   v->run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
			   ? "instruction emulation failed"
			   : "see linux/kvm.h",
		   rip);
}

/* Handle one exit; false when the vCPU cannot go on. */
static bool vcpu_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_io(v);
		return true;
	case KVM_EXIT_MMIO:
		vcpu_mmio(v);
		return true;
	case KVM_EXIT_HLT:
		irq_halt(v);
		return true;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		count_inc(&v->stat->irq_window_exits);
		return true;
	case KVM_EXIT_INTR:
		count_inc(&v->stat->signal_exits);
		return true;
	case KVM_EXIT_SHUTDOWN:
		vm_stopped(
			v->vm, v->id,
			CELLVM__VM_STOPPED_NOTICE__REASON__SHUTDOWN,
			"the guest reset the machine (triple fault or reset)");
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		vm_stopped(v->vm, v->id,
			   CELLVM__VM_STOPPED_NOTICE__REASON__SHUTDOWN,
			   "the guest asked for system event %u",
			   run->system_event.type);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		vm_stopped(v->vm, v->id,
			   CELLVM__VM_STOPPED_NOTICE__REASON__INTERNAL_ERROR,
			   "KVM could not enter the guest (reason 0x%llx)",
			   (unsigned long long)run->fail_entry
				   .hardware_entry_failure_reason);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		vcpu_internal_error(v);
		return false;
	default:
		count_inc(&v->stat->other_exits);
		vm_stopped(v->vm, v->id,
			   CELLVM__VM_STOPPED_NOTICE__REASON__INTERNAL_ERROR,
			   "unexpected exit reason %u", run->exit_reason);
		return false;
	}
}

void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	int r;

	for (;;) {
		if (atomic_load(&vm->paused) || atomic_load(&vm->stopped)) {
			vcpu_park(v);
			continue;
		}
		if (v->state == VCPU_WAIT_SIPI) {
			irq_wait_sipi(v);
			continue;
		}
		if (!irq_before_entry(v))
			continue;
		r = ioctl(v->fd, KVM_RUN, 0);
		irq_left_guest(v);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->run->immediate_exit = 0;
				count_inc(&v->stat->signal_exits);
				continue;
			}
			vm_stopped(
				vm, v->id,
				CELLVM__VM_STOPPED_NOTICE__REASON__HOST_ERROR,
				"KVM_RUN: %s", strerror(errno));
			continue;
		}
		count_inc(&v->stat->exits);
		vcpu_exit(v);
	}
	return NULL;
}
