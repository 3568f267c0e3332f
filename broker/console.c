/*
 * The serial console on the broker's side (see lib/console.h): output
 * records from the UART are checked for order and written to stdout or a
 * file; stdin goes into the UART's input ring. A terminal on stdin is put
 * in raw mode, as QEMU's -nographic does; Ctrl-A x stops the VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "broker.h"
#include "console.h"
#include "log.h"
#include "shm.h"

#define CTRL_A 0x01

static struct termios saved_tty;

static int console_tty(struct family *f)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return 0;
	t = saved_tty;
	cfmakeraw(&t);
	t.c_oflag |= OPOST; /* keep "\n" -> "\r\n" on output, as QEMU does */
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) < 0)
		return -errno;
	f->con.tty = true;
	return 0;
}

void console_restore(struct family *f)
{
	if (f->con.tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
	f->con.tty = false;
}

static int console_sink(struct family *f)
{
	const struct options *o = f->opt;

	switch (o->serial) {
	case SERIAL_STDIO:
		f->con.sink = STDOUT_FILENO;
		return 0;
	case SERIAL_FILE:
		f->con.sink =
			open(o->serial_path,
			     O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (f->con.sink < 0) {
			log_err("cannot open serial output '%s': %s",
				o->serial_path, strerror(errno));
			return -errno;
		}
		return 0;
	case SERIAL_NONE:
		f->con.sink = -1;
		return 0;
	}
	return -EINVAL;
}

int console_init(struct family *f)
{
	struct console *c = &f->con;
	int p[2], r;

	c->in_fd = c->out_rd = c->out_wr = c->sink = -1;
	r = console_sink(f);
	if (r < 0)
		return r;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	c->out_rd = p[0];
	c->out_wr = p[1];
	if (fcntl(c->out_rd, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	c->in_fd = shm_create("cellvm-console-in", sizeof(struct console_in));
	if (c->in_fd < 0)
		return c->in_fd;
	c->in = shm_map(c->in_fd, sizeof(struct console_in), 1);
	if (!c->in)
		return -errno;
	c->stdin_open = f->opt->serial == SERIAL_STDIO;
	if (c->stdin_open && isatty(STDIN_FILENO))
		return console_tty(f);
	return 0;
}

static void console_write(struct family *f, const unsigned char *buf,
			  size_t len)
{
	ssize_t n;

	while (len && f->con.sink >= 0) {
		n = write(f->con.sink, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			f->con.sink = -1; /* reader gone: keep the VM going */
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* Relay complete records; returns the bytes read, 0 if none, -errno. */
int console_pump_output(struct family *f)
{
	struct console *c = &f->con;
	unsigned char out[sizeof(c->rec_buf) * 64];
	unsigned char buf[sizeof(struct console_rec) * 512];
	struct console_rec rec;
	size_t nout = 0, off = 0, avail;
	ssize_t n;
	int32_t d;

	n = read(c->out_rd, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 && errno != EAGAIN ? -errno : 0;
	avail = (size_t)n;
	/* A record split by a short read: finish it first. */
	while (off < avail) {
		size_t need = sizeof(rec) - c->rec_len;
		size_t take = avail - off < need ? avail - off : need;

		memcpy(c->rec_buf + c->rec_len, buf + off, take);
		c->rec_len += take;
		off += take;
		if (c->rec_len < sizeof(rec))
			break;
		memcpy(&rec, c->rec_buf, sizeof(rec));
		c->rec_len = 0;
		d = (int32_t)(rec.seq - c->next_seq);
		if (d < 0)
			continue; /* sent again by a restarted UART */
		if (d > 0)
			log_warn("serial: %d output bytes missing", d);
		c->next_seq = rec.seq + 1;
		out[nout++] = rec.byte;
		if (nout == sizeof(out)) {
			console_write(f, out, nout);
			nout = 0;
		}
	}
	console_write(f, out, nout);
	atomic_store(&c->in->out_seq, c->next_seq);
	return (int)n;
}

bool console_input_blocked(const struct family *f)
{
	const struct console_in *in = f->con.in;

	if (!in || !f->con.stdin_open)
		return false;
	return atomic_load(&in->head) - atomic_load(&in->tail_hint) >=
	       CONSOLE_IN_SIZE;
}

/* Ctrl-A x stops the VM; Ctrl-A Ctrl-A sends one Ctrl-A. */
static size_t console_escape(struct family *f, unsigned char *buf, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (f->con.escape) {
			f->con.escape = false;
			if (buf[i] == 'x') {
				loop_stop(f, 0);
				return o;
			}
			if (buf[i] != CTRL_A)
				continue;
		} else if (buf[i] == CTRL_A) {
			f->con.escape = true;
			continue;
		}
		buf[o++] = buf[i];
	}
	return o;
}

/* Move stdin into the UART's input ring; bytes moved, 0 at EOF or full. */
int console_pump_input(struct family *f)
{
	struct console_in *in = f->con.in;
	unsigned char buf[CONSOLE_IN_SIZE];
	uint32_t head, room, i;
	ssize_t n;
	size_t len;
	struct child *uart = NULL;

	head = atomic_load(&in->head);
	room = CONSOLE_IN_SIZE - (head - atomic_load(&in->tail_hint));
	if (room == 0 || room > CONSOLE_IN_SIZE)
		return 0;
	n = read(STDIN_FILENO, buf, room);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		f->con.stdin_open = false;
		return 0;
	}
	len = f->con.tty ? console_escape(f, buf, (size_t)n) : (size_t)n;
	for (i = 0; i < len; i++)
		in->buf[(head + i) & (CONSOLE_IN_SIZE - 1)] = buf[i];
	atomic_store_explicit(&in->head, head + (uint32_t)len,
			      memory_order_release);
	for (i = 0; i < f->ndev; i++) {
		if (f->dev[i].dev->console)
			uart = &f->dev[i];
	}
	if (uart && len)
		ring_kick(uart->ring);
	return (int)n;
}
