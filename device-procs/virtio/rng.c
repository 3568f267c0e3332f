/*
 * cellvm-dev-virtio-rng: the entropy device (virtio 1.2, 5.4). One
 * queue; each chain's writable buffers are filled from the host's
 * getrandom(). Nothing it does is worth keeping across a restart: a
 * chain redone gets other random bytes, which the guest cannot tell.
 */
#include <errno.h>
#include <sys/random.h>

#include "virtio.h"

extern const char policy_text[];

/* Bytes one chain gets at most: the driver asks for little at a time. */
#define RNG_MAX 4096

static void rng_config(struct virtio *v, uint8_t *cfg)
{
	(void)v;
	(void)cfg;
}

static int rng_chain(struct virtio *v, unsigned q, const struct virtq_chain *c,
		     uint32_t *written, const char **why)
{
	uint8_t buf[RNG_MAX];
	size_t want = c->write_len < RNG_MAX ? c->write_len : RNG_MAX;
	ssize_t n;

	(void)v;
	(void)q;
	(void)why;
	do
		n = getrandom(buf, want, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		n = 0;
	*written = (uint32_t)virtq_write(c, 0, buf, (size_t)n);
	return 0;
}

static const struct virtio_ops rng_ops = {
	.name = "virtio-rng",
	.type = VIRTIO_ID_RNG,
	.nqueues = 1,
	.queue_size = 64,
	.config = rng_config,
	.chain = rng_chain,
};

int main(void)
{
	return virtio_main(&rng_ops, policy_text);
}
