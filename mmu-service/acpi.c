/*
 * ACPI tables for the PC of acpi.h (ACPI 6.3, 5.2 "ACPI System Description
 * Tables"): RSDP (revision 2) -> RSDT and XSDT -> FADT, MADT and MCFG;
 * the FADT points to the FACS and the DSDT. Classic fixed hardware, not
 * HW-reduced, so the FACS is mandatory. The DSDT describes the legacy
 * devices, the PCI host bridge and the ECAM window the MCFG points to.
 *
 * All of it lies in [BOOT_ACPI_START, BOOT_ACPI_END), which E820 reports
 * reserved, as the FACS must be. The RSDP comes first, 16-byte aligned at
 * 0xe0000, so the legacy scan of 0xe0000-0xfffff finds it too; then each
 * table 16-byte aligned (the FACS 64), the DSDT last in the space left.
 * Every table is laid out as a packed struct checked against the spec's
 * offsets; multi-byte fields are little-endian, as on the x86 host.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "platform.h"
#include "aml.h"
#include "boot.h"

#define ACPI_OEM_ID "CELLVM"
#define ACPI_OEM_TABLE_ID "CELLVM  " /* the FADT's must match the RSDT's */
#define ACPI_OEM_REVISION 1
#define ACPI_CREATOR_ID "CELL"
#define ACPI_CREATOR_REVISION 1

#define ACPI_RSDP_REVISION 2 /* ACPI 2.0+: has the XSDT address */
#define ACPI_RSDT_REVISION 1
#define ACPI_XSDT_REVISION 1
#define ACPI_FADT_REVISION 6 /* ACPI 6.x layout, 276 bytes */
#define ACPI_FADT_MINOR 3    /* ACPI 6.3 */
#define ACPI_FACS_VERSION 2
#define ACPI_MADT_REVISION 5 /* ACPI 6.3: defines "online capable" */
#define ACPI_DSDT_REVISION 2 /* 64-bit AML integers */
#define ACPI_MCFG_REVISION 1

#define ACPI_TABLE_ALIGN 16
#define ACPI_FACS_ALIGN 64

/* FADT Flags and IA-PC Boot Architecture Flags (ACPI 6.3, 5.2.9). */
#define FADT_F_WBINVD (1u << 0)	    /* WBINVD flushes caches: required */
#define FADT_F_PROC_C1 (1u << 2)    /* C1 (HLT) on every CPU */
#define FADT_F_SLP_BUTTON (1u << 5) /* no fixed-feature sleep button */
#define FADT_F_FIX_RTC (1u << 6)    /* no RTC_STS in PM1: no RTC wake */
#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_F_HW_REDUCED (1u << 20)
#define FADT_BOOT_LEGACY_DEVICES (1u << 0) /* ISA devices: PIC, PIT, RTC... */
#define FADT_BOOT_8042 (1u << 1)
#define FADT_BOOT_NO_VGA (1u << 2)
#define FADT_NO_C2_LATENCY 101	/* > 100: C2 not supported */
#define FADT_NO_C3_LATENCY 1001 /* > 1000: C3 not supported */

#define ACPI_GAS_SYSTEM_IO 1
#define ACPI_GAS_ACCESS_WORD 2
#define ACPI_GAS_ACCESS_DWORD 3

/* MADT (ACPI 6.3, 5.2.12). */
#define MADT_PCAT_COMPAT (1u << 0) /* dual 8259 present */
#define MADT_TYPE_LAPIC 0
#define MADT_TYPE_IOAPIC 1
#define MADT_TYPE_ISO 2
#define MADT_TYPE_LAPIC_NMI 4
#define MADT_LAPIC_ENABLED (1u << 0)
#define MADT_BUS_ISA 0
#define MADT_UID_ALL 0xff
/* MPS INTI flags: polarity bits 1-0, trigger mode bits 3-2. */
#define MPS_INTI_CONFORMS 0x0
#define MPS_INTI_ACTIVE_HIGH 0x1
#define MPS_INTI_LEVEL (0x3 << 2)

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum; /* of the first 20 bytes (ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t ext_checksum; /* of all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));

#define ACPI_RSDP_V1_LEN 20

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

/* Generic Address Structure (ACPI 6.3, 5.2.3.2). */
struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));

struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor;
} __attribute__((packed));

struct acpi_facs {
	char signature[4];
	uint32_t length;
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;
	uint8_t reserved[3];
	uint32_t ospm_flags;
	uint8_t reserved1[24];
} __attribute__((packed));

struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_addr;
	uint32_t flags;
} __attribute__((packed));

struct madt_lapic {
	uint8_t type, length, uid, apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length, id, reserved;
	uint32_t addr;
	uint32_t gsi_base;
} __attribute__((packed));

struct madt_iso {
	uint8_t type, length, bus, source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

struct madt_lapic_nmi {
	uint8_t type, length, uid;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

/* PCI Firmware Specification 3.2, 4.1.2 "MCFG Table Description". */
struct mcfg_alloc {
	uint64_t base; /* ECAM address of bus 0 of the segment */
	uint16_t segment;
	uint8_t start_bus;
	uint8_t end_bus;
	uint32_t reserved;
} __attribute__((packed));

struct acpi_mcfg {
	struct acpi_header h;
	uint8_t reserved[8];
	struct mcfg_alloc alloc; /* one: segment 0, its one bus */
} __attribute__((packed));

#define ACPI_ASSERT(type, field, off)                         \
	_Static_assert(offsetof(struct type, field) == (off), \
		       #type "." #field " at " #off)

ACPI_ASSERT(acpi_rsdp, rsdt, 16);
ACPI_ASSERT(acpi_rsdp, xsdt, 24);
ACPI_ASSERT(acpi_rsdp, ext_checksum, 32);
ACPI_ASSERT(acpi_header, oem_table_id, 16);
ACPI_ASSERT(acpi_header, creator_revision, 32);
ACPI_ASSERT(acpi_fadt, firmware_ctrl, 36);
ACPI_ASSERT(acpi_fadt, sci_int, 46);
ACPI_ASSERT(acpi_fadt, pm1a_evt_blk, 56);
ACPI_ASSERT(acpi_fadt, pm_tmr_blk, 76);
ACPI_ASSERT(acpi_fadt, pm1_evt_len, 88);
ACPI_ASSERT(acpi_fadt, p_lvl2_lat, 96);
ACPI_ASSERT(acpi_fadt, century, 108);
ACPI_ASSERT(acpi_fadt, iapc_boot_arch, 109);
ACPI_ASSERT(acpi_fadt, flags, 112);
ACPI_ASSERT(acpi_fadt, reset_reg, 116);
ACPI_ASSERT(acpi_fadt, minor_version, 131);
ACPI_ASSERT(acpi_fadt, x_firmware_ctrl, 132);
ACPI_ASSERT(acpi_fadt, x_dsdt, 140);
ACPI_ASSERT(acpi_fadt, x_pm1a_evt_blk, 148);
ACPI_ASSERT(acpi_fadt, x_pm_tmr_blk, 208);
ACPI_ASSERT(acpi_fadt, sleep_control_reg, 244);
ACPI_ASSERT(acpi_fadt, hypervisor_vendor, 268);
ACPI_ASSERT(acpi_facs, version, 32);
ACPI_ASSERT(acpi_madt, flags, 40);
ACPI_ASSERT(acpi_mcfg, alloc, 44);
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");
_Static_assert(sizeof(struct acpi_header) == 36, "table header");
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT");
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS");
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT");
_Static_assert(sizeof(struct madt_lapic) == 8, "MADT local APIC");
_Static_assert(sizeof(struct madt_ioapic) == 12, "MADT I/O APIC");
_Static_assert(sizeof(struct madt_iso) == 10, "MADT override");
_Static_assert(sizeof(struct madt_lapic_nmi) == 6, "MADT local APIC NMI");
_Static_assert(sizeof(struct mcfg_alloc) == 16, "MCFG allocation");
_Static_assert(sizeof(struct acpi_mcfg) == 60, "MCFG with one allocation");

/*
 * The PCI host bridge of platform.h: segment 0, the buses its ECAM window
 * covers (1 MiB each: 32 devices x 8 functions x 4 KiB), an I/O window
 * above the ISA ports and CONFIG_ADDRESS/DATA, the 32-bit MMIO window,
 * and a _PRT entry for each pin of slots 1 .. PC_PCI_SLOTS - 1.
 */
#define PCI_SEGMENT 0
#define PCI_ECAM_BUS_SIZE 0x100000u
#define PCI_BUS_FIRST 0
#define PCI_BUS_LAST (PCI_BUS_FIRST + PC_PCI_ECAM_SIZE / PCI_ECAM_BUS_SIZE - 1)
#define PCI_IO_WINDOW_MIN 0x0d00
#define PCI_IO_WINDOW_MAX 0xffff
#define PCI_PRT_ANY_FUNCTION 0xffff /* _PRT Address: slot << 16 | this */
#define PCI_PRT_ENTRIES ((PC_PCI_SLOTS - 1) * PC_PCI_PINS)

_Static_assert(PC_PCI_ECAM_SIZE % PCI_ECAM_BUS_SIZE == 0 &&
		       PCI_BUS_LAST >= PCI_BUS_FIRST && PCI_BUS_LAST <= 0xff,
	       "the ECAM window is not a whole number of buses");
_Static_assert(PC_PCI_MMIO_ADDR >= PC_MEM_HOLE &&
		       PC_PCI_MMIO_ADDR + PC_PCI_MMIO_SIZE <=
			       PC_PCI_ECAM_ADDR &&
		       PC_PCI_ECAM_ADDR + PC_PCI_ECAM_SIZE <= PC_IOAPIC_ADDR,
	       "PCI MMIO window, ECAM, RAM and the I/O APIC overlap");
_Static_assert(PC_PM_TMR_BLK + PC_PM_TMR_LEN <= PCI_IO_WINDOW_MIN &&
		       PC_PCI_CONF_PORT + PC_PCI_CONF_PORT_LEN <=
			       PCI_IO_WINDOW_MIN,
	       "a platform port lies in the PCI I/O window");
_Static_assert(PCI_PRT_ENTRIES <= UINT8_MAX, "_PRT NumElements is a byte");

#define ACPI_XSDT_ENTRIES 3 /* FADT, MADT, MCFG */
#define ACPI_RSDT_LEN (sizeof(struct acpi_header) + ACPI_XSDT_ENTRIES * 4)
#define ACPI_XSDT_LEN (sizeof(struct acpi_header) + ACPI_XSDT_ENTRIES * 8)
#define ACPI_MADT_ISOS 2 /* IRQ 0 -> GSI 2, the SCI */
#define ACPI_MADT_LEN(cpus)                                              \
	(sizeof(struct acpi_madt) + (cpus) * sizeof(struct madt_lapic) + \
	 sizeof(struct madt_ioapic) +                                    \
	 ACPI_MADT_ISOS * sizeof(struct madt_iso) +                      \
	 sizeof(struct madt_lapic_nmi))

/*
 * With PC_CPUS_MAX CPUs, all tables but the DSDT fit in the first 4 KiB
 * (padding included), which leaves the DSDT 60 KiB.
 */
#define ACPI_FIXED_MAX 0x1000
_Static_assert(sizeof(struct acpi_rsdp) + ACPI_XSDT_LEN + ACPI_RSDT_LEN +
			       sizeof(struct acpi_fadt) +
			       sizeof(struct acpi_facs) +
			       ACPI_MADT_LEN(PC_CPUS_MAX) +
			       sizeof(struct acpi_mcfg) + 7 * ACPI_FACS_ALIGN <=
		       ACPI_FIXED_MAX,
	       "ACPI tables for PC_CPUS_MAX CPUs crowd out the DSDT");

/* Where each table goes; filled by acpi_place(). */
struct acpi_layout {
	uint64_t rsdp, xsdt, rsdt, fadt, facs, madt, mcfg, dsdt, end;
	size_t madt_len;
};

uint8_t table_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *b++);
	return (uint8_t)-sum;
}

static void acpi_header(struct acpi_header *h, const char *sig, size_t len,
			uint8_t revision)
{
	memcpy(h->signature, sig, sizeof(h->signature));
	h->length = (uint32_t)len;
	h->revision = revision;
	memcpy(h->oem_id, ACPI_OEM_ID, sizeof(h->oem_id));
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, sizeof(h->oem_table_id));
	h->oem_revision = ACPI_OEM_REVISION;
	memcpy(h->creator_id, ACPI_CREATOR_ID, sizeof(h->creator_id));
	h->creator_revision = ACPI_CREATOR_REVISION;
}

