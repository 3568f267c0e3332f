/*
 * Seccomp policies: one text file per process in policy/, compiled into the
 * process's binary at build time and turned into a filter with libseccomp.
 *
 * Syntax, one rule per line ('#' starts a comment):
 *
 *	<syscall> [<cond> [&& <cond>]...]
 *	<cond> := arg<N> <op> <value>	op: == != < <= > >=
 *	        | arg<N> & <value> == <value>
 *	<value> := a number (decimal or 0x hex), a name from the constant
 *	           table (PROT_EXEC, KVM_RUN, ...), or names and numbers
 *	           joined by '|'
 *
 * Several lines for one system call allow it when any line matches.
 * Anything else is trapped: the process dies by SIGSYS (sandbox.h).
 */
#ifndef CELLVM_POLICY_H
#define CELLVM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_MAX_RULES 256
#define POLICY_MAX_CONDS 6

enum policy_op {
	POLICY_EQ,
	POLICY_NE,
	POLICY_LT,
	POLICY_LE,
	POLICY_GT,
	POLICY_GE,
	POLICY_MASKED_EQ,
};

struct policy_cond {
	unsigned arg; /* 0..5 */
	enum policy_op op;
	uint64_t mask; /* POLICY_MASKED_EQ only */
	uint64_t value;
};

struct policy_rule {
	int nr; /* system call number on this architecture */
	char name[32];
	unsigned line;
	unsigned ncond;
	struct policy_cond cond[POLICY_MAX_CONDS];
};

struct policy {
	size_t nrules;
	struct policy_rule rule[POLICY_MAX_RULES];
};

/*
 * Parse text into p. Returns 0, or -EINVAL with a message naming the line
 * and the problem in err.
 */
int policy_parse(const char *text, struct policy *p, char *err, size_t errlen);

/* Look up a constant of the table; 0 if found. */
int policy_constant(const char *name, uint64_t *value);

/*
 * Install p as this thread group's seccomp filter: allowed rules return
 * SCMP_ACT_ALLOW, anything else default_action. Returns 0 or -errno.
 */
int policy_load(const struct policy *p, uint32_t default_action);

/* Write the BPF program policy_load() would install to fd (the audit
 * compares it with a live process's). 0 or -errno. */
int policy_export(const struct policy *p, uint32_t default_action, int fd);

/*
 * Would p's filter let a call of system call nr with these arguments
 * through (some rule of nr whose conditions all hold)? With hits, each
 * rule that matches has its count there raised (hits[i] for p->rule[i]).
 */
bool policy_allows(const struct policy *p, int nr, const uint64_t args[6],
		   uint64_t *hits);

/* Rule r as written in text (the policy it was parsed from, line r->line):
 * comment and trailing blanks off; its name alone if that line is gone. */
void policy_rule_text(const char *text, const struct policy_rule *r, char *buf,
		      size_t len);

/*
 * What `cellvm policy learn` keeps of one system call: its number and, for
 * the calls our policies filter by an argument (ioctl's request, write's
 * descriptor, fcntl's command, mmap's and mprotect's PROT_EXEC, the
 * signal of rt_sigaction and tgkill, sched_setattr's thread), that
 * argument under its mask. Two calls with the same key need the same rule.
 */
struct policy_learned {
	int nr;
	int arg;	/* 0..5, or -1: no argument kept */
	uint64_t mask;	/* of the argument */
	uint64_t value; /* argument & mask */
};

void policy_learn_key(int nr, const uint64_t args[6],
		      struct policy_learned *key);

/*
 * The key as a policy rule: "ioctl arg1 == KVM_RUN", "mmap arg2 &
 * PROT_EXEC == 0", "write arg0 == 2". Values by their name in the
 * constant table where one of the right kind has it (KVM_ and BLK for
 * ioctl, F_ for fcntl, SIG for signals), else decimal below 4096 and hex
 * above. Returns what snprintf returns.
 */
int policy_learned_text(const struct policy_learned *key, char *buf,
			size_t len);

#endif
