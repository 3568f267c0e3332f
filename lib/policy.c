#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/futex.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "policy.h"

struct policy_const {
	const char *name;
	uint64_t value;
};

#define C(x)                      \
	{                         \
#x, (uint64_t)(x) \
	}

/* Names a policy file may use. Keep sorted by topic, not by name. */
static const struct policy_const policy_consts[] = {
	C(PROT_NONE),
	C(PROT_READ),
	C(PROT_WRITE),
	C(PROT_EXEC),
	C(MAP_SHARED),
	C(MAP_PRIVATE),
	C(MAP_ANONYMOUS),
	C(MAP_FIXED),
	C(MAP_NORESERVE),
	C(MAP_STACK),
	C(F_GETFD),
	C(F_SETFD),
	C(F_GETFL),
	C(F_SETFL),
	C(F_GET_SEALS),
	C(FUTEX_WAIT),
	C(FUTEX_WAKE),
	C(FUTEX_WAIT_BITSET),
	C(FUTEX_WAKE_BITSET),
	C(FUTEX_PRIVATE_FLAG),
	C(FUTEX_CLOCK_REALTIME),
	C(AF_UNIX),
	C(AF_INET),
	C(AF_INET6),
	C(MSG_DONTWAIT),
	C(MSG_NOSIGNAL),
	C(MSG_CMSG_CLOEXEC),
	C(SIGUSR1),
	C(SIGUSR2),
	C(SIGSYS),
	C(SIGKILL),
	C(SIGTERM),
	C(SIGINT),
	C(SIGCHLD),
	C(PR_SET_NAME),
	C(PR_GET_NAME),
	C(BLKGETSIZE64),
	C(KVM_GET_API_VERSION),
	C(KVM_CREATE_VM),
	C(KVM_CHECK_EXTENSION),
	C(KVM_GET_VCPU_MMAP_SIZE),
	C(KVM_GET_SUPPORTED_CPUID),
	C(KVM_SET_TSS_ADDR),
	C(KVM_SET_IDENTITY_MAP_ADDR),
	C(KVM_SET_USER_MEMORY_REGION),
	C(KVM_CREATE_VCPU),
	C(KVM_SET_CPUID2),
	C(KVM_GET_CPUID2),
	C(KVM_GET_SREGS),
	C(KVM_SET_SREGS),
	C(KVM_GET_REGS),
	C(KVM_SET_REGS),
	C(KVM_RUN),
	C(KVM_INTERRUPT),
	C(KVM_NMI),
	C(KVM_GET_MP_STATE),
	C(KVM_SET_MP_STATE),
	C(KVM_GET_MSRS),
	C(KVM_SET_MSRS),
	C(KVM_GET_FPU),
	C(KVM_SET_FPU),
	C(KVM_GET_VCPU_EVENTS),
	C(KVM_SET_VCPU_EVENTS),
	C(KVM_GET_TSC_KHZ),
	C(KVM_ENABLE_CAP),
	C(KVM_GET_DIRTY_LOG),
};

#undef C

int policy_constant(const char *name, uint64_t *value)
{
	size_t i;

	for (i = 0; i < sizeof(policy_consts) / sizeof(policy_consts[0]); i++) {
		if (strcmp(policy_consts[i].name, name) == 0) {
			*value = policy_consts[i].value;
			return 0;
		}
	}
	return -ENOENT;
}

static void policy_error(char *err, size_t errlen, unsigned line,
			 const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void policy_error(char *err, size_t errlen, unsigned line,
			 const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(err, errlen, "line %u: ", line);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* A value: numbers and constant names joined by '|'. */
static int policy_value(char *tok, uint64_t *out)
{
	char *part, *save = NULL, *end;
	uint64_t v = 0, x;

	if (!*tok)
		return -EINVAL;
	for (part = strtok_r(tok, "|", &save); part;
	     part = strtok_r(NULL, "|", &save)) {
		if (isdigit((unsigned char)part[0])) {
			errno = 0;
			x = strtoull(part, &end, 0);
			if (errno || *end)
				return -EINVAL;
		} else if (policy_constant(part, &x) < 0) {
			return -ENOENT;
		}
		v |= x;
	}
	*out = v;
	return 0;
}

static int policy_op(const char *tok, enum policy_op *op)
{
	static const struct {
		const char *text;
		enum policy_op op;
	} ops[] = {
		{ "==", POLICY_EQ }, { "!=", POLICY_NE }, { "<", POLICY_LT },
		{ "<=", POLICY_LE }, { ">", POLICY_GT },  { ">=", POLICY_GE },
	};
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(ops[i].text, tok) == 0) {
			*op = ops[i].op;
			return 0;
		}
	}
	return -EINVAL;
}