/* Last step for a table: its length is final and every byte written. */
static void acpi_seal(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = table_checksum(h, h->length);
}

static uint64_t acpi_next(uint64_t *at, size_t len, uint64_t align)
{
	uint64_t gpa = (*at + align - 1) & ~(align - 1);

	*at = gpa + len;
	return gpa;
}

static int acpi_place(struct load_ctx *c, struct acpi_layout *l)
{
	uint64_t at = BOOT_ACPI_START;

	l->madt_len = ACPI_MADT_LEN(c->a->cpus);
	l->rsdp = acpi_next(&at, sizeof(struct acpi_rsdp), ACPI_TABLE_ALIGN);
	l->xsdt = acpi_next(&at, ACPI_XSDT_LEN, ACPI_TABLE_ALIGN);
	l->rsdt = acpi_next(&at, ACPI_RSDT_LEN, ACPI_TABLE_ALIGN);
	l->fadt = acpi_next(&at, sizeof(struct acpi_fadt), ACPI_TABLE_ALIGN);
	l->facs = acpi_next(&at, sizeof(struct acpi_facs), ACPI_FACS_ALIGN);
	l->madt = acpi_next(&at, l->madt_len, ACPI_TABLE_ALIGN);
	l->mcfg = acpi_next(&at, sizeof(struct acpi_mcfg), ACPI_TABLE_ALIGN);
	l->dsdt = acpi_next(&at, sizeof(struct acpi_header), ACPI_TABLE_ALIGN);
	if (at > BOOT_ACPI_END)
		return load_fail(c, -E2BIG,
				 "ACPI tables for %u CPUs end at %#" PRIx64
				 ", past %#llx",
				 c->a->cpus, at, BOOT_ACPI_END);
	l->end = BOOT_ACPI_END;
	return 0;
}

