/*
 * The PCI host bridge's configuration space (pci.h). Each function's
 * 256-byte header is composed on every access from what the broker placed
 * (desc) and what the guest wrote (state): reads take bytes of it, writes
 * go byte by byte to the few registers that are writable.
 */
#include <string.h>

#include "le.h"
#include "pci.h"
#include "virtio_pci.h"

#define PCI_CFG_SIZE 256
#define PCI_ECAM_FN_SIZE 4096

/* Header registers (PCI 3.0, 6.1). */
enum {
	REG_VENDOR = 0x00,
	REG_DEVICE = 0x02,
	REG_COMMAND = 0x04,
	REG_STATUS = 0x06,
	REG_REVISION = 0x08,
	REG_CLASS = 0x09, /* prog-if, subclass, class: 3 bytes */
	REG_HEADER_TYPE = 0x0e,
	REG_BAR0 = 0x10,
	REG_SUBSYS_VENDOR = 0x2c,
	REG_SUBSYS_ID = 0x2e,
	REG_CAP_PTR = 0x34,
	REG_INT_LINE = 0x3c,
	REG_INT_PIN = 0x3d,
};

#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_CAP_ID_MSIX 0x11
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CLASS_HOST_BRIDGE 0x060000u
/* Writable command bits: I/O, memory, bus master, parity, SERR, INTx. */
#define PCI_COMMAND_MASK 0x0547u

static uint32_t class_of(unsigned virtio_type)
{
	switch (virtio_type) {
	case VIRTIO_ID_NET:
		return 0x020000; /* network, Ethernet */
	case VIRTIO_ID_BLOCK:
		return 0x010000; /* mass storage, SCSI (as QEMU) */
	case VIRTIO_ID_CONSOLE:
		return 0x078000; /* communication, other */
	default:
		return 0xff0000; /* unclassified */
	}
}

/* A virtio vendor capability (4.1.4): 16 bytes, 20 for notify. */
static void virtio_cap(uint8_t *p, unsigned at, unsigned next, unsigned type,
		       uint32_t offset)
{
	p[at] = PCI_CAP_ID_VNDR;
	p[at + 1] = (uint8_t)next;
	p[at + 2] = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? 20 : 16;
	p[at + 3] = (uint8_t)type;
	p[at + 4] = 0; /* BAR0 */
	put_le32(p + at + 8, offset);
	put_le32(p + at + 12, VIRTIO_BAR_REGION);
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		put_le32(p + at + 16, VIRTIO_NOTIFY_MULT);
}

static void virtio_header(uint8_t *p, const struct pci_fn_desc *d,
			  const struct pci_fn_regs *r)
{
	unsigned nvec = d->msix_vectors ? d->msix_vectors : 1;

	put_le16(p + REG_VENDOR, VIRTIO_PCI_VENDOR);
	put_le16(p + REG_DEVICE, VIRTIO_PCI_DEVICE_BASE + d->virtio_type);
	put_le16(p + REG_STATUS, PCI_STATUS_CAP_LIST);
	p[REG_REVISION] = 1;
	put_le32(p + REG_BAR0, r->bar0);
	put_le16(p + REG_SUBSYS_VENDOR, VIRTIO_PCI_VENDOR);
	put_le16(p + REG_SUBSYS_ID, VIRTIO_PCI_SUBSYS_ID);
	p[REG_CAP_PTR] = VIRTIO_CAP_MSIX;
	p[REG_INT_LINE] = r->int_line;
	p[REG_INT_PIN] = 1; /* INTA */

	/* MSI-X (PCI 3.0, 6.8.2): table and PBA in BAR0. */
	p[VIRTIO_CAP_MSIX] = PCI_CAP_ID_MSIX;
	p[VIRTIO_CAP_MSIX + 1] = VIRTIO_CAP_COMMON;
	put_le16(p + VIRTIO_CAP_MSIX + 2,
		 (uint16_t)((nvec - 1) | r->msix_ctrl));
	put_le32(p + VIRTIO_CAP_MSIX + 4, VIRTIO_BAR_MSIX_TABLE);
	put_le32(p + VIRTIO_CAP_MSIX + 8, VIRTIO_BAR_MSIX_PBA);

	virtio_cap(p, VIRTIO_CAP_COMMON, VIRTIO_CAP_NOTIFY,
		   VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_BAR_COMMON);
	virtio_cap(p, VIRTIO_CAP_NOTIFY, VIRTIO_CAP_ISR,
		   VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_BAR_NOTIFY);
	virtio_cap(p, VIRTIO_CAP_ISR, VIRTIO_CAP_DEVICE, VIRTIO_PCI_CAP_ISR_CFG,
		   VIRTIO_BAR_ISR);
	virtio_cap(p, VIRTIO_CAP_DEVICE, 0, VIRTIO_PCI_CAP_DEVICE_CFG,
		   VIRTIO_BAR_DEVICE);
}

