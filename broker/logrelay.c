/*
 * The log relay and the journal (logrelay.h): children's stderr pipes read
 * in the event loop, every line (theirs and the broker's own) sent to the
 * journal with the VM, the process and its pid as fields. A line the
 * journal does not take goes to stderr instead: nothing is lost because
 * journald is down.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "broker.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "logrelay.h"

#if CELLVM_HAVE_JOURNAL
#include <systemd/sd-journal.h>
#endif

#define LOGRELAY_WINDOW_NS 1000000000ull
#define LOGRELAY_READ 4096    /* bytes taken per event: fair to the rest */
#define LOGRELAY_DRAIN 64     /* reads at most once the child is gone */
#define LOGRELAY_HEAD 160     /* "cellvm-dev-...[<VM>/<pid>]: " */
#define LOGRELAY_CUT " (cut)" /* after a line cut at LOGSPLIT_LINE_MAX */
#define LOGRELAY_OUT (LOGRELAY_HEAD + LOGSPLIT_LINE_MAX + sizeof(LOGRELAY_CUT))
#define LOG_PRIO_ERR 3
/* Where sd_journal_sendv() sends; without it, it drops lines silently. */
#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define JOURNAL_CHECK_NS 1000000000ull

/* Set once, before the VM starts. */
static enum log_to logrelay_to;
/* The journal refused the last line: said once, until it takes one. */
static bool logrelay_journal_down;
static uint64_t logrelay_checked_ns; /* JOURNAL_SOCKET looked for */
static int logrelay_socket_err;	     /* then: 0 or -errno */

bool logrelay_have_journal(void)
{
	return CELLVM_HAVE_JOURNAL;
}

/* The line and its '\n' in one write (lines of other processes do not
 * land inside it). */
static void logrelay_stderr(const char *line, size_t len)
{
	char buf[LOGRELAY_OUT + 1];

	if (len > LOGRELAY_OUT)
		len = LOGRELAY_OUT;
	memcpy(buf, line, len);
	buf[len++] = '\n';
	(void)!write(STDERR_FILENO, buf, len);
}

#if CELLVM_HAVE_JOURNAL
static int logrelay_field(struct iovec *iov, char *buf, size_t size,
			  const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int logrelay_field(struct iovec *iov, char *buf, size_t size,
			  const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= size)
		n = (int)size - 1;
	iov->iov_base = buf;
	iov->iov_len = (size_t)n;
	return 1;
}

/* One line to the journal with its fields: 0 or -errno. */
static int logrelay_journal(int prio, const char *process, int pid,
			    const char *line, size_t len)
{
	char msg[sizeof("MESSAGE=") + LOGRELAY_OUT], p[16];
	char proc[64], vm[16 + LOG_VM_MAX], pidf[32];
	struct iovec iov[6];
	int n = 0;

	memcpy(msg, "MESSAGE=", 8);
	memcpy(msg + 8, line, len);
	iov[n].iov_base = msg;
	iov[n++].iov_len = 8 + len;
	n += logrelay_field(&iov[n], p, sizeof(p), "PRIORITY=%d", prio);
	iov[n].iov_base = (char *)"SYSLOG_IDENTIFIER=cellvm";
	iov[n++].iov_len = strlen("SYSLOG_IDENTIFIER=cellvm");
	if (log_vm()[0])
		n += logrelay_field(&iov[n], vm, sizeof(vm), "CELLVM_VM=%s",
				    log_vm());
	n += logrelay_field(&iov[n], proc, sizeof(proc), "CELLVM_PROCESS=%s",
			    process);
	n += logrelay_field(&iov[n], pidf, sizeof(pidf), "CELLVM_PID=%d", pid);
	return sd_journal_sendv(iov, n);
}
#else
static int logrelay_journal(int prio, const char *process, int pid,
			    const char *line, size_t len)
{
	return -ENOSYS;
}
#endif

/* Is journald there? Looked at once a second at most. 0 or -errno. */
static int logrelay_socket(void)
{
	uint64_t t = now_ns();
	struct stat st;

	if (logrelay_checked_ns && t - logrelay_checked_ns < JOURNAL_CHECK_NS)
		return logrelay_socket_err;
	logrelay_checked_ns = t;
	logrelay_socket_err = 0;
	if (stat(JOURNAL_SOCKET, &st) < 0)
		logrelay_socket_err = -errno;
	else if (!S_ISSOCK(st.st_mode))
		logrelay_socket_err = -ENOTSOCK;
	return logrelay_socket_err;
}

/* The journal took nothing: say so, once, on stderr. */
static void logrelay_journal_failed(int err)
{
	char note[256];
	int n;

	if (logrelay_journal_down)
		return;
	logrelay_journal_down = true;
	n = snprintf(note, sizeof(note),
		     "%s: cannot send to the journal (" JOURNAL_SOCKET
		     "): %s; logging to stderr until it takes lines again",
		     log_name(), strerror(-err));
	logrelay_stderr(note, n > 0 ? (size_t)n : 0);
}

