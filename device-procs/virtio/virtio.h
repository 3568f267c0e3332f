/*
 * The virtio 1.x PCI transport (virtio 1.2, 4.1), shared by the virtio
 * device processes: cellvm-dev-virtio-rng, -blk, -net and -console. Each
 * is this transport plus a struct virtio_ops that does its requests.
 *
 * The guest reaches BAR0 (lib/virtio_pci.h for its layout) through the
 * device's ring: the common configuration, ISR, device configuration,
 * notifications and the MSI-X table are registers in the state page. The
 * PCI host tells the device about its command register and MSI-X message
 * control with a message. Queue work is done in poll(), in two kinds of
 * change, so that a device killed anywhere redoes nothing the guest saw
 * and loses nothing it was promised:
 *
 *   1. take chains, do their I/O, fill their used elements (invisible to
 *      the guest), note the interrupts owed, commit; then committed()
 *      makes the used elements visible (used->idx), which it may repeat;
 *   2. in the next change, send the interrupts owed (MSI-X messages go to
 *      the LAPIC, sequence-numbered; INTx sets ISR and the line).
 *
 * Killed in 1 before the commit: the new instance takes the same chains
 * again and does their I/O again (a write of the same data, a read into
 * the same buffer), which the guest cannot tell from once. Killed after
 * it: committed() runs on restart and the interrupts are still owed.
 *
 * A malformed chain or ring sets DEVICE_NEEDS_RESET (2.1.2) with a
 * configuration-change interrupt, and the device takes no more chains
 * until the driver resets it.
 */
#ifndef CELLVM_VIRTIO_H
#define CELLVM_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "devloop.h"
#include "guestmem.h"
#include "virtio_pci.h"
#include "virtq.h"

#define VIRTIO_MAX_QUEUES 4

/* Device status (2.1). */
#define VIRTIO_S_ACKNOWLEDGE 1
#define VIRTIO_S_DRIVER 2
#define VIRTIO_S_DRIVER_OK 4
#define VIRTIO_S_FEATURES_OK 8
#define VIRTIO_S_NEEDS_RESET 0x40
#define VIRTIO_S_FAILED 0x80

/* Feature bits of the transport (6). */
#define VIRTIO_F_INDIRECT_DESC (1ull << 28)
#define VIRTIO_F_VERSION_1 (1ull << 32)

/* ISR bits (4.1.4.5). */
#define VIRTIO_ISR_QUEUE 1
#define VIRTIO_ISR_CONFIG 2

/* irq_owed: bit q for queue q, this bit for a configuration change. */
#define VIRTIO_OWED_CONFIG (1u << 31)

/* chain() results besides 0 and -errno. */
#define VIRTIO_AGAIN 1 /* nothing to do with it now: put it back */

/* Chains one poll() takes from a queue before it commits. */
#define VIRTIO_BATCH 32

struct virtio_msix {
	uint32_t addr_lo, addr_hi, data, ctrl;
};

/* The transport's registers (the start of the device's state page). */
struct virtio_regs {
	uint64_t driver_features;
	uint32_t device_feature_select;
	uint32_t driver_feature_select;
	uint32_t pci_config; /* command | MSI-X control << 16 (PCI host) */
	uint32_t irq_owed;   /* interrupts to send in the next change */
	uint32_t pba;	     /* MSI-X pending bits, one per vector */
	uint16_t msix_config;
	uint16_t queue_select;
	uint8_t status;
	uint8_t config_generation;
	uint8_t isr;
	uint8_t pad[5];
	struct virtq q[VIRTIO_MAX_QUEUES];
	struct virtio_msix msix[VIRTIO_MSIX_MAX];
};

struct virtio;

struct virtio_ops {
	const char *name; /* "virtio-blk": cellvm-dev-virtio-blk */
	unsigned type;	  /* VIRTIO_ID_* */
	unsigned nqueues;
	uint16_t queue_size; /* the largest each queue offers */
	uint64_t features;   /* besides VERSION_1 and INDIRECT_DESC */
	/* Queues worked when the device has input, not on a notification
	 * (network receive): bit q. */
	uint32_t input_queues;
	size_t priv_size; /* the device's own state, after the registers */
	unsigned config_len;

	/* Device-specific setup fields and descriptors. 0 or -errno. */
	int (*setup)(struct virtio *v, const Cellvm__SetupDeviceRequest *req,
		     int *fds, size_t nfds);
	/* The device's part of a reset (in a change); may be NULL. */
	void (*reset)(struct virtio *v);
	/* The device configuration space into cfg[0..config_len). */
	void (*config)(struct virtio *v, uint8_t *cfg);
	/*
	 * Do chain c of queue q (in a change). 0 with *written set to the
	 * bytes it wrote to the chain's writable buffers, VIRTIO_AGAIN to
	 * leave the chain for later, or -EINVAL with *why for a chain the
	 * driver should not have made (the device then needs a reset).
	 */
	int (*chain)(struct virtio *v, unsigned q, const struct virtq_chain *c,
		     uint32_t *written, const char **why);
};

/* A device process's view of itself (private memory). */
struct virtio {
	const struct virtio_ops *ops;
	struct devloop *d;
	struct guestmem mem;
	uint64_t features;	  /* what the device offers */
	uint64_t bar0;		  /* where BAR0 is */
	int backing_fd;		  /* disk image, tap or output; -1: none */
	bool read_only;		  /* the disk */
	bool again;		  /* a queue has more work right now */
	unsigned broken_said;	  /* NEEDS_RESETs logged */
	struct virtq_chain chain; /* the one being worked on */
};

/* Run a virtio device process. Returns only on failure. */
int virtio_main(const struct virtio_ops *ops, const char *policy_text);

/* The device's own state: writable in a change, else read-only. */
void *virtio_priv(struct virtio *v);
struct virtio_regs *virtio_regs(struct virtio *v);

/* The transport's logic, for the device loop and the unit tests. */
uint64_t virtio_bar_read(struct virtio *v, uint32_t off, unsigned size);
void virtio_bar_write(struct virtio *v, uint32_t off, unsigned size,
		      uint64_t val);
void virtio_pci_message(struct virtio *v, uint32_t config);
/* The work of one poll (in a change); true if it did any. */
bool virtio_work(struct virtio *v);
/* Make every used element filled so far visible (after a commit). */
void virtio_publish(struct virtio *v);
/* When poll() has work next: 0 for none. */
bool virtio_has_work(struct virtio *v);
/* The INTx level (MSI-X off): ISR not clear, INTx not disabled. */
bool virtio_intx(struct virtio *v);

#endif
