/*
 * Interrupt delivery into the vCPUs, without an in-kernel irqchip
 * (ARCHITECTURE.md, "Interrupt path"). The LAPIC process offers each vCPU
 * an interrupt in its mailbox; the PIC's INTR reaches the boot vCPU as
 * ExtINT. Before each entry the vCPU thread injects what is offered if the
 * guest can take it now (KVM_INTERRUPT, KVM_NMI), else asks KVM to exit when
 * it can (request_interrupt_window); it then tells the LAPIC what it took.
 * That report is posted on the LAPIC's ring, in order before any later
 * APIC access of this vCPU; until the LAPIC has taken it (the offer word
 * then always changes: the vector's class enters the PPR), the vCPU does
 * not inject again from the same offer. A kicker thread gets vCPUs out of
 * KVM_RUN when their offer changes; halted vCPUs sleep on their mailbox.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>

#include "futex.h"
#include "log.h"
#include "runner.h"
#include "sandbox.h"

/* Where the vCPU is: for the kicker (private) and the LAPIC (mailbox). */
static void irq_in_guest(struct vcpu *v, uint32_t in)
{
	atomic_store(&v->in_guest, in);
	if (v->vm->mbox)
		atomic_store(&v->vm->mbox->mb[v->id].in_guest, in);
}

void irq_left_guest(struct vcpu *v)
{
	irq_in_guest(v, 0);
}

static uint64_t irq_offer_raw(const struct vcpu *v)
{
	return v->vm->mbox ? atomic_load(&v->vm->mbox->mb[v->id].word) : 0;
}

/* The offer's generation: read after the word, it is at least the word's
 * own (mailbox_post moves it first). */
static uint32_t irq_offer_gen(const struct vcpu *v)
{
	return v->vm->mbox ? atomic_load(&v->vm->mbox->mb[v->id].wake) : 0;
}

/*
 * The offer, less what this vCPU injected and the LAPIC has not taken yet:
 * the report of an injection changes the offer (the vector's class enters
 * the PPR), so until the generation moves on, the same vector must not be
 * injected again. By generation, not by value: a timer can offer the same
 * word again later, and that is a new interrupt.
 */
static uint64_t irq_offer(const struct vcpu *v)
{
	uint64_t offer = irq_offer_raw(v);

	if (v->injected && irq_offer_gen(v) == v->injected_gen)
		offer &= ~(MB_INTR | MB_NMI);
	return offer;
}

/* The PIC's INTR reaches this vCPU: the boot vCPU, LINT0 in ExtINT mode
 * (or no LAPIC at all: the PIC wired straight to INTR). */
static bool irq_extint(const struct vcpu *v, uint64_t offer)
{
	const struct vm *vm = v->vm;

	if (v->id != 0 || vm->pic_ring < 0 || !vm->irq)
		return false;
	if (vm->mbox && !(offer & MB_EXTINT))
		return false;
	return irq_line_get(vm->irq, IRQ_LINE_PIC_INTR);
}

/* INIT and SIPI change the vCPU's state: wait for the LAPIC. */
static void irq_accept(struct vcpu *v, unsigned what, unsigned vector)
{
	if (v->vm->lapic_ring >= 0)
		vcpu_call(v, v->vm->lapic_ring, what, vector);
}

/* An injection from offer generation gen: posted (see above). */
static void irq_took(struct vcpu *v, unsigned what, unsigned vector,
		     uint32_t gen)
{
	if (v->vm->lapic_ring < 0)
		return;
	vcpu_post(v, v->vm->lapic_ring, what, vector);
	v->injected = true;
	v->injected_gen = gen;
}

/* The real-address-mode state a SIPI starts an AP in (SDM vol. 3, 9.4.4:
 * CS selector VV00, base VV000, IP 0; the rest as after INIT, table 9-1). */
