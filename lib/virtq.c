/*
 * Split virtqueues, the device side (virtio 1.2, 2.7). The rings are in
 * guest RAM and the guest may rewrite them while we read: indices are
 * read once with atomic loads, descriptors are copied before they are
 * checked, and nothing is read from the rings twice.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "virtq.h"

/* Ring layouts (2.7, "Virtqueues"): offsets and sizes in bytes. */
#define DESC_SIZE 16
#define DESC_ALIGN 16
#define AVAIL_IDX 2
#define AVAIL_RING 4
#define AVAIL_ALIGN 2
#define USED_IDX 2
#define USED_RING 4
#define USED_ELEM 8
#define USED_ALIGN 4
#define RING_EVENT 2 /* used_event, avail_event after the rings */

/* A descriptor (2.7.5): little-endian, as the host must be. */
struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

_Static_assert(sizeof(struct desc) == DESC_SIZE, "descriptor layout");
_Static_assert(offsetof(struct desc, next) == 14, "descriptor layout");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "rings are read without byte swapping");

/* Host pointers to a queue's three parts, checked against RAM. */
struct rings {
	const uint8_t *desc;
	const uint8_t *avail;
	uint8_t *used;
};

static int refuse(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EINVAL;
}

/*
 * The alignment and size table of 2.7. Every entry point checks again
 * rather than trust that virtq_check() ran, so that a queue the device
 * would not have accepted is never used.
 */
static int rings_find(const struct guestmem *m, const struct virtq *q,
		      struct rings *r, const char **why)
{
	uint64_t n = q->size;

	if (n == 0 || (n & (n - 1)))
		return refuse(why, "queue size not a power of 2");
	if (n > VIRTQ_MAX_SIZE)
		return refuse(why, "queue size above VIRTQ_MAX_SIZE");
	if (q->desc % DESC_ALIGN || q->avail % AVAIL_ALIGN ||
	    q->used % USED_ALIGN)
		return refuse(why, "misaligned ring");
	r->desc = guestmem_ptr(m, q->desc, DESC_SIZE * n);
	r->avail = guestmem_ptr(m, q->avail, AVAIL_RING + 2 * n + RING_EVENT);
	r->used = guestmem_ptr(m, q->used,
			       USED_RING + USED_ELEM * n + RING_EVENT);
	if (!r->desc || !r->avail || !r->used)
		return refuse(why, "ring outside RAM");
	return 0;
}

int virtq_check(const struct guestmem *m, const struct virtq *q, unsigned max,
		const char **why)
{
	struct rings r;

	if (q->size > max)
		return refuse(why, "queue size above the maximum");
	return rings_find(m, q, &r, why);
}

/* avail->idx; the acquire orders the ring entries read after it. */
static uint16_t avail_idx(const struct rings *r)
{
	return __atomic_load_n((const uint16_t *)(r->avail + AVAIL_IDX),
			       __ATOMIC_ACQUIRE);
}

static uint16_t avail_entry(const struct rings *r, const struct virtq *q,
			    uint16_t pos)
{
	const uint8_t *p = r->avail + AVAIL_RING + 2 * (pos & (q->size - 1));

	return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
}

bool virtq_pending(const struct guestmem *m, const struct virtq *q)
{
	struct rings r;

	if (rings_find(m, q, &r, NULL))
		return false;
	return avail_idx(&r) != q->last_avail;
}

/*
 * Copy descriptor i of table. The barrier makes the compiler forget what
 * guest memory held, so that every later use reads the copy, never the
 * guest's memory again (which may have changed since it was checked).
 */
static void desc_load(const uint8_t *table, unsigned i, struct desc *d)
{
	memcpy(d, table + (size_t)i * DESC_SIZE, sizeof(*d));
	__asm__ volatile("" ::: "memory");
}

static void chain_reset(struct virtq_chain *c)
{
	c->n = 0;
	c->nread = 0;
	c->read_len = 0;
	c->write_len = 0;
}

