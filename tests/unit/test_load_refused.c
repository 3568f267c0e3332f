/*
 * load_kernel() on malformed PVH ELF, ELF64 vmlinux and bzImage files:
 * each case of the table pokes or truncates a good image, and the loader
 * must refuse it with the expected status and one line saying why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <stdint.h>

#include "image_builder.h"

enum base {
	PVH32,
	VMLINUX,
	BZIMAGE
};

struct poke {
	uint32_t off;
	uint8_t width; /* 0: unused */
	uint64_t val;
};

struct bad_case {
	const char *name;
	const char *msg; /* expected in the error line */
	struct poke poke[2];
	size_t trunc; /* cut the file to this length; 0: keep */
	int rc;
	enum base base;
};

#define EH(f, v)                                                         \
	{                                                                \
		offsetof(Elf64_Ehdr, f), sizeof(((Elf64_Ehdr *)0)->f), v \
	}
#define PH(i, f, v)                                             \
	{                                                       \
		sizeof(Elf64_Ehdr) + (i) * sizeof(Elf64_Phdr) + \
			offsetof(Elf64_Phdr, f),                \
			sizeof(((Elf64_Phdr *)0)->f), v         \
	}
#define PH32(i, f, v)                                           \
	{                                                       \
		sizeof(Elf32_Ehdr) + (i) * sizeof(Elf32_Phdr) + \
			offsetof(Elf32_Phdr, f),                \
			sizeof(((Elf32_Phdr *)0)->f), v         \
	}
#define B(off, width, v)      \
	{                     \
		off, width, v \
	}
#define BAD(n, b, t, r, m, ...)                                           \
	{                                                                 \
		.name = n, .msg = m, .poke = { __VA_ARGS__ }, .trunc = t, \
		.rc = r, .base = b                                        \
	}
/* In make_pvh(), the PHYS32_ENTRY note is the third, at 0x23c. */
#define XEN_NOTE 0x23c

