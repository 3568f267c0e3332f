/*
 * `cellvm policy learn` (learn.h): recording the system calls of a VM's
 * processes through their seccomp listeners, and the report.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "api.h"
#include "audit.h"
#include "broker.h"
#include "learn.h"
#include "log.h"
#include "policy.h"
#include "sandbox.h"

#define LEARN_MAX_PROCS (2 + BROKER_MAX_DEVICES)
#define LEARN_MAX_LISTENERS 64 /* live and dead instances not yet dropped */
#define LEARN_MAX_RULES 256    /* distinct learned rules of one process */
#define LEARN_BATCH 256	       /* calls answered per learn_service() */

struct learn_rule {
	struct policy_learned key;
	uint64_t seen;
	uint64_t trapped; /* of those, calls its reviewed policy would trap */
	bool unseen;	  /* let through by the learning filter: not counted */
};

/* One process, by binary name: its instances (restarts) add up. */
struct learn_proc {
	char name[40];
	const char *text;    /* its reviewed policy; NULL: none */
	struct policy *pol;  /* parsed; NULL: none */
	uint64_t *hits;	     /* calls each rule of pol matched */
	unsigned instances;  /* listeners it sent */
	uint64_t calls;	     /* notified calls answered */
	uint64_t overflowed; /* calls of rules past LEARN_MAX_RULES */
	unsigned nrules;
	struct learn_rule rule[LEARN_MAX_RULES];
};

struct learn_listener {
	int fd; /* -1: a free slot */
	struct learn_proc *proc;
};

struct learn {
	int epoll;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	unsigned nprocs;
	struct learn_proc *proc[LEARN_MAX_PROCS];
	struct learn_listener listener[LEARN_MAX_LISTENERS];
};

struct learn *learn_new(void)
{
	struct learn *l = calloc(1, sizeof(*l));
	unsigned i;

	if (!l)
		goto fail;
	for (i = 0; i < LEARN_MAX_LISTENERS; i++)
		l->listener[i].fd = -1;
	/* Sizes from the kernel (SECCOMP_GET_NOTIF_SIZES): libseccomp. */
	if (seccomp_notify_alloc(&l->req, &l->resp) < 0) {
		log_err("learning: this kernel or libseccomp has no seccomp "
			"user notification (Linux 5.5, libseccomp 2.5)");
		free(l);
		return NULL;
	}
	l->epoll = epoll_create1(EPOLL_CLOEXEC);
	if (l->epoll >= 0)
		return l;
	seccomp_notify_free(l->req, l->resp);
	free(l);
fail:
	log_err("learning: %s", strerror(errno));
	return NULL;
}

void learn_free(struct learn *l)
{
	unsigned i;

	if (!l)
		return;
	for (i = 0; i < LEARN_MAX_LISTENERS; i++)
		if (l->listener[i].fd >= 0)
			close(l->listener[i].fd);
	for (i = 0; i < l->nprocs; i++) {
		free(l->proc[i]->pol);
		free(l->proc[i]->hits);
		free(l->proc[i]);
	}
	close(l->epoll);
	seccomp_notify_free(l->req, l->resp);
	free(l);
}

int learn_fd(const struct learn *l)
{
	return l->epoll;
}

static struct learn_proc *learn_find(const struct learn *l, const char *name)
{
	unsigned i;

	for (i = 0; i < l->nprocs; i++)
		if (strcmp(l->proc[i]->name, name) == 0)
			return l->proc[i];
	return NULL;
}

/* The record of process name, made the first time with its policy. */
static struct learn_proc *learn_proc(struct learn *l, const char *name)
{
	struct learn_proc *p = learn_find(l, name);
	char err[200];
	unsigned i;

	if (p || l->nprocs == LEARN_MAX_PROCS)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->text = audit_policy_text(name);
	p->pol = p->text ? calloc(1, sizeof(*p->pol)) : NULL;
	if (p->pol && policy_parse(p->text, p->pol, err, sizeof(err)) == 0)
		p->hits = calloc(p->pol->nrules ? p->pol->nrules : 1,
				 sizeof(*p->hits));
	if (!p->hits) {
		free(p->pol);
		p->pol = NULL;
	}
	/* Calls it makes that the broker never hears of, but needs. */
	for (i = 0; i < SANDBOX_LEARN_UNSEEN; i++) {
		p->rule[i].key.nr = sandbox_learn_unseen[i];
		p->rule[i].key.arg = -1;
		p->rule[i].unseen = true;
	}
	p->nrules = SANDBOX_LEARN_UNSEEN;
	l->proc[l->nprocs++] = p;
	return p;
}