/* Append the buffer d describes; 2.7.4.2: readable ones come first. */
static int chain_add(const struct guestmem *m, struct virtq_chain *c,
		     const struct desc *d, const char **why)
{
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;
	uint64_t *total = writable ? &c->write_len : &c->read_len;
	uint8_t *p;

	if (c->n == VIRTQ_MAX_BUFS)
		return refuse(why, "more than VIRTQ_MAX_BUFS buffers");
	p = guestmem_ptr(m, d->addr, d->len);
	if (!p)
		return refuse(why, "buffer outside RAM");
	if (!writable && c->n > c->nread)
		return refuse(why, "readable buffer after a writable one");
	/*
	 * 2.7.5.2: a whole chain, readable and writable buffers together,
	 * is at most 2^32 bytes; keeping it below makes every length a
	 * device derives from it fit used->len (32 bits). No overflow: each
	 * term is below 2^32.
	 */
	if (c->read_len + c->write_len + d->len > UINT32_MAX)
		return refuse(why, "buffers above 4 GiB - 1 in total");
	*total += d->len;
	if (!writable)
		c->nread++;
	c->buf[c->n++] = (struct virtq_buf){ .ptr = p,
					     .len = d->len,
					     .writable = writable };
	return 0;
}

/*
 * The table an indirect descriptor d points to (2.7.5.3), or NULL with
 * *why set. The rules are the driver's (2.7.5.3.1); d's WRITE flag means
 * nothing (2.7.5.3.2).
 */
static const uint8_t *indirect_table(const struct guestmem *m,
				     const struct desc *d, const char **why)
{
	const uint8_t *table;

	if (d->flags & VIRTQ_DESC_F_NEXT) {
		refuse(why, "indirect descriptor with NEXT");
		return NULL;
	}
	if (d->len == 0 || d->len % DESC_SIZE) {
		refuse(why, d->len ? "indirect table not a multiple of 16 bytes"
				   : "empty indirect table");
		return NULL;
	}
	if (d->len / DESC_SIZE > VIRTQ_MAX_BUFS) {
		refuse(why, "indirect table longer than VIRTQ_MAX_BUFS");
		return NULL;
	}
	table = guestmem_ptr(m, d->addr, d->len);
	if (!table)
		refuse(why, "indirect table outside RAM");
	return table;
}

/*
 * Follow a chain through one table of entries descriptors from index i
 * (2.7.5), appending its buffers to c. A chain visits each descriptor at
 * most once, so a walk longer than the table is a loop. Returns 0 at the
 * end of the chain, 1 with the copy in *ind if it ends in an indirect
 * descriptor, or -EINVAL.
 */
static int table_walk(const struct guestmem *m, const uint8_t *table,
		      unsigned entries, unsigned i, struct virtq_chain *c,
		      struct desc *ind, const char **why)
{
	struct desc d;
	unsigned n;
	int err;

	for (n = 0; n < entries; n++) {
		desc_load(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			*ind = d;
			return 1;
		}
		err = chain_add(m, c, &d, why);
		if (err)
			return err;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= entries)
			return refuse(why, "next index outside the table");
		i = d.next;
	}
	return refuse(why, "descriptor loop");
}

/*
 * The chain from head: zero or more direct descriptors of the queue's
 * table, then perhaps one indirect descriptor (2.7.5.3.2), which cannot
 * have NEXT and whose table starts at its entry 0. Two bounded walks, so
 * the chain ends whatever the guest wrote.
 */
static int chain_walk(const struct guestmem *m, const struct rings *r,
		      uint16_t size, uint16_t head, struct virtq_chain *c,
		      const char **why)
{
	const uint8_t *table;
	struct desc ind;
	int ret;

	chain_reset(c);
	ret = table_walk(m, r->desc, size, head, c, &ind, why);
	if (ret <= 0)
		return ret;
	table = indirect_table(m, &ind, why);
	if (!table)
		return -EINVAL;
	ret = table_walk(m, table, ind.len / DESC_SIZE, 0, c, &ind, why);
	if (ret > 0)
		return refuse(why, "indirect descriptor in an indirect table");
	return ret;
}

