/*
 * cellvm-dev-virtio-blk: a block device on a raw image (virtio 1.2, 5.2):
 * read, write, flush, discard (regular files: a punched hole) and get-id,
 * on the image descriptor the broker opened, read-only if asked.
 *
 * I/O is synchronous, preadv/pwritev straight between the image and the
 * guest's buffers. A request redone after a restart writes the same data
 * to the same sectors again, or reads them into the same buffers: the
 * guest cannot tell. A write is reported done only after pwritev
 * returned, and flush only after fdatasync; a kill between the two never
 * loses a write the guest was told about.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "le.h"
#include "log.h"
#include "shm.h"
#include "virtio.h"

extern const char policy_text[];

/* Request types and status (5.2.6). */
#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_T_GET_ID 8
#define BLK_T_DISCARD 11
#define BLK_S_OK 0
#define BLK_S_IOERR 1
#define BLK_S_UNSUPP 2

/* Feature bits (5.2.3). */
#define BLK_F_SEG_MAX (1ull << 2)
#define BLK_F_RO (1ull << 5)
#define BLK_F_BLK_SIZE (1ull << 6)
#define BLK_F_FLUSH (1ull << 9)
#define BLK_F_DISCARD (1ull << 13)

#define SECTOR 512ull
#define BLK_HDR 16
#define BLK_ID_BYTES 20
#define BLK_IOV 256
#define BLK_QUEUE 256
#define BLK_SEG_MAX (BLK_QUEUE - 2) /* data buffers besides header, status */
#define BLK_DISCARD_SEG 16
#define BLK_DISCARD_SECTORS (1u << 22) /* 2 GiB per segment */

struct blk {
	uint64_t capacity; /* sectors */
	bool is_file;	   /* a regular file: holes can be punched */
	char id[BLK_ID_BYTES];
};

static struct blk the_blk;

static int blk_setup(struct virtio *v, const Cellvm__SetupDeviceRequest *req,
		     int *fds, size_t nfds)
{
	struct blk *b = &the_blk;
	struct stat st;
	uint64_t bytes;

	(void)fds;
	(void)nfds;
	if (v->backing_fd < 0 || shm_fstat(v->backing_fd, &st) < 0) {
		log_err("setup: no disk image");
		return -EINVAL;
	}
	b->is_file = S_ISREG(st.st_mode);
	if (b->is_file) {
		bytes = (uint64_t)st.st_size;
	} else if (ioctl(v->backing_fd, BLKGETSIZE64, &bytes) < 0) {
		log_err("setup: cannot size the disk: %s", strerror(errno));
		return -errno;
	}
	b->capacity = bytes / SECTOR;
	if (req->serial && req->serial[0])
		snprintf(b->id, sizeof(b->id), "%s", req->serial);
	else
		snprintf(b->id, sizeof(b->id), "cellvm-%u", req->pci_slot);
	v->features |= BLK_F_SEG_MAX | BLK_F_BLK_SIZE | BLK_F_FLUSH;
	if (v->read_only)
		v->features |= BLK_F_RO;
	else if (b->is_file)
		v->features |= BLK_F_DISCARD;
	return 0;
}

/* Configuration layout (5.2.4). */
static void blk_config(struct virtio *v, uint8_t *cfg)
{
	(void)v;
	put_le64(cfg + 0, the_blk.capacity);
	put_le32(cfg + 12, BLK_SEG_MAX);	 /* seg_max */
	put_le32(cfg + 20, SECTOR);		 /* blk_size */
	put_le32(cfg + 36, BLK_DISCARD_SECTORS); /* max_discard_sectors */
	put_le32(cfg + 40, BLK_DISCARD_SEG);	 /* max_discard_seg */
	put_le32(cfg + 44, 1);			 /* discard_sector_alignment */
}

/* Sectors [sector, sector + bytes / 512) are on the disk. */
static bool blk_range_ok(uint64_t sector, uint64_t bytes)
{
	return bytes % SECTOR == 0 && sector <= the_blk.capacity &&
	       bytes / SECTOR <= the_blk.capacity - sector;
}

