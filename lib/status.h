/*
 * Status pages: one per child process, written by the child, read by the
 * broker. They hold the counters (named after KVM's kvm_vcpu_stat for the
 * runner) and the note a process leaves when its seccomp filter traps it,
 * so the broker can say which system call killed it.
 */
#ifndef CELLVM_STATUS_H
#define CELLVM_STATUS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define STATUS_MAGIC 0x73757473u /* "stus" */

struct vcpu_stat {
	_Atomic uint64_t exits;
	_Atomic uint64_t io_exits;
	_Atomic uint64_t mmio_exits;
	_Atomic uint64_t halt_exits;
	_Atomic uint64_t irq_window_exits;
	_Atomic uint64_t irq_injections;
	_Atomic uint64_t signal_exits;
	_Atomic uint64_t unclaimed_io; /* ports and MMIO no device owns */
	_Atomic uint64_t other_exits;
};

struct dev_stat {
	_Atomic uint64_t requests;
	_Atomic uint64_t reads;
	_Atomic uint64_t writes;
	_Atomic uint64_t bad_requests; /* malformed ring entries */
	_Atomic uint64_t replays;      /* requests redone after a restart */
};

struct proc_status {
	uint32_t magic;
	_Atomic int32_t bad_syscall; /* -1, or the number the filter trapped */
	_Atomic uint32_t ready;
	uint32_t nvcpus;
	struct dev_stat dev;
	struct vcpu_stat vcpu[]; /* runner: nvcpus of them */
};

size_t status_size(unsigned nvcpus);
void status_init(struct proc_status *st, unsigned nvcpus);

#endif
