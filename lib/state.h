/*
 * State pages: a device's architectural registers in shared memory that
 * outlives the device process, so that a restarted instance resumes exactly
 * where the dead one stopped.
 *
 * The page holds two copies of the state. The current copy is never written
 * in place: a change is made to a copy of it (state_begin) and published
 * with a single store (state_commit). A process killed at any instruction
 * leaves either the old or the new state, never a mix.
 */
#ifndef CELLVM_STATE_H
#define CELLVM_STATE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_MAGIC 0x74617473u /* "stat" */

struct state_page {
	_Atomic uint32_t
		magic;	      /* STATE_MAGIC once a first state is committed */
	uint32_t size;	      /* bytes of one copy */
	_Atomic uint32_t gen; /* copy[gen & 1] is current */
	uint32_t pad[13];
	unsigned char copy[]; /* 2 * STATE_COPY_SIZE(size) */
};

#define STATE_COPY_SIZE(size) (((size) + 63) & ~(size_t)63)

/* Bytes of shared memory a state of size bytes needs. */
size_t state_page_size(size_t size);

/* 1 if the page holds a committed state of this size, else 0. */
int state_valid(const struct state_page *sp, size_t size);

/* The current (committed) copy. */
const void *state_cur(const struct state_page *sp);

/* Start a change: copy the current state to the other copy and return it. */
void *state_begin(struct state_page *sp);

/* Publish the copy returned by state_begin(). */
void state_commit(struct state_page *sp);

/*
 * First start: take init (size bytes) as the committed state. The magic is
 * written last, so a process killed here starts over next time.
 */
void state_init(struct state_page *sp, const void *init, size_t size);

#endif
