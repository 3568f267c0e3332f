/*
 * PVH boot (Xen docs/misc/pvh.pandoc): the start info page with the
 * command line, the initrd as the one module, and the memory map.
 */
#include <errno.h>
#include <string.h>

#include "boot.h"
#include "pvh.h"

_Static_assert(BOOT_MODLIST >= BOOT_START_INFO + sizeof(struct hvm_start_info),
	       "module list overlaps the start info");
_Static_assert(BOOT_MEMMAP >= BOOT_MODLIST + sizeof(struct hvm_modlist_entry),
	       "memory map overlaps the module list");
_Static_assert(BOOT_MEMMAP + BOOT_MEMMAP_MAX *
				       sizeof(struct hvm_memmap_table_entry) <=
		       BOOT_START_INFO + PAGE_SIZE_4K,
	       "PVH tables exceed their page");

static int pvh_memmap(struct load_ctx *c, struct hvm_start_info *si)
{
	struct hvm_memmap_table_entry *e;
	struct mem_range r[BOOT_MEMMAP_MAX];
	int i, n;

	n = boot_memmap(c->m, r, BOOT_MEMMAP_MAX);
	if (n < 0)
		return load_fail(c, n, "memory map does not fit");
	e = gpa_range(c->m, BOOT_MEMMAP, n * sizeof(*e));
	if (!e)
		return load_fail(c, -E2BIG, "no RAM for the PVH memory map");
	for (i = 0; i < n; i++)
		e[i] = (struct hvm_memmap_table_entry){
			.addr = r[i].addr,
			.size = r[i].size,
			.type = r[i].type,
		};
	si->memmap_paddr = BOOT_MEMMAP;
	si->memmap_entries = (uint32_t)n;
	return 0;
}

static int pvh_modules(struct load_ctx *c, struct hvm_start_info *si)
{
	struct hvm_modlist_entry *mod;

	if (!c->initrd_gpa)
		return 0;
	mod = gpa_range(c->m, BOOT_MODLIST, sizeof(*mod));
	if (!mod)
		return load_fail(c, -E2BIG, "no RAM for the PVH module list");
	*mod = (struct hvm_modlist_entry){
		.paddr = c->initrd_gpa,
		.size = c->a->initrd_size,
	};
	si->nr_modules = 1;
	si->modlist_paddr = BOOT_MODLIST;
	return 0;
}

int pvh_build(struct load_ctx *c)
{
	struct hvm_start_info *si;
	void *page;
	int rc;

	page = gpa_range(c->m, BOOT_START_INFO, PAGE_SIZE_4K);
	if (!page)
		return load_fail(c, -E2BIG, "no RAM for the PVH start info");
	memset(page, 0, PAGE_SIZE_4K);
	si = page;
	si->magic = HVM_START_MAGIC;
	si->version = HVM_START_VERSION;
	si->cmdline_paddr = BOOT_CMDLINE;
	si->rsdp_paddr = c->rsdp;
	rc = pvh_memmap(c, si);
	return rc ? rc : pvh_modules(c, si);
}