static void logrelay_out(int prio, const char *process, int pid,
			 const char *line, size_t len)
{
	int r;

	if (len > LOGRELAY_OUT)
		len = LOGRELAY_OUT;
	if (logrelay_to != LOG_TO_JOURNAL) {
		logrelay_stderr(line, len);
		return;
	}
	r = logrelay_socket();
	if (!r)
		r = logrelay_journal(prio, process, pid, line, len);
	if (r >= 0) {
		logrelay_journal_down = false;
		return;
	}
	logrelay_journal_failed(r);
	logrelay_stderr(line, len);
}

/* log_set_sink: the broker's own lines. */
static void logrelay_sink(int level, const char *line, size_t len)
{
	logrelay_out(log_priority(level), log_process(), (int)getpid(), line,
		     len);
}

void logrelay_start(enum log_to to)
{
	int r;

	logrelay_to = to;
	if (to != LOG_TO_JOURNAL)
		return;
	log_set_sink(logrelay_sink);
	/* No journald now: say so at once, not at the first line. */
	r = logrelay_socket();
	if (r < 0)
		logrelay_journal_failed(r);
}

int logrelay_open(struct child *c, int *wr)
{
	int p[2];

	*wr = -1;
	if (c->log.open)
		logrelay_close(c);
	if (logrelay_to == LOG_TO_STDERR)
		return 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* Only our end: the child's writes block, as on a terminal. */
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		int err = -errno;

		close(p[0]);
		close(p[1]);
		return err;
	}
	memset(&c->log, 0, sizeof(c->log));
	c->log.open = true;
	c->log.fd = p[0];
	*wr = p[1];
	return 0;
}

static void logrelay_report(struct child *c)
{
	struct logrelay *r = &c->log;

	if (r->dropped)
		log_warn("dropped %llu lines of %s[%d]'s log (more than %u a "
			 "second)",
			 r->dropped, c->name, (int)c->pid, LOGRELAY_BURST);
	r->dropped = 0;
}

/*
 * The head the line must start with: the child's own, as log.c writes it.
 * A child is trusted with its words only: a line without it, or one that
 * claims to be another process, gets it in front.
 */
static size_t logrelay_head(const struct child *c, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s[%s%s%d]: ", c->name, log_vm(),
			 log_vm()[0] ? "/" : "", (int)c->pid);

	return n < 0 ? 0 : (size_t)n >= size ? size - 1 : (size_t)n;
}

/* logsplit_fn: one line of child c. */
static void logrelay_line(void *arg, const char *line, size_t len, bool cut)
{
	struct child *c = arg;
	struct logrelay *r = &c->log;
	char head[LOGRELAY_HEAD], out[LOGRELAY_OUT];
	uint64_t t = now_ns();
	int prio = LOG_PRIO_ERR; /* not log.c's: the seccomp note, an abort */
	size_t hn, n = 0, i;

	if (t - r->window_ns >= LOGRELAY_WINDOW_NS) {
		logrelay_report(c);
		r->window_ns = t;
		r->lines = 0;
	}
	if (++r->lines > LOGRELAY_BURST) {
		r->dropped++;
		return;
	}
	/* sd-daemon(3) "<N>": no child may claim more than an error. */
	if (len >= 3 && line[0] == '<' && line[1] >= '0' && line[1] <= '7' &&
	    line[2] == '>') {
		prio = line[1] - '0';
		if (prio < LOG_PRIO_ERR)
			prio = LOG_PRIO_ERR;
		line += 3;
		len -= 3;
	}
	hn = logrelay_head(c, head, sizeof(head));
	if (len < hn || memcmp(line, head, hn) != 0) {
		memcpy(out, head, hn);
		n = hn;
	}
	/* No control characters: not in the journal, not on a terminal. */
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];

		out[n++] = (ch < 0x20 && ch != '\t') || ch == 0x7f ? '?'
								   : (char)ch;
	}
	if (cut) {
		memcpy(out + n, LOGRELAY_CUT, sizeof(LOGRELAY_CUT) - 1);
		n += sizeof(LOGRELAY_CUT) - 1;
	}
	logrelay_out(prio, c->name, (int)c->pid, out, n);
}

/* One read: > 0 bytes passed on, 0 at the end, -1 when nothing is there. */
static int logrelay_read(struct child *c)
{
	char buf[LOGRELAY_READ];
	ssize_t n;

	n = read(c->log.fd, buf, sizeof(buf));
	if (n > 0) {
		logsplit_feed(&c->log.split, buf, (size_t)n, logrelay_line, c);
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -1;
	return 0;
}

static void logrelay_end(struct child *c)
{
	logsplit_end(&c->log.split, logrelay_line, c);
	logrelay_report(c);
	close(c->log.fd);
	c->log.open = false;
	c->log.fd = -1;
}

void logrelay_pump(struct child *c)
{
	if (c->log.open && logrelay_read(c) == 0)
		logrelay_end(c);
}

void logrelay_close(struct child *c)
{
	int i, r = 1;

	if (!c->log.open)
		return;
	/* The child is dead: what it wrote is all in the pipe. */
	for (i = 0; i < LOGRELAY_DRAIN && r > 0; i++)
		r = logrelay_read(c);
	logrelay_end(c);
}
