/*
 * The virtio 1.x PCI transport (virtio.h): BAR0's registers, queue work
 * in two kinds of change, interrupts by MSI-X or INTx.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "le.h"
#include "log.h"
#include "platform.h"
#include "virtio.h"

/* Common configuration layout (4.1.4.3). */
#define CC_DFSELECT 0x00
#define CC_DF 0x04
#define CC_GFSELECT 0x08
#define CC_GF 0x0c
#define CC_MSIX 0x10
#define CC_NUMQ 0x12
#define CC_STATUS 0x14
#define CC_CFGGEN 0x15
#define CC_Q_SELECT 0x16
#define CC_Q_SIZE 0x18
#define CC_Q_MSIX 0x1a
#define CC_Q_ENABLE 0x1c
#define CC_Q_NOFF 0x1e
#define CC_Q_DESCLO 0x20
#define CC_Q_DESCHI 0x24
#define CC_Q_AVAILLO 0x28
#define CC_Q_AVAILHI 0x2c
#define CC_Q_USEDLO 0x30
#define CC_Q_USEDHI 0x34
#define CC_LEN 0x38

#define VIRTIO_BROKEN_SAID 8

static struct virtio the_device;

struct virtio_regs *virtio_regs(struct virtio *v)
{
	return dev_state(v->d);
}

void *virtio_priv(struct virtio *v)
{
	return (char *)dev_state(v->d) + sizeof(struct virtio_regs);
}

/* Bytes [off, off + size) of a little-endian image, as one value. */
static uint64_t image_get(const uint8_t *img, unsigned len, uint32_t off,
			  unsigned size)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < size; i++)
		if (off + i < len)
			v |= (uint64_t)img[off + i] << (8 * i);
	return v;
}

static void image_put(uint8_t *img, unsigned len, uint32_t off, unsigned size,
		      uint64_t val)
{
	unsigned i;

	for (i = 0; i < size; i++)
		if (off + i < len)
			img[off + i] = (uint8_t)(val >> (8 * i));
}

/* Whether a write of [off, off + size) touched field [f, f + flen). */
static bool touched(uint32_t off, unsigned size, uint32_t f, unsigned flen)
{
	return off < f + flen && f < off + size;
}

static struct virtq *selected(struct virtio *v)
{
	struct virtio_regs *r = virtio_regs(v);

	return r->queue_select < v->ops->nqueues ? &r->q[r->queue_select]
						 : NULL;
}

static void common_image(struct virtio *v, uint8_t *img)
{
	struct virtio_regs *r = virtio_regs(v);
	struct virtq *q = selected(v);
	uint64_t f = 0;

	memset(img, 0, CC_LEN);
	if (r->device_feature_select < 2)
		f = v->features >> (32 * r->device_feature_select);
	put_le32(img + CC_DFSELECT, r->device_feature_select);
	put_le32(img + CC_DF, (uint32_t)f);
	put_le32(img + CC_GFSELECT, r->driver_feature_select);
	if (r->driver_feature_select < 2)
		put_le32(img + CC_GF,
			 (uint32_t)(r->driver_features >>
				    (32 * r->driver_feature_select)));
	put_le16(img + CC_MSIX, r->msix_config);
	put_le16(img + CC_NUMQ, (uint16_t)v->ops->nqueues);
	img[CC_STATUS] = r->status;
	img[CC_CFGGEN] = r->config_generation;
	put_le16(img + CC_Q_SELECT, r->queue_select);
	if (!q)
		return;
	put_le16(img + CC_Q_SIZE, q->size);
	put_le16(img + CC_Q_MSIX, q->msix_vector);
	put_le16(img + CC_Q_ENABLE, q->ready);
	put_le16(img + CC_Q_NOFF, r->queue_select);
	put_le32(img + CC_Q_DESCLO, (uint32_t)q->desc);
	put_le32(img + CC_Q_DESCHI, (uint32_t)(q->desc >> 32));
	put_le32(img + CC_Q_AVAILLO, (uint32_t)q->avail);
	put_le32(img + CC_Q_AVAILHI, (uint32_t)(q->avail >> 32));
	put_le32(img + CC_Q_USEDLO, (uint32_t)q->used);
	put_le32(img + CC_Q_USEDHI, (uint32_t)(q->used >> 32));
}

