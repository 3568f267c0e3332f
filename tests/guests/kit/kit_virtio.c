/*
 * Guest kit: virtio 1.x over PCI, split virtqueues. See kit_virtio.h.
 */
#include "kit_virtio.h"
#include "kit_clock.h"

/* How long a reset may take to show device_status 0. */
#define RESET_TIMEOUT_NS (1000 * NSEC_PER_MSEC)

/* A physical address as a pointer (identity map below 4 GiB). */
static volatile void *phys(uint64_t pa)
{
	volatile void *p;

	__asm__("" : "=r"(p) : "0"(pa));
	return p;
}

static inline void barrier(void)
{
	__asm__ volatile("" : : : "memory");
}

/*
 * Registers are accessed with their own width (4.1.3.1: "the driver MUST
 * access each field using the natural access method").
 */
static uint32_t mmio_read(uint64_t addr, unsigned size)
{
	if (size == 1)
		return *(volatile uint8_t *)phys(addr);
	if (size == 2)
		return *(volatile uint16_t *)phys(addr);
	return *(volatile uint32_t *)phys(addr);
}

static void mmio_write(uint64_t addr, unsigned size, uint32_t v)
{
	if (size == 1)
		*(volatile uint8_t *)phys(addr) = (uint8_t)v;
	else if (size == 2)
		*(volatile uint16_t *)phys(addr) = (uint16_t)v;
	else
		*(volatile uint32_t *)phys(addr) = v;
}

static uint32_t common_read(const struct kit_virtio_dev *dev, unsigned off,
			    unsigned size)
{
	return mmio_read(dev->common.addr + off, size);
}

static void common_write(const struct kit_virtio_dev *dev, unsigned off,
			 unsigned size, uint32_t v)
{
	mmio_write(dev->common.addr + off, size, v);
}

/* A 64-bit field as two 32-bit writes, low half first (4.1.3.1). */
static void common_write64(const struct kit_virtio_dev *dev, unsigned off,
			   uint64_t v)
{
	common_write(dev, off, 4, (uint32_t)v);
	common_write(dev, off + 4, 4, (uint32_t)(v >> 32));
}

const char *kit_virtio_strerror(int err)
{
	static const char *const names[] = {
		"ok",
		"not a virtio device",
		"BAR not placed",
		"capability missing or bad",
		"reset did not complete",
		"features refused",
		"queue not available",
		"timed out",
		"needs reset",
		"used element for another head",
		"MSI-X not available",
	};

	if (err > 0 || -err >= (int)(sizeof(names) / sizeof(names[0])))
		return "unknown error";
	return names[-err];
}

unsigned kit_virtio_type(const struct kit_pci_dev *pci)
{
	if (pci->vendor != VIRTIO_PCI_VENDOR)
		return 0;
	if (pci->device >= VIRTIO_PCI_DEVICE_MODERN &&
	    pci->device <= VIRTIO_PCI_DEVICE_MODERN + 0x3f)
		return pci->device - VIRTIO_PCI_DEVICE_MODERN;
	/* 4.1.2.1: a transitional device names its type in the subsystem. */
	if (pci->device >= VIRTIO_PCI_DEVICE_LEGACY &&
	    pci->device <= VIRTIO_PCI_DEVICE_LEGACY_END)
		return kit_pci_read16(pci->bdf, PCI_SUBSYSTEM_ID);
	return 0;
}

const char *kit_virtio_name(unsigned type)
{
	static char buf[16] = "type ";
	unsigned i = 5, d;

	switch (type) {
	case VIRTIO_ID_NET:
		return "net";
	case VIRTIO_ID_BLOCK:
		return "blk";
	case VIRTIO_ID_CONSOLE:
		return "console";
	case VIRTIO_ID_RNG:
		return "rng";
	}
	for (d = 10000; d > 1; d /= 10)
		if (type >= d)
			buf[i++] = '0' + type / d % 10;
	buf[i++] = '0' + type % 10;
	buf[i] = 0;
	return buf;
}

/*
 * The region a vendor capability names, if it lies inside a placed
 * memory BAR (4.1.4: offset and length within the BAR).
 */
