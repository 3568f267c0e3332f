/*
 * virtio-smoke: every virtio PCI device on bus 0 does its basic job,
 * through the kit's modern virtio driver (kit_virtio.h). One "ok"/"FAIL"
 * line per check, then "virtio-smoke: N passed, M failed"; exit status 0
 * only if all pass. Devices are taken by type (rng, blk, console, net),
 * in bus order within a type, so the output does not depend on slots.
 *
 * - rng: 64 random bytes (several requests if the device gives fewer per
 *   buffer), not all equal; the used buffer also raises the queue's
 *   MSI-X vector, routed to the BSP;
 * - blk: capacity, a pattern written to the last sector, a flush (if
 *   VIRTIO_BLK_F_FLUSH), the sector read back, GET_ID. On a read-only
 *   disk (VIRTIO_BLK_F_RO) a write anyway must fail with IOERR (5.2.6.2:
 *   the device fails writes to a read-only disk), and the compare is
 *   skipped;
 * - console: one line on port 0's transmit queue (no MULTIPORT);
 * - net: the MAC from the configuration (VIRTIO_NET_F_MAC).
 * No virtio device at all is a failure. "ecam=0" on the command line
 * uses configuration mechanism #1 instead of the MCFG's ECAM window.
 */
#include "kit.h"
#include "kit_clock.h"
#include "kit_intr.h"
#include "kit_pci.h"
#include "kit_virtio.h"

#define TIMEOUT (2000 * NSEC_PER_MSEC)
/*
 * How long an MSI-X message may take after the used buffer: a VMM whose
 * devices are separate processes crosses a few of them (lapic.c).
 */
#define SETTLE (100 * NSEC_PER_MSEC)
#define VEC_RNG 0x50
#define MAX_DEVS 32

static struct kit_virtq vq0, vq1;
static uint8_t rng_buf[64] __attribute__((aligned(64)));
static uint8_t sector[VIRTIO_BLK_SECTOR] __attribute__((aligned(512)));
static uint8_t pattern[VIRTIO_BLK_SECTOR] __attribute__((aligned(512)));
static struct {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
} blk_hdr __attribute__((aligned(16)));
static uint8_t blk_status __attribute__((aligned(16)));
static const char console_line[] = "virtio-smoke: hello on the console\n";

static void rng_irq(unsigned vector)
{
	kit_lapic_eoi();
}

/* Open and initialise dev; a FAIL line if it does not come up. */
static bool bring_up(struct kit_virtio_dev *dev, const char *name,
		     uint64_t want, struct kit_virtq *const *qs, unsigned nq)
{
	int err = kit_virtio_init(dev, want, qs, nq);

	if (!kit_check(!err, "%s: initialised", name))
		kit_printf("     %s, status %x\n", kit_virtio_strerror(err),
			   kit_virtio_status(dev));
	return !err;
}

static void test_rng(struct kit_virtio_dev *dev)
{
	struct kit_virtq_buf b = { (uintptr_t)rng_buf, sizeof(rng_buf), true };
	unsigned got = 0, i, tries;
	uint32_t len, irqs;
	bool differ = false;
	uint64_t end;
	int err;

	err = kit_virtio_start(dev, 0);
	if (!err)
		err = kit_virtio_msix(dev, 0, kit_lapic_id(), VEC_RNG, false);
	if (!err)
		err = kit_virtio_queue(dev, &vq0, 0, 0);
	if (!kit_check(!err, "rng: initialised, queue 0 on MSI-X entry 0")) {
		kit_printf("     %s\n", kit_virtio_strerror(err));
		return;
	}
	kit_virtio_driver_ok(dev);
	irqs = kit_irq_count[VEC_RNG];
	memset(rng_buf, 0, sizeof(rng_buf));
	/* 5.4.6.2: the device MAY use less than the entire buffer. */
	for (tries = 0; !err && got < sizeof(rng_buf) && tries < 16; tries++) {
		b.addr = (uintptr_t)rng_buf + got;
		b.len = sizeof(rng_buf) - got;
		err = kit_virtio_request(dev, &vq0, &b, 1, TIMEOUT, &len);
		got += len <= b.len ? len : b.len;
	}
	for (i = 1; i < sizeof(rng_buf); i++)
		differ |= rng_buf[i] != rng_buf[0];
	if (!kit_check(!err && got == sizeof(rng_buf) && differ,
		       "rng: 64 bytes read, not all equal"))
		kit_printf("     %s, %u bytes\n", kit_virtio_strerror(err),
			   got);
	end = kit_clock_ns() + SETTLE;
	kit_sti();
	while (kit_irq_count[VEC_RNG] == irqs && kit_clock_ns() < end)
		;
	kit_cli();
	if (!kit_check(kit_irq_count[VEC_RNG] != irqs,
		       "rng: MSI-X interrupt for a used buffer"))
		kit_printf("     no interrupt on vector %x\n", VEC_RNG);
}

/* One block request: header, optional data, status. */
static int blk_request(struct kit_virtio_dev *dev, uint32_t type, uint64_t lba,
		       void *data, uint32_t len, bool write)
{
	struct kit_virtq_buf b[3];
	unsigned n = 0;
	int err;

	blk_hdr.type = type;
	blk_hdr.reserved = 0;
	blk_hdr.sector = lba;
	blk_status = 0xff;
	b[n++] = (struct kit_virtq_buf){ (uintptr_t)&blk_hdr, 16, false };
	if (len)
		b[n++] = (struct kit_virtq_buf){ (uintptr_t)data, len, write };
	b[n++] = (struct kit_virtq_buf){ (uintptr_t)&blk_status, 1, true };
	err = kit_virtio_request(dev, &vq0, b, n, TIMEOUT, NULL);
	if (err)
		return err;
	return blk_status == VIRTIO_BLK_S_OK ? 0 : 1000 + blk_status;
}

