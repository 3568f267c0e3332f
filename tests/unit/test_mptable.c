/*
 * The MP table built by load_kernel() (mmu-service/mptable.c), read at the
 * raw offsets of the MultiProcessor Specification 1.4, chapter 4: the
 * floating pointer found by the spec's scan of 0xf0000-0xfffff, checksums,
 * entry counts and order for 1 to 255 CPUs, and the interrupt wiring that
 * the MADT also describes (IRQ 0 on pin 2, no pin for the cascade, the SCI
 * level-triggered, ExtINT on LINT0, NMI on LINT1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "image_builder.h"
#include "platform.h"

static void load_cpus(struct vm *v, unsigned cpus)
{
	static uint8_t img[IMG_MAX];
	struct kernel_args a = { .cmdline = "", .cpus = cpus };

	a.kernel = img;
	a.kernel_size = make_vmlinux(img);
	vm_init(v, RAM_SIZE);
	assert_int_equal(load_kernel(&v->m, &a, &v->cpu, &v->proto, v->err,
				     sizeof(v->err)),
			 0);
}

static uint8_t sum(const struct vm *v, uint64_t gpa, size_t len)
{
	const uint8_t *p = gpa_range(&v->m, gpa, len);
	uint8_t s = 0;

	assert_non_null(p);
	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* 4.1: "_MP_" on a 16-byte boundary, length 1 (16 bytes), checksum 0. */
static uint64_t find_floating(const struct vm *v)
{
	uint64_t gpa, found = 0;

	for (gpa = 0xf0000; gpa < 0x100000; gpa += 16) {
		if (memcmp(gpa_range(&v->m, gpa, 4), "_MP_", 4) ||
		    sum(v, gpa, 16))
			continue;
		assert_int_equal(found, 0); /* only one */
		found = gpa;
	}
	assert_true(found);
	assert_int_equal(rd(v, found + 8, 1), 1);
	assert_int_equal(rd(v, found + 9, 1), 4);  /* spec 1.4 */
	assert_int_equal(rd(v, found + 11, 4), 0); /* table, virtual wire */
	assert_int_equal(rd(v, found + 15, 1), 0);
	return found;
}

/* 4.2: the configuration table header; returns its address. */
static uint64_t check_config(const struct vm *v, unsigned cpus)
{
	uint64_t mpf = find_floating(v), cfg = rd(v, mpf + 4, 4);
	unsigned len = 44 + 20 * cpus + 8 + 8 + 15 * 8 + 2 * 8;

	assert_true(cfg >= 0xf0000 && cfg + len <= 0x100000);
	assert_memory_equal(gpa_range(&v->m, cfg, 4), "PCMP", 4);
	assert_int_equal(rd(v, cfg + 4, 2), len);
	assert_int_equal(rd(v, cfg + 6, 1), 4);
	assert_int_equal(sum(v, cfg, len), 0);
	assert_memory_equal(gpa_range(&v->m, cfg + 8, 8), "CELLVM  ", 8);
	assert_int_equal(rd(v, cfg + 28, 4), 0); /* no OEM table */
	assert_int_equal(rd(v, cfg + 34, 2), cpus + 2 + 15 + 2);
	assert_int_equal(rd(v, cfg + 36, 4), 0xfee00000);
	assert_int_equal(rd(v, cfg + 40, 4), 0); /* no extended table */
	return cfg;
}

/* 4.3.1: processors 0 .. cpus - 1, all enabled, 0 the bootstrap one. */
static uint64_t check_processors(const struct vm *v, uint64_t e, unsigned cpus)
{
	unsigned i;

	for (i = 0; i < cpus; i++, e += 20) {
		assert_int_equal(rd(v, e, 1), 0);
		assert_int_equal(rd(v, e + 1, 1), i);
		assert_int_equal(rd(v, e + 2, 1), 0x14);
		assert_int_equal(rd(v, e + 3, 1), i ? 1 : 3);
	}
	return e;
}

/* 4.3.2, 4.3.3: the ISA bus, then the I/O APIC (platform.h gives its ID). */
static uint64_t check_bus_ioapic(const struct vm *v, uint64_t e, unsigned cpus)
{
	assert_int_equal(rd(v, e, 2), 0x0001);
	assert_memory_equal(gpa_range(&v->m, e + 2, 6), "ISA   ", 6);
	assert_int_equal(rd(v, e + 8, 1), 2);
	assert_int_equal(rd(v, e + 9, 1), PC_IOAPIC_ID(cpus));
	assert_int_equal(rd(v, e + 10, 1), 0x11);
	assert_int_equal(rd(v, e + 11, 1), 1);
	assert_int_equal(rd(v, e + 12, 4), 0xfec00000);
	return e + 16;
}

/* 4.3.4: one INT per ISA IRQ but 2, IRQ 0 to pin 2, IRQ 9 level high. */
static uint64_t check_ioints(const struct vm *v, uint64_t e, unsigned cpus)
{
	unsigned irq;

	for (irq = 0; irq < 16; irq++) {
		if (irq == 2)
			continue;
		assert_int_equal(rd(v, e, 2), 0x0003); /* I/O intr, INT */
		assert_int_equal(rd(v, e + 2, 2), irq == 9 ? 0xd : 0);
		assert_int_equal(rd(v, e + 4, 1), 0); /* bus: ISA */
		assert_int_equal(rd(v, e + 5, 1), irq);
		assert_int_equal(rd(v, e + 6, 1), PC_IOAPIC_ID(cpus));
		assert_int_equal(rd(v, e + 7, 1), irq ? irq : 2);
		e += 8;
	}
	return e;
}

/* 4.3.5: ExtINT to LINT0 and NMI to LINT1 of every local APIC (0xff). */
static uint64_t check_lints(const struct vm *v, uint64_t e)
{
	assert_int_equal(rd(v, e, 8), 0x00ff000000000304ull);
	assert_int_equal(rd(v, e + 8, 8), 0x01ff000000000104ull);
	return e + 16;
}

static void check_mptable(unsigned cpus)
{
	uint64_t cfg, e;
	struct vm v;

	load_cpus(&v, cpus);
	cfg = check_config(&v, cpus);
	e = check_processors(&v, cfg + 44, cpus);
	e = check_bus_ioapic(&v, e, cpus);
	e = check_ioints(&v, e, cpus);
	e = check_lints(&v, e);
	assert_int_equal(e, cfg + rd(&v, cfg + 4, 2));
	vm_free(&v);
}

static void test_mptable_for_1_2_4_64_255_cpus(void **state)
{
	static const unsigned counts[] = { 1, 2, 4, 64, 255 };
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		check_mptable(counts[i]);
}

/* Linux's smp_scan_config() looks in 0xf0000-0xfffff: not below. */
static void test_mp_floating_pointer_is_in_the_bios_rom_range(void **state)
{
	struct vm v;

	(void)state;
	load_cpus(&v, 2);
	assert_int_equal(find_floating(&v), 0xf0000);
	vm_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mptable_for_1_2_4_64_255_cpus),
		cmocka_unit_test(
			test_mp_floating_pointer_is_in_the_bios_rom_range),
	};

	return cmocka_run_group_tests_name("loader: MP table", tests, NULL,
					   NULL);
}