static const struct bad_case bad_cases[] = {
	BAD("tiny_file", VMLINUX, 2, -ENOEXEC, "truncated file"),
	BAD("bad_magic", VMLINUX, 0, -ENOEXEC, "bad magic", B(1, 1, 'X')),
	BAD("truncated_elf_header", VMLINUX, 40, -EINVAL,
	    "truncated ELF header"),
	BAD("bad_elf_class", VMLINUX, 0, -ENOEXEC, "bad ELF class 3",
	    B(EI_CLASS, 1, 3)),
	BAD("big_endian_elf", VMLINUX, 0, -ENOEXEC, "not little-endian",
	    B(EI_DATA, 1, ELFDATA2MSB)),
	BAD("wrong_machine", VMLINUX, 0, -ENOEXEC, "ELF machine 40 is not x86",
	    EH(e_machine, EM_ARM)),
	BAD("elf64_i386_without_pvh_note", VMLINUX, 0, -ENOEXEC,
	    "is not x86-64", EH(e_machine, EM_386)),
	BAD("elf32_without_pvh_note", PVH32, 0, -ENOEXEC,
	    "no Xen PVH entry note", B(XEN_NOTE + 8, 4, 19)),
	BAD("not_executable", VMLINUX, 0, -ENOEXEC, "not ET_EXEC",
	    EH(e_type, ET_DYN)),
	BAD("no_program_headers", VMLINUX, 0, -EINVAL, "no program headers",
	    EH(e_phnum, 0)),
	BAD("absurd_phnum", VMLINUX, 0, -EINVAL, "absurd phnum 1000",
	    EH(e_phnum, 1000)),
	BAD("bad_phentsize", VMLINUX, 0, -EINVAL, "bad e_phentsize 32",
	    EH(e_phentsize, 32)),
	BAD("truncated_program_headers", VMLINUX, 64 + 56 + 10, -EINVAL,
	    "truncated program headers"),
	BAD("phoff_overflow", VMLINUX, 0, -EINVAL, "truncated program headers",
	    EH(e_phoff, UINT64_MAX - 8)),
	BAD("segment_data_beyond_file", VMLINUX, 0, -EINVAL,
	    "segment 0 data [0x1000, +0x1800) is beyond the end of the file",
	    PH(0, p_filesz, 0x1800), PH(0, p_memsz, 0x1800)),
	BAD("segment_offset_overflow", VMLINUX, 0, -EINVAL,
	    "segment 0: p_offset + p_filesz overflows",
	    PH(0, p_offset, UINT64_MAX - 0x10)),
	BAD("filesz_above_memsz", VMLINUX, 0, -EINVAL,
	    "segment 1: p_filesz 0x200 > p_memsz 0x100", PH(1, p_filesz, 0x200),
	    PH(1, p_memsz, 0x100)),
	BAD("filesz_with_zero_memsz", VMLINUX, 0, -EINVAL,
	    "segment 1: p_filesz 0x100 > p_memsz 0", PH(1, p_memsz, 0)),
	BAD("paddr_overflow", VMLINUX, 0, -EINVAL,
	    "segment 1: p_paddr + p_memsz overflows",
	    PH(1, p_paddr, UINT64_MAX - 0x100)),
	BAD("overlapping_segments", VMLINUX, 0, -EINVAL,
	    "segment 1 overlaps segment 0", PH(1, p_paddr, 0x1000400)),
	BAD("segment_in_hole", VMLINUX, 0, -E2BIG,
	    "segment 1 [0xc0000000, +0x10000) is outside RAM",
	    PH(1, p_paddr, 0xc0000000)),
	BAD("segment_beyond_ram", VMLINUX, 0, -E2BIG,
	    "segment 1 [0x3ff8000, +0x10000) is outside RAM",
	    PH(1, p_paddr, 0x3ff8000)),
	BAD("segment_straddles_hole", VMLINUX, 0, -EINVAL,
	    "straddles the 32-bit hole", PH(1, p_paddr, 0xbfff8000)),
	BAD("segment_over_boot_structures", VMLINUX, 0, -EINVAL,
	    "segment 1 [0x7000, +0x10000) overlaps the boot",
	    PH(1, p_paddr, 0x7000)),
	BAD("segment_in_bios_area", VMLINUX, 0, -EINVAL,
	    "overlaps the BIOS area", PH(1, p_paddr, 0xf0000)),
	BAD("no_loadable_segment", VMLINUX, 0, -EINVAL, "no loadable segment",
	    PH(0, p_type, PT_NULL), PH(1, p_type, PT_NULL)),
	BAD("entry_outside_segments", VMLINUX, 0, -EINVAL,
	    "entry point 0x1100000 is outside the loaded segments",
	    EH(e_entry, 0x1100000)),
	BAD("entry_in_bss", VMLINUX, 0, -EINVAL,
	    "entry point 0x1200100 is outside", EH(e_entry, 0x1200100)),
	BAD("truncated_note", PVH32, 0, -EINVAL,
	    "truncated note at offset 0 in segment 1", B(0x200, 4, 0x1000)),
	BAD("pvh_note_bad_size", PVH32, 0, -EINVAL, "(want 4 or 8)",
	    B(XEN_NOTE + 4, 4, 2)),
	BAD("pvh_entry_outside_segments", PVH32, 0, -EINVAL,
	    "entry point 0x200000 is outside", B(XEN_NOTE + 16, 4, 0x200000)),
	BAD("note_segment_beyond_file", PVH32, 0, -EINVAL,
	    "segment 1 data [0x1100, +0x50) is beyond the end",
	    PH32(1, p_offset, 0x1100)),
	BAD("bzimage_old_protocol", BZIMAGE, 0, -ENOEXEC,
	    "boot protocol 2.11 is too old", B(0x206, 2, 0x020b)),
	BAD("bzimage_no_64bit_entry", BZIMAGE, 0, -ENOEXEC,
	    "XLF_KERNEL_64 clear", B(0x236, 2, 0)),
	BAD("bzimage_no_hdrs", BZIMAGE, 0, -ENOEXEC, "no \"HdrS\" header",
	    B(0x202, 4, 0)),
	BAD("bzimage_truncated_header", BZIMAGE, 0x204, -EINVAL,
	    "truncated bzImage header"),
	BAD("bzimage_short_setup_header", BZIMAGE, 0, -EINVAL,
	    "before the 2.12 fields", B(0x201, 1, 0x40)),
	BAD("bzimage_truncated_payload", BZIMAGE, 3 * 512, -EINVAL,
	    "truncated bzImage"),
	BAD("bzimage_setup_sects_beyond_file", BZIMAGE, 0, -EINVAL,
	    "truncated bzImage: 102912 bytes of setup code", B(0x1f1, 1, 200)),
	BAD("bzimage_init_size_beyond_ram", BZIMAGE, 0, -E2BIG,
	    "kernel needs 0x8000000 bytes (init_size)", B(0x260, 4, 0x8000000)),
	BAD("bzimage_fixed_kernel_does_not_fit", BZIMAGE, 0, -E2BIG,
	    "kernel is not relocatable", B(0x234, 1, 0),
	    B(0x258, 8, 0x3f00000)),
	BAD("bzimage_bad_alignment", BZIMAGE, 0, -EINVAL,
	    "kernel_alignment 0x300000 is not a power of two",
	    B(0x230, 4, 0x300000)),
};

#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

static void test_malformed_image_is_refused(void **state)
{
	static uint8_t img[IMG_MAX];
	const struct bad_case *bc = *state;
	size_t len, i;
	struct vm v;

	if (bc->base == PVH32)
		len = make_pvh(img, false, 4);
	else if (bc->base == VMLINUX)
		len = make_vmlinux(img);
	else
		len = make_bzimage(img, &bz_default);
	for (i = 0; i < 2 && bc->poke[i].width; i++)
		wr(img + bc->poke[i].off, bc->poke[i].val, bc->poke[i].width);
	if (bc->trunc)
		len = bc->trunc;
	vm_init(&v, RAM_SIZE);
	check_refused(&v, vm_load(&v, img, len, "", NULL, 0), bc->rc, bc->msg);
	vm_free(&v);
}

int main(void)
{
	static struct CMUnitTest bad[N_BAD];
	size_t i;

	for (i = 0; i < N_BAD; i++)
		bad[i] = (struct CMUnitTest){
			.name = bad_cases[i].name,
			.test_func = test_malformed_image_is_refused,
			.initial_state = (void *)&bad_cases[i],
		};
	return cmocka_run_group_tests_name("loader refuses malformed images",
					   bad, NULL, NULL);
}