static bool learn_unseen(int nr)
{
	unsigned i;

	for (i = 0; i < SANDBOX_LEARN_UNSEEN; i++)
		if (sandbox_learn_unseen[i] == nr)
			return true;
	return false;
}

/* Would its reviewed policy have trapped some of r's calls? For a call
 * not counted: does the policy lack it altogether? */
static bool learn_rule_missing(const struct learn_proc *p,
			       const struct learn_rule *r)
{
	size_t i;

	if (!r->unseen)
		return r->trapped > 0;
	for (i = 0; p->pol && i < p->pol->nrules; i++)
		if (p->pol->rule[i].nr == r->key.nr)
			return false;
	return true;
}

/* A rule of the reviewed policy no call used (and not one of those the
 * learning filter lets through unseen). */
static bool learn_policy_unused(const struct learn_proc *p, size_t i)
{
	return !p->hits[i] && !learn_unseen(p->pol->rule[i].nr);
}

/* Is fd a seccomp listener? A child could send anything, and the broker
 * is about to issue the listener's ioctls on it. */
static bool learn_is_listener(int fd)
{
	char path[64], what[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, what, sizeof(what) - 1);
	if (n < 0)
		return false;
	what[n] = '\0';
	return strcmp(what, "anon_inode:seccomp notify") == 0;
}

