/*
 * Guest memory layout: mem_layout() splits RAM into a bank below the
 * 32-bit hole and one at 4 GiB, and gpa_range() refuses every range that
 * is not entirely inside one bank (mmu-service/loader.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include "image_builder.h"

static void test_mem_layout_small_ram_is_one_bank(void **state)
{
	struct mem_slot s[MEM_MAX_SLOTS];
	struct guest_mem m;

	(void)state;
	assert_int_equal(mem_layout(MEM_MIN, &m, s), 1);
	assert_null(m.ram);
	assert_int_equal(m.size, MEM_MIN);
	assert_int_equal(m.low_size, MEM_MIN);
	assert_int_equal(s[0].gpa, 0);
	assert_int_equal(s[0].size, MEM_MIN);
	assert_int_equal(s[0].offset, 0);
	assert_int_equal(mem_layout(256 * MiB, &m, s), 1);
	assert_int_equal(m.low_size, 256 * MiB);
}

static void test_mem_layout_exactly_3g_is_one_bank(void **state)
{
	struct mem_slot s[MEM_MAX_SLOTS];
	struct guest_mem m;

	(void)state;
	assert_int_equal(mem_layout(3 * GiB, &m, s), 1);
	assert_int_equal(m.low_size, 3 * GiB);
	assert_int_equal(s[0].size, 3 * GiB);
}

static void test_mem_layout_above_hole_adds_bank_at_4g(void **state)
{
	struct mem_slot s[MEM_MAX_SLOTS];
	struct guest_mem m;

	(void)state;
	assert_int_equal(mem_layout(3 * GiB + 4096, &m, s), 2);
	assert_int_equal(m.low_size, MEM_HOLE_START);
	assert_int_equal(s[1].gpa, MEM_HIGH_START);
	assert_int_equal(s[1].size, 4096);
	assert_int_equal(s[1].offset, 3 * GiB);
	assert_int_equal(mem_layout(16 * GiB, &m, s), 2);
	assert_int_equal(m.size, 16 * GiB);
	assert_int_equal(s[0].size, 3 * GiB);
	assert_int_equal(s[1].size, 13 * GiB);
}

static void test_mem_layout_rejects_invalid_sizes(void **state)
{
	struct mem_slot s[MEM_MAX_SLOTS];
	struct guest_mem m;

	(void)state;
	assert_int_equal(mem_layout(0, &m, s), -EINVAL);
	assert_int_equal(mem_layout(MEM_MIN - 4096, &m, s), -EINVAL);
	assert_int_equal(mem_layout(MEM_MIN + 512, &m, s), -EINVAL);
	assert_int_equal(mem_layout(MEM_MAX + 4096, &m, s), -EINVAL);
	assert_int_equal(mem_layout(UINT64_MAX, &m, s), -EINVAL);
	assert_int_equal(mem_layout(MEM_MAX, &m, s), 2);
}

static void test_gpa_range_low_bank_edges(void **state)
{
	struct vm v;
	uint8_t *ram;

	(void)state;
	vm_init(&v, MEM_MIN);
	ram = v.m.ram;
	assert_ptr_equal(gpa_range(&v.m, 0, MEM_MIN), ram);
	assert_ptr_equal(gpa_range(&v.m, 0, 0), ram);
	assert_ptr_equal(gpa_range(&v.m, MEM_MIN - 1, 1), ram + MEM_MIN - 1);
	assert_null(gpa_range(&v.m, MEM_MIN, 1));
	assert_null(gpa_range(&v.m, MEM_MIN - 1, 2));
	assert_null(gpa_range(&v.m, 0, MEM_MIN + 1));
	v.m.ram = NULL;
	assert_null(gpa_range(&v.m, 0, 1));
	v.m.ram = ram;
	vm_free(&v);
}

static void test_gpa_range_rejects_wrapping_ranges(void **state)
{
	struct vm v;

	(void)state;
	vm_init(&v, MEM_MIN);
	assert_null(gpa_range(&v.m, UINT64_MAX, 2));
	assert_null(gpa_range(&v.m, 1, UINT64_MAX));
	assert_null(gpa_range(&v.m, 4096, UINT64_MAX - 4095));
	assert_null(gpa_range(&v.m, UINT64_MAX - 0xfff, 0x1000));
	assert_null(gpa_range(&v.m, MEM_HIGH_START, UINT64_MAX));
	vm_free(&v);
}

static void test_gpa_range_refuses_hole_and_straddles(void **state)
{
	const uint64_t hole = MEM_HOLE_START, high = MEM_HIGH_START;
	struct vm v;
	uint8_t *ram;

	(void)state;
	if (!big_vm_init(&v, 5 * GiB))
		skip();
	ram = v.m.ram;
	assert_ptr_equal(gpa_range(&v.m, hole - 4096, 4096), ram + hole - 4096);
	assert_null(gpa_range(&v.m, hole - 4096, 8192));
	assert_null(gpa_range(&v.m, hole, 1));
	assert_null(gpa_range(&v.m, high - 1, 2));
	assert_null(gpa_range(&v.m, hole - 1, high - hole + 2));
	assert_ptr_equal(gpa_range(&v.m, high, 4096), ram + hole);
	assert_ptr_equal(gpa_range(&v.m, high + 2 * GiB - 1, 1),
			 ram + 5 * GiB - 1);
	assert_null(gpa_range(&v.m, high + 2 * GiB - 1, 2));
	assert_null(gpa_range(&v.m, high + 2 * GiB, 1));
	munmap(ram, 5 * GiB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem_layout_small_ram_is_one_bank),
		cmocka_unit_test(test_mem_layout_exactly_3g_is_one_bank),
		cmocka_unit_test(test_mem_layout_above_hole_adds_bank_at_4g),
		cmocka_unit_test(test_mem_layout_rejects_invalid_sizes),
		cmocka_unit_test(test_gpa_range_low_bank_edges),
		cmocka_unit_test(test_gpa_range_rejects_wrapping_ranges),
		cmocka_unit_test(test_gpa_range_refuses_hole_and_straddles),
	};

	return cmocka_run_group_tests_name("layout", tests, NULL, NULL);
}
