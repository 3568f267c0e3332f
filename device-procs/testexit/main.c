/*
 * cellvm-dev-testexit: lets a test guest end the VM with a status, in the
 * manner of QEMU's isa-debug-exit. A write of any size to the device's
 * ports (0xf4-0xf7 by default) asks the broker to stop the VM; cellvm then
 * exits with the low 8 bits of the value written. Reads return 0.
 */
#include <string.h>

#include "devloop.h"
#include "log.h"

extern const char policy_text[];

struct testexit_state {
	uint32_t requested; /* the guest asked to exit */
	uint32_t status;
};

static void testexit_reset(void *dev, struct devloop *d)
{
	memset(dev_state(d), 0, sizeof(struct testexit_state));
}

static bool testexit_valid(void *dev, struct devloop *d)
{
	const struct testexit_state *s = dev_state(d);

	return s->requested <= 1 && s->status <= 0xff;
}

/* Safe to repeat: the broker acts on the first notice only. */
static void testexit_notify(uint32_t status)
{
	Cellvm__GuestExitNotice n = CELLVM__GUEST_EXIT_NOTICE__INIT;
	ctl_msg m = CELLVM__CONTROL__INIT;

	n.status = status;
	m.body_case = CELLVM__CONTROL__BODY_GUEST_EXIT;
	m.guest_exit = &n;
	if (ctl_send(CTL_FD, &m, NULL, 0) < 0)
		log_err("cannot tell the broker the guest exited");
}

static uint64_t testexit_access(void *dev, struct devloop *d,
				const struct ring_req *req, uint64_t now)
{
	struct testexit_state *s = dev_state(d);

	if (!(req->flags & RING_WRITE))
		return 0;
	s->requested = 1;
	s->status = (uint32_t)(req->data & 0xff);
	testexit_notify(s->status);
	return 0;
}

static const struct dev_ops testexit_ops = {
	.name = "testexit",
	.state_size = sizeof(struct testexit_state),
	.reset = testexit_reset,
	.valid = testexit_valid,
	.access = testexit_access,
};

int main(void)
{
	return devloop_main(&testexit_ops, NULL, policy_text);
}
