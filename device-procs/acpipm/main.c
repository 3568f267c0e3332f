/*
 * cellvm-dev-acpipm: the ACPI PM1 block and PM timer (acpipm.h). A guest
 * that writes SLP_EN with the \_S5 sleep type powers the VM off: the
 * broker is told and stops the VM with status 0.
 */
#include "acpipm.h"
#include "clock.h"
#include "devloop.h"
#include "log.h"

extern const char policy_text[];

/* Safe to repeat: the broker acts on the first notice only. */
static void acpipm_power_off(void)
{
	Cellvm__SystemEventNotice n = CELLVM__SYSTEM_EVENT_NOTICE__INIT;
	ctl_msg m = CELLVM__CONTROL__INIT;

	n.kind = CELLVM__SYSTEM_EVENT_NOTICE__KIND__POWER_OFF;
	m.body_case = CELLVM__CONTROL__BODY_SYSTEM_EVENT;
	m.system_event = &n;
	if (ctl_send(CTL_FD, &m, NULL, 0) < 0)
		log_err("cannot tell the broker the guest powered off");
}

static void acpipm_dev_reset(void *dev, struct devloop *d)
{
	acpipm_reset(dev_state(d), now_ns());
}

static bool acpipm_dev_valid(void *dev, struct devloop *d)
{
	return acpipm_state_valid(dev_state(d));
}

static uint64_t acpipm_access(void *dev, struct devloop *d,
			      const struct ring_req *req, uint64_t now)
{
	struct acpipm_state *s = dev_state(d);
	struct acpipm_effect fx;

	if (!(req->flags & RING_WRITE))
		return acpipm_read(s, (uint16_t)req->addr, req->size, now);
	acpipm_write(s, (uint16_t)req->addr, req->size, (uint32_t)req->data,
		     now, &fx);
	if (fx.power_off)
		acpipm_power_off();
	return 0;
}

static bool acpipm_poll(void *dev, struct devloop *d, uint64_t now)
{
	return acpipm_tick(dev_state(d), now);
}

static uint64_t acpipm_dev_deadline(void *dev, struct devloop *d)
{
	return acpipm_deadline(dev_state(d));
}

static bool acpipm_dev_irq(void *dev, struct devloop *d)
{
	return acpipm_sci(dev_state(d));
}

static const struct dev_ops acpipm_ops = {
	.name = "acpipm",
	.state_size = sizeof(struct acpipm_state),
	.reset = acpipm_dev_reset,
	.valid = acpipm_dev_valid,
	.access = acpipm_access,
	.poll = acpipm_poll,
	.deadline = acpipm_dev_deadline,
	.irq = acpipm_dev_irq,
};

int main(void)
{
	return devloop_main(&acpipm_ops, NULL, policy_text);
}