/* The header of slot (function 0), or false if nothing is there. */
static bool pci_image(const struct pci_state *s, const struct pci_fn_desc *desc,
		      unsigned slot, uint8_t *p)
{
	const struct pci_fn_desc *d = &desc[slot];
	const struct pci_fn_regs *r = &s->fn[slot];
	uint32_t class;

	if (slot >= PC_PCI_SLOTS || !d->present)
		return false;
	memset(p, 0, PCI_CFG_SIZE);
	if (slot == 0) {
		put_le16(p + REG_VENDOR, PC_PCI_HOST_VENDOR);
		put_le16(p + REG_DEVICE, PC_PCI_HOST_DEVICE);
		class = PCI_CLASS_HOST_BRIDGE;
	} else {
		virtio_header(p, d, r);
		class = class_of(d->virtio_type);
	}
	put_le16(p + REG_COMMAND, r->command);
	p[REG_CLASS] = (uint8_t) class;
	put_le16(p + REG_CLASS + 1, (uint16_t)(class >> 8));
	p[REG_HEADER_TYPE] = 0; /* type 0, single function */
	return true;
}

void pci_reset(struct pci_state *s, const struct pci_fn_desc *desc)
{
	unsigned i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < PC_PCI_SLOTS; i++) {
		s->fn[i].bar0 = desc[i].bar0;
		s->fn[i].int_line = 0xff; /* unknown, until the OS writes it */
	}
}

bool pci_state_valid(const struct pci_state *s)
{
	unsigned i;

	for (i = 0; i < PC_PCI_SLOTS; i++) {
		if (s->fn[i].command & ~PCI_COMMAND_MASK ||
		    s->fn[i].msix_ctrl & ~(PCI_MSIX_ENABLE | PCI_MSIX_MASKALL))
			return false;
	}
	return !(s->config_address & 0x7f000003u);
}

static uint32_t pci_read(const struct pci_state *s,
			 const struct pci_fn_desc *desc, unsigned slot,
			 unsigned fn, unsigned reg, unsigned size)
{
	uint8_t p[PCI_CFG_SIZE];
	uint32_t v = 0;
	unsigned i;

	if (fn != 0 || !pci_image(s, desc, slot, p))
		return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	for (i = 0; i < size; i++) {
		if (reg + i < PCI_CFG_SIZE)
			v |= (uint32_t)p[reg + i] << (8 * i);
	}
	return v;
}

/* One byte of a write to reg of slot. */
static void pci_write_byte(struct pci_fn_regs *r, const struct pci_fn_desc *d,
			   unsigned slot, unsigned reg, uint8_t b)
{
	unsigned sh = 8 * (reg & 3);

	if (reg == REG_COMMAND || reg == REG_COMMAND + 1) {
		sh = 8 * (reg - REG_COMMAND);
		r->command = (uint16_t)((r->command & ~(0xffu << sh)) |
					((unsigned)b << sh));
		r->command &= PCI_COMMAND_MASK;
		return;
	}
	if (slot == 0)
		return;
	if (reg >= REG_BAR0 && reg < REG_BAR0 + 4) {
		r->bar0 = (r->bar0 & ~(0xffu << sh)) | ((uint32_t)b << sh);
		r->bar0 &= ~(PC_VIRTIO_BAR_SIZE - 1);
	} else if (reg == REG_INT_LINE) {
		r->int_line = b;
	} else if (reg == VIRTIO_CAP_MSIX + 3 && d->msix_vectors) {
		r->msix_ctrl = (uint16_t)((b << 8) &
					  (PCI_MSIX_ENABLE | PCI_MSIX_MASKALL));
	}
}