static bool cap_region(unsigned bdf, unsigned cap, struct kit_virtio_region *r)
{
	uint8_t n = kit_pci_read8(bdf, cap + VIRTIO_PCI_CAP_BAR);
	uint32_t off = kit_pci_read32(bdf, cap + VIRTIO_PCI_CAP_OFFSET);
	uint32_t len = kit_pci_read32(bdf, cap + VIRTIO_PCI_CAP_LENGTH);
	struct kit_pci_bar bar;

	/* BAR values 0x6-0x7 are reserved, 0x8-0xff: "ignore" (4.1.4). */
	if (n >= PCI_BARS || !len || !kit_pci_bar(bdf, n, &bar) || bar.io ||
	    !bar.addr || (uint64_t)off + len > bar.size)
		return false;
	r->addr = bar.addr + off;
	r->len = len;
	r->bar = n;
	return true;
}

/*
 * The first capability of each type that this driver can use (4.1.4.1:
 * "the driver SHOULD use the first instance of each virtio structure type
 * they can support").
 */
static void read_caps(struct kit_virtio_dev *dev)
{
	unsigned cap = 0, bdf = dev->bdf;

	while ((cap = kit_pci_cap_find(bdf, cap, PCI_CAP_ID_VNDR))) {
		struct kit_virtio_region r;
		uint8_t cap_len = kit_pci_read8(bdf, cap + VIRTIO_PCI_CAP_LEN);
		uint8_t type =
			kit_pci_read8(bdf, cap + VIRTIO_PCI_CAP_CFG_TYPE);

		if (cap_len < 16 || !cap_region(bdf, cap, &r))
			continue;
		if (type == VIRTIO_PCI_CAP_COMMON_CFG && !dev->common.len &&
		    r.len >= VIRTIO_COMMON_LEN)
			dev->common = r;
		else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG &&
			 !dev->notify.len && cap_len >= 20 && r.len >= 2) {
			dev->notify = r;
			dev->notify_mult = kit_pci_read32(
				bdf, cap + VIRTIO_PCI_NOTIFY_CAP_MULT);
		} else if (type == VIRTIO_PCI_CAP_ISR_CFG && !dev->isr.len)
			dev->isr = r;
		else if (type == VIRTIO_PCI_CAP_DEVICE_CFG && !dev->device.len)
			dev->device = r;
	}
}

int kit_virtio_open(struct kit_virtio_dev *dev, unsigned bdf)
{
	struct kit_pci_dev pci;

	memset(dev, 0, sizeof(*dev));
	pci.bdf = (uint16_t)bdf;
	pci.vendor = kit_pci_read16(bdf, PCI_VENDOR_ID);
	pci.device = kit_pci_read16(bdf, PCI_DEVICE_ID);
	dev->bdf = (uint16_t)bdf;
	dev->type = (uint16_t)kit_virtio_type(&pci);
	if (!dev->type)
		return KIT_VIRTIO_ENODEV;
	if (kit_pci_assign_bars(bdf) < 0)
		return KIT_VIRTIO_EBAR;
	kit_pci_command(bdf, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 0);
	read_caps(dev);
	/* 4.1.4: common, notify and ISR are always there; device if any. */
	if (!dev->common.len || !dev->notify.len || !dev->isr.len)
		return KIT_VIRTIO_ECAP;
	dev->num_queues = (uint16_t)common_read(dev, VIRTIO_COMMON_NUMQ, 2);
	return 0;
}

uint8_t kit_virtio_status(const struct kit_virtio_dev *dev)
{
	return (uint8_t)common_read(dev, VIRTIO_COMMON_STATUS, 1);
}

void kit_virtio_set_status(const struct kit_virtio_dev *dev, uint8_t status)
{
	common_write(dev, VIRTIO_COMMON_STATUS, 1, status);
}

int kit_virtio_reset(const struct kit_virtio_dev *dev, uint64_t timeout_ns)
{
	uint64_t end;

	kit_virtio_set_status(dev, 0);
	end = kit_clock_ns() + timeout_ns;
	while (kit_virtio_status(dev) != 0)
		if (kit_clock_ns() > end)
			return KIT_VIRTIO_ERESET;
	return 0;
}

static uint64_t read_features(const struct kit_virtio_dev *dev)
{
	uint64_t lo, hi;

	common_write(dev, VIRTIO_COMMON_DFSELECT, 4, 0);
	lo = common_read(dev, VIRTIO_COMMON_DF, 4);
	common_write(dev, VIRTIO_COMMON_DFSELECT, 4, 1);
	hi = common_read(dev, VIRTIO_COMMON_DF, 4);
	return hi << 32 | lo;
}

