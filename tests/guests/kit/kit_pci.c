/*
 * Guest kit: PCI configuration space. See kit_pci.h for the contract.
 */
#include "kit_pci.h"
#include "kit_acpi.h"

/* 0: configuration mechanism #1; else the ECAM window of bus 0. */
static uint64_t kit_ecam;

/* A physical address as a pointer (identity map below 4 GiB). */
static volatile void *phys(uint64_t pa)
{
	volatile void *p;

	__asm__("" : "=r"(p) : "0"(pa));
	return p;
}

/*
 * The MCFG entry for segment 0 that starts at bus 0: its base and last
 * bus. PCI Firmware 3.2, table 4-2/4-3: the header, 8 reserved bytes,
 * then 16-byte entries: base (8), segment (2), start and end bus.
 */
static bool mcfg_bus0(uint64_t *base, unsigned *end_bus)
{
	const struct acpi_header *h = kit_acpi_table("MCFG");
	const uint8_t *p = (const uint8_t *)h;
	uint32_t off;

	if (!h)
		return false;
	for (off = sizeof(*h) + 8; off + 16 <= h->length; off += 16) {
		uint16_t seg;

		memcpy(base, p + off, 8);
		memcpy(&seg, p + off + 8, 2);
		if (seg == 0 && p[off + 10] == 0 && *base &&
		    *base < (1ull << 32)) {
			*end_bus = p[off + 11];
			return true;
		}
	}
	return false;
}

bool kit_pci_use_ecam(void)
{
	uint64_t base;
	unsigned end_bus;

	if (!mcfg_bus0(&base, &end_bus))
		return false;
	kit_ecam = base;
	return true;
}

uint64_t kit_pci_ecam_base(void)
{
	return kit_ecam;
}

static volatile uint8_t *ecam_addr(unsigned bdf, unsigned off)
{
	return (volatile uint8_t *)phys(kit_ecam) +
	       ((uint64_t)bdf << KIT_ECAM_DEVFN_SHIFT) + off;
}

/*
 * Mechanism #1: CONFIG_ADDRESS takes bus, device, function and the
 * dword; the byte lanes of CONFIG_DATA select the bytes within it.
 */
static uint16_t conf1_select(unsigned bdf, unsigned off)
{
	outl(PCI_CONFIG_ADDRESS, PCI_CONFIG_ENABLE | bdf << 8 | (off & 0xfc));
	return PCI_CONFIG_DATA + (off & 3);
}

uint32_t kit_pci_read(unsigned bdf, unsigned off, unsigned size)
{
	uint16_t port;

	if (kit_ecam) {
		if (size == 1)
			return *ecam_addr(bdf, off);
		if (size == 2)
			return *(volatile uint16_t *)ecam_addr(bdf, off);
		return *(volatile uint32_t *)ecam_addr(bdf, off);
	}
	port = conf1_select(bdf, off);
	if (size == 1)
		return inb(port);
	if (size == 2)
		return inw(port);
	return inl(port);
}

void kit_pci_write(unsigned bdf, unsigned off, unsigned size, uint32_t v)
{
	uint16_t port;

	if (kit_ecam) {
		if (size == 1)
			*ecam_addr(bdf, off) = (uint8_t)v;
		else if (size == 2)
			*(volatile uint16_t *)ecam_addr(bdf, off) = (uint16_t)v;
		else
			*(volatile uint32_t *)ecam_addr(bdf, off) = v;
		return;
	}
	port = conf1_select(bdf, off);
	if (size == 1)
		outb(port, (uint8_t)v);
	else if (size == 2)
		outw(port, (uint16_t)v);
	else
		outl(port, v);
}

static bool probe(unsigned bdf, struct kit_pci_dev *d)
{
	uint32_t id = kit_pci_read32(bdf, PCI_VENDOR_ID);
	uint32_t class;

	/* No function answers: all ones (the host bridge's master abort). */
	if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
		return false;
	class = kit_pci_read32(bdf, PCI_REVISION_ID);
	d->bdf = (uint16_t)bdf;
	d->vendor = (uint16_t)id;
	d->device = (uint16_t)(id >> 16);
	d->prog_if = (uint8_t)(class >> 8);
	d->subclass = (uint8_t)(class >> 16);
	d->class = (uint8_t)(class >> 24);
	d->header_type = kit_pci_read8(bdf, PCI_HEADER_TYPE);
	return true;
}

unsigned kit_pci_scan(struct kit_pci_dev *devs, unsigned max)
{
	struct kit_pci_dev d;
	unsigned dev, fn, n = 0;

	for (dev = 0; dev < 32; dev++) {
		for (fn = 0; fn < 8; fn++) {
			if (!probe(KIT_PCI_BDF(0, dev, fn), &d)) {
				if (fn == 0)
					break;
				continue;
			}
			if (n < max)
				devs[n] = d;
			n++;
			if (fn == 0 &&
			    !(d.header_type & PCI_HEADER_MULTI_FUNCTION))
				break;
		}
	}
	return n;
}