/* _CRS of a legacy device: up to three fixed I/O ranges and one IRQ. */
struct dsdt_device {
	const char *name;
	const char *hid;
	struct {
		uint16_t base;
		uint8_t len;
	} io[3];
	unsigned irq;
};

static const struct dsdt_device dsdt_devices[] = {
	{ "PIC",
	  "PNP0000",
	  { { PC_PIC_MASTER_PORT, PC_PIC_PORT_LEN },
	    { PC_PIC_SLAVE_PORT, PC_PIC_PORT_LEN },
	    { PC_ELCR_PORT, PC_ELCR_PORT_LEN } },
	  PC_IRQ_CASCADE },
	{ "TIMR", "PNP0100", { { PC_PIT_PORT, PC_PIT_PORT_LEN } }, PC_IRQ_PIT },
	{ "RTC", "PNP0B00", { { PC_RTC_PORT, PC_RTC_PORT_LEN } }, PC_IRQ_RTC },
	{ "COM1",
	  "PNP0501",
	  { { PC_COM1_PORT, PC_COM1_PORT_LEN } },
	  PC_IRQ_COM1 },
};

/*
 *	Device (NAME) {
 *		Name (_HID, EisaId ("PNPxxxx"))
 *		Name (_CRS, ResourceTemplate () { IO (...) ... IRQNoFlags () {n} })
 *	}
 */
