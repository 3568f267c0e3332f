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
