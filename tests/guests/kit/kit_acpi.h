/*
 * Guest kit: ACPI tables, read only. Finds the RSDP (start_info's
 * rsdp_paddr, else the EBDA's first KiB and 0xe0000-0xfffff, ACPI 6.5,
 * 5.2.5.1), the tables through the XSDT or RSDT, and the few things the
 * tests need: the FADT's PM1 and PM timer blocks, \_S5 from the DSDT, and
 * the MADT's local APICs, I/O APICs and interrupt source overrides.
 * Every table's checksum is checked before use.
 */
#ifndef CELLVM_GUEST_ACPI_H
#define CELLVM_GUEST_ACPI_H

#include "kit.h"

/* ACPI 6.5, 5.2.6 "System Description Table Header". */
struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

/* The physical address of a valid RSDP, or 0. */
uint64_t kit_acpi_rsdp(void);
/* Only by scanning the EBDA's first KiB and 0xe0000-0xfffff; 0 if none. */
uint64_t kit_acpi_rsdp_scan(void);
/* The first table with this signature ("FACP", "APIC"), or NULL. */
const struct acpi_header *kit_acpi_table(const char *signature);

/* ACPI 6.5, 5.2.9 "Fixed ACPI Description Table": the fields used here. */
struct kit_fadt {
	uint32_t pm1a_evt, pm1b_evt, pm1a_cnt, pm1b_cnt, pm_tmr;
	uint8_t pm1_evt_len, pm1_cnt_len, pm_tmr_len;
	uint16_t sci_int;
	uint32_t flags;
	const struct acpi_header *dsdt;
};
bool kit_acpi_fadt(struct kit_fadt *f);

/*
 * SLP_TYPa and SLP_TYPb of \_S5 (ACPI 6.5, 7.4.2 "\_Sx (System States)"),
 * from the DSDT's AML: Name (_S5, Package () { a, b, ... }) with integer
 * elements. A minimal search, not an interpreter: false if the object is
 * missing or built some other way.
 */
bool kit_acpi_s5(const struct acpi_header *dsdt, unsigned *slp_typa,
		 unsigned *slp_typb);

#define KIT_MADT_MAX 16

/* ACPI 6.5, 5.2.12 "Multiple APIC Description Table": what was found. */
struct kit_madt {
	uint32_t lapic_addr;
	uint32_t flags;	  /* bit 0: PCAT_COMPAT, 8259s present */
	unsigned n_lapic; /* enabled ones */
	uint8_t lapic_id[KIT_MADT_MAX];
	unsigned n_ioapic;
	struct {
		uint8_t id;
		uint32_t addr, gsi_base;
	} ioapic[4];
	unsigned n_iso;
	struct {
		uint8_t irq;
		uint32_t gsi;
		uint16_t flags; /* MPS INTI flags: polarity, trigger mode */
	} iso[KIT_MADT_MAX];
};
bool kit_acpi_madt(struct kit_madt *m);

#endif