static void dsdt_device(struct aml *a, const struct dsdt_device *d)
{
	size_t i;

	aml_device(a, d->name);
	aml_name(a, "_HID");
	aml_eisaid(a, d->hid);
	aml_name(a, "_CRS");
	aml_buffer(a);
	for (i = 0; i < sizeof(d->io) / sizeof(d->io[0]) && d->io[i].len; i++)
		aml_res_io(a, d->io[i].base, d->io[i].len);
	aml_res_irq(a, d->irq);
	aml_res_end(a);
	aml_close(a);
	aml_close(a);
}

/*
 *	Device (PCI0) {
 *		Name (_HID, EisaId ("PNP0A08"))		PCI Express root bridge
 *		Name (_CID, EisaId ("PNP0A03"))		PCI root bridge
 *		Name (_SEG, Zero)
 *		Name (_BBN, Zero)
 *		Name (_UID, Zero)
 *		Name (_CRS, ResourceTemplate () {
 *			WordBusNumber (0 - 0), IO (Decode16, 0xcf8, ..., 8),
 *			WordIO (0xd00 - 0xffff), DWordMemory (MMIO window)
 *		})
 *		Name (_PRT, Package () {
 *			Package () { slot << 16 | 0xffff, pin, Zero, GSI }, ...
 *		})
 *	}
 *
 * The windows are ResourceProducer, which is what makes Linux take them
 * as the root bus's resources; IO (0xcf8) is what the bridge itself
 * consumes. A _PRT entry with Source Zero names a GSI (ACPI 6.3, 6.2.13);
 * OSPM takes it as level-triggered, active-low, as PCI INTx is, so the
 * MADT needs no override for GSIs 16-23.
 * No _ADR: a device has a _HID or an _ADR, not both (ACPI 6.3, 6.1), and
 * iasl warns about both. No _OSC: Linux takes ECAM from the MCFG without
 * one, and then leaves the native PCIe services (hotplug, AER, PME, ASPM)
 * to the platform, which has none to offer.
 */
static void dsdt_pci_host(struct aml *a)
{
	unsigned slot, pin;

	aml_device(a, "PCI0");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A08");
	aml_name(a, "_CID");
	aml_eisaid(a, "PNP0A03");
	aml_name(a, "_SEG");
	aml_integer(a, PCI_SEGMENT);
	aml_name(a, "_BBN");
	aml_integer(a, PCI_BUS_FIRST);
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_CRS");
	aml_buffer(a);
	aml_res_bus_window(a, PCI_BUS_FIRST, PCI_BUS_LAST);
	aml_res_io(a, PC_PCI_CONF_PORT, PC_PCI_CONF_PORT_LEN);
	aml_res_io_window(a, PCI_IO_WINDOW_MIN, PCI_IO_WINDOW_MAX);
	aml_res_mem_window(a, PC_PCI_MMIO_ADDR,
			   PC_PCI_MMIO_ADDR + (PC_PCI_MMIO_SIZE - 1));
	aml_res_end(a);
	aml_close(a);
	aml_name(a, "_PRT");
	aml_package(a, PCI_PRT_ENTRIES);
	for (slot = 1; slot < PC_PCI_SLOTS; slot++) {
		for (pin = 0; pin < PC_PCI_PINS; pin++) {
			aml_package(a, 4);
			aml_integer(a, slot << 16 | PCI_PRT_ANY_FUNCTION);
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, PC_PCI_PIN_GSI(slot, pin));
			aml_close(a);
		}
	}
	aml_close(a);
	aml_close(a);
}

