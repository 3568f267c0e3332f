/*
 * The log relay (docs/architecture.md, "Logs"). With --log journald a
 * child cannot reach the journal itself (no sockets, an empty root): its
 * stderr is a pipe instead, one per instance, which the broker reads in
 * its event loop without blocking. Each line goes on to the journal with
 * fields the broker sets (CELLVM_VM, CELLVM_PROCESS, CELLVM_PID), so a
 * child can say anything but not be anybody else. A line starts with the
 * head of its process ("cellvm-dev-uart[vm1/12345]: "), put there if the
 * child did not; longer lines are cut; more than LOGRELAY_BURST lines a
 * second of one process are dropped and counted.
 *
 * logsplit: the line splitter (logsplit.c, no system calls).
 */
#ifndef CELLVM_LOGRELAY_H
#define CELLVM_LOGRELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGSPLIT_LINE_MAX 1024 /* bytes of a line kept, without '\n' */
#define LOGRELAY_BURST 200     /* lines of one process a second */

/* Bytes in, lines out: memory bounded by LOGSPLIT_LINE_MAX. */
struct logsplit {
	size_t len; /* of the unfinished line in buf */
	bool cut;   /* it outgrew buf: dropping up to its '\n' */
	char buf[LOGSPLIT_LINE_MAX];
};

/*
 * Called for each line, without its '\n'; empty lines are skipped. cut:
 * the line was longer, these are its first LOGSPLIT_LINE_MAX bytes (passed
 * as soon as they are there; the rest, up to its '\n', is dropped).
 */
typedef void logsplit_fn(void *arg, const char *line, size_t len, bool cut);

void logsplit_feed(struct logsplit *s, const char *data, size_t n,
		   logsplit_fn *fn, void *arg);
/* The input ended: an unfinished line is passed as it is. */
void logsplit_end(struct logsplit *s, logsplit_fn *fn, void *arg);

/* Where lines go (--log). */
enum log_to {
	LOG_TO_STDERR,	/* every process writes to the broker's stderr */
	LOG_TO_JOURNAL, /* the journal; children through the relay */
	LOG_TO_RELAY,	/* test builds: stderr, children through the relay */
};

/* One child instance's stderr pipe, in struct child (zeroed: none). */
struct logrelay {
	bool open;
	int fd; /* the read end, non-blocking */
	struct logsplit split;
	uint64_t window_ns;	    /* the second being counted */
	unsigned lines;		    /* relayed in it */
	unsigned long long dropped; /* over LOGRELAY_BURST, not reported yet */
};

struct child;

/* The build has libsystemd: --log journald works. */
bool logrelay_have_journal(void);

/* The broker's own lines to the journal (log_set_sink), when asked to. */
void logrelay_start(enum log_to to);

/*
 * Before a child is spawned: its pipe, when children are relayed. *wr is
 * the write end (to be the child's fd 2, then closed), or -1 when its
 * stderr is the broker's. 0 or -errno.
 */
int logrelay_open(struct child *c, int *wr);

/* Read what is there (one read) and pass on its lines. */
void logrelay_pump(struct child *c);

/* The instance is gone: read the rest, pass it on, close the pipe. */
void logrelay_close(struct child *c);

#endif