static int irq_sipi(struct vcpu *v, unsigned vector)
{
	struct kvm_segment data = {
		.limit = 0xffff, .type = 3, .present = 1, .s = 1
	};
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct kvm_sregs sr;
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_SREGS, &sr) < 0)
		return -errno;
	sr.cs = data;
	sr.cs.type = 0xb;
	sr.cs.selector = (uint16_t)(vector << 8);
	sr.cs.base = (uint64_t)vector << 12;
	sr.ds = sr.es = sr.fs = sr.gs = sr.ss = data;
	memset(&sr.tr, 0, sizeof(sr.tr));
	sr.tr.limit = 0xffff;
	sr.tr.type = 3;
	sr.tr.present = 1;
	memset(&sr.ldt, 0, sizeof(sr.ldt));
	sr.ldt.limit = 0xffff;
	sr.ldt.type = 2;
	sr.ldt.present = 1;
	sr.gdt.base = sr.idt.base = 0;
	sr.gdt.limit = sr.idt.limit = 0xffff;
	sr.cr0 = 0x60000010;
	sr.cr2 = sr.cr3 = sr.cr4 = 0;
	sr.efer = 0;
	memset(sr.interrupt_bitmap, 0, sizeof(sr.interrupt_bitmap));
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rdx = 0x600; /* family 6: what a CPU reports after reset */
	if (ioctl(v->fd, KVM_SET_SREGS, &sr) < 0 ||
	    ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	/* Without an in-kernel APIC KVM keeps no wait-for-SIPI state of its
	 * own (only RUNNABLE is accepted); the runner keeps it. */
	ioctl(v->fd, KVM_SET_MP_STATE, &mp);
	v->run->request_interrupt_window = 0;
	return 0;
}

/* INIT and SIPI, whatever the vCPU is doing. */
static void irq_init_sipi(struct vcpu *v, uint64_t offer)
{
	if (offer & MB_INIT) {
		irq_accept(v, MB_ACCEPT_INIT, 0);
		/* The boot vCPU would restart the firmware after an INIT
		 * (SDM 9.1); there is none: it carries on, as under KVM. */
		if (v->id != 0)
			v->state = VCPU_WAIT_SIPI;
		return;
	}
	if (offer & MB_SIPI) {
		irq_accept(v, MB_ACCEPT_SIPI, MB_SIPI_VECTOR(offer));
		/* A SIPI outside wait-for-SIPI is ignored (SDM 9.4.4). */
		if (v->state == VCPU_WAIT_SIPI &&
		    irq_sipi(v, MB_SIPI_VECTOR(offer)) == 0)
			v->state = VCPU_RUNNING;
	}
}

/*
 * Just before KVM_RUN. Returns false if the vCPU must not enter now (its
 * state changed: INIT). Sets in_guest, then looks at the offer: the kicker
 * either sees in_guest and kicks, or we see its new offer here.
 */
bool irq_before_entry(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct kvm_interrupt intr;
	uint64_t offer, raw;
	uint32_t gen;
	bool extint;

	irq_in_guest(v, 1);
	atomic_thread_fence(memory_order_seq_cst);
	raw = irq_offer_raw(v);
	gen = irq_offer_gen(v);
	atomic_store(&v->entered, raw);
	if (v->injected && gen != v->injected_gen)
		v->injected = false;
	offer = irq_offer(v);
	if (offer & (MB_INIT | MB_SIPI)) {
		irq_in_guest(v, 0);
		irq_init_sipi(v, offer);
		return false;
	}
	if (offer & MB_NMI) {
		if (ioctl(v->fd, KVM_NMI) == 0)
			count_inc(&v->stat->irq_injections);
		irq_took(v, MB_ACCEPT_NMI, 2, gen);
		offer &= ~MB_INTR; /* the rest once the LAPIC has seen it */
	}
	extint = irq_extint(v, offer);
	if (!extint && !(offer & MB_INTR)) {
		run->request_interrupt_window = 0;
		return true;
	}
	if (!run->ready_for_interrupt_injection || !run->if_flag) {
		run->request_interrupt_window = 1;
		return true;
	}
	if (extint) {
		intr.irq = (uint32_t)vcpu_call(v, v->vm->pic_ring,
					       PIC_CTRL_INTA, 0) &
			   0xff;
		/* An ExtINT message the LAPIC latched is now taken. */
		if (offer & MB_EXTINT && v->vm->lapic_ring >= 0)
			vcpu_post(v, v->vm->lapic_ring, MB_ACCEPT_EXTINT,
				  intr.irq);
	} else {
		intr.irq = MB_VECTOR(offer);
		irq_took(v, MB_ACCEPT_INTR, intr.irq, gen);
	}
	if (ioctl(v->fd, KVM_INTERRUPT, &intr) == 0)
		count_inc(&v->stat->irq_injections);
	/* More may be pending: the next exit (or window) looks again. */
	run->request_interrupt_window = 1;
	return true;
}

