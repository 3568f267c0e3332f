/*
 * Guest RAM as a DMA-capable device process sees it: the broker hands it
 * the RAM memfd and the RAM size; the layout (which guest-physical ranges
 * are RAM, at which offsets of the memfd) is the MMU service's, derived
 * from the size alone (mmu-service/loader.h): [0, low) at offset 0 and
 * [4 GiB, 4 GiB + high) at offset low, low = min(size, PC_MEM_HOLE).
 *
 * The guest writes this memory while the device reads it: every access
 * goes through guestmem_ptr(), which refuses a range that is not wholly
 * inside one RAM bank, and callers copy what they validate before use.
 */
#ifndef CELLVM_GUESTMEM_H
#define CELLVM_GUESTMEM_H

#include <stdint.h>

struct guestmem {
	uint8_t *ram;	   /* the whole memfd, shared, read-write */
	uint64_t size;	   /* bytes of RAM */
	uint64_t low_size; /* bytes below PC_MEM_HOLE */
};

/* Map size bytes of the RAM memfd fd. 0, or -errno. */
int guestmem_map(struct guestmem *m, int fd, uint64_t size);

/*
 * Describe RAM already mapped at ram (tests): fills m. 0, or -EINVAL if
 * ram is not 4 KiB-aligned (a guest-aligned ring must be host-aligned).
 */
int guestmem_init(struct guestmem *m, void *ram, uint64_t size);

/* Host pointer for [gpa, gpa + len) if it lies in one RAM bank, else
 * NULL. len 0 is a range of its own: gpa must still be inside a bank. */
void *guestmem_ptr(const struct guestmem *m, uint64_t gpa, uint64_t len);

#endif
