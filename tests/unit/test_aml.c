/*
 * The AML encoder (mmu-service/aml.c) against the byte encodings of ACPI
 * 6.3, 20.2: PkgLength at each size boundary, NameStrings with root,
 * parent, dual and multi prefixes, shortest integers, EISA IDs, buffers of
 * resource descriptors (a legacy device's, a PCI host bridge's windows, a
 * fixed memory range) as iasl encodes them, and the errors it must refuse
 * (bad names, a full buffer, unbalanced or too deep nesting, windows that
 * end before they start or do not fit their descriptor).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "aml.h"

#define BIG (1u << 20)

static uint8_t buf[BIG + 64];

#define check_bytes(a, lit)                                   \
	do {                                                  \
		assert_int_equal(aml_finish(a), 0);           \
		assert_int_equal((a)->len, sizeof(lit) - 1);  \
		assert_memory_equal((a)->buf, lit, (a)->len); \
	} while (0)

/* A package whose body (NumElements + filler) is body bytes long. */
static struct aml package_of(size_t body)
{
	struct aml a;

	aml_init(&a, buf, sizeof(buf));
	aml_package(&a, 0);
	memset(buf + a.len, 0x5a, body - 1);
	a.len += body - 1;
	aml_close(&a);
	assert_int_equal(aml_finish(&a), 0);
	return a;
}

static void check_pkglength(size_t body, const uint8_t *want, size_t n)
{
	struct aml a = package_of(body);

	assert_int_equal(a.len, 1 + n + body);
	assert_int_equal(buf[0], 0x12);
	assert_memory_equal(buf + 1, want, n);
	assert_int_equal(buf[1 + n], 0); /* NumElements moved intact */
	if (body > 1)
		assert_int_equal(buf[1 + n + body - 1], 0x5a);
}

/* 20.2.4: the length counts itself; 1 byte to 63, then 2, 3, 4 bytes. */
static void test_pkglength_grows_at_each_boundary(void **state)
{
	(void)state;
	check_pkglength(1, (const uint8_t[]){ 0x02 }, 1);
	check_pkglength(62, (const uint8_t[]){ 0x3f }, 1);
	check_pkglength(63, (const uint8_t[]){ 0x41, 0x04 }, 2);
	check_pkglength(4093, (const uint8_t[]){ 0x4f, 0xff }, 2);
	check_pkglength(4094, (const uint8_t[]){ 0x81, 0x00, 0x01 }, 3);
	check_pkglength(BIG - 4, (const uint8_t[]){ 0x8f, 0xff, 0xff }, 3);
	check_pkglength(BIG - 3, (const uint8_t[]){ 0xc1, 0x00, 0x00, 0x01 },
			4);
}

static void test_namestrings_pad_and_prefix(void **state)
{
	struct aml a;

	(void)state;
	aml_init(&a, buf, sizeof(buf));
	aml_namestring(&a, "_S5");
	check_bytes(&a, "_S5_");
	aml_init(&a, buf, sizeof(buf));
	aml_namestring(&a, "\\_SB");
	check_bytes(&a, "\\_SB_");
	aml_init(&a, buf, sizeof(buf));
	aml_namestring(&a, "\\_SB.COM1");
	check_bytes(&a, "\\\x2e_SB_COM1");
	aml_init(&a, buf, sizeof(buf));
	aml_namestring(&a, "A.B2.C_");
	check_bytes(&a, "\x2f\x03"
			"A___B2__C___");
	aml_init(&a, buf, sizeof(buf));
	aml_namestring(&a, "^^X");
	check_bytes(&a, "^^X___");
}

static void test_bad_names_are_refused(void **state)
{
	static const char *bad[] = { "",   "\\", "1ABC", "ABCDE", "A..B",
				     "A.", ".A", "a",	 "AB-C",  "^\\A" };
	struct aml a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_name(&a, bad[i]);
		assert_int_equal(aml_finish(&a), -EINVAL);
	}
}

static void test_integers_use_the_shortest_encoding(void **state)
{
	struct aml a;

	(void)state;
	aml_init(&a, buf, sizeof(buf));
	aml_integer(&a, 0);
	aml_integer(&a, 1);
	aml_integer(&a, 2);
	aml_integer(&a, 0xff);
	aml_integer(&a, 0x100);
	aml_integer(&a, 0x10000);
	aml_integer(&a, 0x100000000ull);
	check_bytes(&a, "\x00\x01\x0a\x02\x0a\xff\x0b\x00\x01"
			"\x0c\x00\x00\x01\x00"
			"\x0e\x00\x00\x00\x00\x01\x00\x00\x00");
}

/* ASL EISAID(): PNP0501 is 0x0105d041; PNP0000 fits a WordConst. */
static void test_eisaid_packs_vendor_and_product(void **state)
{
	static const char *bad[] = { "pnp0501", "PNP050G", "PNP050", "PNP05011",
				     "P@P0501" };
	struct aml a;
	size_t i;

	(void)state;
	aml_init(&a, buf, sizeof(buf));
	aml_eisaid(&a, "PNP0501");
	aml_eisaid(&a, "PNP0000");
	aml_eisaid(&a, "PNP0B00");
	check_bytes(&a, "\x0c\x41\xd0\x05\x01\x0b\x41\xd0"
			"\x0c\x41\xd0\x0b\x00");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_eisaid(&a, bad[i]);
		assert_int_equal(aml_finish(&a), -EINVAL);
	}
}

