/*
 * Policy files: the parser accepts what policy.h documents and names the
 * line of anything else; the shipped files parse; a loaded filter kills a
 * process that strays outside it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy.h"

static struct policy pol;
static char err[256];

static void test_plain_syscalls_and_comments(void **state)
{
	const char *text = "# a comment\n"
			   "read\n"
			   "\n"
			   "write   # trailing comment\n";

	assert_int_equal(policy_parse(text, &pol, err, sizeof(err)), 0);
	assert_int_equal(pol.nrules, 2);
	assert_string_equal(pol.rule[0].name, "read");
	assert_int_equal(pol.rule[0].nr, SCMP_SYS(read));
	assert_int_equal(pol.rule[1].line, 4);
	assert_int_equal(pol.rule[1].ncond, 0);
}

static void test_conditions_with_constants_and_masks(void **state)
{
	const char *text = "ioctl arg1 == KVM_RUN\n"
			   "mmap arg2 & PROT_EXEC == 0\n"
			   "tgkill arg2 == SIGUSR1 && arg0 != 0\n"
			   "mprotect arg2 == PROT_READ|PROT_WRITE\n"
			   "write arg0 <= 0x2\n";
	const struct policy_cond *c;

	assert_int_equal(policy_parse(text, &pol, err, sizeof(err)), 0);
	assert_int_equal(pol.nrules, 5);
	c = &pol.rule[0].cond[0];
	assert_int_equal(c->arg, 1);
	assert_int_equal(c->op, POLICY_EQ);
	assert_int_equal(c->value, KVM_RUN);
	c = &pol.rule[1].cond[0];
	assert_int_equal(c->op, POLICY_MASKED_EQ);
	assert_int_equal(c->mask, PROT_EXEC);
	assert_int_equal(c->value, 0);
	assert_int_equal(pol.rule[2].ncond, 2);
	assert_int_equal(pol.rule[2].cond[1].op, POLICY_NE);
	assert_int_equal(pol.rule[3].cond[0].value, PROT_READ | PROT_WRITE);
	assert_int_equal(pol.rule[4].cond[0].op, POLICY_LE);
	assert_int_equal(pol.rule[4].cond[0].value, 2);
}

static void expect_error(const char *text, const char *what)
{
	assert_int_not_equal(policy_parse(text, &pol, err, sizeof(err)), 0);
	if (!strstr(err, what))
		fail_msg("error '%s' does not mention '%s'", err, what);
}

static void test_errors_name_the_line_and_the_problem(void **state)
{
	expect_error("read\nnot_a_syscall\n", "line 2: unknown system call");
	expect_error("ioctl arg1 == NO_SUCH_CONSTANT\n", "unknown value");
	expect_error("ioctl arg7 == 1\n", "expected arg0..arg5");
	expect_error("ioctl arg1 =~ 1\n", "<op>");
	expect_error("ioctl arg1 == 1 arg2 == 2\n", "joined by '&&'");
	expect_error("mmap arg2 & PROT_EXEC != 0\n", "compared with '=='");
	expect_error("ioctl arg1 == 0x12z\n", "unknown value");
	expect_error("read arg0 == 1 &&\n", "'&&'");
}

static void test_too_many_conditions_are_refused(void **state)
{
	expect_error("read arg0 == 1 && arg1 == 1 && arg2 == 1 && arg3 == 1 "
		     "&& arg4 == 1 && arg5 == 1 && arg0 == 2\n",
		     "too many conditions");
}

static void test_constant_table_lookup(void **state)
{
	uint64_t v;

	assert_int_equal(policy_constant("KVM_CREATE_VM", &v), 0);
	assert_int_equal(v, KVM_CREATE_VM);
	assert_int_not_equal(policy_constant("KVM_NOPE", &v), 0);
}

/* Every file in policy/ must parse: a typo must fail the build's tests. */
static void test_shipped_policy_files_parse(void **state)
{
	char path[4096], *text;
	struct dirent *e;
	unsigned n = 0;
	DIR *d = opendir(POLICY_DIR);
	FILE *f;
	long len;

	assert_non_null(d);
	while ((e = readdir(d))) {
		if (!strstr(e->d_name, ".policy"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", POLICY_DIR, e->d_name);
		f = fopen(path, "r");
		assert_non_null(f);
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		rewind(f);
		text = calloc(1, (size_t)len + 1);
		assert_int_equal(fread(text, 1, (size_t)len, f), len);
		fclose(f);
		if (policy_parse(text, &pol, err, sizeof(err)) != 0)
			fail_msg("%s: %s", e->d_name, err);
		assert_true(pol.nrules > 0);
		free(text);
		n++;
	}
	closedir(d);
	assert_true(n >= 4);
}

static void test_loaded_filter_kills_a_stray_system_call(void **state)
{
	const char *text = "write\nexit_group\n";
	int status;
	pid_t pid;

	assert_int_equal(policy_parse(text, &pol, err, sizeof(err)), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (policy_load(&pol, SCMP_ACT_KILL_PROCESS) != 0)
			_exit(10);
		syscall(SYS_getppid); /* not in the policy */
		_exit(11);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void test_loaded_filter_checks_arguments(void **state)
{
	const char *text = "write arg0 == 2\nexit_group\n";
	int status;
	pid_t pid;

	assert_int_equal(policy_parse(text, &pol, err, sizeof(err)), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (policy_load(&pol, SCMP_ACT_KILL_PROCESS) != 0)
			_exit(10);
		if (write(2, "", 0) != 0)
			_exit(12);
		syscall(SYS_write, 1, "", 0); /* fd 1: not allowed */
		_exit(11);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void expect_learned(int nr, const uint64_t args[6], const char *want)
{
	struct policy_learned k;
	char buf[128];

	policy_learn_key(nr, args, &k);
	policy_learned_text(&k, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

/* `cellvm policy learn` writes what it saw as policy lines: the argument
 * our policies filter that call on, by name where the table has one of
 * the right kind, else a number. */
static void test_learned_calls_print_as_policy_rules(void **state)
{
	uint64_t a[6] = { 0 };

	expect_learned(SCMP_SYS(getpid), a, "getpid");
	a[1] = KVM_RUN;
	expect_learned(SCMP_SYS(ioctl), a, "ioctl arg1 == KVM_RUN");
	a[1] = BLKGETSIZE64;
	expect_learned(SCMP_SYS(ioctl), a, "ioctl arg1 == BLKGETSIZE64");
	a[1] = 0xc0de4321;
	expect_learned(SCMP_SYS(ioctl), a, "ioctl arg1 == 0xc0de4321");
	a[1] = F_GET_SEALS;
	expect_learned(SCMP_SYS(fcntl), a, "fcntl arg1 == F_GET_SEALS");
	a[2] = PROT_READ | PROT_WRITE;
	expect_learned(SCMP_SYS(mmap), a, "mmap arg2 & PROT_EXEC == 0");
	a[2] = PROT_READ | PROT_EXEC;
	expect_learned(SCMP_SYS(mprotect), a,
		       "mprotect arg2 & PROT_EXEC == PROT_EXEC");
	a[0] = 2;
	expect_learned(SCMP_SYS(write), a, "write arg0 == 2");
	a[2] = SIGUSR1;
	expect_learned(SCMP_SYS(tgkill), a, "tgkill arg2 == SIGUSR1");
	/* 2 is PROT_WRITE, MAP_PRIVATE, F_SETFD and SIGINT in the table: a
	 * value is named for what that argument is. */
	a[2] = 2;
	expect_learned(SCMP_SYS(tgkill), a, "tgkill arg2 == SIGINT");
	a[1] = 2;
	expect_learned(SCMP_SYS(fcntl), a, "fcntl arg1 == F_SETFD");
	a[0] = 33;
	expect_learned(SCMP_SYS(rt_sigaction), a, "rt_sigaction arg0 == 33");
	a[0] = 0;
	expect_learned(SCMP_SYS(sched_setattr), a, "sched_setattr arg0 == 0");
}

/* Each learned rule parses back into a rule that allows the call it was
 * learned from; two calls with the same key print the same line. */
static void test_learned_rules_parse_and_allow_their_call(void **state)
{
	uint64_t a[6] = { 7, KVM_SET_REGS, PROT_READ, 0, 0, 0 };
	int nrs[] = { SCMP_SYS(ioctl), SCMP_SYS(write), SCMP_SYS(mmap),
		      SCMP_SYS(close) };
	struct policy_learned k1, k2;
	char buf[128];
	size_t i;

	for (i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
		policy_learn_key(nrs[i], a, &k1);
		policy_learned_text(&k1, buf, sizeof(buf));
		assert_int_equal(policy_parse(buf, &pol, err, sizeof(err)), 0);
		assert_true(policy_allows(&pol, nrs[i], a, NULL));
	}
	policy_learn_key(SCMP_SYS(ioctl), a, &k1);
	a[0] = 8; /* another descriptor, the same request */
	policy_learn_key(SCMP_SYS(ioctl), a, &k2);
	assert_memory_equal(&k1, &k2, sizeof(k1));
}

/* The broker's check of a call against the reviewed policy is the
 * filter's: any rule of that call whose conditions all hold. */
static void test_allows_is_what_the_filter_does(void **state)
{
	const char *text = "write arg0 == 2\n"
			   "mmap arg2 & PROT_EXEC == 0\n"
			   "ioctl arg1 == KVM_RUN\n"
			   "ioctl arg1 == KVM_NMI\n"
			   "tgkill arg2 == SIGUSR1 && arg0 != 0\n"
			   "close\n";
	uint64_t a[6] = { 0 }, hits[6] = { 0 };

	assert_int_equal(policy_parse(text, &pol, err, sizeof(err)), 0);
	a[0] = 2;
	assert_true(policy_allows(&pol, SCMP_SYS(write), a, hits));
	a[0] = 1;
	assert_false(policy_allows(&pol, SCMP_SYS(write), a, hits));
	a[2] = PROT_READ | PROT_EXEC;
	assert_false(policy_allows(&pol, SCMP_SYS(mmap), a, hits));
	a[2] = PROT_READ;
	assert_true(policy_allows(&pol, SCMP_SYS(mmap), a, hits));
	a[1] = KVM_NMI;
	assert_true(policy_allows(&pol, SCMP_SYS(ioctl), a, hits));
	a[0] = 0;
	a[2] = SIGUSR1;
	assert_false(policy_allows(&pol, SCMP_SYS(tgkill), a, hits));
	assert_false(policy_allows(&pol, SCMP_SYS(getpid), a, hits));
	assert_true(policy_allows(&pol, SCMP_SYS(close), a, hits));
	assert_int_equal(hits[0], 1);
	assert_int_equal(hits[1], 1);
	assert_int_equal(hits[2], 0);
	assert_int_equal(hits[3], 1);
	assert_int_equal(hits[4], 0);
	assert_int_equal(hits[5], 1);
}

static void test_rule_text_is_the_line_as_written(void **state)
{
	const char *text = "# head\n"
			   "ioctl   arg1 == KVM_RUN   # why\n"
			   "close\n";
	char buf[64];

	assert_int_equal(policy_parse(text, &pol, err, sizeof(err)), 0);
	policy_rule_text(text, &pol.rule[0], buf, sizeof(buf));
	assert_string_equal(buf, "ioctl   arg1 == KVM_RUN");
	policy_rule_text(text, &pol.rule[1], buf, sizeof(buf));
	assert_string_equal(buf, "close");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_syscalls_and_comments),
		cmocka_unit_test(test_conditions_with_constants_and_masks),
		cmocka_unit_test(test_errors_name_the_line_and_the_problem),
		cmocka_unit_test(test_too_many_conditions_are_refused),
		cmocka_unit_test(test_constant_table_lookup),
		cmocka_unit_test(test_shipped_policy_files_parse),
		cmocka_unit_test(test_loaded_filter_kills_a_stray_system_call),
		cmocka_unit_test(test_loaded_filter_checks_arguments),
		cmocka_unit_test(test_learned_calls_print_as_policy_rules),
		cmocka_unit_test(test_learned_rules_parse_and_allow_their_call),
		cmocka_unit_test(test_allows_is_what_the_filter_does),
		cmocka_unit_test(test_rule_text_is_the_line_as_written),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
