#include <string.h>

#include "state.h"

size_t state_page_size(size_t size)
{
	return sizeof(struct state_page) + 2 * STATE_COPY_SIZE(size);
}

int state_valid(const struct state_page *sp, size_t size)
{
	return atomic_load_explicit(&sp->magic, memory_order_acquire) ==
		       STATE_MAGIC &&
	       sp->size == size;
}

static unsigned char *state_copy(const struct state_page *sp, uint32_t which)
{
	return (unsigned char *)sp->copy +
	       (which & 1) * STATE_COPY_SIZE(sp->size);
}

const void *state_cur(const struct state_page *sp)
{
	return state_copy(sp,
			  atomic_load_explicit(&sp->gen, memory_order_acquire));
}

void *state_begin(struct state_page *sp)
{
	uint32_t gen = atomic_load_explicit(&sp->gen, memory_order_relaxed);
	unsigned char *next = state_copy(sp, gen + 1);

	memcpy(next, state_copy(sp, gen), sp->size);
	return next;
}

void state_commit(struct state_page *sp)
{
	atomic_fetch_add_explicit(&sp->gen, 1, memory_order_release);
}

void state_init(struct state_page *sp, const void *init, size_t size)
{
	atomic_store_explicit(&sp->magic, 0, memory_order_relaxed);
	sp->size = (uint32_t)size;
	atomic_store_explicit(&sp->gen, 0, memory_order_relaxed);
	memcpy(state_copy(sp, 0), init, size);
	atomic_store_explicit(&sp->magic, STATE_MAGIC, memory_order_release);
}
