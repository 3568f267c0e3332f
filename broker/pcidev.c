/*
 * The PCI devices of a VM, made from the command line: virtio-rng, one
 * virtio-blk per --disk, virtio-net for --net, virtio-console for
 * --vconsole, in slots 1, 2, ... of bus
 * 0 in that order (lib/platform.h: BAR0 and INTA follow from the slot).
 * The broker opens their backing files here, once, and hands the same
 * descriptors to every instance of the device.
 */
#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"
#include "platform.h"
#include "virtio_pci.h"

static struct dev_desc *pcidev_add(struct family *f, const char *name,
				   unsigned type)
{
	struct dev_desc *d;
	unsigned slot = f->npcidev + 1;

	if (f->npcidev == BROKER_MAX_VIRTIO) {
		log_err("too many PCI devices (at most %d)", BROKER_MAX_VIRTIO);
		return NULL;
	}
	d = &f->pcidev[f->npcidev++];
	memset(d, 0, sizeof(*d));
	d->name = name;
	d->range[0].space = CELLVM__REGION__SPACE__MMIO;
	d->range[0].base = PC_PCI_BAR(slot);
	d->range[0].size = PC_VIRTIO_BAR_SIZE;
	d->gsi = PC_PCI_GSI(slot);
	d->irq_page = true;
	d->pci_slot = slot;
	d->virtio_type = type;
	d->backing_fd = -1;
	return d;
}

/* A raw disk image: a regular file or a block device, locked against a
 * second VM (as QEMU does), read-write unless asked otherwise. */
static int pcidev_open_disk(const struct disk_opt *o)
{
	struct stat st;
	int fd;

	fd = open(o->path, (o->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		log_err("cannot open disk '%s': %s", o->path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 ||
	    !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		log_err("disk '%s' is neither a file nor a block device",
			o->path);
		close(fd);
		return -EINVAL;
	}
	if (flock(fd, (o->read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		log_err("disk '%s' is in use by another process (locked)",
			o->path);
		close(fd);
		return -EBUSY;
	}
	return fd;
}

/* The host side of the guest's network: tap NAME (made if missing, which
 * takes CAP_NET_ADMIN), non-blocking, frames without a packet header. */
static int pcidev_open_tap(const char *name)
{
	struct ifreq ifr;
	int fd;

	if (strlen(name) >= IFNAMSIZ) {
		log_err("tap name '%s' is too long", name);
		return -EINVAL;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		log_err("cannot open /dev/net/tun: %s", strerror(errno));
		return -errno;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		log_err("cannot attach to tap '%s': %s%s", name,
			strerror(errno),
			errno == EPERM ? " (create it for this user with "
					 "'ip tuntap add', or run as root)"
				       : "");
		close(fd);
		return -errno;
	}
	return fd;
}

/*
 * Making a tap is the one thing the broker needs CAP_NET_ADMIN for: once
 * the taps are open it gives that up, for good (the bounding set too,
 * when it may), whether or not there was one to make.
 */
static int pcidev_drop_net_admin(void)
{
	int select = CAPNG_SELECT_CAPS;

	if (capng_get_caps_process() < 0)
		return -EPERM;
	if (!capng_have_capability(CAPNG_PERMITTED, CAP_NET_ADMIN) &&
	    !capng_have_capability(CAPNG_BOUNDING_SET, CAP_NET_ADMIN))
		return 0;
	if (capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP))
		select = CAPNG_SELECT_BOTH;
	if (capng_update(CAPNG_DROP,
			 CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_INHERITABLE |
				 CAPNG_BOUNDING_SET,
			 CAP_NET_ADMIN) < 0 ||
	    capng_apply(select) < 0) {
		log_err("cannot give up CAP_NET_ADMIN");
		return -EPERM;
	}
	return 0;
}

/* What the options ask for, in slot order (the one place that says it). */
struct pcidev_want {
	const char *name;
	unsigned type;
	unsigned disk; /* which --disk, for virtio-blk */
};

static unsigned pcidev_wanted(const struct options *o, struct pcidev_want *w,
			      unsigned max)
{
	unsigned n = 0, i;

	if (o->rng && n < max)
		w[n++] = (struct pcidev_want){ "virtio-rng", VIRTIO_ID_RNG, 0 };
	for (i = 0; i < o->ndisks && n < max; i++)
		w[n++] = (struct pcidev_want){ "virtio-blk", VIRTIO_ID_BLOCK,
					       i };
	if (o->tap && n < max)
		w[n++] = (struct pcidev_want){ "virtio-net", VIRTIO_ID_NET, 0 };
	if (o->vconsole && n < max)
		w[n++] = (struct pcidev_want){ "virtio-console",
					       VIRTIO_ID_CONSOLE, 0 };
	return n;
}

/* The descriptor that backs device w (not the rng), or -errno. */
static int pcidev_backing(const struct options *o, const struct pcidev_want *w)
{
	int fd;

	switch (w->type) {
	case VIRTIO_ID_BLOCK:
		return pcidev_open_disk(&o->disk[w->disk]);
	case VIRTIO_ID_NET:
		return pcidev_open_tap(o->tap);
	case VIRTIO_ID_CONSOLE:
		fd = open(o->vconsole,
			  O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0) {
			log_err("cannot open '%s' for the virtio console: %s",
				o->vconsole, strerror(errno));
			return -errno;
		}
		return fd;
	default:
		return -EINVAL;
	}
}

int pcidev_plan(struct family *f)
{
	const struct options *o = f->opt;
	struct pcidev_want w[BROKER_MAX_VIRTIO + 1];
	struct dev_desc *d;
	unsigned n, i;

	n = pcidev_wanted(o, w, BROKER_MAX_VIRTIO + 1);
	for (i = 0; i < n; i++) {
		d = pcidev_add(f, w[i].name, w[i].type);
		if (!d)
			return -E2BIG;
		if (w[i].type == VIRTIO_ID_RNG)
			continue; /* the host's getrandom(): nothing to open */
		if (w[i].type == VIRTIO_ID_BLOCK)
			d->read_only = o->disk[w[i].disk].read_only;
		d->backing_fd = pcidev_backing(o, &w[i]);
		if (d->backing_fd < 0)
			return d->backing_fd;
	}
	return pcidev_drop_net_admin();
}

unsigned pcidev_names(const struct options *o, const char **names, unsigned max)
{
	struct pcidev_want w[BROKER_MAX_VIRTIO + 1];
	unsigned n, i;

	n = pcidev_wanted(o, w, BROKER_MAX_VIRTIO + 1);
	for (i = 0; i < n && i < max; i++)
		names[i] = w[i].name;
	return i;
}

void pcidev_close(struct family *f)
{
	unsigned i;

	for (i = 0; i < f->npcidev; i++) {
		if (f->pcidev[i].backing_fd >= 0)
			close(f->pcidev[i].backing_fd);
		f->pcidev[i].backing_fd = -1;
	}
}
