#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

/* Each copy: a 64-byte tag header, then the data, rounded to 64 bytes. */
struct state_tag {
	_Atomic uint64_t tag;
	uint64_t pad[7];
};

static size_t copy_size(size_t size)
{
	return sizeof(struct state_tag) + ((size + 63) & ~(size_t)63);
}

size_t state_page_size(size_t size0, unsigned nblocks, size_t sizen)
{
	return sizeof(struct state_page) + 2 * copy_size(size0) +
	       2 * (size_t)(nblocks - 1) * copy_size(sizen);
}

static struct state_tag *copy_of(const struct state *st, unsigned b, unsigned c)
{
	size_t off;

	if (b == 0)
		off = c * copy_size(st->size0);
	else
		off = 2 * copy_size(st->size0) +
		      ((size_t)(b - 1) * 2 + c) * copy_size(st->sizen);
	return (struct state_tag *)(st->page->data + off);
}

static void *data_of(struct state_tag *t)
{
	return t + 1;
}

/* The committed copy of block b: highest tag not above gen. */
static unsigned current(const struct state *st, unsigned b)
{
	uint64_t gen =
		atomic_load_explicit(&st->page->gen, memory_order_acquire);
	uint64_t t0 = atomic_load_explicit(&copy_of(st, b, 0)->tag,
					   memory_order_relaxed);
	uint64_t t1 = atomic_load_explicit(&copy_of(st, b, 1)->tag,
					   memory_order_relaxed);

	if (t0 > gen)
		return 1;
	if (t1 > gen)
		return 0;
	return t1 > t0;
}

/*
 * A process that died inside a change left copies tagged gen + 1. The next
 * committed change makes gen + 1 current: a block it did not touch would
 * then find its stale copy "committed". Forget such copies on attach.
 */
static void state_scrub(struct state *st)
{
	uint64_t gen = atomic_load(&st->page->gen);
	unsigned b, c;

	for (b = 0; b < st->nblocks; b++) {
		for (c = 0; c < 2; c++) {
			if (atomic_load(&copy_of(st, b, c)->tag) > gen)
				atomic_store(&copy_of(st, b, c)->tag, 0);
		}
	}
}

int state_attach(struct state *st, void *page, size_t len, size_t size0,
		 unsigned nblocks, size_t sizen)
{
	struct state_page *p = page;

	if (nblocks == 0 || nblocks > STATE_MAX_BLOCKS || size0 > UINT32_MAX ||
	    sizen > UINT32_MAX || len < state_page_size(size0, nblocks, sizen))
		return -EINVAL;
	free(st->work);
	st->page = p;
	st->nblocks = nblocks;
	st->size0 = (uint32_t)size0;
	st->sizen = (uint32_t)sizen;
	st->txn = 0;
	st->nwork = 0;
	st->work = calloc(nblocks, 1);
	if (!st->work)
		return -ENOMEM;
	if (atomic_load_explicit(&p->magic, memory_order_acquire) !=
		    STATE_MAGIC ||
	    p->nblocks != nblocks || p->size0 != size0 || p->sizen != sizen)
		return 0;
	state_scrub(st);
	return 1;
}

void state_init(struct state *st, const void *init0)
{
	struct state_page *p = st->page;
	unsigned b;

	atomic_store(&p->magic, 0);
	p->nblocks = st->nblocks;
	p->size0 = st->size0;
	p->sizen = st->sizen;
	atomic_store(&p->gen, 1);
	for (b = 0; b < st->nblocks; b++) {
		size_t size = b ? st->sizen : st->size0;

		memset(data_of(copy_of(st, b, 0)), 0, size);
		atomic_store(&copy_of(st, b, 0)->tag, 1);
		atomic_store(&copy_of(st, b, 1)->tag, 0);
	}
	memcpy(data_of(copy_of(st, 0, 0)), init0, st->size0);
	atomic_store_explicit(&p->magic, STATE_MAGIC, memory_order_release);
}

void state_begin(struct state *st)
{
	st->txn =
		atomic_load_explicit(&st->page->gen, memory_order_relaxed) + 1;
}

void *state_rw(struct state *st, unsigned b)
{
	unsigned cur, spare;

	if (b >= st->nblocks || !st->txn)
		return NULL;
	if (st->work[b])
		return data_of(copy_of(st, b, st->work[b] - 1u));
	cur = current(st, b);
	spare = !cur;
	memcpy(data_of(copy_of(st, b, spare)), data_of(copy_of(st, b, cur)),
	       b ? st->sizen : st->size0);
	atomic_store_explicit(&copy_of(st, b, spare)->tag, st->txn,
			      memory_order_relaxed);
	st->work[b] = (uint8_t)(spare + 1);
	st->nwork++;
	return data_of(copy_of(st, b, spare));
}

const void *state_ro(const struct state *st, unsigned b)
{
	if (b >= st->nblocks)
		return NULL;
	if (st->txn && st->work[b])
		return data_of(copy_of(st, b, st->work[b] - 1u));
	return data_of(copy_of(st, b, current(st, b)));
}

bool state_touched(const struct state *st, unsigned b)
{
	return b < st->nblocks && st->txn && st->work[b];
}

static void state_end(struct state *st)
{
	if (st->nwork)
		memset(st->work, 0, st->nblocks);
	st->nwork = 0;
	st->txn = 0;
}

void state_commit(struct state *st)
{
	if (!st->txn)
		return;
	/* The copies' contents and tags are ordered before the new gen. */
	if (st->nwork)
		atomic_store_explicit(&st->page->gen, st->txn,
				      memory_order_release);
	state_end(st);
}

void state_abort(struct state *st)
{
	unsigned b;

	if (!st->txn)
		return;
	/* A working copy tagged txn must not look committed later: the next
	 * change reuses this generation number. It is the spare copy, so
	 * current() never picks it while gen < txn; mark it older anyway. */
	for (b = 0; b < st->nblocks; b++) {
		if (st->work[b])
			atomic_store(&copy_of(st, b, st->work[b] - 1u)->tag, 0);
	}
	state_end(st);
}
