/*
 * cellvm-dev-virtio-console: a console port for the guest's hvc0
 * (virtio 1.2, 5.3), single port, no features: receive queue 0 and
 * transmit queue 1. What the guest writes goes to the file the broker
 * opened (--vconsole); nothing is received yet, so receive buffers stay
 * with the device. A transmit chain redone after a restart is written
 * twice to that file; the guest cannot see it.
 */
#include <errno.h>
#include <sys/uio.h>

#include "virtio.h"

extern const char policy_text[];

#define CONSOLE_RX 0
#define CONSOLE_TX 1
#define CONSOLE_IOV 64

static void console_config(struct virtio *v, uint8_t *cfg)
{
	(void)v;
	(void)cfg;
}

static int console_chain(struct virtio *v, unsigned q,
			 const struct virtq_chain *c, uint32_t *written,
			 const char **why)
{
	struct iovec iov[CONSOLE_IOV];
	uint64_t off = 0, got;
	ssize_t n;
	int cnt;

	(void)why;
	*written = 0;
	if (q == CONSOLE_RX)
		return VIRTIO_AGAIN;
	while (off < c->read_len) {
		cnt = virtq_iov(c, false, off, c->read_len - off, iov,
				CONSOLE_IOV, &got);
		if (cnt <= 0 || !got)
			break;
		if (v->backing_fd >= 0) {
			do
				n = writev(v->backing_fd, iov, cnt);
			while (n < 0 && errno == EINTR);
			if (n < 0)
				break; /* the output is lost, not the guest */
		}
		off += got;
	}
	return 0;
}

static const struct virtio_ops console_ops = {
	.name = "virtio-console",
	.type = VIRTIO_ID_CONSOLE,
	.nqueues = 2,
	.queue_size = 64,
	.input_queues = 1u << CONSOLE_RX,
	.config_len = 12,
	.config = console_config,
	.chain = console_chain,
};

int main(void)
{
	return virtio_main(&console_ops, policy_text);
}
