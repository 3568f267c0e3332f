/*
 * cellvm-dev-uart: a 16550A at a port range the broker assigns (COM1,
 * 0x3f8-0x3ff, by default). Output goes to the broker as sequence-numbered
 * records, input comes from the broker's console ring (console.h); the
 * interrupt output drives the GSI the broker assigns on the IRQ-line page.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "devloop.h"
#include "log.h"
#include "shm.h"
#include "uart.h"

extern const char policy_text[];

#define UART_PORTS 8

struct uart_dev {
	uint64_t base;
	int out_fd;
	struct console_in *in;
};

/* What the state page holds for this device. */
struct uart_dev_state {
	struct uart_state regs;
	uint32_t in_tail; /* console input bytes taken */
	uint32_t pad;
};

static int uart_setup(void *dev, struct devloop *d,
		      const Cellvm__SetupDeviceRequest *req, int *fds,
		      size_t nfds)
{
	struct uart_dev *u = dev;
	int in_fd;

	u->base = req->start;
	u->out_fd = ctl_take_fd(fds, nfds, req->out_fd);
	in_fd = ctl_take_fd(fds, nfds, req->in_fd);
	if (u->out_fd < 0 || in_fd < 0) {
		log_err("setup: missing console descriptors");
		return -EBADF;
	}
	u->in = shm_map(in_fd, sizeof(struct console_in), 1);
	close(in_fd);
	if (!u->in) {
		log_err("setup: cannot map the console input: %s",
			strerror(errno));
		return -errno;
	}
	return 0;
}

static void uart_dev_reset(void *dev, struct devloop *d)
{
	struct uart_dev *u = dev;
	struct uart_dev_state *s = dev_state(d);

	memset(s, 0, sizeof(*s));
	uart_reset(&s->regs);
	/* Output continues where the broker is; input that arrived before
	 * the guest could see it is kept. */
	s->regs.tx_seq = atomic_load(&u->in->out_seq);
	s->in_tail = atomic_load(&u->in->tail_hint);
}

static bool uart_dev_valid(void *dev, struct devloop *d)
{
	const struct uart_dev_state *s = dev_state(d);

	return uart_state_valid(&s->regs);
}

/* Hand one transmitted byte to the broker. Safe to repeat: see console.h. */
static void uart_emit(struct uart_dev *u, const struct uart_effect *fx)
{
	struct console_rec rec = { 0 };
	ssize_t n;

	rec.seq = (uint32_t)fx->tx_seq;
	rec.byte = (uint8_t)fx->tx;
	do {
		n = write(u->out_fd, &rec, sizeof(rec));
	} while (n < 0 && errno == EINTR);
	if (n != sizeof(rec)) {
		/* The broker is gone: the VM is being torn down. */
		_exit(0);
	}
}

/*
 * A port access of 1, 2 or 4 bytes: the ISA bus splits wider accesses to
 * this 8-bit device into byte accesses at consecutive ports.
 */
static uint64_t uart_access(void *dev, struct devloop *d,
			    const struct ring_req *req, uint64_t now)
{
	struct uart_dev *u = dev;
	struct uart_dev_state *s = dev_state(d);
	struct uart_effect fx;
	uint64_t data = 0, off;
	unsigned i;
	uint8_t b;

	for (i = 0; i < req->size; i++) {
		off = req->addr + i - u->base;
		if (off >= UART_PORTS) {
			b = 0xff;
		} else if (req->flags & RING_WRITE) {
			b = (uint8_t)(req->data >> (8 * i));
			uart_write(&s->regs, (unsigned)off, b, now, &fx);
			if (fx.tx >= 0)
				uart_emit(u, &fx);
		} else {
			b = uart_read(&s->regs, (unsigned)off, now);
		}
		data |= (uint64_t)b << (8 * i);
	}
	return data;
}

/* Take console input while the receiver has room; latch timeouts. */
static bool uart_poll(void *dev, struct devloop *d, uint64_t now)
{
	struct uart_dev *u = dev;
	struct uart_dev_state *s = dev_state(d);
	bool changed = uart_tick(&s->regs, now);
	uint32_t head =
		atomic_load_explicit(&u->in->head, memory_order_acquire);

	/* The broker never runs more than a ring ahead; if it claims so,
	 * skip to what the ring can still hold. */
	if (head - s->in_tail > CONSOLE_IN_SIZE)
		s->in_tail = head - CONSOLE_IN_SIZE;
	/* In loopback the serial input is disconnected: keep the bytes. */
	while (s->in_tail != head && !(s->regs.mcr & UART_MCR_LOOP) &&
	       uart_rx_room(&s->regs)) {
		uart_rx_push(&s->regs,
			     u->in->buf[s->in_tail & (CONSOLE_IN_SIZE - 1)],
			     now);
		s->in_tail++;
		changed = true;
	}
	return changed;
}

static uint64_t uart_dev_deadline(void *dev, struct devloop *d)
{
	const struct uart_dev_state *s = dev_state(d);
	struct uart_dev *u = dev;

	/* Input waiting for room is looked at again when the guest reads. */
	if (atomic_load(&u->in->head) != s->in_tail && uart_rx_room(&s->regs) &&
	    !(s->regs.mcr & UART_MCR_LOOP))
		return 1;
	return uart_deadline(&s->regs);
}

static bool uart_dev_irq(void *dev, struct devloop *d)
{
	const struct uart_dev_state *s = dev_state(d);

	return uart_irq(&s->regs);
}

static void uart_committed(void *dev, struct devloop *d)
{
	const struct uart_dev_state *s = dev_state(d);
	struct uart_dev *u = dev;

	atomic_store_explicit(&u->in->tail_hint, s->in_tail,
			      memory_order_release);
}

static const struct dev_ops uart_ops = {
	.name = "uart",
	.state_size = sizeof(struct uart_dev_state),
	.setup = uart_setup,
	.reset = uart_dev_reset,
	.valid = uart_dev_valid,
	.access = uart_access,
	.poll = uart_poll,
	.deadline = uart_dev_deadline,
	.irq = uart_dev_irq,
	.committed = uart_committed,
};

int main(void)
{
	static struct uart_dev uart = { .out_fd = -1 };

	return devloop_main(&uart_ops, &uart, policy_text);
}
