/*
 * Futex waits and wakes on words in shared memory (memfd mappings shared
 * between processes, so never FUTEX_PRIVATE_FLAG).
 */
#ifndef CELLVM_FUTEX_H
#define CELLVM_FUTEX_H

#include <stdatomic.h>
#include <stdint.h>

/*
 * Sleep while *word == val, until woken or until the CLOCK_MONOTONIC time
 * deadline_ns (0: no deadline). Returns 0 when woken, -EAGAIN when *word was
 * already different, -ETIMEDOUT, or -EINTR.
 */
int futex_wait(_Atomic uint32_t *word, uint32_t val, uint64_t deadline_ns);

/* One word of a multi-word wait: sleep while *word == val. */
struct futex_word {
	_Atomic uint32_t *word;
	uint32_t val;
};

/*
 * Sleep until any of the n words differs from its value (or is woken), or
 * the CLOCK_MONOTONIC deadline (0: none) passes: futex_waitv(2), Linux
 * 5.16+. Same returns as futex_wait().
 */
int futex_wait_any(const struct futex_word *w, unsigned n,
		   uint64_t deadline_ns);

/* Wake up to n sleepers on word. */
void futex_wake(_Atomic uint32_t *word, int n);

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
}

#endif
