/*
 * cellvm-dev-virtio-net: a network device on the tap the broker opened
 * (virtio 1.2, 5.1): queue 0 receives, queue 1 transmits, no offloads,
 * the MAC from the command line. Frames go between the tap and the
 * guest's buffers with readv/writev behind the 12-byte header of a
 * VERSION_1 device (struct virtio_net_hdr with num_buffers).
 *
 * The tap is non-blocking. Receiving is tried on every poll; the broker
 * watches the tap and kicks the device when frames arrive. A restart may
 * lose a frame being received, or send a frame twice: a network does
 * that anyway, and the guest's protocols expect it.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "log.h"
#include "virtio.h"

extern const char policy_text[];

#define NET_RX 0
#define NET_TX 1
#define NET_HDR 12
#define NET_IOV 64
#define NET_QUEUE 256
#define NET_F_MAC (1ull << 5)

static uint8_t the_mac[6];

static int net_setup(struct virtio *v, const Cellvm__SetupDeviceRequest *req,
		     int *fds, size_t nfds)
{
	(void)fds;
	(void)nfds;
	if (v->backing_fd < 0) {
		log_err("setup: no tap");
		return -EINVAL;
	}
	if (req->mac.len == sizeof(the_mac)) {
		memcpy(the_mac, req->mac.data, sizeof(the_mac));
		v->features |= NET_F_MAC;
	}
	return 0;
}

static void net_config(struct virtio *v, uint8_t *cfg)
{
	(void)v;
	memcpy(cfg, the_mac, sizeof(the_mac));
}

static int net_rx(struct virtio *v, const struct virtq_chain *c,
		  uint32_t *written, const char **why)
{
	struct iovec iov[NET_IOV];
	uint8_t hdr[NET_HDR] = { 0 };
	uint64_t got;
	ssize_t n;
	int cnt;

	if (c->write_len <= NET_HDR || c->nread) {
		*why = "a receive buffer too small or device-readable";
		return -EINVAL;
	}
	cnt = virtq_iov(c, true, NET_HDR, c->write_len - NET_HDR, iov, NET_IOV,
			&got);
	if (cnt <= 0)
		return VIRTIO_AGAIN;
	do
		n = readv(v->backing_fd, iov, cnt);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return VIRTIO_AGAIN; /* nothing waiting (or the tap is down) */
	hdr[10] = 1;		     /* num_buffers */
	virtq_write(c, 0, hdr, sizeof(hdr));
	*written = (uint32_t)(NET_HDR + (uint64_t)n);
	return 0;
}

static int net_tx(struct virtio *v, const struct virtq_chain *c,
		  const char **why)
{
	struct iovec iov[NET_IOV];
	uint64_t got;
	ssize_t n;
	int cnt;

	if (c->read_len < NET_HDR) {
		*why = "a transmit chain shorter than its header";
		return -EINVAL;
	}
	if (c->read_len == NET_HDR)
		return 0;
	cnt = virtq_iov(c, false, NET_HDR, c->read_len - NET_HDR, iov, NET_IOV,
			&got);
	if (cnt <= 0 || got < c->read_len - NET_HDR)
		return 0; /* more pieces than a frame has: dropped */
	do
		n = writev(v->backing_fd, iov, cnt);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return VIRTIO_AGAIN;
	/* Other errors (a frame the tap refuses, the tap down) drop it, as
	 * a wire would. */
	return 0;
}

static int net_chain(struct virtio *v, unsigned q, const struct virtq_chain *c,
		     uint32_t *written, const char **why)
{
	*written = 0;
	if (q == NET_RX)
		return net_rx(v, c, written, why);
	return net_tx(v, c, why);
}

static const struct virtio_ops net_ops = {
	.name = "virtio-net",
	.type = VIRTIO_ID_NET,
	.nqueues = 2,
	.queue_size = NET_QUEUE,
	.input_queues = 1u << NET_RX,
	.config_len = 12,
	.setup = net_setup,
	.config = net_config,
	.chain = net_chain,
};

int main(void)
{
	return virtio_main(&net_ops, policy_text);
}
