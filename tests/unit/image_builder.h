/*
 * Shared by the loader unit tests (test_layout.c, test_load_*.c): a test VM
 * over a malloc'd or sparse RAM buffer, builders of synthetic PVH ELF,
 * ELF64 vmlinux and bzImage files, and checks of the state load_kernel()
 * leaves. Guest structures are read back at the raw offsets of the specs
 * (zero-page.rst, boot.rst, Xen start_info.h), not through the loader's own
 * structs. The checks fail the running cmocka test on a mismatch.
 */
#ifndef CELLVM_TEST_IMAGE_BUILDER_H
#define CELLVM_TEST_IMAGE_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define RAM_SIZE (64 * MiB)
#define IMG_MAX 0x4000 /* every builder needs a buffer this big */

#define ZP 0x7000ull /* boot_params, as documented in boot.h */
#define SI 0x6000ull /* hvm_start_info */
#define CMDLINE 0x20000ull
#define PVH_ENTRY 0x100010ull
#define VMLINUX_ENTRY 0x1000000ull

struct vm {
	struct guest_mem m;
	struct boot_cpu cpu;
	enum boot_protocol proto;
	char err[256];
};

/* Little-endian store of the low width bytes of v (x86 host). */
void wr(uint8_t *p, uint64_t v, size_t width);

/* The width bytes at gpa; fails the test if they are not in RAM. */
uint64_t rd(const struct vm *v, uint64_t gpa, unsigned width);

/* A VM with size bytes of RAM filled with 0xcc, so missing zeroing shows. */
void vm_init(struct vm *v, uint64_t size);
void vm_free(struct vm *v);

/*
 * A sparse VM bigger than the hole: PROT_NONE except the first RAM_SIZE
 * bytes. False if the host cannot map it; free with munmap(v->m.ram, size).
 */
bool big_vm_init(struct vm *v, uint64_t size);

/* load_kernel() for one vCPU; the error line lands in v->err. */
int vm_load(struct vm *v, const uint8_t *k, size_t klen, const char *cmdline,
	    const uint8_t *initrd, size_t ilen);

/* ---- image builders ---- */

struct tseg {
	uint32_t type;
	uint64_t off, paddr, filesz, memsz, align;
};

/* ELF header and n program headers (p_vaddr = p_paddr) at the start of b. */
void elf_build(uint8_t *b, bool is64, uint16_t machine, uint64_t entry,
	       const struct tseg *s, unsigned n);

/* One ELF note at p; returns its padded size. */
size_t put_note(uint8_t *p, const char *name, uint32_t type, const void *desc,
		uint32_t descsz);

void fill_pattern(uint8_t *p, size_t n, uint8_t seed);

/*
 * PVH image: one PT_LOAD of 0x100 bytes at 1 MiB (memsz 0x2000), one
 * PT_NOTE holding a GNU note, a Xen GUEST_OS note and then the
 * PHYS32_ENTRY note (at file offset 0x23c), so the loader must walk past
 * the first two. Returns the file length.
 */
size_t make_pvh(uint8_t *b, bool is64, uint32_t descsz);

/* vmlinux: text at 16 MiB, data + bss at 18 MiB, a GNU note only. */
size_t make_vmlinux(uint8_t *b);

struct bz_opts {
	uint8_t setup_sects;
	uint16_t version, xloadflags;
	uint8_t relocatable;
	uint32_t align, init_size, cmdline_size, initrd_addr_max;
	uint64_t pref;
};

/* Protocol 2.15, relocatable, 64-bit entry, preferred at 16 MiB. */
extern const struct bz_opts bz_default;

#define BZ_PAYLOAD 0x1000

/* A bzImage: boot sector + setup sectors, then a BZ_PAYLOAD payload. */
size_t make_bzimage(uint8_t *b, const struct bz_opts *o);

/* ---- state checks ---- */

/* 64-bit entry: long mode, flat segments, GDT, RSI = boot_params. */
void check_long_mode(const struct vm *v, uint64_t entry);

/* A flat 4 GiB segment; the GDT at 0x500 holds the same descriptors. */
void check_flat(const struct seg *s, uint16_t sel, uint8_t type, uint8_t l,
		uint8_t db);
void check_data_segs(const struct boot_cpu *c);
void check_tr(const struct boot_cpu *c);
void check_gdt(const struct vm *v, uint64_t code);

/*
 * The boot_params E820 map: low bytes below the hole, the ECAM window
 * reserved, high above 4 GiB.
 */
void check_e820(const struct vm *v, uint64_t low, uint64_t high);

void check_boot_params(const struct vm *v, const char *cmdline);

/* The initrd is page-aligned at the top of RAM below limit. */
void check_initrd_at(const struct vm *v, uint64_t gpa, const uint8_t *data,
		     size_t len, uint64_t limit);

/* rc is want and the single-line error contains msg. */
void check_refused(struct vm *v, int rc, int want, const char *msg);

#endif
