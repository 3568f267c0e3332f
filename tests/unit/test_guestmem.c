/*
 * Guest RAM for DMA devices: the two banks of the MMU service's layout,
 * ranges that touch their ends, ranges whose end wraps, RAM that is not
 * page-aligned, and a real memfd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guestmem.h"
#include "platform.h"

#define GIB (1ull << 30)
#define HIGH (4 * GIB)

/* A RAM pointer that the tests only compute with, never dereference. */
#define FAKE_RAM ((uint8_t *)(uintptr_t)0x100000000000ull)

static uintptr_t at(const struct guestmem *m, uint64_t gpa, uint64_t len)
{
	return (uintptr_t)guestmem_ptr(m, gpa, len);
}

static void test_small_ram_is_one_bank_from_zero(void **state)
{
	static _Alignas(4096) uint8_t ram[4096];
	struct guestmem m;

	assert_int_equal(guestmem_init(&m, ram, sizeof(ram)), 0);
	assert_int_equal(m.size, sizeof(ram));
	assert_int_equal(m.low_size, sizeof(ram));
	assert_ptr_equal(guestmem_ptr(&m, 0, 4096), ram);
	assert_ptr_equal(guestmem_ptr(&m, 4095, 1), ram + 4095);
	assert_null(guestmem_ptr(&m, 4095, 2));
	assert_null(guestmem_ptr(&m, 4096, 1));
	assert_null(guestmem_ptr(&m, 0, 4097));
	assert_null(guestmem_ptr(&m, HIGH, 1));
}

static void test_zero_length_range_must_start_inside_a_bank(void **state)
{
	static _Alignas(4096) uint8_t ram[4096];
	struct guestmem m;

	assert_int_equal(guestmem_init(&m, ram, sizeof(ram)), 0);
	assert_ptr_equal(guestmem_ptr(&m, 0, 0), ram);
	assert_ptr_equal(guestmem_ptr(&m, 4095, 0), ram + 4095);
	assert_null(guestmem_ptr(&m, 4096, 0));
	assert_null(guestmem_ptr(&m, UINT64_MAX, 0));
}

static void test_ram_above_the_hole_is_a_second_bank_at_4g(void **state)
{
	struct guestmem m;

	assert_int_equal(guestmem_init(&m, FAKE_RAM, 5 * GIB), 0);
	assert_int_equal(m.low_size, PC_MEM_HOLE);
	assert_int_equal(at(&m, 0, PC_MEM_HOLE), (uintptr_t)FAKE_RAM);
	assert_int_equal(at(&m, PC_MEM_HOLE - 1, 1),
			 (uintptr_t)FAKE_RAM + PC_MEM_HOLE - 1);
	/* The high bank is the memfd from offset low on. */
	assert_int_equal(at(&m, HIGH, 1), (uintptr_t)FAKE_RAM + PC_MEM_HOLE);
	assert_int_equal(at(&m, HIGH, 2 * GIB),
			 (uintptr_t)FAKE_RAM + PC_MEM_HOLE);
	assert_int_equal(at(&m, HIGH + 2 * GIB - 1, 1),
			 (uintptr_t)FAKE_RAM + 5 * GIB - 1);
}

static void test_ranges_into_the_hole_or_past_the_end_are_refused(void **state)
{
	struct guestmem m;

	assert_int_equal(guestmem_init(&m, FAKE_RAM, 5 * GIB), 0);
	assert_int_equal(at(&m, PC_MEM_HOLE - 1, 2), 0);
	assert_int_equal(at(&m, PC_MEM_HOLE, 1), 0);
	assert_int_equal(at(&m, PC_MEM_HOLE, 0), 0);
	assert_int_equal(at(&m, HIGH - 1, 2), 0);
	/* One range may not span both banks, even across the hole. */
	assert_int_equal(at(&m, 0, 5 * GIB), 0);
	assert_int_equal(at(&m, HIGH + 2 * GIB - 1, 2), 0);
	assert_int_equal(at(&m, HIGH + 2 * GIB, 0), 0);
	assert_int_equal(at(&m, HIGH, 2 * GIB + 1), 0);
}

static void test_ranges_whose_end_wraps_are_refused(void **state)
{
	struct guestmem m;

	assert_int_equal(guestmem_init(&m, FAKE_RAM, 5 * GIB), 0);
	assert_int_equal(at(&m, UINT64_MAX, 2), 0);
	assert_int_equal(at(&m, UINT64_MAX - 4095, 8192), 0);
	assert_int_equal(at(&m, 1, UINT64_MAX), 0);
	assert_int_equal(at(&m, HIGH + 1, UINT64_MAX), 0);
	assert_int_equal(at(&m, HIGH, UINT64_MAX - HIGH + 1), 0);
}

static void test_init_refuses_no_ram_and_a_wrapping_high_bank(void **state)
{
	struct guestmem m;

	assert_int_equal(guestmem_init(&m, NULL, 4096), -EINVAL);
	assert_int_equal(guestmem_init(&m, FAKE_RAM, 0), -EINVAL);
	/* The last byte of the high bank would be above 2^64 - 1. */
	assert_int_equal(guestmem_init(&m, FAKE_RAM, UINT64_MAX), -EINVAL);
	assert_int_equal(
		guestmem_init(&m, FAKE_RAM, 0 - HIGH + PC_MEM_HOLE + 1),
		-EINVAL);
	assert_int_equal(guestmem_init(&m, FAKE_RAM, 0 - HIGH + PC_MEM_HOLE),
			 0);
	assert_int_equal(at(&m, UINT64_MAX, 1),
			 (uintptr_t)FAKE_RAM + m.size - 1);
}

static void test_init_refuses_ram_that_is_not_page_aligned(void **state)
{
	struct guestmem m;

	/* A 2-aligned guest address would not be 2-aligned on the host. */
	assert_int_equal(guestmem_init(&m, FAKE_RAM + 1, 4096), -EINVAL);
	assert_int_equal(guestmem_init(&m, FAKE_RAM + 2048, 4096), -EINVAL);
	assert_int_equal(guestmem_init(&m, FAKE_RAM + 4096, 4096), 0);
}

static void test_map_shares_the_memfd(void **state)
{
	struct guestmem m;
	uint8_t *p, byte = 0;
	int fd;

	fd = memfd_create("guestmem-test", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 2 << 20), 0);
	assert_int_equal(guestmem_map(&m, fd, 2 << 20), 0);
	assert_int_equal(m.low_size, 2 << 20);
	p = guestmem_ptr(&m, 0x12345, 1);
	assert_non_null(p);
	*p = 0xa5;
	assert_int_equal(pread(fd, &byte, 1, 0x12345), 1);
	assert_int_equal(byte, 0xa5);
	assert_int_equal(munmap(m.ram, m.size), 0);
	assert_int_equal(guestmem_map(&m, fd, 0), -EINVAL);
	assert_int_equal(guestmem_map(&m, -1, 4096), -EBADF);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_ram_is_one_bank_from_zero),
		cmocka_unit_test(
			test_zero_length_range_must_start_inside_a_bank),
		cmocka_unit_test(
			test_ram_above_the_hole_is_a_second_bank_at_4g),
		cmocka_unit_test(
			test_ranges_into_the_hole_or_past_the_end_are_refused),
		cmocka_unit_test(test_ranges_whose_end_wraps_are_refused),
		cmocka_unit_test(
			test_init_refuses_no_ram_and_a_wrapping_high_bank),
		cmocka_unit_test(
			test_init_refuses_ram_that_is_not_page_aligned),
		cmocka_unit_test(test_map_shares_the_memfd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
