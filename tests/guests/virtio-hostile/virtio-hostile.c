/*
 * virtio-hostile: every virtio PCI device on bus 0 survives malformed
 * descriptor chains (virtio 1.2, 2.7) and comes back after a reset.
 *
 * Per device (by type: rng, blk, console, net; bus order within a type)
 * one good request first, then per case: the malformed chain is posted
 * and notified, and the guest waits up to 2 s for either the used ring
 * to return an element or device_status to show DEVICE_NEEDS_RESET
 * (2.1.2); then it resets the device (device_status 0, wait for it to
 * read 0), initialises it again and makes one good request. One line per
 * case: "ok   <dev>: <case>: <outcome>", the outcome being "used",
 * "used status N" (blk: the status byte; "used, status not written" if
 * the device left it alone), "needs reset" or "no answer"; then
 * "virtio-hostile: N passed, M failed", exit status 0 only if all pass.
 *
 * A case fails only if the device neither answers nor sets NEEDS_RESET
 * in time, returns another head, does not come back after the reset,
 * fails the good request, or (blk) says VIRTIO_BLK_S_OK to a request it
 * cannot have carried out, or anything but IOERR or UNSUPP to a request
 * past the capacity or of an unknown type. Where the spec lets a device
 * simply carry out what it was given, that passes too (H_LENIENT, with
 * the clause).
 *
 * Command line: "strict=0" also passes what QEMU 7.2 does (H_OUTSIDE_RAM,
 * H_NO_RNG_BYTES); the default, strict=1, is what cellvm's devices must
 * do. "ecam=0" uses configuration mechanism #1 instead of the MCFG's
 * ECAM window.
 *
 * The request each device type gets, and the buffer the cases distort:
 *   rng      queue 0: one device-writable buffer of 64 bytes
 *   blk      queue 0: header (readable), 512 bytes (writable), status
 *                     (writable), reading sector 0; the data buffer
 *   console  queue 1 (port 0 transmit): one readable line
 *   net      queue 1 (transmit): header and a 60-byte broadcast frame,
 *                     EtherType 0x88b5 (local experimental), one buffer
 * VIRTIO_F_INDIRECT_DESC is accepted where offered; the indirect cases
 * run either way (without it, 2.7.5.3.1 forbids the flag altogether).
 */
#include "kit.h"
#include "kit_clock.h"
#include "kit_pci.h"
#include "kit_virtio.h"

#define TIMEOUT (2000 * NSEC_PER_MSEC)
#define MAX_DEVS 32
#define TIB (1ull << 40)
#define STATUS_UNWRITTEN 0xff

/* The end of the image's .bss (guest.ld). */
extern char __bss_end[];

static struct kit_virtq vq;
/* Indirect tables; the second one for the nested case. */
static struct virtq_desc table1[KIT_VIRTQ_SIZE] __attribute__((aligned(16)));
static struct virtq_desc table2[KIT_VIRTQ_SIZE] __attribute__((aligned(16)));
static uint8_t data[VIRTIO_BLK_SECTOR] __attribute__((aligned(512)));
static uint8_t extra[16] __attribute__((aligned(16)));
static struct {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
} blk_hdr __attribute__((aligned(16)));
static uint8_t blk_status __attribute__((aligned(16)));
static const char console_line[] = "virtio-hostile: console still works\n";
static uint8_t net_frame[VIRTIO_NET_HDR_LEN + 60] __attribute__((aligned(16)));

/* What one device type gets. */
struct target {
	unsigned type;
	unsigned queue;
	uint64_t want;
	struct kit_virtq_buf good[3];
	unsigned n;
	unsigned data; /* the buffer the cases distort */
};

struct ctx {
	struct kit_virtio_dev *dev;
	const struct target *t;
	uint64_t capacity;     /* blk */
	uint64_t ram_top_page; /* last page of the RAM the image is in */
	bool strict;	       /* strict=0: what QEMU 7.2 does passes */
};

static uint16_t desc_flags(const struct kit_virtq_buf *b)
{
	return b->write ? VIRTQ_DESC_F_WRITE : 0;
}

/* A copy of the good request's buffers, for a case to distort. */
static void good_chain(const struct ctx *c, struct kit_virtq_buf *bufs)
{
	memcpy(bufs, c->t->good, c->t->n * sizeof(*bufs));
}

