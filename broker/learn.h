/*
 * `cellvm policy learn`: a VM whose children's filters notify the broker
 * of every system call instead of trapping it (lib/sandbox.c, learning
 * mode); the broker records each call, lets it go on, and when the VM
 * ends prints per process the policy it needed, compared with its
 * reviewed file in policy/. Never in production: a learning child is
 * jailed but its filter lets everything through.
 *
 * Each child sends its filter's listener (LearnListener) before its
 * HelloNotice. From then on every call it makes waits for the broker, so
 * the broker answers listeners wherever it waits itself: its event loop
 * watches learn_fd(), and so does child_expect() (spawn.c).
 */
#ifndef CELLVM_LEARN_H
#define CELLVM_LEARN_H

#include <stdbool.h>
#include <stdio.h>

#include "ctl.h"

struct family;
struct child;
struct learn;

/* The recording state; NULL when out of memory (said why). */
struct learn *learn_new(void);
void learn_free(struct learn *l);

/* Readable when some listener has a call waiting (an epoll descriptor). */
int learn_fd(const struct learn *l);

/* Answer every call waiting now, recording each. */
void learn_service(struct learn *l);

/*
 * A control message from c: if it is a LearnListener, take its
 * descriptor (closed unless the VM is learning) and return true; other
 * messages are left alone (false).
 */
bool learn_message(struct family *f, const struct child *c, const ctl_msg *m,
		   int *fds, size_t nfds);

/* The report, per process of f in its order: text, or one JSON document. */
void learn_report(const struct learn *l, const struct family *f, FILE *out,
		  bool json);

/* `cellvm policy learn [--json] [run options]`: an exit status. */
int learn_main(int argc, char **argv);

#endif