static void write_features(const struct kit_virtio_dev *dev, uint64_t f)
{
	common_write(dev, VIRTIO_COMMON_GFSELECT, 4, 0);
	common_write(dev, VIRTIO_COMMON_GF, 4, (uint32_t)f);
	common_write(dev, VIRTIO_COMMON_GFSELECT, 4, 1);
	common_write(dev, VIRTIO_COMMON_GF, 4, (uint32_t)(f >> 32));
}

int kit_virtio_start(struct kit_virtio_dev *dev, uint64_t want)
{
	uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE;
	int err = kit_virtio_reset(dev, RESET_TIMEOUT_NS);

	if (err)
		return err;
	/* 3.1.1, steps 2-6. */
	kit_virtio_set_status(dev, s);
	s |= VIRTIO_STATUS_DRIVER;
	kit_virtio_set_status(dev, s);
	dev->offered = read_features(dev);
	dev->features =
		dev->offered & (want | KIT_VIRTIO_BIT(VIRTIO_F_VERSION_1));
	/* 6.1: a modern driver refuses a device without VERSION_1. */
	if (!(dev->features & KIT_VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
		kit_virtio_set_status(dev, s | VIRTIO_STATUS_FAILED);
		return KIT_VIRTIO_EFEATURES;
	}
	write_features(dev, dev->features);
	s |= VIRTIO_STATUS_FEATURES_OK;
	kit_virtio_set_status(dev, s);
	if (!(kit_virtio_status(dev) & VIRTIO_STATUS_FEATURES_OK)) {
		kit_virtio_set_status(dev, s | VIRTIO_STATUS_FAILED);
		return KIT_VIRTIO_EFEATURES;
	}
	return 0;
}

int kit_virtio_queue(struct kit_virtio_dev *dev, struct kit_virtq *q,
		     unsigned index, uint16_t msix)
{
	uint16_t max, size, noff;
	uint64_t notify_off;

	if (index >= dev->num_queues)
		return KIT_VIRTIO_EQUEUE;
	common_write(dev, VIRTIO_COMMON_Q_SELECT, 2, index);
	max = (uint16_t)common_read(dev, VIRTIO_COMMON_Q_SIZE, 2);
	if (!max)
		return KIT_VIRTIO_EQUEUE;
	/* 2.7: a split queue's size is a power of 2. */
	for (size = KIT_VIRTQ_SIZE; size > max; size >>= 1)
		;
	noff = (uint16_t)common_read(dev, VIRTIO_COMMON_Q_NOFF, 2);
	notify_off = (uint64_t)noff * dev->notify_mult;
	/* 4.1.4.4: the register is 2 bytes, inside the notify region. */
	if (notify_off + 2 > dev->notify.len)
		return KIT_VIRTIO_ECAP;
	memset(&q->desc, 0, sizeof(q->desc));
	memset(&q->avail, 0, sizeof(q->avail));
	memset(&q->used, 0, sizeof(q->used));
	q->index = (uint16_t)index;
	q->size = size;
	q->avail_idx = q->used_idx = 0;
	q->notify = dev->notify.addr + notify_off;
	common_write(dev, VIRTIO_COMMON_Q_SIZE, 2, size);
	common_write(dev, VIRTIO_COMMON_Q_MSIX, 2, msix);
	/* 4.1.5.1.2.1: the device says NO_VECTOR if it took no vector. */
	if (common_read(dev, VIRTIO_COMMON_Q_MSIX, 2) != msix)
		return KIT_VIRTIO_EMSIX;
	common_write64(dev, VIRTIO_COMMON_Q_DESCLO, (uintptr_t)q->desc);
	common_write64(dev, VIRTIO_COMMON_Q_AVAILLO, (uintptr_t)&q->avail);
	common_write64(dev, VIRTIO_COMMON_Q_USEDLO, (uintptr_t)&q->used);
	common_write(dev, VIRTIO_COMMON_Q_ENABLE, 2, 1);
	return 0;
}

void kit_virtio_driver_ok(const struct kit_virtio_dev *dev)
{
	kit_virtio_set_status(dev,
			      kit_virtio_status(dev) | VIRTIO_STATUS_DRIVER_OK);
}

int kit_virtio_init(struct kit_virtio_dev *dev, uint64_t want,
		    struct kit_virtq *const *queues, unsigned nq)
{
	unsigned i;
	int err = kit_virtio_start(dev, want);

	for (i = 0; !err && i < nq; i++)
		if (queues[i])
			err = kit_virtio_queue(dev, queues[i], i,
					       VIRTIO_MSI_NO_VECTOR);
	if (err)
		return err;
	kit_virtio_driver_ok(dev);
	return 0;
}

uint32_t kit_virtio_cfg_read(const struct kit_virtio_dev *dev, unsigned off,
			     unsigned size)
{
	if ((uint64_t)off + size > dev->device.len)
		return 0xffffffffu;
	return mmio_read(dev->device.addr + off, size);
}

uint64_t kit_virtio_cfg_read64(const struct kit_virtio_dev *dev, unsigned off)
{
	uint32_t gen, lo, hi;

	/* 2.5.1: retry while config_generation changes under the reads. */
	do {
		gen = common_read(dev, VIRTIO_COMMON_CFGGENERATION, 1);
		lo = kit_virtio_cfg_read(dev, off, 4);
		hi = kit_virtio_cfg_read(dev, off + 4, 4);
	} while (gen != common_read(dev, VIRTIO_COMMON_CFGGENERATION, 1));
	return (uint64_t)hi << 32 | lo;
}

int kit_virtio_msix(struct kit_virtio_dev *dev, unsigned entry,
		    uint32_t apic_id, uint8_t vector, bool config)
{
	uint64_t table;
	unsigned entries;

	if (!kit_pci_msix(dev->bdf, &table, &entries) || entry >= entries)
		return KIT_VIRTIO_EMSIX;
	kit_pci_msix_set(table, entry, apic_id, vector, false);
	kit_pci_msix_enable(dev->bdf, true);
	if (!config)
		return 0;
	common_write(dev, VIRTIO_COMMON_MSIX, 2, entry);
	if (common_read(dev, VIRTIO_COMMON_MSIX, 2) != entry)
		return KIT_VIRTIO_EMSIX;
	return 0;
}

unsigned kit_virtq_chain(struct virtq_desc *table, unsigned first,
			 const struct kit_virtq_buf *bufs, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		table[first + i].addr = bufs[i].addr;
		table[first + i].len = bufs[i].len;
		table[first + i].flags =
			(bufs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
			(i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		table[first + i].next =
			(uint16_t)(i + 1 < n ? first + i + 1 : 0);
	}
	return first + n;
}

void kit_virtq_post(struct kit_virtq *q, uint16_t head)
{
	q->avail.ring[q->avail_idx % q->size] = head;
	/* 2.7.13.2: the ring entry before idx (x86 keeps stores in order). */
	barrier();
	q->avail_idx++;
	*(volatile uint16_t *)&q->avail.idx = q->avail_idx;
}

void kit_virtq_set_avail_idx(struct kit_virtq *q, uint16_t idx)
{
	barrier();
	q->avail_idx = idx;
	*(volatile uint16_t *)&q->avail.idx = idx;
}

void kit_virtio_notify(const struct kit_virtio_dev *dev,
		       const struct kit_virtq *q)
{
	barrier();
	mmio_write(q->notify, 2, q->index);
}

int kit_virtq_wait(const struct kit_virtio_dev *dev, struct kit_virtq *q,
		   uint64_t timeout_ns, struct virtq_used_elem *e)
{
	uint64_t end = kit_clock_ns() + timeout_ns;

	for (;;) {
		if (*(volatile uint16_t *)&q->used.idx != q->used_idx) {
			barrier();
			*e = q->used.ring[q->used_idx % q->size];
			q->used_idx++;
			return 0;
		}
		if (kit_virtio_status(dev) & VIRTIO_STATUS_NEEDS_RESET)
			return KIT_VIRTIO_ENEEDSRESET;
		if (kit_clock_ns() > end)
			return KIT_VIRTIO_ETIMEDOUT;
	}
}

int kit_virtio_request(const struct kit_virtio_dev *dev, struct kit_virtq *q,
		       const struct kit_virtq_buf *bufs, unsigned n,
		       uint64_t timeout_ns, uint32_t *len)
{
	struct virtq_used_elem e;
	int err;

	kit_virtq_chain(q->desc, 0, bufs, n);
	kit_virtq_post(q, 0);
	kit_virtio_notify(dev, q);
	err = kit_virtq_wait(dev, q, timeout_ns, &e);
	if (err)
		return err;
	if (len)
		*len = e.len;
	return e.id == 0 ? 0 : KIT_VIRTIO_EID;
}
