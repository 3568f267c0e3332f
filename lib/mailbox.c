#include <limits.h>
#include <string.h>

#include "futex.h"
#include "mailbox.h"

size_t mailbox_page_size(unsigned nvcpus)
{
	return sizeof(struct mailbox_page) +
	       (size_t)nvcpus * sizeof(struct mailbox);
}

void mailbox_page_init(struct mailbox_page *p, unsigned nvcpus)
{
	memset(p, 0, mailbox_page_size(nvcpus));
	p->nvcpus = nvcpus;
	p->magic = MAILBOX_MAGIC;
}

void mailbox_post(struct mailbox_page *p, unsigned nvcpus, unsigned cpu,
		  uint64_t word)
{
	struct mailbox *m;
	uint64_t old;

	if (cpu >= nvcpus)
		return;
	m = &p->mb[cpu];
	old = atomic_load(&m->word); /* the LAPIC is the only writer */
	if (old == word)
		return;
	/* The generation first: a reader that sees this word sees this
	 * generation or a later one (the runner's re-injection guard). */
	atomic_fetch_add(&m->wake, 1);
	atomic_store(&m->word, word);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&m->sleeping))
		futex_wake(&m->wake, INT_MAX);
	/* Only something new needs a vCPU out of KVM_RUN, and only if it is
	 * in there: a vCPU outside looks at its offer before it enters. */
	if (atomic_load(&m->in_guest) &&
	    (word & ~old & (MB_INTR | MB_NMI | MB_INIT | MB_SIPI | MB_EXTINT) ||
	     (word & MB_INTR && MB_VECTOR(word) != MB_VECTOR(old)))) {
		atomic_fetch_add(&p->kick, 1);
		if (atomic_load(&p->kicker_waiting))
			futex_wake(&p->kick, 1);
	}
}