/* The device stops: NEEDS_RESET and a configuration interrupt (2.1.2). */
static void virtio_broken(struct virtio *v, const char *why)
{
	struct virtio_regs *r = virtio_regs(v);

	if (r->status & VIRTIO_S_NEEDS_RESET)
		return;
	r->status |= VIRTIO_S_NEEDS_RESET;
	r->config_generation++;
	r->irq_owed |= VIRTIO_OWED_CONFIG;
	/* A guest can break and reset the device in a loop: the log says
	 * the first few and no more. */
	if (v->broken_said < VIRTIO_BROKEN_SAID)
		log_warn("the driver broke the device: %s; it needs a reset%s",
			 why,
			 ++v->broken_said == VIRTIO_BROKEN_SAID
				 ? " (further ones are not logged)"
				 : "");
}

/* The device reset (status 0): the PCI function's MSI-X table stays. */
static void virtio_reset(struct virtio *v)
{
	struct virtio_regs *r = virtio_regs(v);
	unsigned i;

	r->driver_features = 0;
	r->device_feature_select = 0;
	r->driver_feature_select = 0;
	r->irq_owed = 0;
	r->pba = 0;
	r->msix_config = VIRTIO_NO_VECTOR;
	r->queue_select = 0;
	r->status = 0;
	r->isr = 0;
	memset(r->q, 0, sizeof(r->q));
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		r->q[i].size = v->ops->queue_size;
		r->q[i].msix_vector = VIRTIO_NO_VECTOR;
	}
	if (v->ops->reset)
		v->ops->reset(v);
}

static void status_write(struct virtio *v, uint8_t val)
{
	struct virtio_regs *r = virtio_regs(v);
	uint8_t added = (uint8_t)(val & ~r->status);

	if (!val) {
		virtio_reset(v);
		return;
	}
	/* NEEDS_RESET is the device's to set; the driver cannot clear bits
	 * short of a reset (2.1.1). */
	val = (uint8_t)((val & ~VIRTIO_S_NEEDS_RESET) |
			(r->status & VIRTIO_S_NEEDS_RESET));
	if (added & VIRTIO_S_FEATURES_OK) {
		/* Accept only what we offered, and only the modern way. */
		if ((r->driver_features & ~v->features) ||
		    !(r->driver_features & VIRTIO_F_VERSION_1))
			val &= (uint8_t)~VIRTIO_S_FEATURES_OK;
	}
	if ((added & VIRTIO_S_DRIVER_OK) && !(val & VIRTIO_S_FEATURES_OK))
		val &= (uint8_t)~VIRTIO_S_DRIVER_OK;
	r->status = val;
}

static void queue_enable(struct virtio *v, struct virtq *q)
{
	const char *why = NULL;

	if (q->ready)
		return;
	if (virtq_check(&v->mem, q, v->ops->queue_size, &why) < 0) {
		virtio_broken(v, why);
		return;
	}
	q->ready = 1;
	q->last_avail = 0;
	q->used_idx = 0;
}

static uint16_t vector_ok(uint16_t vec)
{
	return vec < VIRTIO_MSIX_MAX ? vec : VIRTIO_NO_VECTOR;
}

static void common_write(struct virtio *v, uint32_t off, unsigned size,
			 uint64_t val)
{
	struct virtio_regs *r = virtio_regs(v);
	uint8_t img[CC_LEN];
	struct virtq *q;

	if (off >= CC_LEN)
		return;
	common_image(v, img);
	image_put(img, CC_LEN, off, size, val);
	if (touched(off, size, CC_DFSELECT, 4))
		r->device_feature_select = get_le32(img + CC_DFSELECT);
	if (touched(off, size, CC_GFSELECT, 4))
		r->driver_feature_select = get_le32(img + CC_GFSELECT);
	if (touched(off, size, CC_GF, 4) && r->driver_feature_select < 2 &&
	    !(r->status & VIRTIO_S_FEATURES_OK)) {
		unsigned sh = 32 * r->driver_feature_select;

		r->driver_features &= ~(0xffffffffull << sh);
		r->driver_features |= (uint64_t)get_le32(img + CC_GF) << sh;
	}
	if (touched(off, size, CC_MSIX, 2))
		r->msix_config = vector_ok(get_le16(img + CC_MSIX));
	if (touched(off, size, CC_Q_SELECT, 2))
		r->queue_select = get_le16(img + CC_Q_SELECT);
	q = selected(v);
	if (q && !q->ready) {
		uint16_t qs = get_le16(img + CC_Q_SIZE);

		/* A size the queue cannot take is refused at enable. */
		if (touched(off, size, CC_Q_SIZE, 2))
			q->size = qs;
		if (touched(off, size, CC_Q_DESCLO, 8))
			q->desc = get_le32(img + CC_Q_DESCLO) |
				  (uint64_t)get_le32(img + CC_Q_DESCHI) << 32;
		if (touched(off, size, CC_Q_AVAILLO, 8))
			q->avail = get_le32(img + CC_Q_AVAILLO) |
				   (uint64_t)get_le32(img + CC_Q_AVAILHI) << 32;
		if (touched(off, size, CC_Q_USEDLO, 8))
			q->used = get_le32(img + CC_Q_USEDLO) |
				  (uint64_t)get_le32(img + CC_Q_USEDHI) << 32;
	}
	if (q && touched(off, size, CC_Q_MSIX, 2))
		q->msix_vector = vector_ok(get_le16(img + CC_Q_MSIX));
	/* Writing 0 to queue_enable is not allowed (4.1.4.3.2): ignored. */
	if (q && touched(off, size, CC_Q_ENABLE, 2) &&
	    get_le16(img + CC_Q_ENABLE) == 1)
		queue_enable(v, q);
	if (touched(off, size, CC_STATUS, 1))
		status_write(v, img[CC_STATUS]);
}

