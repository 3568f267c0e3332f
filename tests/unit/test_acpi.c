/*
 * ACPI tables built by load_kernel() (mmu-service/acpi.c): the RSDP where
 * hvm_start_info and boot_params say and where the legacy scan finds it,
 * valid checksums, every table inside E820-reserved memory, the MADT for
 * 1 to 255 CPUs, the FADT's PM blocks and SCI, the MCFG, a DSDT that a
 * small AML walker parses to the last byte (devices, resources, \_S5, the
 * PCI host bridge with its windows and _PRT, the motherboard resource
 * that reserves the ECAM window), and the CPU count limits. Tables are read at the spec's raw offsets (ACPI 6.3, 5.2),
 * not through the loader's structs. With iasl installed, it disassembles
 * every table and must report no error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "platform.h"
#include "image_builder.h"

#define RSDP 0xe0000ull /* BOOT_ACPI_START: the first table */

/* The tables, found from the RSDP. */
struct tables {
	uint64_t rsdt, xsdt, fadt, facs, dsdt, madt, mcfg;
};

static void load_cpus(struct vm *v, unsigned cpus, bool pvh)
{
	static uint8_t img[IMG_MAX];
	struct kernel_args a = { .cmdline = "", .cpus = cpus };

	a.kernel = img;
	a.kernel_size = pvh ? make_pvh(img, true, 8) : make_vmlinux(img);
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

static bool sig_is(const struct vm *v, uint64_t gpa, const char *sig)
{
	return !memcmp(gpa_range(&v->m, gpa, strlen(sig)), sig, strlen(sig));
}

/* A table with the common header: signature, checksum, OEM ID. */
static uint32_t check_table(const struct vm *v, uint64_t gpa, const char *sig,
			    uint8_t revision)
{
	uint32_t len = (uint32_t)rd(v, gpa + 4, 4);

	assert_true(sig_is(v, gpa, sig));
	assert_true(len >= 36);
	assert_int_equal(rd(v, gpa + 8, 1), revision);
	assert_int_equal(sum(v, gpa, len), 0);
	assert_memory_equal(gpa_range(&v->m, gpa + 10, 6), "CELLVM", 6);
	assert_int_equal(gpa % 16, 0);
	return len;
}

/* RSDP (5.2.5.3) -> XSDT and RSDT (5.2.7, 5.2.8) -> FADT, MADT, MCFG. */
static struct tables find_tables(const struct vm *v)
{
	struct tables t = { 0 };
	uint32_t xlen, rlen;
	unsigned i;

	assert_true(sig_is(v, RSDP, "RSD PTR "));
	assert_int_equal(sum(v, RSDP, 20), 0);
	assert_int_equal(rd(v, RSDP + 15, 1), 2); /* revision */
	assert_int_equal(rd(v, RSDP + 20, 4), 36);
	assert_int_equal(sum(v, RSDP, 36), 0);
	assert_memory_equal(gpa_range(&v->m, RSDP + 9, 6), "CELLVM", 6);
	t.rsdt = rd(v, RSDP + 16, 4);
	t.xsdt = rd(v, RSDP + 24, 8);
	xlen = check_table(v, t.xsdt, "XSDT", 1);
	rlen = check_table(v, t.rsdt, "RSDT", 1);
	assert_int_equal(xlen, 36 + 3 * 8);
	assert_int_equal(rlen, 36 + 3 * 4);
	for (i = 0; i < 3; i++) {
		uint64_t e = rd(v, t.xsdt + 36 + 8 * i, 8);

		assert_int_equal(rd(v, t.rsdt + 36 + 4 * i, 4), e);
		if (sig_is(v, e, "FACP"))
			t.fadt = e;
		else if (sig_is(v, e, "APIC"))
			t.madt = e;
		else if (sig_is(v, e, "MCFG"))
			t.mcfg = e;
	}
	assert_true(t.fadt && t.madt && t.mcfg);
	t.facs = rd(v, t.fadt + 36, 4);
	t.dsdt = rd(v, t.fadt + 140, 8); /* X_DSDT */
	assert_int_equal(rd(v, t.fadt + 40, 4), t.dsdt);
	return t;
}

static void test_rsdp_reaches_pvh_and_linux_boot(void **state)
{
	struct vm v;

	(void)state;
	load_cpus(&v, 1, true);
	assert_int_equal(v.proto, BOOT_PVH);
	assert_int_equal(rd(&v, SI + 32, 8), RSDP); /* rsdp_paddr */
	find_tables(&v);
	vm_free(&v);
	load_cpus(&v, 1, false);
	assert_int_equal(v.proto, BOOT_LINUX64);
	assert_int_equal(rd(&v, ZP + 0x070, 8), RSDP); /* acpi_rsdp_addr */
	find_tables(&v);
	vm_free(&v);
}

/* ACPI 6.3, 5.2.5.1: 16-byte boundaries of 0xe0000-0xfffff. */
static void test_legacy_scan_finds_one_rsdp(void **state)
{
	unsigned found = 0;
	uint64_t gpa;
	struct vm v;

	(void)state;
	load_cpus(&v, 2, false);
	for (gpa = 0xe0000; gpa < 0x100000; gpa += 16) {
		if (!sig_is(&v, gpa, "RSD PTR ") || sum(&v, gpa, 20))
			continue;
		assert_int_equal(gpa, RSDP);
		found++;
	}
	assert_int_equal(found, 1);
	vm_free(&v);
}

static bool in_reserved(const struct vm *v, uint64_t gpa, uint64_t len)
{
	uint64_t t = ZP + 0x2d0, n = rd(v, ZP + 0x1e8, 1), i, a, s;

	for (i = 0; i < n; i++, t += 20) {
		a = rd(v, t, 8);
		s = rd(v, t + 8, 8);
		if (rd(v, t + 16, 4) == 2 && gpa >= a && gpa + len <= a + s)
			return true;
	}
	return false;
}

static void test_every_table_is_in_reserved_e820(void **state)
{
	struct tables t;
	struct vm v;

	(void)state;
	load_cpus(&v, 255, false);
	t = find_tables(&v);
	assert_true(in_reserved(&v, RSDP, 36));
	assert_true(in_reserved(&v, t.rsdt, rd(&v, t.rsdt + 4, 4)));
	assert_true(in_reserved(&v, t.xsdt, rd(&v, t.xsdt + 4, 4)));
	assert_true(in_reserved(&v, t.fadt, rd(&v, t.fadt + 4, 4)));
	assert_true(in_reserved(&v, t.madt, rd(&v, t.madt + 4, 4)));
	assert_true(in_reserved(&v, t.mcfg, rd(&v, t.mcfg + 4, 4)));
	assert_true(in_reserved(&v, 0xe0000000, 0x100000)); /* the ECAM */
	assert_true(in_reserved(&v, t.dsdt, rd(&v, t.dsdt + 4, 4)));
	assert_true(in_reserved(&v, t.facs, 64));
	vm_free(&v);
}

/* FADT (5.2.9) and FACS (5.2.10). */
static void test_fadt_describes_pm_blocks_and_sci(void **state)
{
	static const uint8_t zero[12];
	uint64_t f, flags;
	struct tables t;
	struct vm v;

	(void)state;
	load_cpus(&v, 1, false);
	t = find_tables(&v);
	f = t.fadt;
	assert_int_equal(check_table(&v, f, "FACP", 6), 276);
	assert_int_equal(rd(&v, f + 131, 1), 3); /* minor: ACPI 6.3 */
	assert_int_equal(rd(&v, f + 46, 2), 9);	 /* SCI_INT */
	assert_int_equal(rd(&v, f + 48, 4), 0);	 /* SMI_CMD: ACPI mode */
	assert_int_equal(rd(&v, f + 56, 4), 0x600);
	assert_int_equal(rd(&v, f + 60, 4), 0); /* PM1b_EVT_BLK */
	assert_int_equal(rd(&v, f + 64, 4), 0x604);
	assert_int_equal(rd(&v, f + 68, 4), 0); /* PM1b_CNT_BLK */
	assert_int_equal(rd(&v, f + 76, 4), 0x608);
	assert_int_equal(rd(&v, f + 80, 8), 0); /* GPE0_BLK, GPE1_BLK */
	assert_int_equal(rd(&v, f + 88, 4), 0x04000204); /* lengths */
	assert_int_equal(rd(&v, f + 92, 2), 0);		 /* GPE lengths */
	assert_int_equal(rd(&v, f + 108, 1), 0x32);	 /* CENTURY */
	assert_int_equal(rd(&v, f + 109, 2), 0x5);	 /* legacy, no VGA */
	flags = rd(&v, f + 112, 4);
	assert_int_equal(flags & (1u << 20), 0); /* not HW-reduced */
	assert_int_equal(flags & (1u << 10), 0); /* no RESET_REG_SUP */
	assert_int_equal(flags & (1u << 8), 0);	 /* 24-bit PM timer */
	assert_int_equal(flags & 1, 1);		 /* WBINVD */
	assert_memory_equal(gpa_range(&v.m, f + 116, 12), zero, 12);
	/* X_PM1a_EVT_BLK, X_PM1a_CNT_BLK, X_PM_TMR_BLK: System I/O. */
	assert_int_equal(rd(&v, f + 148, 4), 0x02002001);
	assert_int_equal(rd(&v, f + 152, 8), 0x600);
	assert_int_equal(rd(&v, f + 172, 4), 0x02001001);
	assert_int_equal(rd(&v, f + 176, 8), 0x604);
	assert_int_equal(rd(&v, f + 208, 4), 0x03002001);
	assert_int_equal(rd(&v, f + 212, 8), 0x608);
	assert_int_equal(rd(&v, f + 220, 8), 0); /* X_GPE0_BLK */
	/* FACS by FIRMWARE_CTRL only, 64-byte aligned, version 2. */
	assert_int_equal(rd(&v, f + 132, 8), 0);
	assert_int_equal(t.facs % 64, 0);
	assert_true(sig_is(&v, t.facs, "FACS"));
	assert_int_equal(rd(&v, t.facs + 4, 4), 64);
	assert_int_equal(rd(&v, t.facs + 32, 1), 2);
	assert_int_equal(rd(&v, t.facs + 8, 8), 0);
	vm_free(&v);
}

/* MADT (5.2.12): entries by type, walked by their own lengths. */
static void check_madt(unsigned cpus)
{
	unsigned n[5] = { 0 }, type, len, i;
	uint64_t m, e, end;
	struct tables t;
	struct vm v;

	load_cpus(&v, cpus, false);
	t = find_tables(&v);
	m = t.madt;
	end = m + check_table(&v, m, "APIC", 5);
	assert_int_equal(end - m, 44 + 8 * cpus + 12 + 2 * 10 + 6);
	assert_int_equal(rd(&v, m + 36, 4), 0xfee00000);
	assert_int_equal(rd(&v, m + 40, 4), 1); /* PCAT_COMPAT */
	for (e = m + 44; e < end; e += len) {
		type = (unsigned)rd(&v, e, 1);
		len = (unsigned)rd(&v, e + 1, 1);
		assert_true(type < 5 && len >= 2);
		if (type == 0) { /* local APICs in order, all enabled */
			assert_int_equal(len, 8);
			assert_int_equal(rd(&v, e + 2, 1), n[0]);
			assert_int_equal(rd(&v, e + 3, 1), n[0]);
			assert_int_equal(rd(&v, e + 4, 4), 1);
		}
		if (type == 1) {
			assert_int_equal(len, 12);
			assert_int_equal(rd(&v, e + 2, 1), PC_IOAPIC_ID(cpus));
			assert_int_equal(rd(&v, e + 4, 4), 0xfec00000);
			assert_int_equal(rd(&v, e + 8, 4), 0);
		}
		n[type]++;
	}
	assert_int_equal(e, end);
	assert_int_equal(n[0], cpus);
	assert_int_equal(n[1], 1);
	assert_int_equal(n[2], 2);
	assert_int_equal(n[3], 0);
	assert_int_equal(n[4], 1);
	for (i = 0; i < cpus; i++) /* every APIC ID once: 0 .. cpus - 1 */
		assert_int_equal(rd(&v, m + 44 + 8 * i + 3, 1), i);
	vm_free(&v);
}

static void test_madt_lists_every_cpu(void **state)
{
	static const unsigned counts[] = { 1, 2, 4, 64, 255 };
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		check_madt(counts[i]);
}

static void test_madt_overrides_irq0_and_sci(void **state)
{
	uint64_t e;
	struct tables t;
	struct vm v;

	(void)state;
	load_cpus(&v, 4, true);
	t = find_tables(&v);
	e = t.madt + 44 + 4 * 8 + 12;
	/* ISA IRQ 0 -> GSI 2, flags "conforms" (ISA: edge, active high) */
	assert_int_equal(rd(&v, e, 4), 0x00000a02);
	assert_int_equal(rd(&v, e + 4, 4), 2);
	assert_int_equal(rd(&v, e + 8, 2), 0);
	/* ISA IRQ 9 (SCI) -> GSI 9, level (3 << 2), active high (1) */
	assert_int_equal(rd(&v, e + 10, 4), 0x09000a02);
	assert_int_equal(rd(&v, e + 14, 4), 9);
	assert_int_equal(rd(&v, e + 18, 2), 0xd);
	/* NMI on LINT1 of every processor (UID 0xff) */
	assert_int_equal(rd(&v, e + 20, 4), 0x00ff0604);
	assert_int_equal(rd(&v, e + 24, 2), 0x0100);
	vm_free(&v);
}

/* ---- a minimal AML walker (ACPI 6.3, 20.2) ---- */

#define MAX_NAMES 32

struct aml_name {
	char path[32]; /* "\\_SB_.COM1._HID" */
	const uint8_t *obj;
};

struct walk {
	struct aml_name n[MAX_NAMES];
	unsigned count;
};

/* PkgLength at *p: returns the end of the package, NULL if malformed. */
static const uint8_t *pkg_end(const uint8_t **p, const uint8_t *limit)
{
	const uint8_t *start = *p;
	unsigned follow = **p >> 6, i;
	size_t len = follow ? **p & 0xf : **p & 0x3f;

	for (i = 0; i < follow; i++)
		len |= (size_t)(*p)[1 + i] << (4 + 8 * i);
	*p += 1 + follow;
	return len && start + len <= limit ? start + len : NULL;
}

/* NameString, appended to scope unless it starts at the root. */
static const uint8_t *name_string(const uint8_t *p, const char *scope,
				  char *out)
{
	unsigned segs = 1, i;

	strcpy(out, *p == '\\' ? "\\" : scope);
	if (*p == '\\')
		p++;
	if (*p == 0x2e) {
		segs = 2;
		p++;
	} else if (*p == 0x2f) {
		segs = p[1];
		p += 2;
	}
	for (i = 0; i < segs; i++, p += 4) {
		if (strlen(out) > 1)
			strcat(out, ".");
		strncat(out, (const char *)p, 4);
	}
	return p;
}

/* The value of an integer data object (20.2.3). */
static uint64_t aml_int(const uint8_t *o)
{
	static const unsigned width[] = {
		[0x0a] = 1, [0x0b] = 2, [0x0c] = 4, [0x0e] = 8
	};
	uint64_t x = 0;

	if (o[0] <= 0x01)
		return o[0];
	assert_true(o[0] >= 0x0a && o[0] <= 0x0e && width[o[0]]);
	memcpy(&x, o + 1, width[o[0]]);
	return x;
}

/* One data object; returns its end, NULL if this walker cannot read it. */
static const uint8_t *data_object(const uint8_t *p, const uint8_t *limit)
{
	const uint8_t *end;
	unsigned n, i;

	switch (*p) {
	case 0x00: /* ZeroOp, OneOp, OnesOp */
	case 0x01:
	case 0xff:
		return p + 1;
	case 0x0a:
		return p + 2;
	case 0x0b:
		return p + 3;
	case 0x0c:
		return p + 5;
	case 0x0e:
		return p + 9;
	case 0x0d:
		return p + strlen((const char *)p + 1) + 2;
	case 0x11: /* BufferOp PkgLength BufferSize ByteList */
		p++;
		return pkg_end(&p, limit);
	case 0x12: /* PackageOp PkgLength NumElements elements */
		p++;
		end = pkg_end(&p, limit);
		if (!end)
			return NULL;
		n = *p++;
		for (i = 0; i < n && p; i++)
			p = data_object(p, end);
		return p == end ? end : NULL;
	}
	return NULL;
}

/* TermList of Scope, Device and Name: the whole DSDT body must parse. */
static bool term_list(struct walk *w, const uint8_t *p, const uint8_t *end,
		      const char *scope)
{
	char path[32];
	const uint8_t *body;

	while (p && p < end) {
		if (*p == 0x10 || (p[0] == 0x5b && p[1] == 0x82)) {
			p += *p == 0x10 ? 1 : 2;
			body = p;
			body = pkg_end(&body, end);
			if (!body)
				return false;
			p = name_string(p + (p[0] >> 6) + 1, scope, path);
			if (!term_list(w, p, body, path))
				return false;
			p = body;
		} else if (*p == 0x08 && w->count < MAX_NAMES) {
			p = name_string(p + 1, scope, w->n[w->count].path);
			w->n[w->count++].obj = p;
			p = data_object(p, end);
		} else {
			return false;
		}
	}
	return p == end;
}

static const uint8_t *find_name(const struct walk *w, const char *path)
{
	unsigned i;

	for (i = 0; i < w->count; i++)
		if (!strcmp(w->n[i].path, path))
			return w->n[i].obj;
	return NULL;
}

static void walk_dsdt(const struct vm *v, struct walk *w)
{
	struct tables t = find_tables(v);
	uint32_t len = check_table(v, t.dsdt, "DSDT", 2);
	const uint8_t *body = gpa_range(&v->m, t.dsdt + 36, len - 36);

	memset(w, 0, sizeof(*w));
	assert_true(term_list(w, body, body + len - 36, "\\"));
}

static void test_dsdt_has_s5_package(void **state)
{
	const uint8_t *s5;
	struct walk w;
	struct vm v;

	(void)state;
	load_cpus(&v, 1, false);
	walk_dsdt(&v, &w);
	s5 = find_name(&w, "\\_S5_");
	assert_non_null(s5);
	/* Package, PkgLength 8, 4 elements: 5, 5, Zero, Zero */
	assert_memory_equal(s5, "\x12\x08\x04\x0a\x05\x0a\x05\x00\x00", 9);
	assert_int_equal(aml_int(s5 + 3), 5); /* SLP_TYP for PM1a_CNT */
	vm_free(&v);
}

/* _HID is an EisaId DWordConst; _CRS IO and IRQ descriptors, then End. */
static void check_device(const struct walk *w, const char *dev, uint32_t hid,
			 const uint16_t *io, unsigned nio, unsigned irq)
{
	char path[32];
	const uint8_t *o, *crs, *end;
	unsigned i = 0;

	snprintf(path, sizeof(path), "\\_SB_.%s._HID", dev);
	o = find_name(w, path);
	assert_non_null(o);
	assert_int_equal(aml_int(o), hid);
	snprintf(path, sizeof(path), "\\_SB_.%s._CRS", dev);
	o = find_name(w, path);
	assert_non_null(o);
	assert_int_equal(o[0], 0x11);
	assert_int_equal(o[2], 0x0a); /* BufferSize, a ByteConst */
	crs = o + 4;
	end = crs + o[3];
	assert_int_equal(o[1], 3 + o[3]); /* PkgLength covers all of it */
	for (; crs < end && crs[0] == 0x47; crs += 8, i++) {
		assert_true(i < nio);
		assert_int_equal(crs[1], 1); /* 16-bit decode */
		assert_int_equal(crs[2] | crs[3] << 8, io[2 * i]);
		assert_int_equal(crs[4] | crs[5] << 8, io[2 * i]);
		assert_int_equal(crs[7], io[2 * i + 1]);
	}
	assert_int_equal(i, nio);
	assert_memory_equal(
		crs,
		((uint8_t[]){ 0x22, (uint8_t)(1u << irq),
			      (uint8_t)((1u << irq) >> 8), 0x79, 0 }),
		5);
	assert_ptr_equal(crs + 5, end);
}

static void test_dsdt_describes_legacy_devices(void **state)
{
	static const uint16_t pic[] = { 0x20, 2, 0xa0, 2, 0x4d0, 2 };
	static const uint16_t pit[] = { 0x40, 4 }, rtc[] = { 0x70, 2 };
	static const uint16_t com1[] = { 0x3f8, 8 };
	struct walk w;
	struct vm v;

	(void)state;
	load_cpus(&v, 1, true);
	walk_dsdt(&v, &w);
	/* 4 x (_HID, _CRS), PCI0 (7 names), MBRD (_HID, _CRS), \_S5 */
	assert_int_equal(w.count, 4 * 2 + 7 + 2 + 1);
	check_device(&w, "PIC_", 0x0000d041, pic, 3, 2); /* PNP0000 */
	check_device(&w, "TIMR", 0x0001d041, pit, 1, 0); /* PNP0100 */
	check_device(&w, "RTC_", 0x000bd041, rtc, 1, 8); /* PNP0B00 */
	check_device(&w, "COM1", 0x0105d041, com1, 1, 4);
	vm_free(&v);
}

/* PCI Firmware Specification 3.2, 4.1.2: one allocation, bus 0 only. */
static void test_mcfg_maps_bus_0_of_segment_0(void **state)
{
	static const uint8_t zero[8];
	struct tables t;
	struct vm v;

	(void)state;
	load_cpus(&v, 1, false);
	t = find_tables(&v);
	assert_int_equal(check_table(&v, t.mcfg, "MCFG", 1), 36 + 8 + 16);
	assert_memory_equal(gpa_range(&v.m, t.mcfg + 36, 8), zero, 8);
	assert_int_equal(rd(&v, t.mcfg + 44, 8), 0xe0000000); /* base */
	assert_int_equal(rd(&v, t.mcfg + 52, 2), 0);	      /* segment */
	assert_int_equal(rd(&v, t.mcfg + 54, 1), 0);	      /* start bus */
	assert_int_equal(rd(&v, t.mcfg + 55, 1), 0);	      /* end bus */
	assert_int_equal(rd(&v, t.mcfg + 56, 4), 0);
	vm_free(&v);
}

static const uint8_t *name_in(const struct walk *w, const char *path)
{
	const uint8_t *o = find_name(w, path);

	assert_non_null(o);
	return o;
}

/*
 * The bytes iasl 20200925 compiles from
 *	WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
 *		       0, 0, 0, 0, 1)
 *	IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
 *	WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
 *		0, 0x0D00, 0xFFFF, 0, 0xF300)
 *	DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
 *		     NonCacheable, ReadWrite,
 *		     0, 0xC0000000, 0xDFFFFFFF, 0, 0x20000000)
 */
static const uint8_t pci0_crs[] = {
	0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,	/* bus 0 */
	0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08, /* CONFIG_ADDRESS */
	0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00,
	0x0d, 0xff, 0xff, 0x00, 0x00, 0x00, 0xf3, /* I/O window */
	0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xff, 0xdf,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, /* MMIO window */
	0x79, 0x00,
};

/* A Buffer object's ByteList, which must be exactly want. */
static void check_buffer(const uint8_t *o, const uint8_t *want, size_t n)
{
	const uint8_t *p = o + 1, *end = pkg_end(&p, p + 4096);

	assert_int_equal(o[0], 0x11);
	assert_non_null(end);
	assert_int_equal(p[0], 0x0a); /* BufferSize, a ByteConst */
	assert_int_equal(p[1], n);
	assert_ptr_equal(p + 2 + n, end);
	assert_memory_equal(p + 2, want, n);
}

static void test_dsdt_describes_pci_host_bridge(void **state)
{
	static const uint8_t mbrd_crs[] = { 0x86, 0x09, 0x00, 0x01, 0x00,
					    0x00, 0x00, 0xe0, 0x00, 0x00,
					    0x10, 0x00, 0x79, 0x00 };
	struct walk w;
	struct vm v;

	(void)state;
	load_cpus(&v, 1, false);
	walk_dsdt(&v, &w);
	assert_int_equal(aml_int(name_in(&w, "\\_SB_.PCI0._HID")), 0x080ad041);
	assert_int_equal(aml_int(name_in(&w, "\\_SB_.PCI0._CID")), 0x030ad041);
	assert_int_equal(aml_int(name_in(&w, "\\_SB_.PCI0._SEG")), 0);
	assert_int_equal(aml_int(name_in(&w, "\\_SB_.PCI0._BBN")), 0);
	assert_int_equal(aml_int(name_in(&w, "\\_SB_.PCI0._UID")), 0);
	assert_null(find_name(&w, "\\_SB_.PCI0._ADR")); /* _HID or _ADR */
	check_buffer(name_in(&w, "\\_SB_.PCI0._CRS"), pci0_crs,
		     sizeof(pci0_crs));
	/* PNP0C02 reserves the MCFG's window, as Linux wants to see. */
	assert_int_equal(aml_int(name_in(&w, "\\_SB_.MBRD._HID")), 0x020cd041);
	check_buffer(name_in(&w, "\\_SB_.MBRD._CRS"), mbrd_crs,
		     sizeof(mbrd_crs));
	vm_free(&v);
}

/*
 * _PRT (ACPI 6.3, 6.2.13): { slot << 16 | 0xffff, pin, Zero, GSI } for
 * pins INTA-INTD of slots 1-31, GSI 16 + (slot - 1 + pin) mod 8.
 */
static void test_prt_routes_every_slot_and_pin(void **state)
{
	const uint8_t *p, *end, *e, *eend;
	unsigned slot, pin, n = 0;
	struct walk w;
	struct vm v;

	(void)state;
	load_cpus(&v, 1, true);
	walk_dsdt(&v, &w);
	p = name_in(&w, "\\_SB_.PCI0._PRT");
	assert_int_equal(*p++, 0x12);
	end = pkg_end(&p, p + 4096);
	assert_non_null(end);
	assert_int_equal(*p++, 124);
	for (slot = 1; slot < 32; slot++) {
		for (pin = 0; pin < 4; pin++, n++) {
			e = p + 1;
			eend = pkg_end(&e, end);
			assert_int_equal(p[0], 0x12);
			assert_non_null(eend);
			assert_int_equal(*e++, 4);
			assert_int_equal(aml_int(e), slot << 16 | 0xffff);
			e = data_object(e, eend);
			assert_int_equal(aml_int(e), pin);
			e = data_object(e, eend);
			assert_int_equal(e[0], 0x00); /* Source: Zero, a GSI */
			e = data_object(e, eend);
			assert_int_equal(aml_int(e), 16 + (slot - 1 + pin) % 8);
			assert_ptr_equal(data_object(e, eend), eend);
			p = eend;
		}
	}
	assert_int_equal(n, 124);
	assert_ptr_equal(p, end);
	vm_free(&v);
}

static void test_cpu_count_limits(void **state)
{
	static uint8_t img[IMG_MAX];
	struct kernel_args a = { .kernel = img, .cmdline = "" };
	struct vm v;

	(void)state;
	a.kernel_size = make_vmlinux(img);
	vm_init(&v, RAM_SIZE);
	check_refused(
		&v, load_kernel(&v.m, &a, &v.cpu, NULL, v.err, sizeof(v.err)),
		-EINVAL, "0 CPUs: give 1 to 255, as xAPIC IDs are 8 bits");
	a.cpus = 256;
	check_refused(&v,
		      load_kernel(&v.m, &a, &v.cpu, NULL, v.err, sizeof(v.err)),
		      -EINVAL, "256 CPUs: give 1 to 255");
	a.cpus = 100000;
	check_refused(&v,
		      load_kernel(&v.m, &a, &v.cpu, NULL, v.err, sizeof(v.err)),
		      -EINVAL, "100000 CPUs");
	a.cpus = PC_CPUS_MAX;
	assert_int_equal(load_kernel(&v.m, &a, &v.cpu, NULL, NULL, 0), 0);
	vm_free(&v);
}

/* ---- iasl, when installed ---- */

static void dump(const struct vm *v, const char *dir, const char *name,
		 uint64_t gpa, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(gpa_range(&v->m, gpa, len), 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/*
 * iasl -d disassembles each table and checks its checksum; the DSDT's
 * disassembly, compiled again without optimizations, must give back our
 * AML byte for byte. Any error, warning or "Incorrect"/"Invalid" mark in
 * the log or the disassembly fails the test.
 */
static void test_iasl_accepts_every_table(void **state)
{
	char dir[] = "/tmp/cellvm-acpi-XXXXXX", cmd[1536];
	struct tables t;
	struct vm v;
	int rc;

	(void)state;
	if (system("command -v iasl >/dev/null 2>&1")) {
		print_message("iasl not installed (acpica-tools): skipped\n");
		skip();
	}
	assert_non_null(mkdtemp(dir));
	load_cpus(&v, 4, false);
	t = find_tables(&v);
	dump(&v, dir, "dsdt", t.dsdt, rd(&v, t.dsdt + 4, 4));
	dump(&v, dir, "facp", t.fadt, rd(&v, t.fadt + 4, 4));
	dump(&v, dir, "apic", t.madt, rd(&v, t.madt + 4, 4));
	dump(&v, dir, "xsdt", t.xsdt, rd(&v, t.xsdt + 4, 4));
	dump(&v, dir, "rsdt", t.rsdt, rd(&v, t.rsdt + 4, 4));
	dump(&v, dir, "facs", t.facs, 64);
	dump(&v, dir, "mcfg", t.mcfg, rd(&v, t.mcfg + 4, 4));
	vm_free(&v);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && for t in dsdt facp apic xsdt rsdt facs mcfg; do "
		 "iasl -d $t.dat || exit 1; done >log 2>&1 && "
		 "iasl -oa -p again dsdt.dsl >>log 2>&1 && "
		 "grep -q '0 Errors, 0 Warnings, 0 Remarks' log && "
		 "! grep -Ei 'error|warning|incorrect|invalid' log | "
		 "grep -v '0 Errors, 0 Warnings' | grep -q . && "
		 "! grep -Eiq 'incorrect|invalid' *.dsl && "
		 "grep -q 'Device (COM1)' dsdt.dsl && "
		 "grep -q 'Device (PCI0)' dsdt.dsl && "
		 "grep -q 'Name (_PRT, Package (0x7C)' dsdt.dsl && "
		 "grep -Eq 'Base Address : 0*E0000000' mcfg.dsl && "
		 "grep -qF 'Name (\\_S5, Package (0x04)' dsdt.dsl && "
		 "cmp -i 36 dsdt.dat again.aml || { cat log; exit 1; }",
		 dir);
	rc = system(cmd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(rc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsdp_reaches_pvh_and_linux_boot),
		cmocka_unit_test(test_legacy_scan_finds_one_rsdp),
		cmocka_unit_test(test_every_table_is_in_reserved_e820),
		cmocka_unit_test(test_fadt_describes_pm_blocks_and_sci),
		cmocka_unit_test(test_madt_lists_every_cpu),
		cmocka_unit_test(test_madt_overrides_irq0_and_sci),
		cmocka_unit_test(test_dsdt_has_s5_package),
		cmocka_unit_test(test_dsdt_describes_legacy_devices),
		cmocka_unit_test(test_mcfg_maps_bus_0_of_segment_0),
		cmocka_unit_test(test_dsdt_describes_pci_host_bridge),
		cmocka_unit_test(test_prt_routes_every_slot_and_pin),
		cmocka_unit_test(test_cpu_count_limits),
		cmocka_unit_test(test_iasl_accepts_every_table),
	};

	return cmocka_run_group_tests_name("loader: ACPI tables", tests, NULL,
					   NULL);
}