bool kit_pci_find(uint16_t vendor, uint16_t device, unsigned index,
		  struct kit_pci_dev *dev)
{
	struct kit_pci_dev devs[64];
	unsigned i, n = kit_pci_scan(devs, 64);

	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++) {
		if (devs[i].vendor != vendor || devs[i].device != device)
			continue;
		if (index-- == 0) {
			*dev = devs[i];
			return true;
		}
	}
	return false;
}

unsigned kit_pci_cap_find(unsigned bdf, unsigned from, uint8_t id)
{
	unsigned pos, n;

	if (!(kit_pci_read16(bdf, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	/* The low two bits of a capability pointer are reserved (6.7). */
	if (from)
		pos = kit_pci_read8(bdf, from + 1) & 0xfc;
	else
		pos = kit_pci_read8(bdf, PCI_CAPABILITY_LIST) & 0xfc;
	for (n = 0; pos >= 0x40 && n < 48; n++) {
		if (kit_pci_read8(bdf, pos) == id)
			return pos;
		pos = kit_pci_read8(bdf, pos + 1) & 0xfc;
	}
	return 0;
}

void kit_pci_command(unsigned bdf, uint16_t set, uint16_t clear)
{
	uint16_t cmd = kit_pci_read16(bdf, PCI_COMMAND);

	kit_pci_write(bdf, PCI_COMMAND, 2, (cmd & ~clear) | set);
}

/* Write all ones, read what sticks, put the old value back. */
static uint32_t size_bits(unsigned bdf, unsigned off, uint32_t old)
{
	uint32_t v;

	kit_pci_write(bdf, off, 4, 0xffffffffu);
	v = kit_pci_read32(bdf, off);
	kit_pci_write(bdf, off, 4, old);
	return v;
}

/* Whether BAR n is the upper half of a 64-bit memory BAR. */
static bool upper_half(unsigned bdf, unsigned n)
{
	uint32_t prev;

	if (n == 0)
		return false;
	prev = kit_pci_read32(bdf, PCI_BAR0 + 4 * (n - 1));
	return !(prev & PCI_BAR_IO) &&
	       (prev & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64 &&
	       !upper_half(bdf, n - 1);
}

bool kit_pci_bar(unsigned bdf, unsigned n, struct kit_pci_bar *bar)
{
	unsigned off = PCI_BAR0 + 4 * n;
	uint16_t cmd;
	uint32_t lo, hi = 0, mlo, mhi = 0;
	uint64_t mask;

	memset(bar, 0, sizeof(*bar));
	if (n >= PCI_BARS || upper_half(bdf, n))
		return false;
	lo = kit_pci_read32(bdf, off);
	bar->io = lo & PCI_BAR_IO;
	bar->is64 = !bar->io && n + 1 < PCI_BARS &&
		    (lo & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64;
	bar->prefetch = !bar->io && (lo & PCI_BAR_MEM_PREFETCH);
	if (bar->is64)
		hi = kit_pci_read32(bdf, off + 4);
	/* PCI Local Bus 3.0, 6.2.5.1: size with decoding disabled. */
	cmd = kit_pci_read16(bdf, PCI_COMMAND);
	kit_pci_write(bdf, PCI_COMMAND, 2,
		      cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	mlo = size_bits(bdf, off, lo);
	if (bar->is64)
		mhi = size_bits(bdf, off + 4, hi);
	kit_pci_write(bdf, PCI_COMMAND, 2, cmd);
	if (bar->io) {
		mask = mlo & ~3u;
		bar->addr = lo & ~3u;
	} else {
		mask = (uint64_t)mhi << 32 | (mlo & ~0xfu);
		bar->addr = ((uint64_t)hi << 32 | lo) & ~0xfull;
	}
	/* The size is the lowest address bit that software can set. */
	bar->size = mask & -mask;
	return true;
}

void kit_pci_bar_set(unsigned bdf, unsigned n, uint64_t addr)
{
	struct kit_pci_bar bar;
	unsigned off = PCI_BAR0 + 4 * n;
	uint16_t cmd;

	if (!kit_pci_bar(bdf, n, &bar))
		return;
	cmd = kit_pci_read16(bdf, PCI_COMMAND);
	kit_pci_write(bdf, PCI_COMMAND, 2,
		      cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	kit_pci_write(bdf, off, 4, (uint32_t)addr);
	if (bar.is64)
		kit_pci_write(bdf, off + 4, 4, (uint32_t)(addr >> 32));
	kit_pci_write(bdf, PCI_COMMAND, 2, cmd);
}

/* Address ranges [start, end) a placed BAR must not overlap. */
#define TAKEN_MAX 64
static struct {
	uint64_t start, end;
} taken[TAKEN_MAX];
static unsigned n_taken;

static void take(uint64_t start, uint64_t size)
{
	if (n_taken < TAKEN_MAX && size) {
		taken[n_taken].start = start;
		taken[n_taken].end = start + size;
		n_taken++;
	}
}

/*
 * Once: the memory map, the ECAM window and the BARs that have an
 * address. Later placements are added as they are made, so the list
 * stays true as long as only the kit moves BARs.
 */
static void taken_init(void)
{
	struct kit_pci_dev devs[32];
	struct kit_pci_bar bar;
	uint64_t addr, size;
	uint32_t type;
	unsigned i, n, b, end_bus;

	for (i = 0; kit_memmap(i, &addr, &size, &type); i++)
		take(addr, size);
	if (mcfg_bus0(&addr, &end_bus))
		take(addr, (uint64_t)(end_bus + 1) << KIT_ECAM_BUS_SHIFT);
	n = kit_pci_scan(devs, 32);
	for (i = 0; i < n && i < 32; i++)
		for (b = 0; b < PCI_BARS; b++)
			if (kit_pci_bar(devs[i].bdf, b, &bar) && !bar.io &&
			    bar.addr)
				take(bar.addr, bar.size);
}

/* The lowest free, size-aligned place for size bytes in the window. */
static uint64_t window_alloc(uint64_t size)
{
	uint64_t at = KIT_PCI_WINDOW_BASE;
	unsigned i;

	if (!n_taken)
		taken_init();
	for (;;) {
		at = (at + size - 1) & ~(size - 1);
		if (at + size > KIT_PCI_WINDOW_END)
			return 0;
		for (i = 0; i < n_taken; i++)
			if (at < taken[i].end && taken[i].start < at + size)
				break;
		if (i == n_taken)
			return at;
		at = taken[i].end;
	}
}

int kit_pci_assign_bars(unsigned bdf)
{
	struct kit_pci_bar bar;
	uint64_t at;
	unsigned n;
	int placed = 0;

	for (n = 0; n < PCI_BARS; n++) {
		if (!kit_pci_bar(bdf, n, &bar) || bar.io || !bar.size)
			continue;
		if (bar.addr && bar.addr + bar.size <= (1ull << 32))
			continue;
		at = window_alloc(bar.size);
		if (!at)
			return -1;
		kit_pci_bar_set(bdf, n, at);
		take(at, bar.size);
		placed++;
	}
	return placed;
}

bool kit_pci_msix(unsigned bdf, uint64_t *table, unsigned *entries)
{
	unsigned cap = kit_pci_cap_find(bdf, 0, PCI_CAP_ID_MSIX);
	struct kit_pci_bar bar;
	uint32_t t, off;
	uint16_t flags;

	if (!cap)
		return false;
	t = kit_pci_read32(bdf, cap + PCI_MSIX_TABLE);
	off = t & ~PCI_MSIX_BIR;
	flags = kit_pci_read16(bdf, cap + PCI_MSIX_FLAGS);
	*entries = (flags & PCI_MSIX_FLAGS_QSIZE) + 1;
	if (!kit_pci_bar(bdf, t & PCI_MSIX_BIR, &bar) || bar.io || !bar.addr)
		return false;
	if (off + (uint64_t)*entries * PCI_MSIX_ENTRY_SIZE > bar.size)
		return false;
	*table = bar.addr + off;
	return true;
}

void kit_pci_msix_enable(unsigned bdf, bool on)
{
	unsigned cap = kit_pci_cap_find(bdf, 0, PCI_CAP_ID_MSIX);
	uint16_t flags;

	if (!cap)
		return;
	flags = kit_pci_read16(bdf, cap + PCI_MSIX_FLAGS);
	flags &= ~(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	if (on)
		flags |= PCI_MSIX_FLAGS_ENABLE;
	kit_pci_write(bdf, cap + PCI_MSIX_FLAGS, 2, flags);
}

void kit_pci_msix_set(uint64_t table, unsigned entry, uint32_t apic_id,
		      uint8_t vector, bool masked)
{
	volatile uint32_t *e =
		(volatile uint32_t *)phys(table + entry * PCI_MSIX_ENTRY_SIZE);

	/*
	 * Mask while the message changes (PCI 3.0, 6.8.3.5); address
	 * 0xfee00000 | destination ID << 12, data the vector with fixed
	 * delivery, edge trigger (SDM vol. 3A, 11.11.1, 11.11.2).
	 */
	e[PCI_MSIX_ENTRY_CTRL / 4] = PCI_MSIX_ENTRY_MASKED;
	e[PCI_MSIX_ENTRY_ADDR_LO / 4] = 0xfee00000u | (apic_id & 0xff) << 12;
	e[PCI_MSIX_ENTRY_ADDR_HI / 4] = 0;
	e[PCI_MSIX_ENTRY_DATA / 4] = vector;
	e[PCI_MSIX_ENTRY_CTRL / 4] = masked ? PCI_MSIX_ENTRY_MASKED : 0;
}