/* --- interrupts --- */

static bool msix_enabled(const struct virtio_regs *r)
{
	return (r->pci_config >> 16) & PCI_MSIX_ENABLE;
}

static bool msix_masked(const struct virtio_regs *r, unsigned vec)
{
	return ((r->pci_config >> 16) & PCI_MSIX_MASKALL) ||
	       (r->msix[vec].ctrl & 1);
}

static void msix_send(struct virtio *v, unsigned vec)
{
	const struct virtio_msix *e = &virtio_regs(v)->msix[vec];

	dev_send(v->d, 0, (uint64_t)e->addr_hi << 32 | e->addr_lo, e->data);
}

/* Vectors pending while masked go out once unmasked (PCI 3.0, 6.8.2). */
static void msix_flush(struct virtio *v)
{
	struct virtio_regs *r = virtio_regs(v);
	unsigned vec;

	if (!msix_enabled(r))
		return;
	for (vec = 0; vec < VIRTIO_MSIX_MAX; vec++) {
		if ((r->pba & (1u << vec)) && !msix_masked(r, vec)) {
			r->pba &= ~(1u << vec);
			msix_send(v, vec);
		}
	}
}

static void interrupt(struct virtio *v, uint16_t vec, uint8_t isr)
{
	struct virtio_regs *r = virtio_regs(v);

	if (!msix_enabled(r)) {
		r->isr |= isr;
		return;
	}
	if (vec >= VIRTIO_MSIX_MAX)
		return;
	if (msix_masked(r, vec))
		r->pba |= 1u << vec;
	else
		msix_send(v, vec);
}

/* Phase 2: the interrupts owed for used elements already visible. */
static bool send_owed(struct virtio *v)
{
	struct virtio_regs *r = virtio_regs(v);
	uint32_t owed = r->irq_owed;
	unsigned i;

	if (!owed)
		return false;
	r->irq_owed = 0;
	/* The driver's NO_INTERRUPT flag is read after used->idx was
	 * stored, or an interrupt it re-enabled meanwhile is lost. */
	atomic_thread_fence(memory_order_seq_cst);
	if (owed & VIRTIO_OWED_CONFIG)
		interrupt(v, r->msix_config, VIRTIO_ISR_CONFIG);
	for (i = 0; i < v->ops->nqueues; i++) {
		if (!(owed & (1u << i)) || !r->q[i].ready)
			continue;
		if (!virtq_no_interrupt(&v->mem, &r->q[i]))
			interrupt(v, r->q[i].msix_vector, VIRTIO_ISR_QUEUE);
	}
	return true;
}

bool virtio_intx(struct virtio *v)
{
	const struct virtio_regs *r = virtio_regs(v);

	return r->isr && !msix_enabled(r) &&
	       !(r->pci_config & PCI_COMMAND_INTX_DISABLE);
}

void virtio_pci_message(struct virtio *v, uint32_t config)
{
	virtio_regs(v)->pci_config = config;
	msix_flush(v);
}

/* --- BAR0 --- */

