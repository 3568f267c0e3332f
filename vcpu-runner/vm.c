/*
 * Creating the VM: KVM refuses VM and vCPU ioctls from any process but the
 * one that created the VM, so the runner creates it from the /dev/kvm
 * descriptor the broker handed over and applies the MMU service's plan.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "futex.h"
#include "log.h"
#include "runner.h"
#include "shm.h"

#define KVM_TSS_ADDR 0xfffbd000ul
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ul
#define PAGE_MASK 0xfffull

static int kvm_ioctl(int fd, unsigned long req, unsigned long arg)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static int vm_open(struct vm *vm, int kvm, unsigned cpus)
{
	int r, max;

	if (kvm_ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		log_err("/dev/kvm speaks an unknown API version");
		return -EINVAL;
	}
	max = kvm_ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = kvm_ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max > 0 && cpus > (unsigned)max) {
		log_err("%u vCPUs asked, KVM allows %d", cpus, max);
		return -EINVAL;
	}
	vm->fd = kvm_ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		log_err("KVM_CREATE_VM: %s", strerror(-vm->fd));
		return vm->fd;
	}
	if (kvm_ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0 ||
	    kvm_ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <=
		    0) {
		log_err("KVM lacks user memory or immediate exit");
		return -ENOTSUP;
	}
	/* Intel VMX needs these pages for real mode; harmless elsewhere. */
	if (kvm_ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0) {
		r = kvm_ioctl(vm->fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR);
		if (r < 0)
			return r;
	}
	if (kvm_ioctl(vm->fd, KVM_CHECK_EXTENSION,
		      KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
		uint64_t a = KVM_IDENTITY_MAP_ADDR;

		r = kvm_ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR,
			      (unsigned long)&a);
		if (r < 0)
			return r;
	}
	r = kvm_ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (r <= 0)
		return r < 0 ? r : -EINVAL;
	vm->run_size = (size_t)r;
	return 0;
}

/* Check one slot of the plan against the RAM file and the others. */
static int vm_check_slot(const struct vm *vm, const Cellvm__Plan *plan,
			 size_t i)
{
	const Cellvm__Slot *s = plan->slots[i];
	size_t j;

	if ((s->gpa | s->size | s->offset) & PAGE_MASK || s->size == 0 ||
	    s->offset > vm->ram_size || s->size > vm->ram_size - s->offset ||
	    s->gpa + s->size < s->gpa) {
		log_err("plan: slot %zu does not fit the RAM file", i);
		return -EINVAL;
	}
	for (j = 0; j < i; j++) {
		const Cellvm__Slot *o = plan->slots[j];

		if (s->gpa < o->gpa + o->size && o->gpa < s->gpa + s->size) {
			log_err("plan: slots %zu and %zu overlap", j, i);
			return -EINVAL;
		}
	}
	return 0;
}

static int vm_slots(struct vm *vm, const Cellvm__Plan *plan)
{
	struct kvm_userspace_memory_region reg;
	size_t i;
	int r;

	if (plan->n_slots == 0 || plan->n_slots > 32) {
		log_err("plan: %zu memory slots", plan->n_slots);
		return -EINVAL;
	}
	for (i = 0; i < plan->n_slots; i++) {
		const Cellvm__Slot *s = plan->slots[i];

		r = vm_check_slot(vm, plan, i);
		if (r < 0)
			return r;
		memset(&reg, 0, sizeof(reg));
		reg.slot = (uint32_t)i;
		reg.flags = s->readonly ? KVM_MEM_READONLY : 0;
		reg.guest_phys_addr = s->gpa;
		reg.memory_size = s->size;
		reg.userspace_addr = (uint64_t)(uintptr_t)(vm->ram + s->offset);
		r = kvm_ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION,
			      (unsigned long)&reg);
		if (r < 0) {
			log_err("KVM_SET_USER_MEMORY_REGION: %s", strerror(-r));
			return r;
		}
	}
	return 0;
}

static int vm_rings(struct vm *vm, const Cellvm__SetupRunnerRequest *req,
		    int *fds, size_t nfds)
{
	size_t len = ring_size(vm->ncpus), i;
	int fd;

	if (req->n_ring_fds > RUNNER_MAX_RINGS)
		return -E2BIG;
	for (i = 0; i < req->n_ring_fds; i++) {
		fd = ctl_take_fd(fds, nfds, req->ring_fds[i]);
		if (fd < 0)
			return fd;
		vm->ring[i] = shm_map(fd, len, 1);
		close(fd);
		if (!vm->ring[i] || ring_check(vm->ring[i], len, vm->ncpus)) {
			log_err("ring %zu is not a ring for %u vCPUs", i,
				vm->ncpus);
			return -EINVAL;
		}
	}
	vm->nrings = (unsigned)req->n_ring_fds;
	return 0;
}

static int vm_cpuid(struct vm *vm)
{
	unsigned n = 64;
	int r;

	for (;;) {
		vm->cpuid =
			calloc(1, sizeof(*vm->cpuid) +
					  n * sizeof(struct kvm_cpuid_entry2));
		if (!vm->cpuid)
			return -ENOMEM;
		vm->cpuid->nent = n;
		r = kvm_ioctl(vm->kvm, KVM_GET_SUPPORTED_CPUID,
			      (unsigned long)vm->cpuid);
		if (r != -E2BIG)
			break;
		free(vm->cpuid);
		n *= 2;
	}
	if (r == 0)
		cpuid_filter(vm->cpuid);
	return r;
}

