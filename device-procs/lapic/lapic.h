/*
 * Local APIC model, xAPIC mode: every local APIC of a VM, pure register and
 * message logic, no system calls.
 *
 * Section numbers are those of the Intel SDM vol. 3A, chapter 11, "Advanced
 * Programmable Interrupt Controller (APIC)", as in the rest of cellvm;
 * older editions number that chapter 10 (10.5.4 for 11.5.4, and so on).
 *
 * Only the xAPIC is modelled: no x2APIC, no TSC-deadline timer mode, no
 * SMI, no focus processor checking, no EOI-broadcast suppression (version
 * bit 24 is 0).
 *
 * State. One struct lapic_cpu per vCPU, fixed size, no pointers; the device
 * keeps them in separately copied blocks of its state page, so a change to
 * one APIC does not copy the others. The model reaches them only through a
 * struct lapic_bank: bank->cpu(ctx, i, 1) returns a writable copy of APIC i
 * for the current change, bank->cpu(ctx, i, 0) a readable one. The model
 * fetches again after any call that may write and never keeps a pointer
 * from one entry point to the next, so the APICs it fetched writable are
 * exactly those whose mailbox and deadline the caller must look at again.
 *
 * Time is an argument (CLOCK_MONOTONIC ns). The timer counts at a 1 GHz
 * bus clock divided by the divide configuration, as KVM does: one count
 * per ns at divide 1.
 *
 * What the vCPU runner needs: lapic_mailbox() says what the vCPU may be
 * offered now; the runner tells what it injected with lapic_accept().
 * Order of service: INIT, then SIPI, then NMI, then ExtINT/INTR.
 */
#ifndef CELLVM_LAPIC_H
#define CELLVM_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_BASE 0xfee00000u /* default of IA32_APIC_BASE (11.4.4) */
#define LAPIC_SIZE 0x1000u
#define LAPIC_MAX_CPUS 255 /* xAPIC IDs 0-254; 0xff is broadcast */

/* Version register (11.4.8): integrated APIC 0x14, max LVT entry 5. */
#define LAPIC_VERSION 0x00050014u

/* Register offsets in the 4 KiB page (Table 11-1). */
#define LAPIC_REG_ID 0x020
#define LAPIC_REG_VERSION 0x030
#define LAPIC_REG_TPR 0x080
#define LAPIC_REG_APR 0x090
#define LAPIC_REG_PPR 0x0a0
#define LAPIC_REG_EOI 0x0b0
#define LAPIC_REG_RRD 0x0c0
#define LAPIC_REG_LDR 0x0d0
#define LAPIC_REG_DFR 0x0e0
#define LAPIC_REG_SVR 0x0f0
#define LAPIC_REG_ISR 0x100 /* 8 registers, 0x100-0x170 */
#define LAPIC_REG_TMR 0x180 /* 0x180-0x1f0 */
#define LAPIC_REG_IRR 0x200 /* 0x200-0x270 */
#define LAPIC_REG_ESR 0x280
#define LAPIC_REG_LVT_CMCI 0x2f0
#define LAPIC_REG_ICR_LO 0x300
#define LAPIC_REG_ICR_HI 0x310
#define LAPIC_REG_LVT 0x320 /* LVT entry i at 0x320 + 0x10 * i */
#define LAPIC_REG_TIMER_INITIAL 0x380
#define LAPIC_REG_TIMER_CURRENT 0x390
#define LAPIC_REG_TIMER_DIVIDE 0x3e0

/* LVT entries, in register order (Figure 11-8). */
enum lapic_lvt {
	LAPIC_LVT_TIMER,
	LAPIC_LVT_THERMAL,
	LAPIC_LVT_PERF,
	LAPIC_LVT_LINT0,
	LAPIC_LVT_LINT1,
	LAPIC_LVT_ERROR,
	LAPIC_LVT_COUNT
};