/* Split a line into at most max whitespace-separated tokens. */
static int policy_tokens(char *line, char **tok, int max)
{
	char *save = NULL, *t;
	int n = 0;

	for (t = strtok_r(line, " \t", &save); t;
	     t = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return -E2BIG;
		tok[n++] = t;
	}
	return n;
}

/* One condition starting at tok[0]; returns tokens used or -errno. */
static int policy_cond(char **tok, int ntok, struct policy_cond *c, char *err,
		       size_t errlen, unsigned line)
{
	char *end;
	int r;

	if (strncmp(tok[0], "arg", 3) != 0 ||
	    !isdigit((unsigned char)tok[0][3]) || tok[0][4] != '\0' ||
	    tok[0][3] > '5') {
		policy_error(err, errlen, line, "expected arg0..arg5, got '%s'",
			     tok[0]);
		return -EINVAL;
	}
	c->arg = (unsigned)strtoul(tok[0] + 3, &end, 10);
	if (ntok >= 5 && strcmp(tok[1], "&") == 0) {
		c->op = POLICY_MASKED_EQ;
		if (strcmp(tok[3], "==") != 0) {
			policy_error(err, errlen, line,
				     "a mask is compared with '==', got '%s'",
				     tok[3]);
			return -EINVAL;
		}
		r = policy_value(tok[2], &c->mask);
		if (!r)
			r = policy_value(tok[4], &c->value);
		if (r) {
			policy_error(err, errlen, line,
				     "bad value in '%s & ...'", tok[0]);
			return -EINVAL;
		}
		return 5;
	}
	if (ntok < 3 || policy_op(tok[1], &c->op) < 0) {
		policy_error(err, errlen, line,
			     "expected '%s <op> <value>' (op: == != < <= > >=)",
			     tok[0]);
		return -EINVAL;
	}
	if (policy_value(tok[2], &c->value) < 0) {
		policy_error(err, errlen, line, "unknown value '%s'", tok[2]);
		return -EINVAL;
	}
	return 3;
}

static int policy_line(char *text, unsigned line, struct policy *p, char *err,
		       size_t errlen)
{
	struct policy_rule *r;
	char *tok[64];
	int ntok, i, used;

	ntok = policy_tokens(text, tok, 64);
	if (ntok < 0) {
		policy_error(err, errlen, line, "too many words");
		return -EINVAL;
	}
	if (ntok == 0)
		return 0;
	if (p->nrules == POLICY_MAX_RULES) {
		policy_error(err, errlen, line, "more than %d rules",
			     POLICY_MAX_RULES);
		return -EINVAL;
	}
	r = &p->rule[p->nrules];
	memset(r, 0, sizeof(*r));
	r->line = line;
	r->nr = seccomp_syscall_resolve_name(tok[0]);
	if (r->nr < 0 || strlen(tok[0]) >= sizeof(r->name)) {
		policy_error(err, errlen, line, "unknown system call '%s'",
			     tok[0]);
		return -EINVAL;
	}
	snprintf(r->name, sizeof(r->name), "%s", tok[0]);
	for (i = 1; i < ntok; i += used) {
		if (r->ncond > 0) {
			if (strcmp(tok[i], "&&") != 0 || i + 1 == ntok) {
				policy_error(err, errlen, line,
					     "conditions are joined by '&&'");
				return -EINVAL;
			}
			i++;
		}
		if (r->ncond == POLICY_MAX_CONDS) {
			policy_error(err, errlen, line, "too many conditions");
			return -EINVAL;
		}
		used = policy_cond(&tok[i], ntok - i, &r->cond[r->ncond], err,
				   errlen, line);
		if (used < 0)
			return used;
		r->ncond++;
	}
	p->nrules++;
	return 0;
}

