/*
 * Guest kit: a minimal virtio 1.x PCI driver (virtio 1.2, 4.1: modern
 * interface only) with split virtqueues (2.7), for tests: it does what a
 * test says, including things a driver must not do.
 *
 * A device is found by its IDs: vendor 0x1af4, device 0x1040 + type, or
 * a transitional device 0x1000-0x103f whose subsystem device ID is the
 * type (4.1.2). kit_virtio_open() places its unassigned memory BARs
 * (kit_pci_assign_bars()), turns on memory decoding and bus mastering and
 * reads the vendor capabilities (4.1.4): the first common, notify, ISR
 * and device configuration capability that lies inside a placed memory
 * BAR, whatever the BAR and offset. I/O BARs are not used.
 *
 * Queues are caller memory (struct kit_virtq, static, any number per
 * device), at most KIT_VIRTQ_SIZE entries. The driver side of a queue is
 * raw: a test writes descriptors (kit_virtq_desc(), kit_virtq_chain()),
 * posts a head (kit_virtq_post()), notifies, and waits for the used ring
 * or DEVICE_NEEDS_RESET (kit_virtq_wait()); kit_virtio_request() does
 * all of it for one well-formed chain. Waits are timed by kit_clock_ns():
 * call kit_clock_init() first.
 *
 * Polled: no interrupt is needed. kit_virtio_msix() routes an MSI-X
 * entry to a local APIC vector for tests that want one (kit_intr.h).
 */
#ifndef CELLVM_GUEST_VIRTIO_H
#define CELLVM_GUEST_VIRTIO_H

#include "kit.h"
#include "kit_pci.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_MODERN 0x1040 /* + device type */
#define VIRTIO_PCI_DEVICE_LEGACY 0x1000 /* transitional: 0x1000-0x103f */
#define VIRTIO_PCI_DEVICE_LEGACY_END 0x103f

/* Device types (5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4

/* Vendor capability (4.1.4): cfg_type and layout. */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_LEN 2
#define VIRTIO_PCI_CAP_CFG_TYPE 3
#define VIRTIO_PCI_CAP_BAR 4
#define VIRTIO_PCI_CAP_OFFSET 8
#define VIRTIO_PCI_CAP_LENGTH 12
#define VIRTIO_PCI_NOTIFY_CAP_MULT 16

/* Common configuration (4.1.4.3), offsets. */
#define VIRTIO_COMMON_DFSELECT 0
#define VIRTIO_COMMON_DF 4
#define VIRTIO_COMMON_GFSELECT 8
#define VIRTIO_COMMON_GF 12
#define VIRTIO_COMMON_MSIX 16
#define VIRTIO_COMMON_NUMQ 18
#define VIRTIO_COMMON_STATUS 20
#define VIRTIO_COMMON_CFGGENERATION 21
#define VIRTIO_COMMON_Q_SELECT 22
#define VIRTIO_COMMON_Q_SIZE 24
#define VIRTIO_COMMON_Q_MSIX 26
#define VIRTIO_COMMON_Q_ENABLE 28
#define VIRTIO_COMMON_Q_NOFF 30
#define VIRTIO_COMMON_Q_DESCLO 32
#define VIRTIO_COMMON_Q_DESCHI 36
#define VIRTIO_COMMON_Q_AVAILLO 40
#define VIRTIO_COMMON_Q_AVAILHI 44
#define VIRTIO_COMMON_Q_USEDLO 48
#define VIRTIO_COMMON_Q_USEDHI 52
#define VIRTIO_COMMON_LEN 56 /* what this driver touches */

#define VIRTIO_MSI_NO_VECTOR 0xffff

/* Device status (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER 0x02
#define VIRTIO_STATUS_DRIVER_OK 0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* Reserved feature bits (6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define KIT_VIRTIO_BIT(n) (1ull << (n))

/* Split virtqueue (2.7). */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4

/* Block device (5.2). */
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_CFG_CAPACITY 0 /* le64, 512-byte sectors */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_SECTOR 512

/* Network device (5.1): MAC in the configuration, header with VERSION_1. */
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_CFG_MAC 0
#define VIRTIO_NET_HDR_LEN 12