static bool blk_ok(int err, const char *what)
{
	if (kit_check(!err, "blk: %s", what))
		return true;
	if (err >= 1000)
		kit_printf("     status %d\n", err - 1000);
	else
		kit_printf("     %s\n", kit_virtio_strerror(err));
	return false;
}

static void test_blk(struct kit_virtio_dev *dev)
{
	struct kit_virtq *qs[] = { &vq0 };
	char id[VIRTIO_BLK_ID_BYTES];
	uint64_t capacity, last;
	unsigned i;

	if (!bring_up(dev, "blk", KIT_VIRTIO_BIT(VIRTIO_BLK_F_FLUSH), qs, 1))
		return;
	capacity = kit_virtio_cfg_read64(dev, VIRTIO_BLK_CFG_CAPACITY);
	if (!kit_check(capacity >= 1, "blk: capacity of at least one sector"))
		return;
	last = capacity - 1;
	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + (i >> 8) + 0x5a);
	if (dev->offered & KIT_VIRTIO_BIT(VIRTIO_BLK_F_RO)) {
		kit_check(
			blk_request(dev, VIRTIO_BLK_T_OUT, last, pattern,
				    sizeof(pattern),
				    false) == 1000 + VIRTIO_BLK_S_IOERR,
			"blk: a write to the read-only disk fails with IOERR");
	} else {
		blk_ok(blk_request(dev, VIRTIO_BLK_T_OUT, last, pattern,
				   sizeof(pattern), false),
		       "write a pattern to the last sector");
		if (dev->features & KIT_VIRTIO_BIT(VIRTIO_BLK_F_FLUSH))
			blk_ok(blk_request(dev, VIRTIO_BLK_T_FLUSH, 0, NULL, 0,
					   false),
			       "flush");
		else
			kit_printf("skip blk: no VIRTIO_BLK_F_FLUSH\n");
	}
	memset(sector, 0, sizeof(sector));
	if (blk_ok(blk_request(dev, VIRTIO_BLK_T_IN, last, sector,
			       sizeof(sector), true),
		   "read the last sector") &&
	    !(dev->offered & KIT_VIRTIO_BIT(VIRTIO_BLK_F_RO)))
		kit_check(memcmp(sector, pattern, sizeof(sector)) == 0,
			  "blk: the pattern reads back");
	blk_ok(blk_request(dev, VIRTIO_BLK_T_GET_ID, 0, id, sizeof(id), true),
	       "GET_ID");
}

static void test_console(struct kit_virtio_dev *dev)
{
	struct kit_virtq *qs[] = { NULL, &vq1 };
	struct kit_virtq_buf b = { (uintptr_t)console_line,
				   sizeof(console_line) - 1, false };
	int err;

	if (!bring_up(dev, "console", 0, qs, 2))
		return;
	err = kit_virtio_request(dev, &vq1, &b, 1, TIMEOUT, NULL);
	if (!kit_check(!err, "console: a line written on port 0"))
		kit_printf("     %s\n", kit_virtio_strerror(err));
}

static void test_net(struct kit_virtio_dev *dev)
{
	uint8_t mac[6];
	unsigned i;

	if (!bring_up(dev, "net", KIT_VIRTIO_BIT(VIRTIO_NET_F_MAC), NULL, 0))
		return;
	if (!kit_check(dev->features & KIT_VIRTIO_BIT(VIRTIO_NET_F_MAC),
		       "net: VIRTIO_NET_F_MAC offered"))
		return;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)kit_virtio_cfg_read(
			dev, VIRTIO_NET_CFG_MAC + i, 1);
	kit_printf("net: mac %02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1],
		   mac[2], mac[3], mac[4], mac[5]);
}

int main(const char *cmdline)
{
	static const unsigned order[] = { VIRTIO_ID_RNG, VIRTIO_ID_BLOCK,
					  VIRTIO_ID_CONSOLE, VIRTIO_ID_NET };
	struct kit_pci_dev pci[MAX_DEVS];
	struct kit_virtio_dev dev;
	unsigned n, i, t, found = 0;
	int err;

	if (!kit_clock_init())
		return 1;
	kit_intr_init();
	kit_irq_set(VEC_RNG, rng_irq);
	if (kit_param(cmdline, "ecam", 1))
		kit_pci_use_ecam();
	n = kit_pci_scan(pci, MAX_DEVS);
	if (n > MAX_DEVS)
		n = MAX_DEVS;
	for (t = 0; t < sizeof(order) / sizeof(order[0]); t++) {
		for (i = 0; i < n; i++) {
			if (kit_virtio_type(&pci[i]) != order[t])
				continue;
			found++;
			err = kit_virtio_open(&dev, pci[i].bdf);
			if (!kit_check(!err, "%s: found",
				       kit_virtio_name(order[t]))) {
				kit_printf("     %s\n",
					   kit_virtio_strerror(err));
				continue;
			}
			if (order[t] == VIRTIO_ID_RNG)
				test_rng(&dev);
			else if (order[t] == VIRTIO_ID_BLOCK)
				test_blk(&dev);
			else if (order[t] == VIRTIO_ID_CONSOLE)
				test_console(&dev);
			else
				test_net(&dev);
		}
	}
	kit_check(found > 0, "at least one virtio device");
	return kit_check_summary("virtio-smoke");
}