/*
 *	Device (MBRD) {
 *		Name (_HID, EisaId ("PNP0C02"))
 *		Name (_CRS, ResourceTemplate () {
 *			Memory32Fixed (ReadWrite, ECAM base, ECAM size)
 *		})
 *	}
 *
 * The MCFG's ranges must be reserved as a motherboard resource (PCI
 * Firmware Specification 3.2, 4.1.2). Linux (arch/x86/pci/
 * mmconfig-shared.c) uses the ECAM if an E820 reserved range covers it
 * (its early check) or, once ACPI is up, a PNP0C01/PNP0C02 _CRS does;
 * e820.c and this device each reserve it, as QEMU's q35 does.
 */
static void dsdt_motherboard(struct aml *a)
{
	aml_device(a, "MBRD");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0C02");
	aml_name(a, "_CRS");
	aml_buffer(a);
	aml_res_mem32_fixed(a, PC_PCI_ECAM_ADDR, PC_PCI_ECAM_SIZE);
	aml_res_end(a);
	aml_close(a);
	aml_close(a);
}

/*
 * Scope (\_SB) { the legacy devices, PCI0, MBRD }, then
 * Name (\_S5, Package () { SLP_TYP for PM1a, for PM1b, reserved, reserved }).
 */
static int dsdt_build(struct load_ctx *c, const struct acpi_layout *l)
{
	struct acpi_header *h;
	struct aml a;
	size_t i, len = l->end - l->dsdt;
	int rc;

	h = gpa_range(c->m, l->dsdt, len);
	if (!h)
		return load_fail(c, -E2BIG, "no RAM for the DSDT");
	aml_init(&a, (uint8_t *)(h + 1), len - sizeof(*h));
	aml_scope(&a, "\\_SB");
	for (i = 0; i < sizeof(dsdt_devices) / sizeof(dsdt_devices[0]); i++)
		dsdt_device(&a, &dsdt_devices[i]);
	dsdt_pci_host(&a);
	dsdt_motherboard(&a);
	aml_close(&a);
	aml_name(&a, "\\_S5");
	aml_package(&a, 4);
	aml_integer(&a, PC_SLP_TYP_S5);
	aml_integer(&a, PC_SLP_TYP_S5);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_close(&a);
	rc = aml_finish(&a);
	if (rc)
		return load_fail(c, rc, "cannot encode the DSDT: %s",
				 rc == -E2BIG ? "no space left" : "bad AML");
	acpi_header(h, "DSDT", sizeof(*h) + a.len, ACPI_DSDT_REVISION);
	acpi_seal(h);
	return 0;
}

static struct acpi_gas acpi_gas_io(uint16_t port, uint8_t len, uint8_t access)
{
	return (struct acpi_gas){
		.space_id = ACPI_GAS_SYSTEM_IO,
		.bit_width = (uint8_t)(8 * len),
		.access_size = access,
		.address = port,
	};
}

/*
 * SMI_CMD 0: the platform is always in ACPI mode (the PM device reads
 * SCI_EN as 1). The FACS address goes in FIRMWARE_CTRL only (5.2.9: with
 * a non-zero X_FIRMWARE_CTRL, FIRMWARE_CTRL must be zero); the DSDT goes
 * in both its fields, with the same value. The X_ register blocks repeat
 * the 32-bit ones with widths that match their lengths. Not set, on
 * purpose: HW_REDUCED_ACPI, RESET_REG_SUP (no reset register yet), the
 * 8042 boot flag (no keyboard controller for the i8042 driver to probe).
 * PWR_BUTTON is clear: the power button is the fixed-feature one
 * (PM1 PWRBTN_STS/EN), which a host-side "ACPI shutdown" can press.
 */