/* Console (5.3): port 0's queues without VIRTIO_CONSOLE_F_MULTIPORT. */
#define VIRTIO_CONSOLE_RX 0
#define VIRTIO_CONSOLE_TX 1

/* Queue size of struct kit_virtq: at most this many entries are used. */
#define KIT_VIRTQ_SIZE 16

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

/*
 * One split virtqueue: its three parts with the alignment 2.7 asks for
 * (16, 2, 4), then the driver's state. A queue of size < KIT_VIRTQ_SIZE
 * leaves the tail of each ring unused.
 */
struct kit_virtq {
	struct virtq_desc desc[KIT_VIRTQ_SIZE] __attribute__((aligned(16)));
	struct {
		uint16_t flags;
		uint16_t idx;
		uint16_t ring[KIT_VIRTQ_SIZE];
		uint16_t used_event;
	} avail __attribute__((aligned(16)));
	struct {
		uint16_t flags;
		uint16_t idx;
		struct virtq_used_elem ring[KIT_VIRTQ_SIZE];
		uint16_t avail_event;
	} used __attribute__((aligned(16)));
	uint16_t index;	    /* queue number on the device */
	uint16_t size;	    /* entries: a power of 2, <= KIT_VIRTQ_SIZE */
	uint16_t avail_idx; /* the driver's next avail idx */
	uint16_t used_idx;  /* the next used idx to read */
	uint64_t notify;    /* address of its notification register */
};

/* A region of a BAR that a capability names. len 0: not found. */
struct kit_virtio_region {
	uint64_t addr;
	uint32_t len;
	uint8_t bar;
};

struct kit_virtio_dev {
	uint16_t bdf;
	uint16_t type; /* VIRTIO_ID_* */
	struct kit_virtio_region common, notify, isr, device;
	uint32_t notify_mult;
	uint16_t num_queues;
	uint64_t offered;  /* device features, from kit_virtio_start() */
	uint64_t features; /* negotiated */
};

/* Results: 0 or one of these. */
#define KIT_VIRTIO_ENODEV (-1)	    /* not a virtio device */
#define KIT_VIRTIO_EBAR (-2)	    /* a BAR could not be placed */
#define KIT_VIRTIO_ECAP (-3)	    /* a capability is missing or bad */
#define KIT_VIRTIO_ERESET (-4)	    /* device_status did not read 0 */
#define KIT_VIRTIO_EFEATURES (-5)   /* no VERSION_1, or FEATURES_OK dropped */
#define KIT_VIRTIO_EQUEUE (-6)	    /* queue missing or not set up */
#define KIT_VIRTIO_ETIMEDOUT (-7)   /* nothing used in time */
#define KIT_VIRTIO_ENEEDSRESET (-8) /* DEVICE_NEEDS_RESET was set */
#define KIT_VIRTIO_EID (-9)	    /* used element for another head */
#define KIT_VIRTIO_EMSIX (-10)	    /* no MSI-X, or vector not taken */
/* A few words for a result, for a test's output. */
const char *kit_virtio_strerror(int err);

/* The virtio device type of a PCI function, 0 if it is not one. */
unsigned kit_virtio_type(const struct kit_pci_dev *pci);
/* "net", "blk", "console", "rng", else "type N" (one static buffer). */
const char *kit_virtio_name(unsigned type);

/*
 * Take the PCI function bdf: BARs placed, memory decoding and bus
 * mastering on, capabilities read. The device's status is not touched.
 */
int kit_virtio_open(struct kit_virtio_dev *dev, unsigned bdf);

/* device_status (2.1), and a write of it. */
uint8_t kit_virtio_status(const struct kit_virtio_dev *dev);
void kit_virtio_set_status(const struct kit_virtio_dev *dev, uint8_t status);
/*
 * Reset: write 0, then wait (up to timeout_ns) for device_status to read
 * 0, as 4.1.4.3.2 requires before re-initialising.
 */
int kit_virtio_reset(const struct kit_virtio_dev *dev, uint64_t timeout_ns);

