/*
 * Guest RAM for DMA-capable devices: the MMU service's layout
 * (mmu-service/layout.c), rebuilt from the RAM size alone.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "guestmem.h"
#include "platform.h"
#include "shm.h"

/* RAM displaced by the 32-bit hole reappears here (MEM_HIGH_START). */
#define GUESTMEM_HIGH_START 0x100000000ull
#define GUESTMEM_ALIGN 4096

int guestmem_init(struct guestmem *m, void *ram, uint64_t size)
{
	uint64_t low;

	/*
	 * The rings' alignment (virtio 2.7) is checked on guest addresses;
	 * it holds for host pointers only if the RAM is page-aligned, as a
	 * mapping is. Their 16- and 32-bit fields are accessed atomically.
	 */
	if (!ram || (uintptr_t)ram % GUESTMEM_ALIGN || size == 0)
		return -EINVAL;
	low = size < PC_MEM_HOLE ? size : PC_MEM_HOLE;
	/* The high bank must end below 2^64. */
	if (size - low > 0 - GUESTMEM_HIGH_START)
		return -EINVAL;
	m->ram = ram;
	m->size = size;
	m->low_size = low;
	return 0;
}

int guestmem_map(struct guestmem *m, int fd, uint64_t size)
{
	struct stat st;
	void *ram;
	int err;

	if (size == 0 || size > SIZE_MAX)
		return -EINVAL;
	/* A memfd shorter than the size we were told would turn a guest
	 * address past its end into SIGBUS here. */
	if (shm_fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size < size)
		return -EINVAL;
	ram = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   0);
	if (ram == MAP_FAILED)
		return -errno;
	err = guestmem_init(m, ram, size);
	if (err)
		munmap(ram, (size_t)size);
	return err;
}

/*
 * True if [gpa, gpa + len) lies inside [base, base + bank) and gpa itself
 * is inside it (so that a zero-length range is refused at the bank's end);
 * *off is then the offset of gpa in the bank. Written without gpa + len,
 * which can wrap.
 */
static bool in_bank(uint64_t gpa, uint64_t len, uint64_t base, uint64_t bank,
		    uint64_t *off)
{
	if (gpa < base || gpa - base >= bank || len > bank - (gpa - base))
		return false;
	*off = gpa - base;
	return true;
}

void *guestmem_ptr(const struct guestmem *m, uint64_t gpa, uint64_t len)
{
	uint64_t off;

	if (in_bank(gpa, len, 0, m->low_size, &off))
		return m->ram + off;
	if (in_bank(gpa, len, GUESTMEM_HIGH_START, m->size - m->low_size, &off))
		return m->ram + m->low_size + off;
	return NULL;
}