#define LAPIC_LVT_VECTOR 0x000000ffu
#define LAPIC_LVT_DM_SHIFT 8
#define LAPIC_LVT_DM 0x00000700u
#define LAPIC_LVT_PENDING 0x00001000u /* delivery status, always 0 here */
#define LAPIC_LVT_POLARITY 0x00002000u
#define LAPIC_LVT_REMOTE_IRR 0x00004000u
#define LAPIC_LVT_LEVEL 0x00008000u
#define LAPIC_LVT_MASKED 0x00010000u
#define LAPIC_LVT_PERIODIC 0x00020000u	      /* timer mode 01 */
#define LAPIC_LVT_CMCI_VALUE LAPIC_LVT_MASKED /* CMCI: masked, read-only */

/* Delivery modes (ICR, LVT and MSI data bits 8-10). */
#define LAPIC_DM_FIXED 0
#define LAPIC_DM_LOWEST 1
#define LAPIC_DM_SMI 2
#define LAPIC_DM_NMI 4
#define LAPIC_DM_INIT 5
#define LAPIC_DM_STARTUP 6
#define LAPIC_DM_EXTINT 7

/* Spurious-interrupt vector register (Figure 11-23). */
#define LAPIC_SVR_VECTOR 0x0ffu
#define LAPIC_SVR_ENABLE 0x100u
#define LAPIC_SVR_FOCUS_OFF 0x200u

/* Destination format (11.6.2.2): model in bits 28-31, the rest all 1s. */
#define LAPIC_DFR_FLAT 0xffffffffu
#define LAPIC_DFR_CLUSTER 0x0fffffffu

/* Error status register bits (Figure 11-9) this model sets. */
#define LAPIC_ESR_SEND_ILLEGAL 0x20u
#define LAPIC_ESR_RECV_ILLEGAL 0x40u
#define LAPIC_ESR_ILLEGAL_REG 0x80u

/* Interrupt command register, low half (Figure 11-12); MSI data shares
 * bits 0-15 (11.11.2). */
#define LAPIC_ICR_VECTOR 0x000000ffu
#define LAPIC_ICR_DM_SHIFT 8
#define LAPIC_ICR_LOGICAL 0x00000800u
#define LAPIC_ICR_BUSY 0x00001000u /* delivery status */
#define LAPIC_ICR_ASSERT 0x00004000u
#define LAPIC_ICR_LEVEL 0x00008000u
#define LAPIC_ICR_SH_SHIFT 18
#define LAPIC_SH_NONE 0
#define LAPIC_SH_SELF 1
#define LAPIC_SH_ALL 2
#define LAPIC_SH_OTHERS 3
#define LAPIC_ICR_DEST_SHIFT 24 /* in ICR high */

/* Message address (11.11.1). */
#define LAPIC_MSI_ADDR_LOGICAL 0x4u
#define LAPIC_MSI_ADDR_RH 0x8u
#define LAPIC_MSI_DEST_SHIFT 12

/* Timer (11.5.4): periodic interrupts no closer than this (KVM's default
 * min_timer_period_us), and at most this many periods owed after a gap. */
#define LAPIC_TIMER_MIN_PERIOD_NS 200000ull
#define LAPIC_TIMER_OWED_MAX 65535u

/* What the runner did, for lapic_accept(); the values and the mailbox
 * layout below are those of lib/mailbox.h (MB_ACCEPT_*, MB_*). */
#define LAPIC_ACCEPT_INTR 1   /* injected vector: IRR -> ISR */
#define LAPIC_ACCEPT_NMI 2    /* injected the pending NMI */
#define LAPIC_ACCEPT_INIT 3   /* performed the pending INIT */
#define LAPIC_ACCEPT_SIPI 4   /* took (or, not waiting, dropped) the SIPI */
#define LAPIC_ACCEPT_EXTINT 5 /* took a vector from the PIC (INTA) */

/*
 * lapic_mailbox(): bits 0-7 the vector to inject (with LAPIC_MB_INTR),
 * bits 8-15 the SIPI vector (with LAPIC_MB_SIPI), flags from bit 16.
 * LAPIC_MB_EXTINT: the PIC's INTR output reaches this vCPU, i.e. LVT LINT0
 * is unmasked with delivery mode ExtINT (virtual wire through the local
 * APIC, 11.5.1) or an ExtINT message arrived; the runner then takes the
 * vector from the PIC (INTA) when the PIC asserts INTR. A software-disabled
 * APIC masks LINT0 (11.4.7.2), so it does not pass INTR; an APIC disabled
 * in IA32_APIC_BASE (bit 11, known to the runner) passes INTR straight to
 * the CPU (11.4.3) and is the runner's business.
 */