static int learn_add(struct learn *l, const char *name, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct learn_proc *p;
	unsigned i;

	if (!learn_is_listener(fd))
		return -EBADF;
	p = learn_proc(l, name);
	for (i = 0; i < LEARN_MAX_LISTENERS && l->listener[i].fd >= 0; i++)
		;
	if (!p || i == LEARN_MAX_LISTENERS)
		return -ENOSPC;
	ev.data.u32 = i;
	if (epoll_ctl(l->epoll, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	l->listener[i].fd = fd;
	l->listener[i].proc = p;
	p->instances++;
	return 0;
}

bool learn_message(struct family *f, const struct child *c, const ctl_msg *m,
		   int *fds, size_t nfds)
{
	int fd, r;

	if (m->body_case != CELLVM__CONTROL__BODY_LEARN_LISTENER)
		return false;
	fd = ctl_take_fd(fds, nfds, m->learn_listener->listener_fd);
	if (fd < 0) {
		log_warn("%s sent a LearnListener without a listener", c->name);
		return true;
	}
	if (!f->learn) {
		log_warn("%s sent a seccomp listener, but the VM is not "
			 "learning",
			 c->name);
		close(fd);
		return true;
	}
	r = learn_add(f->learn, c->name, fd);
	if (r < 0) {
		log_warn("%s: cannot watch its seccomp listener: %s", c->name,
			 strerror(-r));
		close(fd);
	}
	return true;
}

static void learn_record(struct learn_proc *p, int nr, const uint64_t args[6])
{
	struct policy_learned key;
	struct learn_rule *r = NULL;
	bool allowed;
	unsigned i;

	p->calls++;
	allowed = p->pol && policy_allows(p->pol, nr, args, p->hits);
	policy_learn_key(nr, args, &key);
	for (i = 0; i < p->nrules && !r; i++) {
		if (memcmp(&p->rule[i].key, &key, sizeof(key)) == 0)
			r = &p->rule[i];
	}
	if (!r && p->nrules < LEARN_MAX_RULES) {
		r = &p->rule[p->nrules++];
		r->key = key;
	}
	if (!r) {
		p->overflowed++;
		return;
	}
	r->seen++;
	if (!allowed)
		r->trapped++;
}

/*
 * One waiting call: record it and let it go on. Its arguments come with
 * the notification; nothing is read from the caller's memory, so the
 * id check seccomp_unotify(2) asks for after such reads only keeps out a
 * call whose caller was killed meanwhile. -1 when none could be read.
 */
static int learn_answer(struct learn *l, struct learn_listener *s)
{
	uint64_t args[6];
	unsigned i;

	memset(l->req, 0, sizeof(*l->req));
	if (seccomp_notify_receive(s->fd, l->req) < 0)
		return -1;
	if (seccomp_notify_id_valid(s->fd, l->req->id) < 0)
		return 0;
	for (i = 0; i < 6; i++)
		args[i] = l->req->data.args[i];
	learn_record(s->proc, l->req->data.nr, args);
	memset(l->resp, 0, sizeof(*l->resp));
	l->resp->id = l->req->id;
	l->resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	/* Fails only if the caller was interrupted by a signal meanwhile:
	 * it makes the call again, and it comes again. */
	seccomp_notify_respond(s->fd, l->resp);
	return 0;
}

/* Every task of its filter is gone: the dead instance's listener. */
static void learn_drop(struct learn *l, struct learn_listener *s)
{
	epoll_ctl(l->epoll, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	s->fd = -1;
	s->proc = NULL;
}

/*
 * Each listener is read only when epoll says a call waits on it: a
 * receive with none waiting would block the broker (and the kernel
 * answers one whose caller died meanwhile with ENOENT, not a wait).
 */
void learn_service(struct learn *l)
{
	struct epoll_event ev[16];
	unsigned done = 0;
	int n, i;

	while (done < LEARN_BATCH) {
		n = epoll_wait(l->epoll, ev, 16, 0);
		if (n <= 0)
			return;
		for (i = 0; i < n; i++, done++) {
			struct learn_listener *s = &l->listener[ev[i].data.u32];
			bool gone = ev[i].events & (EPOLLHUP | EPOLLERR);

			if (s->fd < 0)
				continue;
			if (!(ev[i].events & EPOLLIN) ||
			    (learn_answer(l, s) < 0 && gone))
				learn_drop(l, s);
		}
	}
}

/* --- the report --- */

struct learn_line {
	char text[200];
	const struct learn_rule *rule;
};

static int learn_line_cmp(const void *a, const void *b)
{
	const struct learn_line *x = a, *y = b;

	return strcmp(x->text, y->text);
}

/* p's learned rules as policy lines, sorted; how many (free *out). */
static unsigned learn_lines(const struct learn_proc *p, struct learn_line **out)
{
	struct learn_line *v = calloc(p->nrules ? p->nrules : 1, sizeof(*v));
	unsigned i;

	*out = v;
	if (!v)
		return 0;
	for (i = 0; i < p->nrules; i++) {
		policy_learned_text(&p->rule[i].key, v[i].text,
				    sizeof(v[i].text));
		v[i].rule = &p->rule[i];
	}
	qsort(v, p->nrules, sizeof(*v), learn_line_cmp);
	return p->nrules;
}

static unsigned learn_missing(const struct learn_proc *p)
{
	unsigned i, n = 0;

	for (i = 0; i < p->nrules; i++)
		n += learn_rule_missing(p, &p->rule[i]);
	return n;
}

static void learn_text_proc(const struct learn_proc *p, const char *name,
			    FILE *out)
{
	struct learn_line *v;
	char buf[256];
	unsigned n, i, unused = 0;

	fprintf(out, "# === %s ===\n", name);
	if (!p || !p->instances) {
		fprintf(out,
			"# learned nothing: it never sent its listener\n\n");
		return;
	}
	fprintf(out,
		"# %u instance%s, %llu system calls seen; the minimal "
		"policy:\n",
		p->instances, p->instances == 1 ? "" : "s",
		(unsigned long long)p->calls);
	n = learn_lines(p, &v);
	for (i = 0; i < n; i++) {
		if (v[i].rule->unseen)
			fprintf(out,
				"%-40s # not counted: learning lets it "
				"through",
				v[i].text);
		else
			fprintf(out, "%-40s # seen %llu time%s", v[i].text,
				(unsigned long long)v[i].rule->seen,
				v[i].rule->seen == 1 ? "" : "s");
		if (learn_rule_missing(p, v[i].rule) && v[i].rule->unseen)
			fprintf(out, ", NOT IN its policy");
		else if (v[i].rule->trapped)
			fprintf(out, ", %llu NOT ALLOWED by its policy",
				(unsigned long long)v[i].rule->trapped);
		fputc('\n', out);
	}
	if (p->overflowed)
		fprintf(out, "# and %llu calls of more rules than %d\n",
			(unsigned long long)p->overflowed, LEARN_MAX_RULES);
	fprintf(out, "# against policy/%s.policy:\n", name);
	if (!p->pol)
		fprintf(out, "#   (it has no policy file this broker knows)\n");
	fprintf(out, "#   used, not allowed (its filter would kill it):");
	for (i = 0; i < n; i++)
		if (learn_rule_missing(p, v[i].rule))
			fprintf(out, "\n#     + %s", v[i].text);
	fprintf(out, "%s\n", learn_missing(p) ? "" : " none");
	fprintf(out, "#   allowed, never used (candidates to remove, or "
		     "paths this run did not take):");
	for (i = 0; p->pol && i < p->pol->nrules; i++) {
		if (!learn_policy_unused(p, i))
			continue;
		policy_rule_text(p->text, &p->pol->rule[i], buf, sizeof(buf));
		fprintf(out, "\n#     - %s", buf);
		unused++;
	}
	fprintf(out, "%s\n\n", unused ? "" : " none");
	free(v);
}

static void learn_json_proc(const struct learn_proc *p, const char *name,
			    struct json *j)
{
	struct learn_line *v = NULL;
	char buf[256];
	unsigned n = 0, i;

	json_object(j, NULL);
	json_str(j, "name", name);
	json_u64(j, "instances", p ? p->instances : 0);
	json_u64(j, "calls", p ? p->calls : 0);
	json_bool(j, "has_policy", p && p->pol);
	if (p)
		n = learn_lines(p, &v);
	json_array(j, "rules");
	for (i = 0; i < n; i++) {
		json_object(j, NULL);
		json_str(j, "rule", v[i].text);
		if (v[i].rule->unseen)
			json_null(j, "seen");
		else
			json_u64(j, "seen", v[i].rule->seen);
		json_bool(j, "allowed", !learn_rule_missing(p, v[i].rule));
		json_end(j, '}');
	}
	json_end(j, ']');
	json_array(j, "missing");
	for (i = 0; i < n; i++)
		if (learn_rule_missing(p, v[i].rule))
			json_str(j, NULL, v[i].text);
	json_end(j, ']');
	json_array(j, "unused");
	for (i = 0; p && p->pol && i < p->pol->nrules; i++) {
		if (!learn_policy_unused(p, i))
			continue;
		policy_rule_text(p->text, &p->pol->rule[i], buf, sizeof(buf));
		json_str(j, NULL, buf);
	}
	json_end(j, ']');
	json_end(j, '}');
	free(v);
}

void learn_report(const struct learn *l, const struct family *f, FILE *out,
		  bool json)
{
	const char *names[2 + BROKER_MAX_DEVICES];
	unsigned i, n = 0, bad = 0;
	struct json j;

	names[n++] = f->runner.name;
	names[n++] = f->mmu.name;
	for (i = 0; i < f->ndev; i++)
		names[n++] = f->dev[i].name;
	if (json) {
		json_start(&j, out);
		json_object(&j, NULL);
		json_u64(&j, "exit_status", (uint64_t)f->exit_status);
		json_array(&j, "processes");
		for (i = 0; i < n; i++)
			learn_json_proc(learn_find(l, names[i]), names[i], &j);
		json_end(&j, ']');
		json_end(&j, '}');
		fputc('\n', out);
		fflush(out);
		return;
	}
	for (i = 0; i < n; i++) {
		const struct learn_proc *p = learn_find(l, names[i]);

		learn_text_proc(p, names[i], out);
		bad += !p || !p->instances || learn_missing(p);
	}
	if (bad)
		fprintf(out,
			"# %u of %u processes used calls their policy "
			"lacks, or were not seen\n",
			bad, n);
	else
		fprintf(out,
			"# all %u processes stayed within their "
			"policies\n",
			n);
	fflush(out);
}

static void learn_usage(FILE *out)
{
	fputs("Usage: cellvm policy learn [--json] [RUN OPTIONS]\n"
	      "\n"
	      "Run a VM as `cellvm run` would, but with every process's\n"
	      "seccomp filter in learning mode: each system call is sent to\n"
	      "the broker, recorded and let through. When the VM ends, print\n"
	      "for each process the minimal policy it needed (policy/ file\n"
	      "syntax, sorted, each rule with how often it was seen) and how\n"
	      "that differs from its reviewed policy: calls it made that the\n"
	      "policy lacks (its filter would have killed it) and rules it\n"
	      "never used. --json prints one document instead (give\n"
	      "--serial none or file:PATH to keep the guest's output out of\n"
	      "it). The exit status is the guest's, as for run.\n"
	      "\n"
	      "For review only, never in production: a learning process is\n"
	      "jailed, but its filter lets every call through.\n",
	      out);
}

int learn_main(int argc, char **argv)
{
	static struct options o;
	int i = 1, r;

	for (; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			o.learn_json = true;
		} else if (strcmp(argv[i], "--help") == 0 ||
			   strcmp(argv[i], "-h") == 0) {
			learn_usage(stdout);
			return 0;
		} else {
			break;
		}
	}
	/* The rest are `cellvm run` options; getopt wants a name. */
	argv[i - 1] = (char *)"cellvm policy learn";
	r = options_parse(argc - (i - 1), argv + (i - 1), &o);
	if (r)
		return r;
	o.learn = true;
	return run_vm(&o);
}
