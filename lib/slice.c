/*
 * Short scheduler slices (see sandbox.h). The kernel's struct sched_attr
 * is used as it is; this file must not include glibc's <sched.h>, whose
 * struct sched_param clashes with the kernel's header.
 */
#include <linux/sched/types.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

#define SHORT_SLICE_NS 100000u /* the least EEVDF accepts */

void sched_short_slice(void)
{
	struct sched_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.sched_policy = 0; /* SCHED_OTHER */
	a.sched_runtime = SHORT_SLICE_NS;
	/* Best effort: on a kernel without custom slices nothing changes. */
	syscall(SYS_sched_setattr, 0, &a, 0);
}