/*
 * Initialisation up to the queues (3.1.1): reset, ACKNOWLEDGE, DRIVER,
 * the features offered & (want | VERSION_1) (refused without VERSION_1),
 * FEATURES_OK and a check that it stayed set.
 */
int kit_virtio_start(struct kit_virtio_dev *dev, uint64_t want);
/*
 * Set up queue index in q (4.1.5.1.3): size min(device's, KIT_VIRTQ_SIZE)
 * rounded down to a power of 2, rings cleared, MSI-X vector msix
 * (VIRTIO_MSI_NO_VECTOR: none; anything else must read back), enabled.
 */
int kit_virtio_queue(struct kit_virtio_dev *dev, struct kit_virtq *q,
		     unsigned index, uint16_t msix);
/* Set DRIVER_OK: the device is live. */
void kit_virtio_driver_ok(const struct kit_virtio_dev *dev);
/*
 * kit_virtio_start(), then queues[i] (if not NULL) as queue i for i <
 * nq, without MSI-X, then DRIVER_OK.
 */
int kit_virtio_init(struct kit_virtio_dev *dev, uint64_t want,
		    struct kit_virtq *const *queues, unsigned nq);

/*
 * Device-specific configuration (4.1.4.6): 1, 2 or 4 bytes at off, and
 * 8 bytes read as two halves until config_generation says they belong
 * together (2.5.1). Reads past the region give all ones.
 */
uint32_t kit_virtio_cfg_read(const struct kit_virtio_dev *dev, unsigned off,
			     unsigned size);
uint64_t kit_virtio_cfg_read64(const struct kit_virtio_dev *dev, unsigned off);

/*
 * MSI-X: enable it on the function, route table entry to vector on the
 * local APIC apic_id, and tell the device to use the entry for its
 * configuration changes (config_msix_vector) if config is true. A queue
 * gets its entry through kit_virtio_queue().
 */
int kit_virtio_msix(struct kit_virtio_dev *dev, unsigned entry,
		    uint32_t apic_id, uint8_t vector, bool config);

/* Descriptor i of q, raw: any address, length, flags and next. */
static inline void kit_virtq_desc(struct kit_virtq *q, unsigned i,
				  uint64_t addr, uint32_t len, uint16_t flags,
				  uint16_t next)
{
	q->desc[i].addr = addr;
	q->desc[i].len = len;
	q->desc[i].flags = flags;
	q->desc[i].next = next;
}

/* One buffer of a chain: device-readable, or device-writable if write. */
struct kit_virtq_buf {
	uint64_t addr;
	uint32_t len;
	bool write;
};

/*
 * Descriptors table[first .. first + n), linked by NEXT in order, from
 * bufs; table is q->desc or an indirect table. Returns first + n.
 */
unsigned kit_virtq_chain(struct virtq_desc *table, unsigned first,
			 const struct kit_virtq_buf *bufs, unsigned n);
/* Put head in the next avail slot and advance avail idx. */
void kit_virtq_post(struct kit_virtq *q, uint16_t head);
/* Write avail idx as it is (and make it the driver's next one). */
void kit_virtq_set_avail_idx(struct kit_virtq *q, uint16_t idx);
/* Notify the device of q (4.1.4.4): the queue index, 16 bits. */
void kit_virtio_notify(const struct kit_virtio_dev *dev,
		       const struct kit_virtq *q);
/*
 * Wait up to timeout_ns for the next used element of q (returned in *e)
 * or for DEVICE_NEEDS_RESET (KIT_VIRTIO_ENEEDSRESET); the used ring is
 * looked at first, so a device that does both reports the element.
 */
int kit_virtq_wait(const struct kit_virtio_dev *dev, struct kit_virtq *q,
		   uint64_t timeout_ns, struct virtq_used_elem *e);
/*
 * One request: bufs as a chain from descriptor 0, posted, notified, and
 * waited for (KIT_VIRTIO_EID if another head comes back). *len (if not
 * NULL) gets the bytes the device says it wrote.
 */
int kit_virtio_request(const struct kit_virtio_dev *dev, struct kit_virtq *q,
		       const struct kit_virtq_buf *bufs, unsigned n,
		       uint64_t timeout_ns, uint32_t *len);

#endif