static void fadt_fill(struct acpi_fadt *f, const struct acpi_layout *l)
{
	acpi_header(&f->h, "FACP", sizeof(*f), ACPI_FADT_REVISION);
	f->firmware_ctrl = (uint32_t)l->facs;
	f->dsdt = (uint32_t)l->dsdt;
	f->x_dsdt = l->dsdt;
	f->sci_int = PC_SCI_IRQ;
	f->pm1a_evt_blk = PC_PM1A_EVT_BLK;
	f->pm1a_cnt_blk = PC_PM1A_CNT_BLK;
	f->pm_tmr_blk = PC_PM_TMR_BLK;
	f->pm1_evt_len = PC_PM1_EVT_LEN;
	f->pm1_cnt_len = PC_PM1_CNT_LEN;
	f->pm_tmr_len = PC_PM_TMR_LEN;
	f->p_lvl2_lat = FADT_NO_C2_LATENCY;
	f->p_lvl3_lat = FADT_NO_C3_LATENCY;
	f->century = PC_RTC_CENTURY;
	f->iapc_boot_arch = FADT_BOOT_LEGACY_DEVICES | FADT_BOOT_NO_VGA;
	f->flags = FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON |
		   FADT_F_FIX_RTC;
	f->minor_version = ACPI_FADT_MINOR;
	f->x_pm1a_evt_blk = acpi_gas_io(PC_PM1A_EVT_BLK, PC_PM1_EVT_LEN,
					ACPI_GAS_ACCESS_WORD);
	f->x_pm1a_cnt_blk = acpi_gas_io(PC_PM1A_CNT_BLK, PC_PM1_CNT_LEN,
					ACPI_GAS_ACCESS_WORD);
	f->x_pm_tmr_blk = acpi_gas_io(PC_PM_TMR_BLK, PC_PM_TMR_LEN,
				      ACPI_GAS_ACCESS_DWORD);
	acpi_seal(&f->h);
}

static void facs_fill(struct acpi_facs *f)
{
	memcpy(f->signature, "FACS", sizeof(f->signature));
	f->length = sizeof(*f);
	f->version = ACPI_FACS_VERSION; /* no checksum: the FACS has none */
}

/*
 * One enabled local APIC per CPU (UID = APIC ID = index), the I/O APIC,
 * the two interrupt source overrides and NMI on LINT1 of every CPU.
 * IRQ 0 -> GSI 2 keeps the ISA default, "conforms" (edge, active high);
 * the SCI is level, active high, spelled out since the SCI's default
 * without an override would be level, active low.
 */
static void madt_fill(struct acpi_madt *t, unsigned cpus, size_t len)
{
	struct madt_lapic *cpu = (struct madt_lapic *)(t + 1);
	struct madt_ioapic *io;
	struct madt_iso *iso;
	struct madt_lapic_nmi *nmi;
	unsigned i;

	acpi_header(&t->h, "APIC", len, ACPI_MADT_REVISION);
	t->lapic_addr = PC_LAPIC_ADDR;
	t->flags = MADT_PCAT_COMPAT;
	for (i = 0; i < cpus; i++)
		cpu[i] = (struct madt_lapic){
			.type = MADT_TYPE_LAPIC,
			.length = sizeof(*cpu),
			.uid = (uint8_t)i,
			.apic_id = (uint8_t)i,
			.flags = MADT_LAPIC_ENABLED,
		};
	io = (struct madt_ioapic *)(cpu + cpus);
	*io = (struct madt_ioapic){
		.type = MADT_TYPE_IOAPIC,
		.length = sizeof(*io),
		.id = (uint8_t)PC_IOAPIC_ID(cpus),
		.addr = PC_IOAPIC_ADDR,
		.gsi_base = PC_IOAPIC_GSI_BASE,
	};
	iso = (struct madt_iso *)(io + 1);
	iso[0] = (struct madt_iso){
		.type = MADT_TYPE_ISO,
		.length = sizeof(*iso),
		.bus = MADT_BUS_ISA,
		.source = PC_IRQ_PIT,
		.gsi = PC_GSI_PIT,
		.flags = MPS_INTI_CONFORMS,
	};
	iso[1] = (struct madt_iso){
		.type = MADT_TYPE_ISO,
		.length = sizeof(*iso),
		.bus = MADT_BUS_ISA,
		.source = PC_SCI_IRQ,
		.gsi = PC_SCI_IRQ,
		.flags = MPS_INTI_ACTIVE_HIGH | MPS_INTI_LEVEL,
	};
	nmi = (struct madt_lapic_nmi *)(iso + ACPI_MADT_ISOS);
	*nmi = (struct madt_lapic_nmi){
		.type = MADT_TYPE_LAPIC_NMI,
		.length = sizeof(*nmi),
		.uid = MADT_UID_ALL,
		.flags = MPS_INTI_CONFORMS,
		.lint = PC_LAPIC_LINT_NMI,
	};
	acpi_seal(&t->h);
}