/* Post bufs as a chain from descriptor 0; head 0. */
static uint16_t post(const struct ctx *c, const struct kit_virtq_buf *bufs,
		     unsigned n)
{
	kit_virtq_chain(vq.desc, 0, bufs, n);
	kit_virtq_post(&vq, 0);
	return 0;
}

/* 2.7.5.2: "loops in the descriptor chain are forbidden". */
static uint16_t case_self_loop(const struct ctx *c)
{
	const struct kit_virtq_buf *b = &c->t->good[0];

	kit_virtq_desc(&vq, 0, b->addr, b->len,
		       desc_flags(b) | VIRTQ_DESC_F_NEXT, 0);
	kit_virtq_post(&vq, 0);
	return 0;
}

static uint16_t case_two_cycle(const struct ctx *c)
{
	const struct kit_virtq_buf *a = &c->t->good[0];
	const struct kit_virtq_buf *b = &c->t->good[c->t->n > 1 ? 1 : 0];

	kit_virtq_desc(&vq, 0, a->addr, a->len,
		       desc_flags(a) | VIRTQ_DESC_F_NEXT, 1);
	kit_virtq_desc(&vq, 1, b->addr, b->len,
		       desc_flags(b) | VIRTQ_DESC_F_NEXT, 0);
	kit_virtq_post(&vq, 0);
	return 0;
}

static uint16_t case_head_past_size(const struct ctx *c)
{
	struct kit_virtq_buf b[3];

	good_chain(c, b);
	kit_virtq_chain(vq.desc, 0, b, c->t->n);
	kit_virtq_post(&vq, vq.size);
	return vq.size;
}

static uint16_t case_beyond_ram(const struct ctx *c)
{
	struct kit_virtq_buf b[3];

	good_chain(c, b);
	b[c->t->data].addr = TIB;
	return post(c, b, c->t->n);
}

static uint16_t case_wrap(const struct ctx *c)
{
	struct kit_virtq_buf b[3];

	good_chain(c, b);
	b[c->t->data].addr = 0xfffffffffffff000ull;
	b[c->t->data].len = 0x2000;
	return post(c, b, c->t->n);
}

static uint16_t case_zero_len(const struct ctx *c)
{
	struct kit_virtq_buf b[3];

	good_chain(c, b);
	b[c->t->data].len = 0;
	return post(c, b, c->t->n);
}

/* From the last page of RAM: whatever a device writes stays there. */
static uint16_t case_huge_len(const struct ctx *c)
{
	struct kit_virtq_buf b[3];

	good_chain(c, b);
	b[c->t->data].addr = c->ram_top_page;
	b[c->t->data].len = 0xffffffffu;
	return post(c, b, c->t->n);
}

static uint16_t indirect(const struct ctx *c, uint64_t addr, uint32_t len,
			 uint16_t flags)
{
	struct kit_virtq_buf b[3];

	good_chain(c, b);
	kit_virtq_chain(table1, 0, b, c->t->n);
	kit_virtq_desc(&vq, 0, addr, len, VIRTQ_DESC_F_INDIRECT | flags, 1);
	kit_virtq_post(&vq, 0);
	return 0;
}

static uint16_t case_indirect_len(const struct ctx *c)
{
	return indirect(c, (uintptr_t)table1, c->t->n * 16 + 8, 0);
}

static uint16_t case_indirect_outside(const struct ctx *c)
{
	return indirect(c, TIB, c->t->n * 16, 0);
}

static uint16_t case_nested(const struct ctx *c)
{
	struct kit_virtq_buf b[3];

	good_chain(c, b);
	kit_virtq_chain(table2, 0, b, c->t->n);
	table1[0] = (struct virtq_desc){ (uintptr_t)table2, c->t->n * 16,
					 VIRTQ_DESC_F_INDIRECT, 0 };
	kit_virtq_desc(&vq, 0, (uintptr_t)table1, 16, VIRTQ_DESC_F_INDIRECT, 0);
	kit_virtq_post(&vq, 0);
	return 0;
}

static uint16_t case_indirect_next(const struct ctx *c)
{
	const struct kit_virtq_buf *last = &c->t->good[c->t->n - 1];

	kit_virtq_desc(&vq, 1, last->addr, last->len, desc_flags(last), 0);
	return indirect(c, (uintptr_t)table1, c->t->n * 16, VIRTQ_DESC_F_NEXT);
}

