/*
 * cellvm-dev-rtc: the MC146818 RTC and its CMOS memory (rtc.h) at ports
 * 0x70-0x71, IRQ 8. Time of day comes from the host's CLOCK_REALTIME plus
 * the offset the guest set; interrupts run on CLOCK_MONOTONIC. The CMOS
 * memory-size bytes describe the VM the broker built.
 */
#include <time.h>

#include "clock.h"
#include "devloop.h"
#include "platform.h"
#include "rtc.h"

extern const char policy_text[];

struct rtc_dev {
	uint64_t mem;
	unsigned cpus;
};

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int rtc_setup(void *dev, struct devloop *d,
		     const Cellvm__SetupDeviceRequest *req, int *fds,
		     size_t nfds)
{
	struct rtc_dev *r = dev;

	r->mem = req->mem_size;
	r->cpus = req->cpus;
	return 0;
}

static void rtc_dev_reset(void *dev, struct devloop *d)
{
	struct rtc_dev *r = dev;
	uint64_t low = r->mem < PC_MEM_HOLE ? r->mem : PC_MEM_HOLE;

	rtc_reset(dev_state(d), r->mem, low, r->cpus, now_ns(), real_ns());
}

static bool rtc_dev_valid(void *dev, struct devloop *d)
{
	return rtc_state_valid(dev_state(d));
}

/* Port accesses are byte-wide on the ISA bus: wider ones split. */
static uint64_t rtc_access(void *dev, struct devloop *d,
			   const struct ring_req *req, uint64_t now)
{
	struct rtc_state *s = dev_state(d);
	uint64_t data = 0, real = real_ns();
	unsigned i;

	for (i = 0; i < req->size; i++) {
		uint16_t port = (uint16_t)(req->addr + i);

		if (req->flags & RING_WRITE)
			rtc_write(s, port, (uint8_t)(req->data >> (8 * i)), now,
				  real);
		else
			data |= (uint64_t)rtc_read(s, port, now, real)
				<< (8 * i);
	}
	return data;
}

static bool rtc_poll(void *dev, struct devloop *d, uint64_t now)
{
	struct rtc_state *s = dev_state(d);
	uint64_t due = rtc_deadline(s);

	if (!due || now < due)
		return false;
	rtc_tick(s, now, real_ns());
	return true;
}

static uint64_t rtc_dev_deadline(void *dev, struct devloop *d)
{
	return rtc_deadline(dev_state(d));
}

static bool rtc_dev_irq(void *dev, struct devloop *d)
{
	return rtc_irq(dev_state(d));
}

static const struct dev_ops rtc_ops = {
	.name = "rtc",
	.state_size = sizeof(struct rtc_state),
	.setup = rtc_setup,
	.reset = rtc_dev_reset,
	.valid = rtc_dev_valid,
	.access = rtc_access,
	.poll = rtc_poll,
	.deadline = rtc_dev_deadline,
	.irq = rtc_dev_irq,
};

int main(void)
{
	static struct rtc_dev rtc;

	return devloop_main(&rtc_ops, &rtc, policy_text);
}
