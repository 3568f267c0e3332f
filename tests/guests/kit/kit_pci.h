/*
 * Guest kit: PCI configuration space, bus 0 of segment 0. Configuration
 * mechanism #1 (CONFIG_ADDRESS at 0xcf8, CONFIG_DATA at 0xcfc; PCI Local
 * Bus 3.0, 3.2.2.3.2) by default; kit_pci_use_ecam() switches to the
 * memory-mapped window (PCI Express 5.0, 7.2.2 "ECAM") that the ACPI MCFG
 * table names, if there is one.
 *
 * A function is named by its bus/device/function number, "bdf" (bus << 8
 * | device << 3 | function), as Linux does. Nothing here changes a device
 * unless asked: kit_pci_bar() sizes a BAR with decoding off and restores
 * it, kit_pci_bar_set() is the only call that moves one.
 */
#ifndef CELLVM_GUEST_PCI_H
#define CELLVM_GUEST_PCI_H

#include "kit.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_CONFIG_ENABLE 0x80000000u

#define KIT_PCI_BDF(bus, dev, fn) ((bus) << 8 | (dev) << 3 | (fn))
#define KIT_PCI_BUS(bdf) ((bdf) >> 8)
#define KIT_PCI_DEV(bdf) (((bdf) >> 3) & 0x1f)
#define KIT_PCI_FN(bdf) ((bdf)&7)

/* Type 0 configuration header (PCI Local Bus 3.0, 6.1). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0a /* sub-class, then base class */
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_INTERRUPT 0x0008
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_HEADER_MULTI_FUNCTION 0x80

#define PCI_BAR_IO 0x1
#define PCI_BAR_MEM_TYPE_MASK 0x6
#define PCI_BAR_MEM_TYPE_64 0x4
#define PCI_BAR_MEM_PREFETCH 0x8
#define PCI_BARS 6

/* Capability IDs (PCI Code and ID Assignment 1.11, 2). */
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

/* MSI-X capability and table (PCI Local Bus 3.0, 6.8.2). */
#define PCI_MSIX_FLAGS 2 /* message control, from the capability */
#define PCI_MSIX_TABLE 4 /* table offset | BIR */
#define PCI_MSIX_PBA 8
#define PCI_MSIX_FLAGS_QSIZE 0x07ff
#define PCI_MSIX_FLAGS_MASKALL 0x4000
#define PCI_MSIX_FLAGS_ENABLE 0x8000
#define PCI_MSIX_BIR 0x7
#define PCI_MSIX_ENTRY_SIZE 16
#define PCI_MSIX_ENTRY_ADDR_LO 0
#define PCI_MSIX_ENTRY_ADDR_HI 4
#define PCI_MSIX_ENTRY_DATA 8
#define PCI_MSIX_ENTRY_CTRL 12
#define PCI_MSIX_ENTRY_MASKED 0x1

/* ACPI MCFG, "PCI Firmware Specification 3.2", 4.1.2. */
#define KIT_ECAM_BUS_SHIFT 20
#define KIT_ECAM_DEVFN_SHIFT 12

/* One function found on bus 0. */
struct kit_pci_dev {
	uint16_t bdf;
	uint16_t vendor, device;
	uint8_t class, subclass, prog_if, header_type;
};

/* One BAR as kit_pci_bar() found it. */
struct kit_pci_bar {
	uint64_t addr; /* 0: not placed (or a BAR that does not exist) */
	uint64_t size; /* 0: no such BAR */
	bool io, is64, prefetch;
};

/*
 * Use the ECAM window of segment 0 from the ACPI MCFG for all further
 * accesses. False (and mechanism #1 stays) if there is no MCFG, or it
 * names no window for bus 0.
 */
bool kit_pci_use_ecam(void);
/* The ECAM base in use, 0 with mechanism #1. */
uint64_t kit_pci_ecam_base(void);