uint64_t virtio_bar_read(struct virtio *v, uint32_t off, unsigned size)
{
	struct virtio_regs *r = virtio_regs(v);
	uint8_t img[CC_LEN];
	uint8_t cfg[256];

	if (off < VIRTIO_BAR_COMMON + CC_LEN) {
		common_image(v, img);
		return image_get(img, CC_LEN, off, size);
	}
	if (off == VIRTIO_BAR_ISR) {
		uint8_t isr = r->isr;

		r->isr = 0; /* read to clear (4.1.4.5) */
		return isr;
	}
	if (off >= VIRTIO_BAR_DEVICE &&
	    off < VIRTIO_BAR_DEVICE + v->ops->config_len) {
		memset(cfg, 0, sizeof(cfg));
		v->ops->config(v, cfg);
		return image_get(cfg, v->ops->config_len,
				 off - VIRTIO_BAR_DEVICE, size);
	}
	if (off >= VIRTIO_BAR_MSIX_TABLE &&
	    off < VIRTIO_BAR_MSIX_TABLE + sizeof(r->msix))
		return image_get((const uint8_t *)r->msix, sizeof(r->msix),
				 off - VIRTIO_BAR_MSIX_TABLE, size);
	if (off >= VIRTIO_BAR_MSIX_PBA && off < VIRTIO_BAR_MSIX_PBA + 8)
		return (uint64_t)r->pba >> (8 * (off - VIRTIO_BAR_MSIX_PBA));
	return 0;
}

void virtio_bar_write(struct virtio *v, uint32_t off, unsigned size,
		      uint64_t val)
{
	struct virtio_regs *r = virtio_regs(v);

	if (off < VIRTIO_BAR_COMMON + CC_LEN) {
		common_write(v, off, size, val);
	} else if (off >= VIRTIO_BAR_MSIX_TABLE &&
		   off < VIRTIO_BAR_MSIX_TABLE + sizeof(r->msix)) {
		/* A host is little-endian: the entries are the image. */
		image_put((uint8_t *)r->msix, sizeof(r->msix),
			  off - VIRTIO_BAR_MSIX_TABLE, size, val);
		msix_flush(v);
	}
	/* Notifications need nothing: the write woke us, and poll() looks
	 * at every queue. The ISR, PBA and device configuration are
	 * read-only. */
}

/* --- queue work --- */

static bool queues_live(const struct virtio_regs *r)
{
	return (r->status & VIRTIO_S_DRIVER_OK) &&
	       !(r->status & VIRTIO_S_NEEDS_RESET) &&
	       (r->pci_config & PCI_COMMAND_MASTER);
}

/* Phase 1 for queue qi: up to VIRTIO_BATCH chains. True if it did one. */
static bool work_queue(struct virtio *v, unsigned qi)
{
	struct virtio_regs *r = virtio_regs(v);
	struct virtq *q = &r->q[qi];
	struct virtq_chain *c = &v->chain;
	const char *why = NULL;
	uint32_t written;
	uint16_t taken;
	unsigned n;
	int rc;

	for (n = 0; n < VIRTIO_BATCH; n++) {
		taken = q->last_avail;
		rc = virtq_pop(&v->mem, q, c, &why);
		if (rc == 0)
			return n > 0;
		if (rc < 0) {
			virtio_broken(v, why);
			return true;
		}
		written = 0;
		rc = v->ops->chain(v, qi, c, &written, &why);
		if (rc == VIRTIO_AGAIN) {
			q->last_avail = taken;
			return n > 0;
		}
		if (rc < 0) {
			virtio_broken(v, why);
			return true;
		}
		if (virtq_push(&v->mem, q, c->head, written) < 0) {
			virtio_broken(v, "the used ring left guest RAM");
			return true;
		}
		r->irq_owed |= 1u << qi;
	}
	v->again = true;
	return true;
}

bool virtio_work(struct virtio *v)
{
	struct virtio_regs *r = virtio_regs(v);
	bool any = send_owed(v);
	unsigned i;

	v->again = false;
	if (!queues_live(r))
		return any;
	for (i = 0; i < v->ops->nqueues; i++) {
		if (r->q[i].ready && work_queue(v, i))
			any = true;
		if (!queues_live(r))
			break;
	}
	return any;
}

void virtio_publish(struct virtio *v)
{
	const struct virtio_regs *r = virtio_regs(v);
	unsigned i;

	for (i = 0; i < v->ops->nqueues; i++)
		if (r->q[i].ready)
			virtq_publish(&v->mem, &r->q[i]);
}

bool virtio_has_work(struct virtio *v)
{
	const struct virtio_regs *r = virtio_regs(v);
	unsigned i;

	if (r->irq_owed || v->again)
		return true;
	if (!queues_live(r))
		return false;
	for (i = 0; i < v->ops->nqueues; i++) {
		if (!r->q[i].ready || (v->ops->input_queues & (1u << i)))
			continue;
		if (virtq_pending(&v->mem, &r->q[i]))
			return true;
	}
	return false;
}