/* A readable buffer after the last writable one, or before the first. */
static uint16_t case_read_after_write(const struct ctx *c)
{
	struct kit_virtq_buf b[4];
	unsigned n = c->t->n;

	if (c->t->good[n - 1].write) {
		good_chain(c, b);
		b[n] = (struct kit_virtq_buf){ (uintptr_t)extra, 16, false };
	} else {
		b[0] = (struct kit_virtq_buf){ (uintptr_t)extra, 16, true };
		memcpy(b + 1, c->t->good, n * sizeof(*b));
	}
	return post(c, b, n + 1);
}

/*
 * idx moves by more than the queue size: every ring slot names head 0,
 * so a device that takes the entries finds the good chain in each.
 */
static uint16_t case_avail_jump(const struct ctx *c)
{
	struct kit_virtq_buf b[3];
	unsigned i;

	good_chain(c, b);
	kit_virtq_chain(vq.desc, 0, b, c->t->n);
	for (i = 0; i < vq.size; i++)
		vq.avail.ring[i] = 0;
	kit_virtq_set_avail_idx(&vq, (uint16_t)(vq.avail_idx + vq.size + 1));
	return 0;
}

static uint16_t case_past_capacity(const struct ctx *c)
{
	struct kit_virtq_buf b[3];

	good_chain(c, b);
	blk_hdr.sector = c->capacity;
	return post(c, b, c->t->n);
}

static uint16_t case_unknown_type(const struct ctx *c)
{
	struct kit_virtq_buf b[3];

	good_chain(c, b);
	blk_hdr.type = 0xff;
	return post(c, b, c->t->n);
}

/* A malformed request and how a device may answer it. */
struct hcase {
	const char *name;
	uint16_t (*post)(const struct ctx *c);
	unsigned flags;
};

/*
 * blk: VIRTIO_BLK_S_OK passes too; the spec asks the driver not to do
 * this but does not ask the device to refuse it (see the table).
 */
#define H_LENIENT 0x1
/* blk: the chain is fine, the request is not: IOERR or UNSUPP. */
#define H_REQUEST 0x2
#define H_BLK_ONLY 0x4
/*
 * strict=0: blk may say OK. A buffer (or table) outside RAM: QEMU 7.2
 * maps addresses that no memory claims to a bounce buffer whose writes
 * go nowhere, and lets addr + len wrap to 0 at 2^64.
 */
#define H_OUTSIDE_RAM 0x8
/*
 * strict=0: rng may keep the buffer without an answer. QEMU 7.2 counts
 * the chain's device-writable bytes (without following an inner table;
 * an indirect table at 1 TiB reads as whatever its bounce path leaves,
 * differently from run to run), finds none, and waits for a buffer it
 * can put a byte in (5.4.6.2: "The device MUST place one or more random
 * bytes into the buffer").
 */
#define H_NO_RNG_BYTES 0x10

/*
 * H_LENIENT, with the clause that allows the device to go ahead:
 * - zero-length buffer: 2.7.5 sets no lower bound on len; a blk read of
 *   no bytes, a console or net buffer with no data, and an rng buffer
 *   that receives nothing (5.4.6.2: the device MAY use less than the
 *   entire buffer) can all be completed;
 * - indirect table of n * 16 + 8 bytes: its first n entries are the
 *   good chain; 2.7.5.3.2 says nothing about a partial entry;
 * - nested indirect, INDIRECT with NEXT: 2.7.5.3.1 forbids both to the
 *   driver only; a device may follow the inner table or ignore NEXT;
 * - readable after writable: 2.7.4.2 is a driver requirement, and
 *   2.7.4.1 asks the device to make no assumptions about the layout;
 * - avail idx jump: 2.7.6 only says idx increases; a device may take the
 *   entries, which all name the good chain.
 */