int virtq_pop(const struct guestmem *m, struct virtq *q, struct virtq_chain *c,
	      const char **why)
{
	struct rings r;
	uint16_t idx, head;
	int err;

	err = rings_find(m, q, &r, why);
	if (err)
		return err;
	idx = avail_idx(&r);
	/*
	 * 2.7.13: the ring is as long as the table, so the driver can be at
	 * most a whole ring ahead; more is a driver that lies.
	 */
	if ((uint16_t)(idx - q->last_avail) > q->size)
		return refuse(why, "available index too far ahead");
	if (idx == q->last_avail)
		return 0;
	head = avail_entry(&r, q, q->last_avail);
	if (head >= q->size)
		return refuse(why, "head index outside the table");
	err = chain_walk(m, &r, q->size, head, c, why);
	if (err)
		return err;
	c->head = head;
	q->last_avail++;
	return 1;
}

int virtq_push(const struct guestmem *m, struct virtq *q, uint16_t head,
	       uint32_t len)
{
	struct rings r;
	uint8_t *e;

	if (rings_find(m, q, &r, NULL) || head >= q->size)
		return -EINVAL;
	e = r.used + USED_RING + USED_ELEM * (q->used_idx & (q->size - 1));
	__atomic_store_n((uint32_t *)e, head, __ATOMIC_RELAXED);
	__atomic_store_n((uint32_t *)(e + 4), len, __ATOMIC_RELAXED);
	q->used_idx++;
	return 0;
}

void virtq_publish(const struct guestmem *m, const struct virtq *q)
{
	struct rings r;

	if (rings_find(m, q, &r, NULL))
		return;
	/* 2.7.8.2: the elements (and len) before the index. */
	__atomic_store_n((uint16_t *)(r.used + USED_IDX), q->used_idx,
			 __ATOMIC_RELEASE);
}

bool virtq_no_interrupt(const struct guestmem *m, const struct virtq *q)
{
	struct rings r;
	uint16_t flags;

	if (rings_find(m, q, &r, NULL))
		return false;
	/*
	 * Order the used->idx store before this load: a driver that clears
	 * the flag and then checks used->idx (2.7.7) either sees our
	 * element or is seen to want the interrupt.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = __atomic_load_n((const uint16_t *)r.avail, __ATOMIC_RELAXED);
	return flags & VIRTQ_AVAIL_F_NO_INTERRUPT;
}

/* The readable or the writable buffers of c: [*first, *end). */
static void bufs_of(const struct virtq_chain *c, bool writable,
		    const struct virtq_buf **first,
		    const struct virtq_buf **end)
{
	*first = writable ? c->buf + c->nread : c->buf;
	*end = writable ? c->buf + c->n : c->buf + c->nread;
}

/* The first buffer of [b, end) holding byte *off; *off is then in it. */
static const struct virtq_buf *
buf_seek(const struct virtq_buf *b, const struct virtq_buf *end, uint64_t *off)
{
	while (b < end && *off >= b->len) {
		*off -= b->len;
		b++;
	}
	return b;
}

size_t virtq_read(const struct virtq_chain *c, uint64_t off, void *dst,
		  size_t len)
{
	const struct virtq_buf *b, *end;
	size_t done = 0, n;

	bufs_of(c, false, &b, &end);
	for (b = buf_seek(b, end, &off); b < end && done < len; b++) {
		n = b->len - off;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)dst + done, b->ptr + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t virtq_write(const struct virtq_chain *c, uint64_t off, const void *src,
		   size_t len)
{
	const struct virtq_buf *b, *end;
	size_t done = 0, n;

	bufs_of(c, true, &b, &end);
	for (b = buf_seek(b, end, &off); b < end && done < len; b++) {
		n = b->len - off;
		if (n > len - done)
			n = len - done;
		memcpy(b->ptr + off, (const uint8_t *)src + done, n);
		done += n;
		off = 0;
	}
	return done;
}

int virtq_iov(const struct virtq_chain *c, bool writable, uint64_t off,
	      uint64_t len, struct iovec *iov, int max, uint64_t *got)
{
	const struct virtq_buf *b, *end;
	uint64_t done = 0, n;
	int count = 0;

	bufs_of(c, writable, &b, &end);
	for (b = buf_seek(b, end, &off); b < end && done < len && count < max;
	     b++) {
		n = b->len - off;
		if (n > len - done)
			n = len - done;
		if (n) {
			iov[count].iov_base = b->ptr + off;
			iov[count].iov_len = n;
			count++;
		}
		done += n;
		off = 0;
	}
	*got = done;
	return count;
}