#define LAPIC_MB_VECTOR(mb) ((unsigned)((mb)&0xff))
#define LAPIC_MB_SIPI_VECTOR(mb) ((unsigned)(((mb) >> 8) & 0xff))
#define LAPIC_MB_INTR (1ull << 16)
#define LAPIC_MB_NMI (1ull << 17)
#define LAPIC_MB_INIT (1ull << 18)
#define LAPIC_MB_SIPI (1ull << 19)
#define LAPIC_MB_EXTINT (1ull << 20)
#define LAPIC_MB_APIC_ENABLED (1ull << 21) /* SVR software enable */

/* One local APIC. Register fields hold the value the guest reads. */
struct lapic_cpu {
	uint32_t id;	      /* APIC ID in bits 24-31 */
	uint32_t version;     /* LAPIC_VERSION */
	uint32_t tpr;	      /* bits 0-7 */
	uint32_t ldr;	      /* logical ID in bits 24-31 */
	uint32_t dfr;	      /* model in bits 28-31, bits 0-27 all 1s */
	uint32_t svr;	      /* bits 0-9 */
	uint32_t esr;	      /* what ESR reads: latched by the last write */
	uint32_t esr_pending; /* errors since the last ESR write */
	uint32_t icr_lo;      /* delivery status always 0 */
	uint32_t icr_hi;
	uint32_t lvt[LAPIC_LVT_COUNT];
	uint32_t timer_initial; /* initial count */
	uint32_t timer_divide;	/* divide configuration, bits 0, 1, 3 */
	uint32_t irr[8], isr[8], tmr[8]; /* vector v: word v / 32, bit v % 32 */
	uint64_t timer_start;		 /* count-down (re)started at */
	uint64_t timer_next;	 /* current count reaches 0 at (0: stopped) */
	uint64_t timer_deadline; /* lapic_tick() has work at (0: none) */
	uint32_t timer_owed;	 /* periodic expiries not yet delivered */
	uint8_t nmi_pending, init_pending, sipi_pending, sipi_vector;
	uint8_t wait_sipi; /* in the wait-for-SIPI state (9.4, 11.4.7.3) */
	uint8_t bsp;	   /* boot processor: INIT does not wait for SIPI */
	uint8_t extint_pending; /* an ExtINT message waits for the INTA */
	uint8_t pad[5];
};

/* A state-page format: fixed size, whole 8-byte words, no hidden padding. */
_Static_assert(sizeof(struct lapic_cpu) == 208, "struct lapic_cpu layout");

struct lapic_bank {
	void *ctx;
	unsigned ncpus; /* at most LAPIC_MAX_CPUS */
	struct lapic_cpu *(*cpu)(void *ctx, unsigned id, int write);
};

/* What the caller must do after a call; the APICs the model fetched
 * writable also need their mailbox and deadline published again. */
#define LAPIC_FX_MAX_EOI 1
struct lapic_fx {
	unsigned neoi; /* EOI broadcasts for the I/O APIC (11.8.5) */
	uint8_t eoi[LAPIC_FX_MAX_EOI];
};

/* Power-on state (11.4.7.1): software disabled (SVR 0xff), LVTs masked,
 * DFR all 1s, ID apic_id. APIC ID 0 is the BSP; the others wait for SIPI.
 * LINT0 stays masked on the BSP too: the guest programs ExtINT. */
void lapic_reset(struct lapic_cpu *c, unsigned apic_id);

/* A state found in a state page: every field within its range? */
bool lapic_cpu_valid(const struct lapic_cpu *c);

/*
 * 32-bit guest read of the register at off (0-0xff0, 16-byte aligned:
 * 11.4.1 asks for 128-bit aligned 32-bit accesses). An unaligned off, or
 * one outside the page, reads 0; the caller reads 0 for accesses other
 * than 4 bytes. Unimplemented offsets in the page read 0 and set ESR
 * "illegal register address" (11.5.3 bit 7). Write-only EOI reads 0.
 */
uint32_t lapic_read(struct lapic_bank *b, unsigned cpu, unsigned off,
		    uint64_t now);

