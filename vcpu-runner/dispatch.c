/*
 * The dispatch table: which device owns a port or an MMIO address. Built
 * from the plan at start, then made read-only (mprotect): at run time the
 * exit path only looks things up.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"
#include "runner.h"

#define PIO_PORTS 65536

static int dispatch_add_mmio(struct dispatch *d, const Cellvm__Region *r)
{
	unsigned i;

	if (r->size == 0 || r->start + r->size < r->start) {
		log_err("plan: bad MMIO region of %s", r->owner);
		return -EINVAL;
	}
	for (i = 0; i < d->nmmio; i++) {
		const struct mmio_range *m = &d->mmio[i];

		if (r->start < m->base + m->size &&
		    m->base < r->start + r->size) {
			log_err("plan: MMIO region of %s overlaps another",
				r->owner);
			return -EINVAL;
		}
	}
	if (d->nmmio == RUNNER_MAX_MMIO)
		return -E2BIG;
	d->mmio[d->nmmio].base = r->start;
	d->mmio[d->nmmio].size = r->size;
	d->mmio[d->nmmio].ring = r->ring;
	d->mmio[d->nmmio].sync = r->sync_writes;
	d->nmmio++;
	return 0;
}

static int dispatch_add_pio(struct dispatch *d, const Cellvm__Region *r)
{
	uint64_t p;

	if (r->size == 0 || r->start >= PIO_PORTS ||
	    r->size > PIO_PORTS - r->start) {
		log_err("plan: bad port range of %s", r->owner);
		return -EINVAL;
	}
	for (p = r->start; p < r->start + r->size; p++) {
		if (d->pio[p]) {
			log_err("plan: port 0x%llx of %s is taken",
				(unsigned long long)p, r->owner);
			return -EINVAL;
		}
		d->pio[p] = (uint8_t)(r->ring + 1) |
			    (r->sync_writes ? DISPATCH_PIO_SYNC : 0);
	}
	return 0;
}

int dispatch_build(struct dispatch *d, const Cellvm__Plan *plan,
		   unsigned nrings)
{
	size_t i;
	int r;

	d->pio = mmap(NULL, PIO_PORTS, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d->pio == MAP_FAILED)
		return -errno;
	d->nmmio = 0;
	for (i = 0; i < plan->n_regions; i++) {
		const Cellvm__Region *reg = plan->regions[i];

		if (reg->ring >= nrings || nrings >= DISPATCH_PIO_SYNC) {
			log_err("plan: region of %s names ring %u of %u",
				reg->owner, reg->ring, nrings);
			return -EINVAL;
		}
		if (reg->space == CELLVM__REGION__SPACE__PIO)
			r = dispatch_add_pio(d, reg);
		else
			r = dispatch_add_mmio(d, reg);
		if (r < 0)
			return r;
	}
	if (mprotect(d->pio, PIO_PORTS, PROT_READ) < 0)
		return -errno;
	return 0;
}

int dispatch_pio(const struct dispatch *d, uint16_t port, bool *sync)
{
	*sync = d->pio[port] & DISPATCH_PIO_SYNC;
	return (int)(d->pio[port] & ~DISPATCH_PIO_SYNC) - 1;
}

int dispatch_mmio(const struct dispatch *d, uint64_t addr, bool *sync)
{
	unsigned i;

	for (i = 0; i < d->nmmio; i++) {
		if (addr - d->mmio[i].base < d->mmio[i].size) {
			*sync = d->mmio[i].sync;
			return (int)d->mmio[i].ring;
		}
	}
	*sync = false;
	return -1;
}
