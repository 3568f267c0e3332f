/*
 * load_kernel() argument limits: command lines longer than the kernel's
 * cmdline_size or the sane maximum, an initrd that does not fit, and
 * missing arguments are refused with one line saying why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image_builder.h"

static void test_cmdline_longer_than_cmdline_size_is_refused(void **state)
{
	static uint8_t img[IMG_MAX];
	struct bz_opts o = bz_default;
	size_t len;
	struct vm v;

	(void)state;
	o.cmdline_size = 16;
	len = make_bzimage(img, &o);
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, "0123456789abcdef", NULL, 0), 0);
	check_refused(&v, vm_load(&v, img, len, "0123456789abcdefX", NULL, 0),
		      -E2BIG, "command line too long: the limit is 16 bytes");
	vm_free(&v);
}

static void test_cmdline_longer_than_sane_max_is_refused(void **state)
{
	static uint8_t img[IMG_MAX];
	static char line[0x10001];
	size_t len = make_vmlinux(img);
	struct vm v;

	(void)state;
	memset(line, 'a', 0xffff);
	vm_init(&v, RAM_SIZE);
	assert_int_equal(vm_load(&v, img, len, line, NULL, 0), 0);
	assert_int_equal(strlen(gpa_range(&v.m, CMDLINE, 1)), 0xffff);
	line[0xffff] = 'b';
	check_refused(&v, vm_load(&v, img, len, line, NULL, 0), -E2BIG,
		      "command line too long");
	vm_free(&v);
}

static void test_initrd_too_large_is_refused(void **state)
{
	static uint8_t img[IMG_MAX];
	size_t len = make_vmlinux(img), ilen = 48 * MiB;
	uint8_t *initrd = calloc(1, ilen);
	struct vm v;

	(void)state;
	assert_non_null(initrd);
	vm_init(&v, RAM_SIZE);
	check_refused(&v, vm_load(&v, img, len, "", initrd, ilen), -E2BIG,
		      "initrd of 50331648 bytes does not fit");
	check_refused(&v, vm_load(&v, img, len, "", NULL, 10), -EINVAL,
		      "initrd size without initrd data");
	free(initrd);
	vm_free(&v);
}

static void test_missing_arguments_are_refused(void **state)
{
	static uint8_t img[IMG_MAX];
	size_t len = make_vmlinux(img);
	struct kernel_args a = { .kernel = img, .kernel_size = len, .cpus = 1 };
	struct vm v;

	(void)state;
	vm_init(&v, RAM_SIZE);
	assert_int_equal(
		load_kernel(&v.m, &a, &v.cpu, NULL, v.err, sizeof(v.err)),
		-EINVAL); /* NULL cmdline */
	a.cmdline = "";
	assert_int_equal(load_kernel(&v.m, &a, &v.cpu, NULL, NULL, 0), 0);
	a.kernel = NULL;
	check_refused(&v,
		      load_kernel(&v.m, &a, &v.cpu, NULL, v.err, sizeof(v.err)),
		      -EINVAL, "no kernel image");
	vm_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_cmdline_longer_than_cmdline_size_is_refused),
		cmocka_unit_test(test_cmdline_longer_than_sane_max_is_refused),
		cmocka_unit_test(test_initrd_too_large_is_refused),
		cmocka_unit_test(test_missing_arguments_are_refused),
	};

	return cmocka_run_group_tests_name(
		"loader: command line, initrd and arguments", tests, NULL,
		NULL);
}
