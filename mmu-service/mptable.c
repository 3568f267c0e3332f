/*
 * The MP table (Intel MultiProcessor Specification 1.4, chapter 4) for the
 * PC of acpi.h, for kernels booted with acpi=off or built without ACPI:
 * the floating pointer at BOOT_MP_START, inside 0xf0000-0xfffff where the
 * spec (4.1) and Linux look for it, and the configuration table right
 * after it. Entries in the order 4.2 requires: processors, the ISA bus,
 * the I/O APIC, I/O interrupt assignments, local interrupt assignments.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "platform.h"
#include "boot.h"

#define MP_SPEC_REV 4 /* 1.4 */
#define MP_OEM_ID "CELLVM  "
#define MP_PRODUCT_ID "CELLVM PC   "

/* Entry types (4.3) and their fields. */
#define MP_PROCESSOR 0
#define MP_BUS 1
#define MP_IOAPIC 2
#define MP_IOINTR 3
#define MP_LINTR 4
#define MP_CPU_EN (1u << 0)
#define MP_CPU_BP (1u << 1)
#define MP_IOAPIC_EN (1u << 0)
#define MP_INT 0 /* vectored by the APIC */
#define MP_NMI 1
#define MP_EXTINT 3 /* vectored by the 8259 */
#define MP_ALL_LAPICS 0xff
#define MP_BUS_ISA_ID 0
/* Interrupt flags, as the ACPI MPS INTI flags: polarity 1-0, trigger 3-2. */
#define MP_IRQ_CONFORMS 0x0
#define MP_IRQ_LEVEL_HIGH 0xd

/*
 * A processor entry's signature and features are CPUID leaf 1's EAX and
 * EDX. Linux only logs them: say family 6 with an FPU and an APIC.
 */
#define MP_CPU_SIGNATURE 0x600
#define MP_CPU_FEATURES ((1u << 0) | (1u << 9))

struct mp_floating {
	char signature[4]; /* "_MP_" */
	uint32_t config;
	uint8_t length; /* in 16-byte units */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature[5]; /* all 0: a configuration table is present;
			     * IMCRP clear: virtual wire mode, no IMCR */
} __attribute__((packed));