/* The RSDT and XSDT list the same tables: FADT, MADT, MCFG. */
static void roots_fill(struct acpi_header *rsdt, struct acpi_header *xsdt,
		       const struct acpi_layout *l)
{
	const uint64_t entry[ACPI_XSDT_ENTRIES] = { l->fadt, l->madt, l->mcfg };
	uint8_t *r = (uint8_t *)(rsdt + 1), *x = (uint8_t *)(xsdt + 1);
	uint32_t e32;
	int i;

	acpi_header(rsdt, "RSDT", ACPI_RSDT_LEN, ACPI_RSDT_REVISION);
	acpi_header(xsdt, "XSDT", ACPI_XSDT_LEN, ACPI_XSDT_REVISION);
	for (i = 0; i < ACPI_XSDT_ENTRIES; i++) {
		e32 = (uint32_t)entry[i];
		memcpy(r + 4 * i, &e32, sizeof(e32));
		put_le64(x + 8 * i, entry[i]);
	}
	acpi_seal(rsdt);
	acpi_seal(xsdt);
}

static void rsdp_fill(struct acpi_rsdp *p, const struct acpi_layout *l)
{
	memcpy(p->signature, "RSD PTR ", sizeof(p->signature));
	memcpy(p->oem_id, ACPI_OEM_ID, sizeof(p->oem_id));
	p->revision = ACPI_RSDP_REVISION;
	p->rsdt = (uint32_t)l->rsdt;
	p->length = sizeof(*p);
	p->xsdt = l->xsdt;
	p->checksum = table_checksum(p, ACPI_RSDP_V1_LEN);
	p->ext_checksum = table_checksum(p, sizeof(*p));
}

/* One allocation: segment 0, the buses of PC_PCI_ECAM_SIZE. */
static void mcfg_fill(struct acpi_mcfg *t)
{
	acpi_header(&t->h, "MCFG", sizeof(*t), ACPI_MCFG_REVISION);
	t->alloc = (struct mcfg_alloc){
		.base = PC_PCI_ECAM_ADDR,
		.segment = PCI_SEGMENT,
		.start_bus = PCI_BUS_FIRST,
		.end_bus = PCI_BUS_LAST,
	};
	acpi_seal(&t->h);
}

static void *acpi_at(uint8_t *region, uint64_t gpa)
{
	return region + (gpa - BOOT_ACPI_START);
}

int acpi_build(struct load_ctx *c)
{
	uint64_t size = BOOT_ACPI_END - BOOT_ACPI_START;
	struct acpi_layout l;
	uint8_t *region;
	int rc;

	region = gpa_range(c->m, BOOT_ACPI_START, size);
	if (!region)
		return load_fail(c, -E2BIG, "no RAM for the ACPI tables");
	memset(region, 0, size);
	rc = acpi_place(c, &l);
	if (!rc)
		rc = dsdt_build(c, &l);
	if (rc)
		return rc;
	facs_fill(acpi_at(region, l.facs));
	fadt_fill(acpi_at(region, l.fadt), &l);
	madt_fill(acpi_at(region, l.madt), c->a->cpus, l.madt_len);
	mcfg_fill(acpi_at(region, l.mcfg));
	roots_fill(acpi_at(region, l.rsdt), acpi_at(region, l.xsdt), &l);
	rsdp_fill(acpi_at(region, l.rsdp), &l);
	c->rsdp = l.rsdp;
	return 0;
}
