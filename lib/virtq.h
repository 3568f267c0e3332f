/*
 * Split virtqueues (virtio 1.2, section 2.7), the device side.
 *
 * The driver (the guest) owns the descriptor table and the available
 * ring; the device owns the used ring. All three live in guest RAM, which
 * the guest may rewrite at any moment: virtq_pop() reads every
 * descriptor exactly once into its own copy, validates the copy, and only
 * then hands out host pointers to the buffers. A malformed chain is
 * refused with a reason; the caller then marks the device
 * DEVICE_NEEDS_RESET (2.1.2) and stops using the queue.
 *
 * The queue's registers and positions (struct virtq) live in the
 * device's state page, so that a restarted device resumes from them:
 * last_avail is the next chain to take, used_idx the next used element
 * to fill. virtq_push() fills the element but does not make it visible;
 * virtq_publish() stores used->idx = used_idx. A device commits its state
 * between the two, so a chain is either redone from scratch (killed
 * before the commit: the guest saw nothing) or only published (killed
 * after it).
 */
#ifndef CELLVM_VIRTQ_H
#define CELLVM_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "guestmem.h"

#define VIRTQ_MAX_SIZE 1024	      /* largest queue size a device offers */
#define VIRTQ_MAX_BUFS VIRTQ_MAX_SIZE /* buffers in one chain */

/* Descriptor flags (2.7.5). */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
/* Available ring flags (2.7.6), used ring flags (2.7.8). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

/* One queue, as the driver configured it (in the device's state page). */
struct virtq {
	uint64_t desc, avail, used; /* guest-physical addresses */
	uint16_t size;		    /* entries; a power of 2 */
	uint16_t ready;		    /* queue_enable */
	uint16_t msix_vector;	    /* 0xffff: none */
	uint16_t last_avail;	    /* next available entry to take */
	uint16_t used_idx;	    /* next used entry to fill */
	uint16_t pad[3];
};

/* One buffer of a chain: host pointer, length, and who may write it. */
struct virtq_buf {
	uint8_t *ptr;
	uint32_t len;
	bool writable; /* device-writable (VIRTQ_DESC_F_WRITE) */
};

struct virtq_chain {
	uint16_t head;	    /* the index the used element names */
	unsigned n;	    /* buffers; device-readable ones come first */
	unsigned nread;	    /* how many of them are device-readable */
	uint64_t read_len;  /* bytes in the device-readable buffers */
	uint64_t write_len; /* bytes in the device-writable buffers */
	struct virtq_buf buf[VIRTQ_MAX_BUFS];
};

/*
 * Whether the queue's rings lie in RAM with the alignment 2.7 asks for
 * (descriptor table 16, available ring 2, used ring 4) and size is a
 * power of 2 no larger than max or VIRTQ_MAX_SIZE. 0, or -EINVAL with
 * *why set. The functions below check the same again and refuse (or do
 * nothing) on a queue that fails it.
 */
int virtq_check(const struct guestmem *m, const struct virtq *q, unsigned max,
		const char **why);

/* True if the driver made a chain available that was not taken yet. */
bool virtq_pending(const struct guestmem *m, const struct virtq *q);

/*
 * Take the next available chain into c and advance q->last_avail.
 * Returns 1 with a chain, 0 if none is available, -EINVAL for a
 * malformed one (*why says what; q is unchanged). Refused: an available
 * index more than size ahead of last_avail; a head or next index outside
 * the table; a loop (more descriptors than the table holds); a buffer not
 * wholly inside one RAM bank (an empty one must still start inside); a
 * device-readable buffer after a writable one; an indirect descriptor
 * with NEXT, inside an indirect table, or whose table is empty, not a
 * multiple of 16 bytes, longer than VIRTQ_MAX_BUFS entries or outside
 * RAM; more than VIRTQ_MAX_BUFS buffers; a chain of more than 4 GiB - 1
 * bytes, readable and writable together (2.7.5.2). Zero-length buffers
 * are kept.
 */
int virtq_pop(const struct guestmem *m, struct virtq *q, struct virtq_chain *c,
	      const char **why);

/* Fill used element q->used_idx with (head, len); advance used_idx. */
int virtq_push(const struct guestmem *m, struct virtq *q, uint16_t head,
	       uint32_t len);

/* Make every pushed element visible: used->idx = q->used_idx (release). */
void virtq_publish(const struct guestmem *m, const struct virtq *q);

/* Whether the driver asked for no interrupt (VIRTQ_AVAIL_F_NO_INTERRUPT). */
bool virtq_no_interrupt(const struct guestmem *m, const struct virtq *q);

/*
 * Copy out of the device-readable buffers, from byte off of their
 * concatenation; returns the bytes copied (short at the end).
 */
size_t virtq_read(const struct virtq_chain *c, uint64_t off, void *dst,
		  size_t len);

/* Copy into the device-writable buffers, from byte off of theirs. */
size_t virtq_write(const struct virtq_chain *c, uint64_t off, const void *src,
		   size_t len);

/*
 * iovecs for len bytes from byte off of the readable (writable == false)
 * or writable buffers, for preadv/pwritev; at most max of them. Returns
 * the count; *got is the bytes they cover (less than len at the end).
 */
int virtq_iov(const struct virtq_chain *c, bool writable, uint64_t off,
	      uint64_t len, struct iovec *iov, int max, uint64_t *got);

#endif
