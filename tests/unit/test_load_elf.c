/*
 * load_kernel() on synthetic ELF files: a PVH ELF (32- or 64-bit, with the
 * Xen PHYS32_ENTRY note) enters 32-bit protected mode with hvm_start_info;
 * an ELF64 vmlinux enters long mode with boot_params and identity-mapped
 * page tables. Guest structures are read back at the raw offsets of the
 * specs (zero-page.rst, Xen start_info.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <elf.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "image_builder.h"

/* ---- PVH ---- */

static void check_pvh_state(const struct vm *v)
{
	const struct boot_cpu *c = &v->cpu;

	assert_int_equal(v->proto, BOOT_PVH);
	assert_int_equal(c->rip, PVH_ENTRY);
	assert_int_equal(c->rbx, SI);
	assert_int_equal(c->rflags, 0x2);
	assert_int_equal(c->cr0, 0x11);
	assert_int_equal(c->cr4, 0);
	assert_int_equal(c->efer, 0);
	check_flat(&c->cs, 0x10, 0xb, 0, 1);
	check_data_segs(c);
	check_tr(c);
	check_gdt(v, 0x00cf9b000000ffffull);
}

/* Xen start_info.h version 1: memmap_paddr at 40, memmap_entries at 48. */
static void check_pvh_memmap(const struct vm *v, uint64_t low)
{
	uint64_t mm = rd(v, SI + 40, 8);

	assert_int_equal(rd(v, SI + 48, 4), 4);
	assert_int_equal(rd(v, mm, 8), 0);
	assert_int_equal(rd(v, mm + 8, 8), 0x9fc00);
	assert_int_equal(rd(v, mm + 16, 4), 1);
	assert_int_equal(rd(v, mm + 24, 8), 0x9fc00);
	assert_int_equal(rd(v, mm + 40, 4), 2);
	assert_int_equal(rd(v, mm + 48, 8), 0x100000);
	assert_int_equal(rd(v, mm + 56, 8), low - 0x100000);
	assert_int_equal(rd(v, mm + 64, 4), 1);
	assert_int_equal(rd(v, mm + 72, 8), 0xe0000000); /* ECAM, reserved */
	assert_int_equal(rd(v, mm + 80, 8), 0x100000);
	assert_int_equal(rd(v, mm + 88, 4), 2);
}

static void test_pvh_elf32_loads_segment_and_start_info(void **state)
{
	static uint8_t img[IMG_MAX];
	uint8_t zero[0x1f00] = { 0 };
	size_t len = make_pvh(img, false, 4);
	struct vm v;

	(void)state;
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, "console=hvc0", NULL, 0), 0);
	check_pvh_state(&v);
	assert_memory_equal(gpa_range(&v.m, 0x100000, 0x100), img + 0x1000,
			    0x100);
	assert_memory_equal(gpa_range(&v.m, 0x100100, sizeof(zero)), zero,
			    sizeof(zero));
	assert_int_equal(rd(&v, 0x102000, 1), 0xcc); /* past p_memsz */
	assert_int_equal(rd(&v, SI, 4), 0x336ec578);
	assert_int_equal(rd(&v, SI + 4, 4), 1);
	assert_int_equal(rd(&v, SI + 12, 4), 0); /* nr_modules */
	assert_int_equal(rd(&v, SI + 24, 8), CMDLINE);
	assert_int_equal(rd(&v, SI + 32, 8), 0xe0000); /* rsdp_paddr */
	assert_string_equal((char *)gpa_range(&v.m, CMDLINE, 1),
			    "console=hvc0");
	check_pvh_memmap(&v, RAM_SIZE);
	vm_free(&v);
}

static void test_pvh_elf64_note_with_initrd_module(void **state)
{
	static uint8_t img[IMG_MAX], initrd[10000];
	size_t len = make_pvh(img, true, 8);
	uint64_t mod;
	struct vm v;

	(void)state;
	fill_pattern(initrd, sizeof(initrd), 0x5a);
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, "", initrd, sizeof(initrd)), 0);
	check_pvh_state(&v);
	assert_int_equal(rd(&v, SI + 12, 4), 1);
	mod = rd(&v, SI + 16, 8);
	assert_int_not_equal(mod, 0);
	assert_int_equal(rd(&v, mod + 8, 8), sizeof(initrd));
	assert_int_equal(rd(&v, mod + 16, 8), 0); /* no module cmdline */
	check_initrd_at(&v, rd(&v, mod, 8), initrd, sizeof(initrd), RAM_SIZE);
	assert_int_equal(rd(&v, CMDLINE, 1), 0);
	vm_free(&v);
}

/* The entry note lives in the second PT_NOTE; the first has none. */
static void test_pvh_note_found_in_second_note_segment(void **state)
{
	static uint8_t img[IMG_MAX];
	uint8_t id[8] = { 7 }, entry[4];
	struct tseg s[3];
	size_t n1, n2;
	struct vm v;

	(void)state;
	memset(img, 0, IMG_MAX);
	wr(entry, PVH_ENTRY, 4);
	n1 = put_note(img + 0x200, "GNU", 3, id, sizeof(id));
	n2 = put_note(img + 0x300, "Xen", 18, entry, sizeof(entry));
	s[0] = (struct tseg){ PT_NOTE, 0x200, 0, n1, n1, 4 };
	s[1] = (struct tseg){ PT_LOAD, 0x1000, 0x100000, 0x100, 0x100, 0 };
	s[2] = (struct tseg){ PT_NOTE, 0x300, 0, n2, n2, 4 };
	elf_build(img, false, EM_386, 0, s, 3);
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, 0x1100, "", NULL, 0), 0);
	assert_int_equal(v.proto, BOOT_PVH);
	assert_int_equal(v.cpu.rip, PVH_ENTRY);
	vm_free(&v);
}

