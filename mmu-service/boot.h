/*
 * Internal to the loader (layout.c, load.c, elf.c, bzimage.c, bootparams.c,
 * pvh.c, cpu.c, e820.c): fixed guest-physical addresses of the boot
 * structures, the state shared while one kernel is loaded, and helpers.
 *
 * Low memory at kernel entry (all boot structures lie in [0, BOOT_AREA_END),
 * which no kernel segment may overlap; E820 reports it as RAM, as a PC BIOS
 * does, and Linux reserves the first MiB for itself):
 *
 *   0x00000  real-mode IVT and BIOS data area: left zero
 *   0x00500  GDT: 0x10 code, 0x18 data, 0x20 TSS (16 bytes in long mode)
 *   0x06000  PVH hvm_start_info, its module list at 0x6100, memmap at 0x6200
 *   0x07000  Linux boot_params ("zero page")
 *   0x08000  boot stack page, RSP = 0x8ff0
 *   0x09000  PML4
 *   0x0a000  PDPT
 *   0x0b000  4 page directories, 2 MiB pages mapping [0, 4 GiB) 1:1
 *   0x20000  command line, up to BOOT_CMDLINE_MAX bytes with its NUL
 *   0x30000  BOOT_AREA_END: free RAM up to the EBDA
 *   0x9fc00  [EBDA, 1 MiB) reserved: EBDA, VGA, option and BIOS ROMs; the
 *            MP table and ACPI tables go to 0xe0000-0xfffff
 *   0xe0000  ACPI tables, the RSDP first (acpi.c)
 *   0xf0000  MP floating pointer, then the MP configuration table
 *            (mptable.c): the MP spec's scan of 0xf0000-0xfffff finds it
 *   0x100000 kernel, then free RAM; the initrd goes to the top of low RAM
 */
#ifndef CELLVM_BOOT_H
#define CELLVM_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "le.h"
#include "loader.h"

#define BOOT_GDT 0x500ull
#define BOOT_GDT_LIMIT 0x2f /* null, null, code, data, 16-byte TSS */
#define BOOT_START_INFO 0x6000ull
#define BOOT_MODLIST 0x6100ull
#define BOOT_MEMMAP 0x6200ull
#define BOOT_ZERO_PAGE 0x7000ull
#define BOOT_STACK_TOP 0x8ff0ull
#define BOOT_PML4 0x9000ull
#define BOOT_PDPT 0xa000ull
#define BOOT_PD 0xb000ull
#define BOOT_PD_COUNT 4 /* one per GiB */
#define BOOT_CMDLINE 0x20000ull
#define BOOT_CMDLINE_MAX 0x10000u
#define BOOT_AREA_END 0x30000ull

#define BIOS_AREA_START 0x9fc00ull /* EBDA, as a PC with 639 KiB */
#define BIOS_AREA_END 0x100000ull
#define BOOT_ACPI_START 0xe0000ull /* RSDP here: 16-byte aligned, scanned */
#define BOOT_ACPI_END 0xf0000ull
#define BOOT_MP_START 0xf0000ull
#define BOOT_MP_END BIOS_AREA_END
#define HIGH_MEM_START 0x100000ull

/* GDT selectors: __BOOT_CS and __BOOT_DS of boot.rst, then the TSS. */
#define BOOT_CS 0x10
#define BOOT_DS 0x18
#define BOOT_TSS 0x20

#define PAGE_SIZE_4K 0x1000ull

/* E820 / hvm_memmap_table_entry types (ACPI 6.5, 15.1 "INT 15H, E820H"). */
#define E820_RAM 1
#define E820_RESERVED 2

#define BOOT_MEMMAP_MAX 5

struct mem_range {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/* State of one load_kernel() call. */
struct load_ctx {
	struct guest_mem *m;
	const struct kernel_args *a;
	struct boot_cpu *cpu;
	char *err;
	size_t errlen;

	enum boot_protocol proto;
	uint64_t entry;
	uint64_t kernel_start; /* lowest byte of the kernel image */
	uint64_t kernel_end;   /* first byte after the kernel image */
	uint64_t cmdline_max;  /* longest command line, without NUL */
	uint64_t initrd_limit; /* initrd must end at or below this */
	uint64_t initrd_gpa;   /* 0: no initrd */
	const uint8_t *khdr;   /* bzImage setup header (file bytes) or NULL */
	size_t khdr_len;       /* bytes from offset 0x1f1 */
	uint64_t rsdp;	       /* ACPI RSDP, set by acpi_build() */
};

/* Write the one-line error message; load_fail() also yields rc. */
void load_msg(struct load_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define load_fail(c, rc, ...) (load_msg((c), __VA_ARGS__), (rc))

/* [base, base + len) does not wrap; *end is the first byte after it. */
static inline bool range_end(uint64_t base, uint64_t len, uint64_t *end)
{
	return !__builtin_add_overflow(base, len, end);
}

static inline bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
				  uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* Refuse a kernel range that overlaps the boot structures or the BIOS area. */
int check_kernel_range(struct load_ctx *c, const char *what, uint64_t gpa,
		       uint64_t len);

int elf_load(struct load_ctx *c);
int bzimage_load(struct load_ctx *c);
bool bzimage_probe(const uint8_t *k, size_t len);

int boot_memmap(const struct guest_mem *m, struct mem_range *r, int max);
int bootparams_build(struct load_ctx *c);
int pvh_build(struct load_ctx *c);
int cpu_setup_long_mode(struct load_ctx *c);
int cpu_setup_pvh(struct load_ctx *c);

/*
 * The PC of acpi.h described for c->a->cpus CPUs (1 to PC_CPUS_MAX, as
 * load_kernel() checked): ACPI tables in [BOOT_ACPI_START, BOOT_ACPI_END),
 * setting c->rsdp; the MP table in [BOOT_MP_START, BOOT_MP_END). Each
 * zeroes its whole range first and refuses tables that do not fit it.
 */
int acpi_build(struct load_ctx *c);
int mptable_build(struct load_ctx *c);

/* The byte that makes the len bytes at p sum to zero (ACPI, MP tables). */
uint8_t table_checksum(const void *p, size_t len);

#endif