static int vm_memory(struct vm *vm, int fd)
{
	long long size = shm_fd_size(fd);

	if (size <= 0)
		return -EINVAL;
	vm->ram_size = (uint64_t)size;
	vm->ram = shm_map(fd, (size_t)size, 1);
	if (!vm->ram) {
		log_err("cannot map guest RAM: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* The interrupt path: mailboxes, the IRQ-line page, PIC and LAPIC rings. */
static int vm_irq(struct vm *vm, const Cellvm__SetupRunnerRequest *req,
		  int *fds, size_t nfds)
{
	int fd;

	vm->pic_ring = (int)req->pic_ring - 1;
	vm->lapic_ring = (int)req->lapic_ring - 1;
	if (vm->pic_ring >= (int)vm->nrings ||
	    vm->lapic_ring >= (int)vm->nrings)
		return -EINVAL;
	if (req->mailbox_fd) {
		fd = ctl_take_fd(fds, nfds, req->mailbox_fd);
		if (fd < 0)
			return fd;
		vm->mbox = shm_map(fd, mailbox_page_size(vm->ncpus), 1);
		close(fd);
		if (!vm->mbox || vm->mbox->magic != MAILBOX_MAGIC ||
		    vm->mbox->nvcpus != vm->ncpus)
			return -EINVAL;
	}
	if (req->irq_fd) {
		fd = ctl_take_fd(fds, nfds, req->irq_fd);
		if (fd < 0)
			return fd;
		vm->irq = shm_map(fd, sizeof(struct irq_page), 1);
		close(fd);
		if (!vm->irq || vm->irq->magic != IRQ_PAGE_MAGIC)
			return -EINVAL;
	}
	return 0;
}

int vm_create(struct vm *vm, const Cellvm__SetupRunnerRequest *req, int *fds,
	      size_t nfds)
{
	int fd, r;
	unsigned i;

	if (!req->plan || !req->plan->boot || req->cpus == 0 ||
	    req->cpus > RING_MAX_VCPUS) {
		log_err("setup: no plan, or a bad vCPU count");
		return -EINVAL;
	}
	vm->ncpus = req->cpus;
	vm->kvm = ctl_take_fd(fds, nfds, req->kvm_fd);
	fd = ctl_take_fd(fds, nfds, req->ram_fd);
	if (vm->kvm < 0 || fd < 0)
		return -EBADF;
	r = vm_memory(vm, fd);
	close(fd);
	if (r < 0)
		return r;
	fd = ctl_take_fd(fds, nfds, req->status_fd);
	if (fd < 0)
		return fd;
	vm->status = shm_map(fd, status_size(vm->ncpus), 1);
	close(fd);
	if (!vm->status || vm->status->magic != STATUS_MAGIC)
		return -EINVAL;
	r = vm_open(vm, vm->kvm, vm->ncpus);
	if (!r)
		r = vm_slots(vm, req->plan);
	if (!r)
		r = vm_rings(vm, req, fds, nfds);
	if (!r)
		r = dispatch_build(&vm->dispatch, req->plan, vm->nrings);
	if (!r)
		r = vm_irq(vm, req, fds, nfds);
	if (!r)
		r = vm_cpuid(vm);
	if (r < 0)
		return r;
	vm->vcpu = calloc(vm->ncpus, sizeof(*vm->vcpu));
	if (!vm->vcpu)
		return -ENOMEM;
	for (i = 0; i < vm->ncpus; i++) {
		r = vcpu_init(vm, &vm->vcpu[i], i,
			      i == 0 ? req->plan->boot : NULL);
		if (r < 0)
			return r;
		/* APs wait for INIT/SIPI from the boot vCPU's APIC. */
		vm->vcpu[i].state = i ? VCPU_WAIT_SIPI : VCPU_RUNNING;
	}
	/* The VM and vCPU descriptors are all the runner needs from now on:
	 * without /dev/kvm it cannot create another VM. */
	close(vm->kvm);
	vm->kvm = -1;
	return 0;
}

int vm_start(struct vm *vm)
{
	unsigned i;
	int r;

	for (i = 0; i < vm->ncpus; i++) {
		r = pthread_create(&vm->vcpu[i].thread, NULL, vcpu_thread,
				   &vm->vcpu[i]);
		if (r) {
			log_err("cannot start vCPU %u: %s", i, strerror(r));
			return -r;
		}
	}
	if (vm->mbox || vm->irq) {
		r = pthread_create(&vm->kicker, NULL, irq_kicker, vm);
		if (r) {
			log_err("cannot start the kicker: %s", strerror(r));
			return -r;
		}
	}
	return 0;
}

void vm_pause(struct vm *vm)
{
	uint32_t n;
	unsigned i;

	atomic_store(&vm->paused, 1);
	for (i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpu[i]);
	while ((n = atomic_load(&vm->parked)) < vm->ncpus)
		futex_wait(&vm->parked, n, 0);
}

void vm_resume(struct vm *vm)
{
	atomic_store(&vm->paused, 0);
	futex_wake(&vm->paused, INT_MAX);
}

void vm_stopped(struct vm *vm, unsigned vcpu,
		Cellvm__VmStoppedNotice__Reason reason, const char *fmt, ...)
{
	Cellvm__VmStoppedNotice n = CELLVM__VM_STOPPED_NOTICE__INIT;
	ctl_msg m = CELLVM__CONTROL__INIT;
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (atomic_exchange(&vm->stopped, 1))
		return; /* the first reason is the one that counts */
	n.reason = reason;
	n.detail = detail;
	n.vcpu = vcpu;
	m.body_case = CELLVM__CONTROL__BODY_VM_STOPPED;
	m.vm_stopped = &n;
	pthread_mutex_lock(&vm->ctl_lock);
	ctl_send(vm->ctl, &m, NULL, 0);
	pthread_mutex_unlock(&vm->ctl_lock);
}
