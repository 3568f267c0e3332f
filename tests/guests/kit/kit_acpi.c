/*
 * Guest kit: ACPI table lookup (ACPI 6.5, chapter 5). See kit_acpi.h.
 */
#include "kit_acpi.h"

/* ACPI 6.5, 5.2.5.3 "Root System Description Pointer (RSDP) Structure". */
struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length; /* revision >= 2 from here */
	uint64_t xsdt;
	uint8_t ext_checksum;
	uint8_t reserved[3];
} __attribute__((packed));

/*
 * A physical address as a pointer (identity map below 4 GiB). The empty
 * asm hides the constant from GCC, which otherwise takes a pointer to a
 * fixed low address (the BDA's 0x40e) for an out-of-bounds access.
 */
static const void *phys(uint64_t pa)
{
	const void *p;

	__asm__("" : "=r"(p) : "0"(pa));
	return p;
}

static bool sum_ok(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return sum == 0;
}

static bool rsdp_ok(uint64_t pa)
{
	const struct acpi_rsdp *r = phys(pa);

	if (memcmp(r->signature, "RSD PTR ", 8) || !sum_ok(r, 20))
		return false;
	return r->revision < 2 || sum_ok(r, r->length);
}

/* 16-byte steps, one 8-byte compare each: this runs instruction-emulated. */
static uint64_t rsdp_scan(uint64_t start, uint64_t end)
{
	const uint64_t sig = 0x2052545020445352ull; /* "RSD PTR " */
	uint64_t pa;

	for (pa = start; pa + 20 <= end; pa += 16)
		if (*(const volatile uint64_t *)phys(pa) == sig && rsdp_ok(pa))
			return pa;
	return 0;
}

uint64_t kit_acpi_rsdp_scan(void)
{
	uint64_t ebda, pa;

	/* The EBDA's segment is the BIOS data area's word at 0x40e. */
	ebda = (uint64_t) * (const volatile uint16_t *)phys(0x40e) << 4;
	if (ebda >= 0x80000 && ebda < 0xa0000) {
		pa = rsdp_scan(ebda, ebda + 1024);
		if (pa)
			return pa;
	}
	return rsdp_scan(0xe0000, 0x100000);
}

uint64_t kit_acpi_rsdp(void)
{
	const struct hvm_start_info *si = kit_start_info();

	if (si && si->magic == HVM_START_MAGIC && si->rsdp_paddr &&
	    si->rsdp_paddr < (1ull << 32) && rsdp_ok(si->rsdp_paddr))
		return si->rsdp_paddr;
	return kit_acpi_rsdp_scan();
}

static const struct acpi_header *table_ok(uint64_t pa)
{
	const struct acpi_header *h;

	if (!pa || pa >= (1ull << 32))
		return NULL;
	h = phys(pa);
	if (h->length < sizeof(*h) || !sum_ok(h, h->length))
		return NULL;
	return h;
}

const struct acpi_header *kit_acpi_table(const char *signature)
{
	uint64_t rsdp_pa = kit_acpi_rsdp();
	const struct acpi_rsdp *rsdp;
	const struct acpi_header *root, *h;
	const uint8_t *entries;
	unsigned i, n, size;

	if (!rsdp_pa)
		return NULL;
	rsdp = phys(rsdp_pa);
	root = rsdp->revision >= 2 ? table_ok(rsdp->xsdt) : NULL;
	size = 8;
	if (!root) {
		root = table_ok(rsdp->rsdt);
		size = 4;
	}
	if (!root)
		return NULL;
	entries = (const uint8_t *)(root + 1);
	n = (root->length - sizeof(*root)) / size;
	for (i = 0; i < n; i++) {
		uint64_t pa = 0;

		memcpy(&pa, entries + i * size, size);
		h = table_ok(pa);
		if (h && !memcmp(h->signature, signature, 4))
			return h;
	}
	return NULL;
}

/* A little-endian field of a table, if the table is long enough. */
static uint64_t field(const struct acpi_header *h, unsigned off, unsigned len)
{
	uint64_t v = 0;

	if (off + len <= h->length)
		memcpy(&v, (const uint8_t *)h + off, len);
	return v;
}

/* A Generic Address Structure's address if it is in system I/O space. */
static uint32_t gas_io(const struct acpi_header *h, unsigned off)
{
	if (field(h, off, 1) != 1) /* address space ID: system I/O */
		return 0;
	return (uint32_t)field(h, off + 4, 8);
}

/* A 32-bit block address, or the X_ one (ACPI 2.0+) when it is zero. */
static uint32_t block(const struct acpi_header *h, unsigned off, unsigned xoff)
{
	uint32_t v = (uint32_t)field(h, off, 4);

	return v ? v : gas_io(h, xoff);
}

