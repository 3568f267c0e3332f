#include <string.h>

#include "status.h"

size_t status_size(unsigned nvcpus)
{
	return sizeof(struct proc_status) + nvcpus * sizeof(struct vcpu_stat);
}

void status_init(struct proc_status *st, unsigned nvcpus)
{
	memset(st, 0, status_size(nvcpus));
	st->magic = STATUS_MAGIC;
	st->nvcpus = nvcpus;
	atomic_store(&st->bad_syscall, -1);
}

uint64_t status_percentile(const struct dev_stat *d, unsigned pct)
{
	uint64_t n[STATUS_LAT_BUCKETS], total = 0, seen = 0, want;
	unsigned i;

	for (i = 0; i < STATUS_LAT_BUCKETS; i++) {
		n[i] = atomic_load_explicit(&d->latency[i],
					    memory_order_relaxed);
		total += n[i];
	}
	if (!total)
		return 0;
	/* The smallest bucket with at least pct% of the samples at or below
	 * it (rounded up: p99 of 10 samples is the largest). */
	want = (total * pct + 99) / 100;
	for (i = 0; i < STATUS_LAT_BUCKETS - 1; i++) {
		seen += n[i];
		if (seen >= want)
			break;
	}
	return (2ull << i) - 1;
}