/* Does the vCPU have something to do after HLT? */
static bool irq_wakes_halt(const struct vcpu *v)
{
	uint64_t offer = irq_offer(v);

	if (offer & (MB_NMI | MB_INIT | MB_SIPI))
		return true;
	/* A maskable interrupt ends HLT only with IF set (SDM vol. 2, HLT). */
	return v->run->if_flag && (offer & MB_INTR || irq_extint(v, offer));
}

static void irq_sleep(struct vcpu *v)
{
	struct mailbox *mb = v->vm->mbox ? &v->vm->mbox->mb[v->id] : NULL;
	struct futex_word w[3];
	unsigned n = 0;

	if (mb) {
		atomic_store(&mb->sleeping, 1);
		atomic_thread_fence(memory_order_seq_cst);
	}
	if (v->vm->mbox) {
		w[n].word = &v->vm->mbox->mb[v->id].wake;
		w[n].val = atomic_load(w[n].word);
		n++;
	}
	w[n].word = &v->wake;
	w[n++].val = 0;
	/* The boot vCPU also waits for the PIC's INTR (ExtINT). */
	if (v->id == 0 && v->vm->irq) {
		w[n].word = &v->vm->irq->seq;
		w[n++].val = irq_page_prepare_sleep(v->vm->irq);
	}
	if (!irq_wakes_halt(v) && !atomic_load(&v->wake) &&
	    !(v->state == VCPU_WAIT_SIPI && irq_offer(v) & (MB_INIT | MB_SIPI)))
		futex_wait_any(w, n, 0);
	if (v->id == 0 && v->vm->irq)
		irq_page_end_sleep(v->vm->irq);
	if (mb)
		atomic_store(&mb->sleeping, 0);
}

static bool irq_parking(const struct vcpu *v)
{
	return atomic_load(&v->vm->paused) || atomic_load(&v->vm->stopped);
}

void irq_halt(struct vcpu *v)
{
	count_inc(&v->stat->halt_exits);
	while (!irq_wakes_halt(v) && !irq_parking(v)) {
		if (atomic_exchange(&v->wake, 0))
			continue;
		irq_sleep(v);
	}
}

/* An AP before its SIPI (or any vCPU after INIT): wait for one. */
void irq_wait_sipi(struct vcpu *v)
{
	uint64_t offer = irq_offer(v);

	if (offer & (MB_INIT | MB_SIPI)) {
		irq_init_sipi(v, offer);
		return;
	}
	if (!irq_parking(v) && !atomic_exchange(&v->wake, 0))
		irq_sleep(v);
}

/* Offers a vCPU inside KVM_RUN has not seen: get it out. */
static void irq_kick_all(struct vm *vm)
{
	bool intr = vm->irq && irq_line_get(vm->irq, IRQ_LINE_PIC_INTR);
	unsigned i;

	for (i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpu[i];

		if (!atomic_load(&v->in_guest))
			continue;
		if (irq_offer_raw(v) != atomic_load(&v->entered) ||
		    (i == 0 && intr && irq_extint(v, irq_offer_raw(v)) &&
		     !v->run->request_interrupt_window))
			vcpu_kick(v);
	}
}

void *irq_kicker(void *arg)
{
	struct vm *vm = arg;
	struct futex_word w[2];
	unsigned n;

	sched_short_slice();
	for (;;) {
		n = 0;
		if (vm->mbox) {
			atomic_store(&vm->mbox->kicker_waiting, 1);
			w[n].word = &vm->mbox->kick;
			w[n++].val = atomic_load(&vm->mbox->kick);
		}
		if (vm->irq) {
			w[n].word = &vm->irq->seq;
			w[n++].val = irq_page_prepare_sleep(vm->irq);
		}
		irq_kick_all(vm);
		futex_wait_any(w, n, 0);
		if (vm->irq)
			irq_page_end_sleep(vm->irq);
	}
	return NULL;
}