/* A configuration read or write of 1, 2 or 4 bytes, naturally aligned. */
uint32_t kit_pci_read(unsigned bdf, unsigned off, unsigned size);
void kit_pci_write(unsigned bdf, unsigned off, unsigned size, uint32_t v);

static inline uint8_t kit_pci_read8(unsigned bdf, unsigned off)
{
	return (uint8_t)kit_pci_read(bdf, off, 1);
}

static inline uint16_t kit_pci_read16(unsigned bdf, unsigned off)
{
	return (uint16_t)kit_pci_read(bdf, off, 2);
}

static inline uint32_t kit_pci_read32(unsigned bdf, unsigned off)
{
	return kit_pci_read(bdf, off, 4);
}

/*
 * The functions of bus 0, in bdf order, into devs[0..max); returns how
 * many there are (more than max if they did not all fit). Functions 1-7
 * are looked at only where function 0 says it is multi-function.
 */
unsigned kit_pci_scan(struct kit_pci_dev *devs, unsigned max);
/*
 * The index-th function (0, 1, ...) on bus 0 with this vendor and
 * device ID; false if there is none.
 */
bool kit_pci_find(uint16_t vendor, uint16_t device, unsigned index,
		  struct kit_pci_dev *dev);

/*
 * The configuration offset of the first capability with this ID after
 * the one at from (0: start of the list); 0 if there is none. Stops
 * after 48 capabilities, so a looped list ends too.
 */
unsigned kit_pci_cap_find(unsigned bdf, unsigned from, uint8_t id);

/*
 * BAR n (0-5): address, type, and size, found the usual way: with memory
 * and I/O decoding off, write all ones, read back the writable bits,
 * restore. A 64-bit BAR takes n and n + 1. False if n is out of range or
 * the upper half of a 64-bit BAR.
 */
bool kit_pci_bar(unsigned bdf, unsigned n, struct kit_pci_bar *bar);
/* Place BAR n at addr (decoding off while the halves change). */
void kit_pci_bar_set(unsigned bdf, unsigned n, uint64_t addr);

/* Set and clear bits of the command register. */
void kit_pci_command(unsigned bdf, uint16_t set, uint16_t clear);

/*
 * Where kit_pci_assign_bars() places BARs: cellvm's 32-bit BAR window,
 * which on QEMU's q35 is free PCI address space too (above its MCFG
 * window at 0xb0000000 and below the I/O APIC).
 */
#define KIT_PCI_WINDOW_BASE 0xc0000000ull
#define KIT_PCI_WINDOW_END 0xe0000000ull

/*
 * Give every memory BAR of bdf that has no address (0: firmware such as
 * qboot leaves BARs unassigned) or one the kit cannot reach (above 4 GiB,
 * the end of the identity map) an address in the window, aligned to its
 * size, clear of start_info's memory map (RAM and reserved ranges), of
 * the MCFG's ECAM window and of every placed BAR on bus 0. BARs that have
 * an address stay where they are (cellvm places them and does not let a
 * guest move them). I/O BARs are left alone. Returns how many BARs were
 * placed, or -1 if one did not fit.
 */
int kit_pci_assign_bars(unsigned bdf);

/*
 * MSI-X (PCI Local Bus 3.0, 6.8.2): the capability's table, as an address
 * in its BAR (which must have been placed), and its number of entries.
 * False if bdf has no MSI-X capability or the table is not in a placed
 * memory BAR.
 */
bool kit_pci_msix(unsigned bdf, uint64_t *table, unsigned *entries);
/* MSI-X enable on or off; the function mask is cleared either way. */
void kit_pci_msix_enable(unsigned bdf, bool on);
/*
 * Table entry: a fixed, edge-triggered message for vector to the local
 * APIC apic_id, physical destination mode (Intel SDM vol. 3A, 11.11),
 * masked or not.
 */
void kit_pci_msix_set(uint64_t table, unsigned entry, uint32_t apic_id,
		      uint8_t vector, bool masked);

#endif