int policy_parse(const char *text, struct policy *p, char *err, size_t errlen)
{
	const char *s = text, *eol;
	char buf[512], *hash;
	unsigned line = 0;
	size_t len;
	int r;

	p->nrules = 0;
	if (errlen)
		err[0] = '\0';
	while (*s) {
		line++;
		eol = strchr(s, '\n');
		len = eol ? (size_t)(eol - s) : strlen(s);
		if (len >= sizeof(buf)) {
			policy_error(err, errlen, line, "line too long");
			return -EINVAL;
		}
		memcpy(buf, s, len);
		buf[len] = '\0';
		hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		r = policy_line(buf, line, p, err, errlen);
		if (r < 0)
			return r;
		s += len + (eol ? 1 : 0);
	}
	return 0;
}

static enum scmp_compare policy_scmp_op(enum policy_op op)
{
	switch (op) {
	case POLICY_EQ:
		return SCMP_CMP_EQ;
	case POLICY_NE:
		return SCMP_CMP_NE;
	case POLICY_LT:
		return SCMP_CMP_LT;
	case POLICY_LE:
		return SCMP_CMP_LE;
	case POLICY_GT:
		return SCMP_CMP_GT;
	case POLICY_GE:
		return SCMP_CMP_GE;
	case POLICY_MASKED_EQ:
		return SCMP_CMP_MASKED_EQ;
	}
	return _SCMP_CMP_MIN;
}

/* The libseccomp filter for p; NULL with *err set on failure. */
static scmp_filter_ctx policy_filter(const struct policy *p,
				     uint32_t default_action, int *err)
{
	struct scmp_arg_cmp cmp[POLICY_MAX_CONDS];
	const struct policy_rule *r;
	scmp_filter_ctx ctx;
	size_t i;
	unsigned j;

	ctx = seccomp_init(default_action);
	if (!ctx) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
				SCMP_ACT_KILL_PROCESS);
	for (i = 0; !*err && i < p->nrules; i++) {
		r = &p->rule[i];
		for (j = 0; j < r->ncond; j++) {
			const struct policy_cond *c = &r->cond[j];

			cmp[j].arg = c->arg;
			cmp[j].op = policy_scmp_op(c->op);
			if (c->op == POLICY_MASKED_EQ) {
				cmp[j].datum_a = c->mask;
				cmp[j].datum_b = c->value;
			} else {
				cmp[j].datum_a = c->value;
				cmp[j].datum_b = 0;
			}
		}
		*err = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, r->nr,
					      r->ncond, cmp);
	}
	if (*err) {
		seccomp_release(ctx);
		return NULL;
	}
	return ctx;
}

int policy_export(const struct policy *p, uint32_t default_action, int fd)
{
	scmp_filter_ctx ctx;
	int err;

	ctx = policy_filter(p, default_action, &err);
	if (!ctx)
		return err;
	err = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	return err;
}

int policy_load(const struct policy *p, uint32_t default_action)
{
	scmp_filter_ctx ctx;
	int err;

	ctx = policy_filter(p, default_action, &err);
	if (!ctx)
		return err;
	err = seccomp_load(ctx);
	seccomp_release(ctx);
	return err;
}

static bool policy_cond_holds(const struct policy_cond *c,
			      const uint64_t args[6])
{
	uint64_t a = args[c->arg];

	/* libseccomp compares all 64 bits, unsigned, on x86-64. */
	switch (c->op) {
	case POLICY_EQ:
		return a == c->value;
	case POLICY_NE:
		return a != c->value;
	case POLICY_LT:
		return a < c->value;
	case POLICY_LE:
		return a <= c->value;
	case POLICY_GT:
		return a > c->value;
	case POLICY_GE:
		return a >= c->value;
	case POLICY_MASKED_EQ:
		return (a & c->mask) == c->value;
	}
	return false;
}

