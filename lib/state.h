/*
 * State pages: a device's architectural registers in shared memory that
 * outlives the device process, so that a restarted instance resumes exactly
 * where the dead one stopped.
 *
 * The state is made of blocks: block 0, and nblocks - 1 blocks of another
 * size (one per vCPU for the local APICs; single-block devices have only
 * block 0). Every block has two copies, each tagged with the generation of
 * the change that wrote it. A change (transaction) writes only the blocks it
 * touches, each into its spare copy tagged gen + 1, and is published by one
 * store of gen + 1 into the page. The current copy of a block is the one
 * with the highest tag not above gen. A process killed at any instruction
 * leaves either the old or the new state, never a mix, and a change costs
 * the blocks it touches, not the whole state.
 */
#ifndef CELLVM_STATE_H
#define CELLVM_STATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_MAGIC 0x74617473u /* "stat" */
#define STATE_MAX_BLOCKS 1025u

struct state_page {
	_Atomic uint32_t
		magic; /* STATE_MAGIC once a first state is committed */
	uint32_t nblocks;
	uint32_t size0;	      /* bytes of block 0 */
	uint32_t sizen;	      /* bytes of every other block */
	_Atomic uint64_t gen; /* the last committed change */
	uint64_t pad[5];
	unsigned char data[];
};

/* A process's handle on its state page (private memory). */
struct state {
	struct state_page *page;
	uint32_t nblocks, size0, sizen;
	uint64_t txn;	/* generation of the change in progress, 0: none */
	uint8_t *work;	/* per block: 0 untouched, else 1 + working copy */
	unsigned nwork; /* blocks touched in the change */
};

/* Bytes of shared memory a state of this layout needs. */
size_t state_page_size(size_t size0, unsigned nblocks, size_t sizen);

/*
 * Attach to a page of len bytes with this layout. Returns 1 if the page
 * holds a committed state of the layout, 0 if it is fresh (or of another
 * layout: start over), -errno on error.
 */
int state_attach(struct state *st, void *page, size_t len, size_t size0,
		 unsigned nblocks, size_t sizen);

/* First start: block 0 from init0, every other block zeroed, committed.
 * The magic is written last: a process killed here starts over. */
void state_init(struct state *st, const void *init0);

/* Begin a change (there is always at most one). */
void state_begin(struct state *st);

/* Block b for writing in the current change (copied on first touch). */
void *state_rw(struct state *st, unsigned b);

/* Block b for reading: the working copy if touched, else the committed. */
const void *state_ro(const struct state *st, unsigned b);

/* True if block b was written in the current change. */
bool state_touched(const struct state *st, unsigned b);

/* Publish the change (one store); abandon it if nothing was touched. */
void state_commit(struct state *st);

/* Drop the change in progress: the committed state stays. */
void state_abort(struct state *st);

#endif