/* ---- ELF64 vmlinux ---- */

static void test_vmlinux_enters_long_mode_with_boot_params(void **state)
{
	static uint8_t img[IMG_MAX], zero[0x10000 - 0x100];
	size_t len = make_vmlinux(img);
	struct vm v;

	(void)state;
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, "root=/dev/vda", NULL, 0), 0);
	check_long_mode(&v, VMLINUX_ENTRY);
	check_boot_params(&v, "root=/dev/vda");
	check_e820(&v, RAM_SIZE, 0);
	assert_true(rd(&v, ZP + 0x238, 4) >= strlen("root=/dev/vda"));
	assert_int_equal(rd(&v, ZP + 0x218, 4), 0); /* no ramdisk */
	assert_int_equal(rd(&v, ZP + 0x21c, 4), 0);
	assert_memory_equal(gpa_range(&v.m, 0x1000000, 0x800), img + 0x1000,
			    0x800);
	assert_memory_equal(gpa_range(&v.m, 0x1200000, 0x100), img + 0x1800,
			    0x100);
	assert_memory_equal(gpa_range(&v.m, 0x1200100, sizeof(zero)), zero,
			    sizeof(zero));
	vm_free(&v);
}

/* Walk the 4-level tables the way the MMU does (SDM vol. 3A, 4.5). */
static uint64_t walk(const struct vm *v, uint64_t va)
{
	const uint64_t addr = 0x000ffffffffff000ull;
	uint64_t e;

	e = rd(v, (v->cpu.cr3 & addr) + ((va >> 39) & 511) * 8, 8);
	assert_int_equal(e & 3, 3);
	e = rd(v, (e & addr) + ((va >> 30) & 511) * 8, 8);
	assert_int_equal(e & 3, 3);
	e = rd(v, (e & addr) + ((va >> 21) & 511) * 8, 8);
	assert_int_equal(e & 0x83, 0x83);
	return (e & addr & ~0x1fffffull) | (va & 0x1fffff);
}

static void test_vmlinux_page_tables_identity_map_4g(void **state)
{
	static uint8_t img[IMG_MAX];
	const uint64_t va[] = { 0,	    ZP,		 CMDLINE, VMLINUX_ENTRY,
				0x1234567,  3 * GiB - 1, 3 * GiB, 0xfee00000,
				4 * GiB - 1 };
	size_t len = make_vmlinux(img), i;
	struct vm v;

	(void)state;
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, "", NULL, 0), 0);
	for (i = 0; i < sizeof(va) / sizeof(va[0]); i++)
		assert_int_equal(walk(&v, va[i]), va[i]);
	assert_int_equal(rd(&v, 0x9000 + 8, 8), 0);	/* PML4[1] */
	assert_int_equal(rd(&v, 0xa000 + 4 * 8, 8), 0); /* PDPT[4] */
	vm_free(&v);
}

static void test_vmlinux_initrd_at_top_of_low_ram(void **state)
{
	static uint8_t img[IMG_MAX], initrd[5000];
	size_t len = make_vmlinux(img);
	struct vm v;

	(void)state;
	fill_pattern(initrd, sizeof(initrd), 0x77);
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, "quiet", initrd, sizeof(initrd)),
			 0);
	assert_int_equal(rd(&v, ZP + 0x21c, 4), sizeof(initrd));
	assert_int_equal(rd(&v, ZP + 0x0c0, 4), 0); /* ext_ramdisk_image */
	assert_int_equal(rd(&v, ZP + 0x0c4, 4), 0);
	check_initrd_at(&v, rd(&v, ZP + 0x218, 4), initrd, sizeof(initrd),
			RAM_SIZE);
	vm_free(&v);
}

static void test_e820_reports_ram_above_4g(void **state)
{
	static uint8_t img[IMG_MAX];
	size_t len = make_vmlinux(img);
	struct vm v;

	(void)state;
	if (!big_vm_init(&v, 5 * GiB))
		skip();
	assert_int_equal(vm_load(&v, img, len, "", NULL, 0), 0);
	check_e820(&v, 3 * GiB, 2 * GiB);
	munmap(v.m.ram, 5 * GiB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pvh_elf32_loads_segment_and_start_info),
		cmocka_unit_test(test_pvh_elf64_note_with_initrd_module),
		cmocka_unit_test(test_pvh_note_found_in_second_note_segment),
		cmocka_unit_test(
			test_vmlinux_enters_long_mode_with_boot_params),
		cmocka_unit_test(test_vmlinux_page_tables_identity_map_4g),
		cmocka_unit_test(test_vmlinux_initrd_at_top_of_low_ram),
		cmocka_unit_test(test_e820_reports_ram_above_4g),
	};

	return cmocka_run_group_tests_name("loader: PVH and vmlinux", tests,
					   NULL, NULL);
}