/* --- the device loop's hooks --- */

static int virtio_setup(void *dev, struct devloop *d,
			const Cellvm__SetupDeviceRequest *req, int *fds,
			size_t nfds)
{
	struct virtio *v = dev;
	int fd, r;

	v->d = d;
	if (req->n_output_fds < 1 || req->n_input_fds < 1) {
		log_err("setup: no rings to the PCI host and the LAPIC");
		return -EINVAL;
	}
	fd = ctl_take_fd(fds, nfds, req->ram_fd);
	if (fd < 0) {
		log_err("setup: no guest RAM");
		return -EINVAL;
	}
	r = guestmem_map(&v->mem, fd, req->mem_size);
	close(fd);
	if (r < 0) {
		log_err("setup: cannot map guest RAM: %s", strerror(-r));
		return r;
	}
	v->backing_fd =
		req->backing_fd ? ctl_take_fd(fds, nfds, req->backing_fd) : -1;
	v->read_only = req->read_only;
	v->bar0 = req->start;
	v->features =
		VIRTIO_F_VERSION_1 | VIRTIO_F_INDIRECT_DESC | v->ops->features;
	return v->ops->setup ? v->ops->setup(v, req, fds, nfds) : 0;
}

static void virtio_dev_reset(void *dev, struct devloop *d)
{
	struct virtio *v = dev;
	struct virtio_regs *r;
	unsigned i;

	v->d = d;
	r = virtio_regs(v);
	memset(r->msix, 0, sizeof(r->msix));
	for (i = 0; i < VIRTIO_MSIX_MAX; i++)
		r->msix[i].ctrl = 1; /* masked at reset (PCI 3.0, 6.8.2.9) */
	r->pci_config = 0;
	r->config_generation = 0;
	virtio_reset(v);
}

static bool virtio_dev_valid(void *dev, struct devloop *d)
{
	struct virtio *v = dev;
	const struct virtio_regs *r;
	unsigned i;

	v->d = d;
	r = virtio_regs(v);
	for (i = 0; i < v->ops->nqueues; i++) {
		if (r->q[i].ready && virtq_check(&v->mem, &r->q[i],
						 v->ops->queue_size, NULL) < 0)
			return false;
	}
	return true;
}

static uint64_t virtio_access(void *dev, struct devloop *d,
			      const struct ring_req *req, uint64_t now)
{
	struct virtio *v = dev;
	uint64_t off = req->addr - v->bar0;

	(void)d;
	(void)now;
	if (!(req->flags & RING_MMIO) || off >= PC_VIRTIO_BAR_SIZE)
		return ~0ull;
	if (req->flags & RING_WRITE) {
		virtio_bar_write(v, (uint32_t)off, req->size, req->data);
		return 0;
	}
	return virtio_bar_read(v, (uint32_t)off, req->size);
}

static void virtio_message(void *dev, struct devloop *d, unsigned in,
			   const struct ring_req *msg, uint64_t now)
{
	(void)d;
	(void)now;
	if (in == 0 && msg->addr == PCI_MSG_CONFIG)
		virtio_pci_message(dev, (uint32_t)msg->data);
}

static bool virtio_poll(void *dev, struct devloop *d, uint64_t now)
{
	(void)d;
	(void)now;
	return virtio_work(dev);
}

static uint64_t virtio_deadline(void *dev, struct devloop *d)
{
	(void)d;
	return virtio_has_work(dev) ? 1 : 0;
}

static bool virtio_irq(void *dev, struct devloop *d)
{
	(void)d;
	return virtio_intx(dev);
}

static void virtio_committed(void *dev, struct devloop *d)
{
	(void)d;
	virtio_publish(dev);
}

int virtio_main(const struct virtio_ops *ops, const char *policy_text)
{
	static struct dev_ops dops;

	the_device.ops = ops;
	the_device.backing_fd = -1;
	dops.name = ops->name;
	dops.state_size = sizeof(struct virtio_regs) + ops->priv_size;
	dops.setup = virtio_setup;
	dops.reset = virtio_dev_reset;
	dops.valid = virtio_dev_valid;
	dops.access = virtio_access;
	dops.message = virtio_message;
	dops.poll = virtio_poll;
	dops.deadline = virtio_deadline;
	dops.irq = virtio_irq;
	dops.committed = virtio_committed;
	return devloop_main(&dops, &the_device, policy_text);
}