bool policy_allows(const struct policy *p, int nr, const uint64_t args[6],
		   uint64_t *hits)
{
	bool allowed = false;
	size_t i;
	unsigned j;

	for (i = 0; i < p->nrules; i++) {
		const struct policy_rule *r = &p->rule[i];

		if (r->nr != nr)
			continue;
		for (j = 0; j < r->ncond; j++) {
			if (!policy_cond_holds(&r->cond[j], args))
				break;
		}
		if (j < r->ncond)
			continue;
		allowed = true;
		if (!hits)
			break;
		hits[i]++;
	}
	return allowed;
}

void policy_rule_text(const char *text, const struct policy_rule *r, char *buf,
		      size_t len)
{
	unsigned line = 1;
	size_t n;

	while (line < r->line && text && *text) {
		if (*text++ == '\n')
			line++;
	}
	n = text ? strcspn(text, "#\n") : 0;
	while (n && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	if (!n || n >= len) {
		snprintf(buf, len, "%s", r->name);
		return;
	}
	memcpy(buf, text, n);
	buf[n] = '\0';
}

/* The argument each system call is filtered on in policy/, and the names
 * its values may have in the constant table. */
static const struct {
	int nr;
	unsigned arg;
	uint64_t mask;
	const char *prefix[2];
} policy_learn_args[] = {
	{ SCMP_SYS(ioctl), 1, ~0ull, { "KVM_", "BLK" } },
	{ SCMP_SYS(fcntl), 1, ~0ull, { "F_", NULL } },
	{ SCMP_SYS(mmap), 2, PROT_EXEC, { "PROT_", NULL } },
	{ SCMP_SYS(mprotect), 2, PROT_EXEC, { "PROT_", NULL } },
	{ SCMP_SYS(write), 0, ~0ull, { NULL, NULL } },
	{ SCMP_SYS(rt_sigaction), 0, ~0ull, { "SIG", NULL } },
	{ SCMP_SYS(tgkill), 2, ~0ull, { "SIG", NULL } },
	{ SCMP_SYS(sched_setattr), 0, ~0ull, { NULL, NULL } },
};

#define POLICY_NLEARN (sizeof(policy_learn_args) / sizeof(policy_learn_args[0]))

void policy_learn_key(int nr, const uint64_t args[6],
		      struct policy_learned *key)
{
	size_t i;

	memset(key, 0, sizeof(*key));
	key->nr = nr;
	key->arg = -1;
	for (i = 0; i < POLICY_NLEARN; i++) {
		if (policy_learn_args[i].nr != nr)
			continue;
		key->arg = (int)policy_learn_args[i].arg;
		key->mask = policy_learn_args[i].mask;
		key->value = args[key->arg] & key->mask;
		return;
	}
}

/* A value as a policy file would write it: a name of the kind the
 * prefixes allow, else a number. */
static void policy_value_text(uint64_t v, const char *const prefix[2],
			      char *buf, size_t len)
{
	size_t i, k;

	for (i = 0; v && i < sizeof(policy_consts) / sizeof(policy_consts[0]);
	     i++) {
		for (k = 0; k < 2 && prefix[k]; k++) {
			if (policy_consts[i].value == v &&
			    strncmp(policy_consts[i].name, prefix[k],
				    strlen(prefix[k])) == 0) {
				snprintf(buf, len, "%s", policy_consts[i].name);
				return;
			}
		}
	}
	if (v < 4096)
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)v);
}

int policy_learned_text(const struct policy_learned *key, char *buf, size_t len)
{
	static const char *const none[2] = { NULL, NULL };
	const char *const *prefix = none;
	char name[40], mask[40], value[40], *s;
	size_t i;

	s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, key->nr);
	if (s)
		snprintf(name, sizeof(name), "%s", s);
	else
		snprintf(name, sizeof(name), "unknown_%d", key->nr);
	free(s);
	if (key->arg < 0)
		return snprintf(buf, len, "%s", name);
	for (i = 0; i < POLICY_NLEARN; i++) {
		if (policy_learn_args[i].nr == key->nr)
			prefix = policy_learn_args[i].prefix;
	}
	policy_value_text(key->value, prefix, value, sizeof(value));
	if (key->mask == ~0ull)
		return snprintf(buf, len, "%s arg%d == %s", name, key->arg,
				value);
	policy_value_text(key->mask, prefix, mask, sizeof(mask));
	return snprintf(buf, len, "%s arg%d & %s == %s", name, key->arg, mask,
			value);
}
