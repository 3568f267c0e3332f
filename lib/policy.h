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

#endif