static const struct hcase cases[] = {
	{ "self-loop via NEXT", case_self_loop, 0 },
	{ "2-cycle via NEXT", case_two_cycle, 0 },
	{ "head index = queue size", case_head_past_size, 0 },
	{ "buffer at 1 TiB", case_beyond_ram, H_OUTSIDE_RAM },
	{ "addr + len past 2^64", case_wrap, H_OUTSIDE_RAM },
	{ "zero-length buffer", case_zero_len, H_LENIENT | H_NO_RNG_BYTES },
	{ "0xffffffff-byte buffer", case_huge_len, H_OUTSIDE_RAM },
	{ "indirect table of n * 16 + 8 bytes", case_indirect_len, H_LENIENT },
	{ "indirect table at 1 TiB", case_indirect_outside,
	  H_OUTSIDE_RAM | H_NO_RNG_BYTES },
	{ "nested indirect table", case_nested, H_LENIENT | H_NO_RNG_BYTES },
	{ "INDIRECT with NEXT", case_indirect_next, H_LENIENT },
	{ "readable buffer after a writable one", case_read_after_write,
	  H_LENIENT },
	{ "avail idx ahead by queue size + 1", case_avail_jump, H_LENIENT },
	{ "read past capacity", case_past_capacity, H_REQUEST | H_BLK_ONLY },
	{ "unknown request type", case_unknown_type, H_REQUEST | H_BLK_ONLY },
};

static void blk_prepare(void)
{
	blk_hdr.type = VIRTIO_BLK_T_IN;
	blk_hdr.reserved = 0;
	blk_hdr.sector = 0;
	blk_status = STATUS_UNWRITTEN;
}

/* Reset, initialise, one good request; NULL, or what went wrong. */
static const char *recover(struct ctx *c)
{
	struct virtq_used_elem e;
	int err;

	if (kit_virtio_reset(c->dev, TIMEOUT))
		return "status did not read 0 after the reset";
	err = kit_virtio_start(
		c->dev, c->t->want | KIT_VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
	if (!err)
		err = kit_virtio_queue(c->dev, &vq, c->t->queue,
				       VIRTIO_MSI_NO_VECTOR);
	if (err)
		return kit_virtio_strerror(err);
	kit_virtio_driver_ok(c->dev);
	blk_prepare();
	post(c, c->t->good, c->t->n);
	kit_virtio_notify(c->dev, &vq);
	err = kit_virtq_wait(c->dev, &vq, TIMEOUT, &e);
	if (err)
		return kit_virtio_strerror(err);
	if (e.id != 0)
		return "good request: used element for another head";
	if (c->t->type == VIRTIO_ID_BLOCK && blk_status != VIRTIO_BLK_S_OK)
		return "good request: blk status not OK";
	/* 5.4.6.2: "The device MUST place one or more random bytes". */
	if (c->t->type == VIRTIO_ID_RNG && e.len == 0)
		return "good request: no random bytes";
	return NULL;
}

/* Whether a blk status byte is an acceptable answer to case h. */
static const char *blk_verdict(const struct ctx *c, const struct hcase *h,
			       uint8_t status)
{
	if (status == STATUS_UNWRITTEN)
		return h->flags & H_REQUEST ? "IOERR or UNSUPP expected" : NULL;
	if (h->flags & H_LENIENT)
		return NULL;
	if (status == VIRTIO_BLK_S_OK)
		return !c->strict && (h->flags & H_OUTSIDE_RAM)
			       ? NULL
			       : "OK for a request the device cannot have done";
	if (status != VIRTIO_BLK_S_IOERR && status != VIRTIO_BLK_S_UNSUPP)
		return "IOERR or UNSUPP expected";
	return NULL;
}

static void run_case(struct ctx *c, const struct hcase *h)
{
	const char *name = kit_virtio_name(c->t->type);
	const char *why = NULL, *outcome = "used";
	bool blk = c->t->type == VIRTIO_ID_BLOCK;
	struct virtq_used_elem e;
	uint8_t status;
	uint16_t head;
	bool ok;
	int err;

	blk_prepare();
	head = h->post(c);
	kit_virtio_notify(c->dev, &vq);
	err = kit_virtq_wait(c->dev, &vq, TIMEOUT, &e);
	status = blk_status;
	if (err == KIT_VIRTIO_ENEEDSRESET) {
		outcome = "needs reset";
	} else if (err) {
		outcome = "no answer";
		if (c->strict || c->t->type != VIRTIO_ID_RNG ||
		    !(h->flags & H_NO_RNG_BYTES))
			why = "neither a used element nor NEEDS_RESET in 2 s";
	} else if (e.id != head) {
		why = "the used element names another head";
	} else if (blk) {
		if (status == STATUS_UNWRITTEN)
			outcome = "used, status not written";
		why = blk_verdict(c, h, status);
	}
	if (!why)
		why = recover(c);
	else
		recover(c);
	if (blk && !err && status != STATUS_UNWRITTEN)
		ok = kit_check(!why, "%s: %s: used status %u", name, h->name,
			       status);
	else
		ok = kit_check(!why, "%s: %s: %s", name, h->name, outcome);
	if (!ok && !err && e.id != head)
		kit_printf("     %s: id %u, posted %u\n", why, e.id, head);
	else if (!ok)
		kit_printf("     %s\n", why);
}

static void test_device(struct ctx *c)
{
	const char *name = kit_virtio_name(c->t->type);
	const char *why;
	unsigned i;

	why = recover(c);
	if (!kit_check(!why, "%s: a good request", name)) {
		kit_printf("     %s\n", why);
		return;
	}
	if (c->t->type == VIRTIO_ID_BLOCK)
		c->capacity =
			kit_virtio_cfg_read64(c->dev, VIRTIO_BLK_CFG_CAPACITY);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!(cases[i].flags & H_BLK_ONLY) ||
		    c->t->type == VIRTIO_ID_BLOCK)
			run_case(c, &cases[i]);
	kit_virtio_reset(c->dev, TIMEOUT);
}

