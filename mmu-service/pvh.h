/*
 * The x86/HVM direct boot ABI ("PVH") start-of-day structures, version 1
 * layout of Xen's public/arch-x86/hvm/start_info.h: the loader puts a
 * struct hvm_start_info in guest memory and passes its address in EBX.
 * All addresses and sizes are little-endian; 0 means "not present".
 */
#ifndef CELLVM_PVH_H
#define CELLVM_PVH_H

#include <stddef.h>
#include <stdint.h>

#define HVM_START_MAGIC 0x336ec578 /* "xEn3" with bit 7 of 'E' set */
#define HVM_START_VERSION 1	   /* adds the memory map */

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;	 /* version 1 */
	uint32_t memmap_entries; /* version 1 */
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* E820 types */
	uint32_t reserved;
};

_Static_assert(offsetof(struct hvm_start_info, modlist_paddr) == 16, "");
_Static_assert(offsetof(struct hvm_start_info, cmdline_paddr) == 24, "");
_Static_assert(offsetof(struct hvm_start_info, rsdp_paddr) == 32, "");
_Static_assert(offsetof(struct hvm_start_info, memmap_paddr) == 40, "");
_Static_assert(offsetof(struct hvm_start_info, memmap_entries) == 48, "");
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24,
	       "hvm_memmap_table_entry");

#endif
