/*
 * Guest memory layout and kernel loading: pure functions over a RAM buffer,
 * no system calls, so the unit tests and fuzzers drive them directly.
 *
 * Layout (defaults, ARCHITECTURE.md "Memory map"): RAM from 0 up to the
 * 32-bit hole at 3 GiB (MEM_HOLE_START); the hole up to 4 GiB holds the PCI
 * windows, the IOAPIC (0xfec00000) and the LAPIC (0xfee00000); RAM above
 * 4 GiB for the rest. The RAM memfd is one file: [0, low) at offset 0 and
 * [4 GiB, 4 GiB + high) at offset low.
 *
 * Every guest-physical access goes through gpa_range(), which refuses a
 * range that is not entirely inside one RAM bank.
 */
#ifndef CELLVM_LOADER_H
#define CELLVM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "platform.h"

#define MEM_HOLE_START PC_MEM_HOLE
#define MEM_HIGH_START 0x100000000ull
#define MEM_MIN (2ull << 20)
#define MEM_MAX (1ull << 40)

struct guest_mem {
	uint8_t *ram;	   /* host mapping of the whole RAM memfd */
	uint64_t size;	   /* bytes of RAM in all */
	uint64_t low_size; /* bytes below MEM_HOLE_START */
};

struct mem_slot {
	uint64_t gpa;
	uint64_t size;
	uint64_t offset; /* in the RAM memfd */
};

#define MEM_MAX_SLOTS 2

/*
 * Split size bytes of RAM into banks. Fills m (ram left NULL) and up to
 * MEM_MAX_SLOTS slots. Returns the number of slots, or -EINVAL if size is
 * below MEM_MIN, above MEM_MAX or not a multiple of 4 KiB.
 */
int mem_layout(uint64_t size, struct guest_mem *m, struct mem_slot *slots);

/* Host pointer for [gpa, gpa + len) if it lies in one RAM bank, else NULL. */
void *gpa_range(const struct guest_mem *m, uint64_t gpa, uint64_t len);

struct seg {
	uint64_t base;
	uint32_t limit;
	uint16_t selector;
	uint8_t type, present, dpl, db, s, l, g;
};

/* Register state of the boot vCPU at the kernel's entry point. */
struct boot_cpu {
	uint64_t rip, rsp, rflags;
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t cr0, cr3, cr4, efer;
	struct seg cs, ds, es, fs, gs, ss, tr, ldt;
	uint64_t gdt_base, idt_base;
	uint16_t gdt_limit, idt_limit;
};

struct kernel_args {
	const uint8_t *kernel; /* the whole kernel file */
	size_t kernel_size;
	const uint8_t *initrd; /* NULL if none */
	size_t initrd_size;
	const char *cmdline; /* never NULL; may be "" */
	unsigned cpus;
};

enum boot_protocol {
	BOOT_PVH,     /* ELF with a Xen PVH entry note */
	BOOT_LINUX64, /* bzImage or ELF64 vmlinux, 64-bit boot protocol */
};

/*
 * Load the kernel (and initrd, command line, boot tables) into m and fill
 * the boot vCPU state. Recognises, in this order: an ELF with a
 * XEN_ELFNOTE_PHYS32_ENTRY note (PVH), an ELF64 x86-64 vmlinux, a bzImage.
 * Returns 0, or -EINVAL/-E2BIG/-ENOEXEC with one line in err saying what is
 * wrong with the image ("truncated program header", "segment 2 overlaps
 * segment 1", "segment 0 [0xc0000000, +0x1000) is outside RAM",
 * "bad magic: not an ELF or a bzImage", ...). Leaves RAM in an unspecified
 * state on error (the VM is not started then).
 */
int load_kernel(struct guest_mem *m, const struct kernel_args *a,
		struct boot_cpu *cpu, enum boot_protocol *proto, char *err,
		size_t errlen);

#endif
