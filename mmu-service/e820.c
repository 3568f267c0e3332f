/*
 * The guest's physical memory map, as E820 entries for boot_params and
 * the PVH memmap: conventional memory below the EBDA, the reserved BIOS
 * area [0x9fc00, 1 MiB) that will hold the MP and ACPI tables, RAM from
 * 1 MiB to the 32-bit hole, the PCI ECAM window reserved, and RAM above
 * 4 GiB, in address order. The rest of the hole (the PCI MMIO window, the
 * IOAPIC, the LAPIC) is left out, as MMIO.
 */
#include <errno.h>

#include "boot.h"

/* The ACPI tables and the MP table lie in the reserved BIOS area. */
_Static_assert(BOOT_ACPI_START >= BIOS_AREA_START &&
		       BOOT_ACPI_END <= BOOT_MP_START &&
		       BOOT_MP_END <= BIOS_AREA_END,
	       "ACPI or MP tables outside the E820-reserved BIOS area");
_Static_assert(PC_PCI_ECAM_ADDR >= MEM_HOLE_START &&
		       PC_PCI_ECAM_ADDR + (uint64_t)PC_PCI_ECAM_SIZE <=
			       MEM_HIGH_START,
	       "the ECAM window is not in the 32-bit hole");

static int memmap_add(struct mem_range *r, int n, int max, uint64_t addr,
		      uint64_t size, uint32_t type)
{
	if (n < 0 || !size)
		return n;
	if (n >= max)
		return -E2BIG;
	r[n] = (struct mem_range){ .addr = addr, .size = size, .type = type };
	return n + 1;
}

int boot_memmap(const struct guest_mem *m, struct mem_range *r, int max)
{
	uint64_t low = m->low_size;
	int n = 0;

	if (low <= HIGH_MEM_START)
		return -EINVAL;
	n = memmap_add(r, n, max, 0, BIOS_AREA_START, E820_RAM);
	n = memmap_add(r, n, max, BIOS_AREA_START,
		       BIOS_AREA_END - BIOS_AREA_START, E820_RESERVED);
	n = memmap_add(r, n, max, HIGH_MEM_START, low - HIGH_MEM_START,
		       E820_RAM);
	/*
	 * The MCFG's window, reserved as the PCI Firmware Specification
	 * (3.2, 4.1.2) allows and as Linux's early ECAM check wants it
	 * (arch/x86/pci/mmconfig-shared.c); acpi.c's PNP0C02 covers it too.
	 */
	n = memmap_add(r, n, max, PC_PCI_ECAM_ADDR, PC_PCI_ECAM_SIZE,
		       E820_RESERVED);
	if (m->size > low)
		n = memmap_add(r, n, max, MEM_HIGH_START, m->size - low,
			       E820_RAM);
	return n;
}