/* Data between the image and the chain's buffers; 0 or -errno. */
static int blk_rw(struct virtio *v, const struct virtq_chain *c, bool in,
		  uint64_t pos, uint64_t bytes)
{
	struct iovec iov[BLK_IOV];
	uint64_t done = 0, got;
	ssize_t n;
	int cnt;

	while (done < bytes) {
		/* Reads land in the writable buffers, from byte 0; writes
		 * come from the readable ones, after the header. */
		cnt = virtq_iov(c, in, in ? done : BLK_HDR + done, bytes - done,
				iov, BLK_IOV, &got);
		if (cnt <= 0 || !got)
			return -EINVAL;
		if (in)
			n = preadv(v->backing_fd, iov, cnt,
				   (off_t)(pos + done));
		else
			n = pwritev(v->backing_fd, iov, cnt,
				    (off_t)(pos + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* the image shrank under us */
		done += (uint64_t)n;
	}
	return 0;
}

static uint8_t blk_discard(struct virtio *v, const struct virtq_chain *c)
{
	uint8_t seg[16];
	uint64_t off, sector, count;

	if (v->read_only || !the_blk.is_file)
		return BLK_S_UNSUPP;
	if ((c->read_len - BLK_HDR) % sizeof(seg) ||
	    (c->read_len - BLK_HDR) / sizeof(seg) > BLK_DISCARD_SEG)
		return BLK_S_IOERR;
	for (off = BLK_HDR; off < c->read_len; off += sizeof(seg)) {
		virtq_read(c, off, seg, sizeof(seg));
		sector = get_le64(seg);
		count = get_le32(seg + 8);
		if (get_le32(seg + 12) || count > BLK_DISCARD_SECTORS ||
		    !blk_range_ok(sector, count * SECTOR))
			return BLK_S_IOERR;
		if (count &&
		    fallocate(v->backing_fd,
			      FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(sector * SECTOR),
			      (off_t)(count * SECTOR)) < 0)
			return BLK_S_IOERR;
	}
	return BLK_S_OK;
}

static int blk_chain(struct virtio *v, unsigned q, const struct virtq_chain *c,
		     uint32_t *written, const char **why)
{
	uint8_t hdr[BLK_HDR], st = BLK_S_OK;
	uint64_t data = c->write_len ? c->write_len - 1 : 0, sector;
	uint32_t type;

	(void)q;
	/* Without a byte for the status there is no way to answer. */
	if (!c->write_len) {
		*why = "a block request without a status byte";
		return -EINVAL;
	}
	*written = 1;
	if (virtq_read(c, 0, hdr, sizeof(hdr)) < sizeof(hdr)) {
		st = BLK_S_IOERR;
		goto out;
	}
	type = get_le32(hdr);
	sector = get_le64(hdr + 8);
	switch (type) {
	case BLK_T_IN:
		if (!blk_range_ok(sector, data) ||
		    blk_rw(v, c, true, sector * SECTOR, data) < 0)
			st = BLK_S_IOERR;
		else
			*written = (uint32_t)(data + 1);
		break;
	case BLK_T_OUT:
		if (v->read_only)
			st = BLK_S_IOERR;
		else if (!blk_range_ok(sector, c->read_len - BLK_HDR) ||
			 blk_rw(v, c, false, sector * SECTOR,
				c->read_len - BLK_HDR) < 0)
			st = BLK_S_IOERR;
		break;
	case BLK_T_FLUSH:
		if (!v->read_only && fdatasync(v->backing_fd) < 0)
			st = BLK_S_IOERR;
		break;
	case BLK_T_GET_ID:
		if (data < BLK_ID_BYTES) {
			st = BLK_S_IOERR;
		} else {
			virtq_write(c, 0, the_blk.id, BLK_ID_BYTES);
			*written = BLK_ID_BYTES + 1;
		}
		break;
	case BLK_T_DISCARD:
		st = blk_discard(v, c);
		break;
	default:
		st = BLK_S_UNSUPP;
	}
out:
	virtq_write(c, data, &st, 1);
	return 0;
}

static const struct virtio_ops blk_ops = {
	.name = "virtio-blk",
	.type = VIRTIO_ID_BLOCK,
	.nqueues = 1,
	.queue_size = BLK_QUEUE,
	.config_len = 60,
	.setup = blk_setup,
	.config = blk_config,
	.chain = blk_chain,
};

int main(void)
{
	return virtio_main(&blk_ops, policy_text);
}