/* 32-bit guest write; same rules for off, writes to read-only registers
 * are ignored. Processes a due timer expiry of this APIC first. */
void lapic_write(struct lapic_bank *b, unsigned cpu, unsigned off, uint32_t val,
		 uint64_t now, struct lapic_fx *fx);

/*
 * An interrupt message from the I/O APIC or a PCI MSI (11.11): address
 * 0xfee00000-0xfeefffff (others are ignored), destination ID in bits
 * 12-19, logical destination with bit 2, redirection hint bit 3 =
 * deliver to the lowest priority APIC of the destination set. Data:
 * vector, delivery mode, level (bit 14) and trigger mode (bit 15). Fixed
 * and lowest-priority messages need bit 14 set when level-triggered (a
 * de-assert message is ignored) and set TMR then. NMI, INIT and ExtINT ignore the vector; SMI and the
 * reserved modes are ignored. ExtINT is the PIC path: nothing enters IRR,
 * the target's mailbox shows LAPIC_MB_EXTINT until LAPIC_ACCEPT_EXTINT.
 */
void lapic_msi(struct lapic_bank *b, uint64_t addr, uint32_t data, uint64_t now,
	       struct lapic_fx *fx);

/* The runner injected or performed what (LAPIC_ACCEPT_*); vector is used
 * with LAPIC_ACCEPT_INTR only. Stale acceptances are ignored. */
void lapic_accept(struct lapic_bank *b, unsigned cpu, unsigned what,
		  unsigned vector, struct lapic_fx *fx);

/* What this vCPU may be offered now (LAPIC_MB_*). */
uint64_t lapic_mailbox(const struct lapic_cpu *c);

/* When lapic_tick() has something to do for this APIC, or 0. */
uint64_t lapic_deadline(const struct lapic_cpu *c);

/*
 * Timer expiry processing at now (11.5.4). One-shot: fires once. Periodic:
 * expiries fall at fixed points start + k * period, never drifting. When
 * several periods passed unseen (the process was dead, or woke late), one
 * interrupt is raised now and the others are owed: each is raised a
 * period / 8 after the previous one if the guest has taken that one out
 * of IRR by then, else at the next expiry; so a guest counting ticks loses
 * none (up to LAPIC_TIMER_OWED_MAX). A masked timer owes nothing.
 */
void lapic_tick(struct lapic_bank *b, unsigned cpu, uint64_t now,
		struct lapic_fx *fx);

/*
 * Internal to the model (lapic.c, lapic_ipi.c, lapic_timer.c); callers use
 * the functions above.
 */
static inline bool lapic_vec_test(const uint32_t *bits, unsigned v)
{
	return bits[(v >> 5) & 7] & (1u << (v & 31));
}

static inline void lapic_vec_set(uint32_t *bits, unsigned v)
{
	bits[(v >> 5) & 7] |= 1u << (v & 31);
}

static inline void lapic_vec_clear(uint32_t *bits, unsigned v)
{
	bits[(v >> 5) & 7] &= ~(1u << (v & 31));
}

static inline bool lapic_sw_enabled(const struct lapic_cpu *c)
{
	return c->svr & LAPIC_SVR_ENABLE;
}

int lapic_highest(const uint32_t *bits);
unsigned lapic_ppr(const struct lapic_cpu *c);
unsigned lapic_apr(const struct lapic_cpu *c);
void lapic_error(struct lapic_cpu *c, uint32_t bits);
void lapic_set_irr(struct lapic_cpu *c, unsigned vector, bool level);
void lapic_local_irq(struct lapic_cpu *c, enum lapic_lvt lvt);
void lapic_ipi_send(struct lapic_bank *b, unsigned src);
uint32_t lapic_timer_current(const struct lapic_cpu *c, uint64_t now);
void lapic_timer_set_initial(struct lapic_cpu *c, uint32_t val, uint64_t now);
void lapic_timer_set_divide(struct lapic_cpu *c, uint32_t val, uint64_t now);
void lapic_timer_set_lvt(struct lapic_cpu *c, uint32_t val);
void lapic_timer_due(struct lapic_cpu *c, uint64_t now);
bool lapic_timer_valid(const struct lapic_cpu *c);

#endif
