/*
 * load_kernel() on synthetic bzImages (boot.rst, 64-bit boot protocol):
 * placement at pref_address or the fallback, setup_sects, the header
 * fields kept in boot_params and the initrd under initrd_addr_max; and on
 * the host's own /boot/vmlinuz-* if there is one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "image_builder.h"

static void test_bzimage_loads_at_pref_address(void **state)
{
	static uint8_t img[IMG_MAX];
	size_t len = make_bzimage(img, &bz_default);
	struct vm v;

	(void)state;
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, "console=ttyS0", NULL, 0), 0);
	check_long_mode(&v, 0x1000000 + 0x200);
	check_boot_params(&v, "console=ttyS0");
	check_e820(&v, RAM_SIZE, 0);
	assert_memory_equal(gpa_range(&v.m, 0x1000000, BZ_PAYLOAD),
			    img + 3 * 512, BZ_PAYLOAD);
	/* The kernel's own header fields survive in boot_params.hdr. */
	assert_int_equal(rd(&v, ZP + 0x1f1, 1), 2);
	assert_int_equal(rd(&v, ZP + 0x206, 2), 0x020f);
	assert_int_equal(rd(&v, ZP + 0x236, 2), 3);
	assert_int_equal(rd(&v, ZP + 0x238, 4), 2047);
	assert_int_equal(rd(&v, ZP + 0x260, 4), 0x400000);
	assert_int_equal(rd(&v, ZP + 0x214, 4), 0x1000000); /* code32_start */
	assert_int_equal(rd(&v, ZP + 0x218, 4), 0);
	vm_free(&v);
}

static void test_bzimage_setup_sects_zero_means_four(void **state)
{
	static uint8_t img[IMG_MAX];
	struct bz_opts o = bz_default;
	size_t len;
	struct vm v;

	(void)state;
	o.setup_sects = 0;
	len = make_bzimage(img, &o);
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, "", NULL, 0), 0);
	assert_memory_equal(gpa_range(&v.m, 0x1000000, BZ_PAYLOAD),
			    img + 5 * 512, BZ_PAYLOAD);
	vm_free(&v);
}

static void test_bzimage_falls_back_when_pref_does_not_fit(void **state)
{
	static uint8_t img[IMG_MAX];
	struct bz_opts o = bz_default;
	size_t len;
	struct vm v;

	(void)state;
	o.init_size = 12 * MiB; /* 16 MiB + 12 MiB > 24 MiB of RAM */
	len = make_bzimage(img, &o);
	vm_init(&v, 24 * MiB);
	assert_int_equal(vm_load(&v, img, len, "", NULL, 0), 0);
	/* 1 MiB aligned up to kernel_alignment (2 MiB). */
	check_long_mode(&v, 0x200000 + 0x200);
	assert_int_equal(rd(&v, ZP + 0x214, 4), 0x200000);
	assert_memory_equal(gpa_range(&v.m, 0x200000, BZ_PAYLOAD),
			    img + 3 * 512, BZ_PAYLOAD);
	vm_free(&v);
}

static void test_bzimage_initrd_below_initrd_addr_max(void **state)
{
	static uint8_t img[IMG_MAX], initrd[8192 + 100];
	struct bz_opts o = bz_default;
	size_t len;
	struct vm v;

	(void)state;
	o.initrd_addr_max = 32 * MiB - 1;
	len = make_bzimage(img, &o);
	fill_pattern(initrd, sizeof(initrd), 0x99);
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, "", initrd, sizeof(initrd)), 0);
	assert_int_equal(rd(&v, ZP + 0x21c, 4), sizeof(initrd));
	check_initrd_at(&v, rd(&v, ZP + 0x218, 4), initrd, sizeof(initrd),
			32 * MiB);
	vm_free(&v);
}

/* If the host has a real kernel, it must parse and load as a bzImage. */
static void test_real_bzimage_from_boot_loads(void **state)
{
	glob_t g;
	FILE *f = NULL;
	uint8_t *k = NULL;
	long len;
	struct vm v;

	(void)state;
	if (glob("/boot/vmlinuz-*", 0, NULL, &g) || !g.gl_pathc) {
		globfree(&g);
		skip();
	}
	f = fopen(g.gl_pathv[0], "rb");
	globfree(&g);
	if (!f)
		skip();
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	if (len <= 0) {
		fclose(f);
		skip();
	}
	k = malloc(len);
	assert_non_null(k);
	assert_int_equal(fread(k, 1, len, f), (size_t)len);
	fclose(f);
	vm_init(&v, 256 * MiB);
	assert_int_equal(vm_load(&v, k, len, "console=ttyS0", NULL, 0), 0);
	assert_int_equal(v.proto, BOOT_LINUX64);
	assert_int_equal(v.cpu.rip & 0xfff, 0x200);
	assert_int_equal(rd(&v, ZP + 0x202, 4), 0x53726448);
	free(k);
	vm_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bzimage_loads_at_pref_address),
		cmocka_unit_test(test_bzimage_setup_sects_zero_means_four),
		cmocka_unit_test(
			test_bzimage_falls_back_when_pref_does_not_fit),
		cmocka_unit_test(test_bzimage_initrd_below_initrd_addr_max),
		cmocka_unit_test(test_real_bzimage_from_boot_loads),
	};

	return cmocka_run_group_tests_name("loader: bzImage", tests, NULL,
					   NULL);
}
