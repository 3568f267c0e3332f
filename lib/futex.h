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

/* Wake up to n sleepers on word. */
void futex_wake(_Atomic uint32_t *word, int n);

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
}

#endif
