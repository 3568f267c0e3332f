#include <errno.h>
#include <limits.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "futex.h"

int futex_wait(_Atomic uint32_t *word, uint32_t val, uint64_t deadline_ns)
{
	struct timespec ts, *tp = NULL;
	long r;

	if (deadline_ns) {
		ts.tv_sec = (time_t)(deadline_ns / 1000000000ull);
		ts.tv_nsec = (long)(deadline_ns % 1000000000ull);
		tp = &ts;
	}
	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline. */
	r = syscall(SYS_futex, word, FUTEX_WAIT_BITSET, val, tp, NULL,
		    FUTEX_BITSET_MATCH_ANY);
	return r < 0 ? -errno : 0;
}

#define FUTEX_WAIT_MAX 8

int futex_wait_any(const struct futex_word *w, unsigned n, uint64_t deadline_ns)
{
	struct futex_waitv v[FUTEX_WAIT_MAX];
	struct timespec ts, *tp = NULL;
	unsigned i;
	long r;

	if (n == 0 || n > FUTEX_WAIT_MAX)
		return -EINVAL;
	memset(v, 0, sizeof(v));
	for (i = 0; i < n; i++) {
		v[i].uaddr = (uint64_t)(uintptr_t)w[i].word;
		v[i].val = w[i].val;
		v[i].flags = FUTEX_32; /* shared: words live in memfds */
	}
	if (deadline_ns) {
		ts.tv_sec = (time_t)(deadline_ns / 1000000000ull);
		ts.tv_nsec = (long)(deadline_ns % 1000000000ull);
		tp = &ts;
	}
	r = syscall(SYS_futex_waitv, v, n, 0, tp, CLOCK_MONOTONIC);
	return r < 0 ? -errno : 0;
}

void futex_wake(_Atomic uint32_t *word, int n)
{
	syscall(SYS_futex, word, FUTEX_WAKE, n, NULL, NULL, 0);
}
