/*
 * Guest-physical memory layout: RAM banks and the one bounds checker that
 * every guest-physical access goes through (STYLE.md, convention 4).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "loader.h"

int mem_layout(uint64_t size, struct guest_mem *m, struct mem_slot *slots)
{
	uint64_t low;

	if (size < MEM_MIN || size > MEM_MAX || size % 4096)
		return -EINVAL;

	low = size < MEM_HOLE_START ? size : MEM_HOLE_START;
	memset(m, 0, sizeof(*m));
	m->size = size;
	m->low_size = low;

	slots[0] = (struct mem_slot){ .gpa = 0, .size = low, .offset = 0 };
	if (size == low)
		return 1;

	/* RAM displaced by the 32-bit hole reappears at 4 GiB. */
	slots[1] = (struct mem_slot){
		.gpa = MEM_HIGH_START,
		.size = size - low,
		.offset = low,
	};
	return 2;
}

/*
 * True if [gpa, gpa + len) lies inside [base, base + bank); *off is then
 * the offset of gpa in the bank. Written without gpa + len, which can wrap.
 */
static bool in_bank(uint64_t gpa, uint64_t len, uint64_t base, uint64_t bank,
		    uint64_t *off)
{
	if (gpa < base || len > bank || gpa - base > bank - len)
		return false;
	*off = gpa - base;
	return true;
}

void *gpa_range(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t low, high, off;

	if (!m || !m->ram || m->low_size > m->size ||
	    m->low_size > MEM_HOLE_START)
		return NULL;

	low = m->low_size;
	high = m->size - low;
	if (in_bank(gpa, len, 0, low, &off))
		return m->ram + off;
	if (high && in_bank(gpa, len, MEM_HIGH_START, high, &off))
		return m->ram + low + off;
	return NULL;
}
