/*
 * The vCPU runner: the only process that holds /dev/kvm and the VM. It
 * creates the VM from the plan the MMU service made, runs one thread per
 * vCPU and forwards port and MMIO exits to the devices' rings. Everything it
 * gets from other processes (plan, rings) is checked before use.
 */
#ifndef CELLVM_RUNNER_H
#define CELLVM_RUNNER_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctl.h"
#include "irqline.h"
#include "mailbox.h"
#include "ring.h"
#include "status.h"

#define RUNNER_MAX_RINGS 64
#define RUNNER_MAX_MMIO 64

/* Port and MMIO ranges -> ring, built once, read-only afterwards. */
struct mmio_range {
	uint64_t base, size;
	unsigned ring;
	bool sync; /* writes wait for the device */
};

struct dispatch {
	uint8_t *pio; /* 65536 entries: ring index + 1 (0: nobody), and
		       * DISPATCH_PIO_SYNC if writes wait for the device */
	struct mmio_range mmio[RUNNER_MAX_MMIO];
	unsigned nmmio;
};

struct vm;

enum vcpu_state {
	VCPU_RUNNING,
	VCPU_WAIT_SIPI, /* after power-on (APs) or INIT: until a SIPI */
};

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	enum vcpu_state state;
	uint32_t next_id;	   /* request ids for ring calls */
	_Atomic uint32_t wake;	   /* futex: halted vCPU, parked vCPU */
	_Atomic uint32_t in_guest; /* inside (or entering) KVM_RUN */
	_Atomic uint64_t entered;  /* mailbox offer it entered with */
	bool injected;		   /* injected from offer generation ... */
	uint32_t injected_gen;	   /* ... this one, until it moves on */
	struct vcpu_stat *stat;
};

struct vm {
	int kvm;
	int fd;
	int ctl;
	unsigned ncpus;
	uint8_t *ram;
	uint64_t ram_size;
	size_t run_size;
	struct vcpu *vcpu;
	struct ring *ring[RUNNER_MAX_RINGS];
	unsigned nrings;
	struct mailbox_page *mbox; /* NULL: no LAPIC */
	struct irq_page *irq;	   /* the PIC's INTR; sleepers count */
	int pic_ring, lapic_ring;  /* -1: none */
	pthread_t kicker;
	struct dispatch dispatch;
	struct proc_status *status;
	struct kvm_cpuid2 *cpuid;

	_Atomic uint32_t paused;  /* futex word: vCPUs park while set */
	_Atomic uint32_t parked;  /* vCPUs out of KVM_RUN and parked */
	_Atomic uint32_t stopped; /* the VM cannot go on */
	pthread_mutex_t ctl_lock; /* vCPU threads also send notices */
};

/* A counter only its own vCPU thread writes. */
static inline void count_inc(_Atomic uint64_t *c)
{
	atomic_store_explicit(c,
			      atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/* vm.c */
int vm_create(struct vm *vm, const Cellvm__SetupRunnerRequest *req, int *fds,
	      size_t nfds);
int vm_start(struct vm *vm);
void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);
void vm_stopped(struct vm *vm, unsigned vcpu,
		Cellvm__VmStoppedNotice__Reason reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* vcpu.c */
int vcpu_init(struct vm *vm, struct vcpu *v, unsigned id,
	      const Cellvm__VcpuState *boot);
void *vcpu_thread(void *arg);
void vcpu_kick(struct vcpu *v);
uint64_t vcpu_call(struct vcpu *v, int ring, uint64_t addr, uint64_t data);
void vcpu_post(struct vcpu *v, int ring, uint64_t addr, uint64_t data);

/* irq.c */
bool irq_before_entry(struct vcpu *v);
void irq_left_guest(struct vcpu *v);
void irq_halt(struct vcpu *v);
void irq_wait_sipi(struct vcpu *v);
void *irq_kicker(void *arg);

/* cpuid.c */
void cpuid_filter(struct kvm_cpuid2 *c);
void cpuid_for_vcpu(struct kvm_cpuid2 *c, unsigned id);

/* dispatch.c */
int dispatch_build(struct dispatch *d, const Cellvm__Plan *plan,
		   unsigned nrings);
#define DISPATCH_PIO_SYNC 0x80
int dispatch_pio(const struct dispatch *d, uint16_t port, bool *sync);
/* The ring of addr (-1: nobody); *sync: its writes are synchronous. */
int dispatch_mmio(const struct dispatch *d, uint64_t addr, bool *sync);

#endif