struct mp_config {
	char signature[4]; /* "PCMP" */
	uint16_t length;   /* of the base table, header included */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem_id[8];
	char product_id[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entries;
	uint32_t lapic_addr;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mp_processor {
	uint8_t type, apic_id, apic_version, flags;
	uint32_t signature;
	uint32_t features;
	uint32_t reserved[2];
} __attribute__((packed));

struct mp_bus {
	uint8_t type, id;
	char bus_type[6];
} __attribute__((packed));

struct mp_ioapic {
	uint8_t type, id, version, flags;
	uint32_t addr;
} __attribute__((packed));

/* An I/O or a local interrupt assignment: the same layout (4.3.4, 4.3.5). */
struct mp_intr {
	uint8_t type, irq_type;
	uint16_t flags;
	uint8_t src_bus, src_irq, dst_apic, dst_pin;
} __attribute__((packed));

_Static_assert(sizeof(struct mp_floating) == 16, "MP floating pointer");
_Static_assert(offsetof(struct mp_config, entries) == 34, "entry count");
_Static_assert(sizeof(struct mp_config) == 44, "MP config header");
_Static_assert(sizeof(struct mp_processor) == 20, "MP processor");
_Static_assert(sizeof(struct mp_bus) == 8, "MP bus");
_Static_assert(sizeof(struct mp_ioapic) == 8, "MP I/O APIC");
_Static_assert(sizeof(struct mp_intr) == 8, "MP interrupt assignment");

#define MP_IOINTRS (PC_ISA_IRQS - 1) /* every ISA IRQ but the cascade */
#define MP_LINTRS 2
#define MP_CONFIG_LEN(cpus)                                                \
	(sizeof(struct mp_config) + (cpus) * sizeof(struct mp_processor) + \
	 sizeof(struct mp_bus) + sizeof(struct mp_ioapic) +                \
	 (MP_IOINTRS + MP_LINTRS) * sizeof(struct mp_intr))

_Static_assert(sizeof(struct mp_floating) + MP_CONFIG_LEN(PC_CPUS_MAX) <=
		       BOOT_MP_END - BOOT_MP_START,
	       "MP table for PC_CPUS_MAX CPUs does not fit");
_Static_assert(MP_CONFIG_LEN(PC_CPUS_MAX) <= UINT16_MAX, "MP base length");

static uint8_t *mp_processors(uint8_t *p, unsigned cpus)
{
	struct mp_processor *cpu = (struct mp_processor *)p;
	unsigned i;

	for (i = 0; i < cpus; i++)
		cpu[i] = (struct mp_processor){
			.type = MP_PROCESSOR,
			.apic_id = (uint8_t)i,
			.apic_version = PC_LAPIC_VERSION,
			.flags = MP_CPU_EN | (i == 0 ? MP_CPU_BP : 0),
			.signature = MP_CPU_SIGNATURE,
			.features = MP_CPU_FEATURES,
		};
	return (uint8_t *)(cpu + cpus);
}

static uint8_t *mp_bus_ioapic(uint8_t *p, unsigned cpus)
{
	struct mp_bus *bus = (struct mp_bus *)p;
	struct mp_ioapic *io = (struct mp_ioapic *)(bus + 1);

	*bus = (struct mp_bus){ .type = MP_BUS, .id = MP_BUS_ISA_ID };
	memcpy(bus->bus_type, "ISA   ", sizeof(bus->bus_type));
	*io = (struct mp_ioapic){
		.type = MP_IOAPIC,
		.id = (uint8_t)PC_IOAPIC_ID(cpus),
		.version = PC_IOAPIC_VERSION,
		.flags = MP_IOAPIC_EN,
		.addr = PC_IOAPIC_ADDR,
	};
	return (uint8_t *)(io + 1);
}

/*
 * ISA IRQ n on pin n, but IRQ 0 (the PIT) on pin 2, as the MADT's
 * override says; IRQ 2, the cascade, has no pin (pin 0 is unwired: the
 * 8259 reaches the CPUs through LINT0). IRQ 9, the SCI, is level, active
 * high, as in the MADT; the others conform to ISA (edge, active high).
 */
static uint8_t *mp_ioints(uint8_t *p, unsigned cpus)
{
	struct mp_intr *e = (struct mp_intr *)p;
	unsigned irq;

	for (irq = 0; irq < PC_ISA_IRQS; irq++) {
		if (irq == PC_IRQ_CASCADE)
			continue;
		*e++ = (struct mp_intr){
			.type = MP_IOINTR,
			.irq_type = MP_INT,
			.flags = irq == PC_IRQ_SCI ? MP_IRQ_LEVEL_HIGH
						   : MP_IRQ_CONFORMS,
			.src_bus = MP_BUS_ISA_ID,
			.src_irq = (uint8_t)irq,
			.dst_apic = (uint8_t)PC_IOAPIC_ID(cpus),
			.dst_pin =
				(uint8_t)(irq == PC_IRQ_PIT ? PC_GSI_PIT : irq),
		};
	}
	return (uint8_t *)e;
}

/* ExtINT (the 8259 pair) on LINT0 and NMI on LINT1, of every CPU. */
static uint8_t *mp_lints(uint8_t *p)
{
	struct mp_intr *e = (struct mp_intr *)p;

	e[0] = (struct mp_intr){
		.type = MP_LINTR,
		.irq_type = MP_EXTINT,
		.src_bus = MP_BUS_ISA_ID,
		.dst_apic = MP_ALL_LAPICS,
		.dst_pin = PC_LAPIC_LINT_EXTINT,
	};
	e[1] = (struct mp_intr){
		.type = MP_LINTR,
		.irq_type = MP_NMI,
		.src_bus = MP_BUS_ISA_ID,
		.dst_apic = MP_ALL_LAPICS,
		.dst_pin = PC_LAPIC_LINT_NMI,
	};
	return (uint8_t *)(e + MP_LINTRS);
}

int mptable_build(struct load_ctx *c)
{
	uint64_t size = BOOT_MP_END - BOOT_MP_START, cfg_gpa;
	unsigned cpus = c->a->cpus;
	struct mp_floating *mpf;
	struct mp_config *cfg;
	size_t len = MP_CONFIG_LEN(cpus);
	uint8_t *region, *end;

	region = gpa_range(c->m, BOOT_MP_START, size);
	if (!region)
		return load_fail(c, -E2BIG, "no RAM for the MP table");
	if (sizeof(*mpf) + len > size || len > UINT16_MAX)
		return load_fail(c, -E2BIG,
				 "MP table for %u CPUs needs %zu bytes, more "
				 "than the %#" PRIx64 " at %#llx",
				 cpus, sizeof(*mpf) + len, size, BOOT_MP_START);
	memset(region, 0, size);
	mpf = (struct mp_floating *)region;
	cfg = (struct mp_config *)(mpf + 1);
	cfg_gpa = BOOT_MP_START + sizeof(*mpf);

	end = mp_processors((uint8_t *)(cfg + 1), cpus);
	end = mp_bus_ioapic(end, cpus);
	end = mp_ioints(end, cpus);
	end = mp_lints(end);

	memcpy(cfg->signature, "PCMP", sizeof(cfg->signature));
	cfg->length = (uint16_t)(end - (uint8_t *)cfg);
	cfg->spec_rev = MP_SPEC_REV;
	memcpy(cfg->oem_id, MP_OEM_ID, sizeof(cfg->oem_id));
	memcpy(cfg->product_id, MP_PRODUCT_ID, sizeof(cfg->product_id));
	cfg->entries = (uint16_t)(cpus + 2 + MP_IOINTRS + MP_LINTRS);
	cfg->lapic_addr = PC_LAPIC_ADDR;
	cfg->checksum = table_checksum(cfg, cfg->length);

	memcpy(mpf->signature, "_MP_", sizeof(mpf->signature));
	mpf->config = (uint32_t)cfg_gpa;
	mpf->length = sizeof(*mpf) / 16;
	mpf->spec_rev = MP_SPEC_REV;
	mpf->checksum = table_checksum(mpf, sizeof(*mpf));
	return 0;
}