/* Buffer (0x0D) { IO (Decode16, 0x3F8, 0x3F8, 1, 8) IRQNoFlags () {4} } */
static void test_buffer_carries_size_and_resources(void **state)
{
	struct aml a;

	(void)state;
	aml_init(&a, buf, sizeof(buf));
	aml_buffer(&a);
	aml_res_io(&a, 0x3f8, 8);
	aml_res_irq(&a, 4);
	aml_res_end(&a);
	aml_close(&a);
	check_bytes(&a, "\x11\x10\x0a\x0d"
			"\x47\x01\xf8\x03\xf8\x03\x01\x08"
			"\x22\x10\x00\x79\x00");
}

/*
 * As iasl 20200925 compiles, after Name (X, ResourceTemplate () {:
 *	WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
 *		       0, 0, 0x7F, 0, 0x80)
 *	WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
 *		0, 0x0D00, 0xFFFF, 0, 0xF300)
 *	DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
 *		     NonCacheable, ReadWrite,
 *		     0, 0xC0000000, 0xDFFFFFFF, 0, 0x20000000)
 *	Memory32Fixed (ReadWrite, 0xE0000000, 0x00100000)
 */
static void test_bridge_windows_match_iasl(void **state)
{
	struct aml a;

	(void)state;
	aml_init(&a, buf, sizeof(buf));
	aml_res_bus_window(&a, 0, 0x7f);
	aml_res_io_window(&a, 0xd00, 0xffff);
	aml_res_mem_window(&a, 0xc0000000, 0xdfffffff);
	aml_res_mem32_fixed(&a, 0xe0000000, 0x100000);
	check_bytes(&a, "\x88\x0d\x00\x02\x0c\x00\x00\x00\x00\x00\x7f\x00"
			"\x00\x00\x80\x00"
			"\x88\x0d\x00\x01\x0c\x03\x00\x00\x00\x0d\xff\xff"
			"\x00\x00\x00\xf3"
			"\x87\x17\x00\x00\x0c\x01\x00\x00\x00\x00\x00\x00"
			"\x00\xc0\xff\xff\xff\xdf\x00\x00\x00\x00\x00\x00"
			"\x00\x20"
			"\x86\x09\x00\x01\x00\x00\x00\xe0\x00\x00\x10\x00");
}

/* _LEN = _MAX - _MIN + 1 must be positive and fit the descriptor's width. */
static void test_bad_windows_are_refused(void **state)
{
	struct aml a;

	(void)state;
	aml_init(&a, buf, sizeof(buf));
	aml_res_bus_window(&a, 1, 0);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_res_io_window(&a, 0, 0xffff); /* 0x10000 ports */
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_res_mem_window(&a, 0, 0xffffffff);
	assert_int_equal(aml_finish(&a), -EINVAL);
	assert_int_equal(a.len, 0);
	aml_init(&a, buf, sizeof(buf));
	aml_res_io_window(&a, 1, 0xffff);
	aml_res_mem_window(&a, 0xfffff000, 0xffffffff);
	assert_int_equal(aml_finish(&a), 0);
	assert_int_equal(a.len, 16 + 26);
}

/* As iasl compiles Scope (\_SB) { Device (COM1) { Name (_HID, ...) } }. */
static void test_scope_device_name_match_iasl(void **state)
{
	struct aml a;

	(void)state;
	aml_init(&a, buf, sizeof(buf));
	aml_scope(&a, "\\_SB");
	aml_device(&a, "COM1");
	aml_name(&a, "_HID");
	aml_eisaid(&a, "PNP0501");
	aml_close(&a);
	aml_close(&a);
	check_bytes(&a, "\x10\x17\\_SB_\x5b\x82\x0f"
			"COM1\x08_HID\x0c\x41\xd0\x05\x01");
}

static void test_full_buffer_and_bad_nesting_are_refused(void **state)
{
	struct aml a;
	int i;

	(void)state;
	aml_init(&a, buf, 6);
	aml_name(&a, "_S5"); /* 5 bytes */
	aml_integer(&a, 0x100);
	assert_int_equal(aml_finish(&a), -E2BIG);
	assert_int_equal(a.len, 5);
	aml_integer(&a, 0); /* the first error sticks */
	assert_int_equal(a.len, 5);
	assert_int_equal(aml_finish(&a), -E2BIG);

	aml_init(&a, buf, 8); /* room for the body, not its PkgLength */
	aml_package(&a, 0);
	aml_bytes(&a, "123456", 6);
	aml_close(&a);
	assert_int_equal(aml_finish(&a), -E2BIG);

	aml_init(&a, buf, sizeof(buf));
	aml_package(&a, 0);
	assert_int_equal(aml_finish(&a), -EINVAL); /* left open */
	aml_close(&a);
	assert_int_equal(aml_finish(&a), 0);
	aml_close(&a);
	assert_int_equal(aml_finish(&a), -EINVAL); /* closed twice */

	aml_init(&a, buf, sizeof(buf));
	for (i = 0; i <= AML_DEPTH; i++)
		aml_package(&a, 1);
	assert_int_equal(aml_finish(&a), -EINVAL);

	aml_init(&a, buf, sizeof(buf));
	aml_res_irq(&a, 16);
	assert_int_equal(aml_finish(&a), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkglength_grows_at_each_boundary),
		cmocka_unit_test(test_namestrings_pad_and_prefix),
		cmocka_unit_test(test_bad_names_are_refused),
		cmocka_unit_test(test_integers_use_the_shortest_encoding),
		cmocka_unit_test(test_eisaid_packs_vendor_and_product),
		cmocka_unit_test(test_buffer_carries_size_and_resources),
		cmocka_unit_test(test_bridge_windows_match_iasl),
		cmocka_unit_test(test_bad_windows_are_refused),
		cmocka_unit_test(test_scope_device_name_match_iasl),
		cmocka_unit_test(test_full_buffer_and_bad_nesting_are_refused),
	};

	return cmocka_run_group_tests_name("loader: AML encoder", tests, NULL,
					   NULL);
}