static void pci_write(struct pci_state *s, const struct pci_fn_desc *desc,
		      unsigned slot, unsigned fn, unsigned reg, unsigned size,
		      uint32_t val, struct pci_fx *fx)
{
	struct pci_fn_regs *r;
	uint32_t before;
	uint32_t sizing = ~(PC_VIRTIO_BAR_SIZE - 1);
	unsigned i;

	if (fn != 0 || slot >= PC_PCI_SLOTS || !desc[slot].present)
		return;
	r = &s->fn[slot];
	before = pci_fn_message(s, slot);
	for (i = 0; i < size && reg + i < PCI_CFG_SIZE; i++)
		pci_write_byte(r, &desc[slot], slot, reg + i,
			       (uint8_t)(val >> (8 * i)));
	fx->slot = slot;
	fx->notify = pci_fn_message(s, slot) != before;
	fx->moved = slot && reg < REG_BAR0 + 4 && reg + size > REG_BAR0 &&
		    r->bar0 != desc[slot].bar0 && r->bar0 != sizing;
}

uint32_t pci_fn_message(const struct pci_state *s, unsigned slot)
{
	return s->fn[slot].command | (uint32_t)s->fn[slot].msix_ctrl << 16;
}

/* CONFIG_ADDRESS: enable, bus, device, function, register (dword). */
static bool pci_decode(uint32_t a, unsigned *slot, unsigned *fn)
{
	if (!(a & PCI_CONFIG_ENABLE) || ((a >> 16) & 0xff) != 0)
		return false;
	*slot = (a >> 11) & 31;
	*fn = (a >> 8) & 7;
	return true;
}

uint32_t pci_port_read(struct pci_state *s, const struct pci_fn_desc *desc,
		       uint16_t port, unsigned size)
{
	unsigned off = (unsigned)(port - PC_PCI_CONF_PORT), slot, fn;

	if (off < 4) {
		/* CONFIG_ADDRESS reads back whole (Linux probes it so). */
		return off == 0 && size == 4 ? s->config_address : 0xffffffffu;
	}
	if (!pci_decode(s->config_address, &slot, &fn))
		return 0xffffffffu;
	return pci_read(s, desc, slot, fn,
			(s->config_address & 0xfc) + (off - 4), size);
}

void pci_port_write(struct pci_state *s, const struct pci_fn_desc *desc,
		    uint16_t port, unsigned size, uint32_t val,
		    struct pci_fx *fx)
{
	unsigned off = (unsigned)(port - PC_PCI_CONF_PORT), slot, fn;

	memset(fx, 0, sizeof(*fx));
	if (off < 4) {
		/* Only a whole dword at 0xcf8 is CONFIG_ADDRESS; byte writes
		 * to 0xcf8-0xcfb belong to the old mechanism #2: ignored. */
		if (off == 0 && size == 4)
			s->config_address = val & 0x80fffffcu;
		return;
	}
	if (!pci_decode(s->config_address, &slot, &fn))
		return;
	pci_write(s, desc, slot, fn, (s->config_address & 0xfc) + (off - 4),
		  size, val, fx);
}

uint32_t pci_ecam_read(const struct pci_state *s,
		       const struct pci_fn_desc *desc, uint32_t off,
		       unsigned size)
{
	if (off >= PC_PCI_ECAM_SIZE)
		return 0xffffffffu;
	return pci_read(s, desc, (off >> 15) & 31, (off >> 12) & 7,
			off & (PCI_ECAM_FN_SIZE - 1), size);
}

void pci_ecam_write(struct pci_state *s, const struct pci_fn_desc *desc,
		    uint32_t off, unsigned size, uint32_t val,
		    struct pci_fx *fx)
{
	memset(fx, 0, sizeof(*fx));
	if (off >= PC_PCI_ECAM_SIZE)
		return;
	pci_write(s, desc, (off >> 15) & 31, (off >> 12) & 7,
		  off & (PCI_ECAM_FN_SIZE - 1), size, val, fx);
}