bool kit_acpi_fadt(struct kit_fadt *f)
{
	const struct acpi_header *h = kit_acpi_table("FACP");
	uint64_t dsdt;

	if (!h)
		return false;
	/* ACPI 6.5, table 5.9: offsets of the FADT fields. */
	f->sci_int = (uint16_t)field(h, 46, 2);
	f->pm1a_evt = block(h, 56, 148);
	f->pm1b_evt = block(h, 60, 160);
	f->pm1a_cnt = block(h, 64, 172);
	f->pm1b_cnt = block(h, 68, 184);
	f->pm_tmr = block(h, 76, 208);
	f->pm1_evt_len = (uint8_t)field(h, 88, 1);
	f->pm1_cnt_len = (uint8_t)field(h, 89, 1);
	f->pm_tmr_len = (uint8_t)field(h, 91, 1);
	f->flags = (uint32_t)field(h, 112, 4);
	dsdt = field(h, 140, 8); /* X_DSDT */
	if (!dsdt)
		dsdt = field(h, 40, 4);
	f->dsdt = table_ok(dsdt);
	return true;
}

/*
 * One AML integer (ACPI 6.5, 20.2.3 "Data Objects Encoding"): ZeroOp,
 * OneOp, or BytePrefix, WordPrefix, DWordPrefix with their data. Returns
 * the bytes used, 0 if p is no such integer.
 */
static unsigned aml_integer(const uint8_t *p, const uint8_t *end, unsigned *v)
{
	unsigned len;

	switch (*p) {
	case 0x00: /* ZeroOp */
	case 0x01: /* OneOp */
		*v = *p;
		return 1;
	case 0x0a: /* BytePrefix */
		len = 1;
		break;
	case 0x0b: /* WordPrefix */
		len = 2;
		break;
	case 0x0c: /* DWordPrefix */
		len = 4;
		break;
	default:
		return 0;
	}
	if (p + 1 + len > end)
		return 0;
	*v = 0;
	memcpy(v, p + 1, len);
	return 1 + len;
}

bool kit_acpi_s5(const struct acpi_header *dsdt, unsigned *slp_typa,
		 unsigned *slp_typb)
{
	const uint8_t *p = (const uint8_t *)(dsdt + 1);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;
	unsigned n;

	for (; p + 8 < end; p++) {
		/* NameOp (0x08), optionally a root prefix '\', "_S5_". */
		if (memcmp(p, "_S5_", 4))
			continue;
		if (!(p[-1] == 0x08 || (p[-1] == '\\' && p[-2] == 0x08)))
			continue;
		p += 4;
		if (*p++ != 0x12) /* PackageOp */
			return false;
		/* PkgLength: bits 7-6 of the lead byte count the extra bytes. */
		p += 1 + (*p >> 6);
		p++; /* NumElements */
		if (p >= end)
			return false;
		n = aml_integer(p, end, slp_typa);
		if (!n)
			return false;
		p += n;
		return p < end && aml_integer(p, end, slp_typb);
	}
	return false;
}

/* ACPI 6.5, 5.2.12.2 (type 0), 5.2.12.3 (1), 5.2.12.5 (2). */
static void madt_entry(struct kit_madt *m, const uint8_t *e)
{
	uint32_t flags;

	switch (e[0]) {
	case 0: /* Processor Local APIC: UID, APIC ID, flags */
		memcpy(&flags, e + 4, 4);
		if ((flags & 1) && m->n_lapic < KIT_MADT_MAX)
			m->lapic_id[m->n_lapic++] = e[3];
		break;
	case 1: /* I/O APIC: ID, reserved, address, GSI base */
		if (m->n_ioapic >= 4)
			break;
		m->ioapic[m->n_ioapic].id = e[2];
		memcpy(&m->ioapic[m->n_ioapic].addr, e + 4, 4);
		memcpy(&m->ioapic[m->n_ioapic].gsi_base, e + 8, 4);
		m->n_ioapic++;
		break;
	case 2: /* Interrupt Source Override: bus, source, GSI, flags */
		if (m->n_iso >= KIT_MADT_MAX)
			break;
		m->iso[m->n_iso].irq = e[3];
		memcpy(&m->iso[m->n_iso].gsi, e + 4, 4);
		memcpy(&m->iso[m->n_iso].flags, e + 8, 2);
		m->n_iso++;
		break;
	}
}

bool kit_acpi_madt(struct kit_madt *m)
{
	const struct acpi_header *h = kit_acpi_table("APIC");
	const uint8_t *p, *end;

	memset(m, 0, sizeof(*m));
	if (!h)
		return false;
	m->lapic_addr = (uint32_t)field(h, 36, 4);
	m->flags = (uint32_t)field(h, 40, 4);
	p = (const uint8_t *)h + 44;
	end = (const uint8_t *)h + h->length;
	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		madt_entry(m, p);
		p += p[1];
	}
	return true;
}