/*
 * The last page of the RAM range that holds this image (start_info's
 * memory map); the page after the image if there is no map.
 */
static uint64_t ram_top_page(void)
{
	uint64_t addr, size, me = (uintptr_t)__bss_end;
	uint32_t type;
	unsigned i;

	for (i = 0; kit_memmap(i, &addr, &size, &type); i++)
		if (type == KIT_MEMMAP_RAM && addr <= me && me < addr + size)
			return (addr + size - 4096) & ~0xfffull;
	return (me + 0x1fff) & ~0xfffull;
}

static void targets_init(struct target *t)
{
	memset(net_frame, 0, sizeof(net_frame));
	memset(net_frame + VIRTIO_NET_HDR_LEN, 0xff, 6);
	net_frame[VIRTIO_NET_HDR_LEN + 6] = 0x52;
	net_frame[VIRTIO_NET_HDR_LEN + 7] = 0x54;
	net_frame[VIRTIO_NET_HDR_LEN + 12] = 0x88;
	net_frame[VIRTIO_NET_HDR_LEN + 13] = 0xb5;
	t[0] = (struct target){
		VIRTIO_ID_RNG, 0, 0, { { (uintptr_t)data, 64, true } }, 1, 0
	};
	t[1] = (struct target){ VIRTIO_ID_BLOCK,
				0,
				0,
				{ { (uintptr_t)&blk_hdr, 16, false },
				  { (uintptr_t)data, sizeof(data), true },
				  { (uintptr_t)&blk_status, 1, true } },
				3,
				1 };
	t[2] = (struct target){ VIRTIO_ID_CONSOLE,
				VIRTIO_CONSOLE_TX,
				0,
				{ { (uintptr_t)console_line,
				    sizeof(console_line) - 1, false } },
				1,
				0 };
	t[3] = (struct target){ VIRTIO_ID_NET,
				1,
				0,
				{ { (uintptr_t)net_frame, sizeof(net_frame),
				    false } },
				1,
				0 };
}

int main(const char *cmdline)
{
	struct kit_pci_dev pci[MAX_DEVS];
	struct kit_virtio_dev dev;
	struct target targets[4];
	struct ctx c;
	unsigned n, i, t, found = 0;
	int err;

	if (!kit_clock_init())
		return 1;
	targets_init(targets);
	memset(&c, 0, sizeof(c));
	c.dev = &dev;
	c.strict = kit_param(cmdline, "strict", 1) != 0;
	c.ram_top_page = ram_top_page();
	if (kit_param(cmdline, "ecam", 1))
		kit_pci_use_ecam();
	n = kit_pci_scan(pci, MAX_DEVS);
	if (n > MAX_DEVS)
		n = MAX_DEVS;
	for (t = 0; t < 4; t++) {
		for (i = 0; i < n; i++) {
			if (kit_virtio_type(&pci[i]) != targets[t].type)
				continue;
			found++;
			err = kit_virtio_open(&dev, pci[i].bdf);
			if (!kit_check(!err, "%s: found",
				       kit_virtio_name(targets[t].type))) {
				kit_printf("     %s\n",
					   kit_virtio_strerror(err));
				continue;
			}
			c.t = &targets[t];
			test_device(&c);
		}
	}
	kit_check(found > 0, "at least one virtio device");
	return kit_check_summary("virtio-hostile");
}
