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
#define STATUS_LAT_BUCKETS 32	 /* bucket i: [2^i, 2^(i+1)) ns; the last */
				 /* also holds everything above 2 s */

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
	/* Service time of each request (taken to answered): a log2
	 * histogram, cheap enough for the hot path (one increment). */
	_Atomic uint64_t latency[STATUS_LAT_BUCKETS];
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

/* Count one request that took ns nanoseconds to serve. */
static inline void status_latency(struct dev_stat *d, uint64_t ns)
{
	unsigned b = ns > 1 ? 63u - (unsigned)__builtin_clzll(ns) : 0;

	if (b >= STATUS_LAT_BUCKETS)
		b = STATUS_LAT_BUCKETS - 1;
	/* Only the device's one thread writes it: no locked add needed. */
	atomic_store_explicit(
		&d->latency[b],
		atomic_load_explicit(&d->latency[b], memory_order_relaxed) + 1,
		memory_order_relaxed);
}

/* The pct-th percentile (1..100) of the service times: the upper bound of
 * its bucket, in ns; 0 when nothing was counted. */
uint64_t status_percentile(const struct dev_stat *d, unsigned pct);

#endif
