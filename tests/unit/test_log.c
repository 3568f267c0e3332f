/*
 * Log lines (lib/log.c): the head names the VM, the process and its pid
 * ("cellvm[vm1]: ", "cellvm-dev-uart[vm1/12345]: "); a child learns the VM
 * and the relay from its environment, the broker does not; a relayed line
 * carries its priority; each line is one write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* What one log_msg() call writes to stderr, read back from a pipe. */
static char *logged(int level, const char *msg)
{
	static char buf[2048];
	int p[2], saved;
	ssize_t n;

	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	saved = dup(STDERR_FILENO);
	dup2(p[1], STDERR_FILENO);
	log_msg(level, "%s", msg);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	close(p[1]);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int setup(void **state)
{
	unsetenv("CELLVM_VM");
	unsetenv("CELLVM_LOG");
	log_set_sink(NULL);
	log_set_level(LOG_DEBUG);
	return 0;
}

static void test_the_broker_says_its_vm_once_it_has_one(void **state)
{
	log_init("cellvm", 0);
	assert_string_equal(logged(LOG_ERR, "invalid --mem"),
			    "cellvm: invalid --mem\n");
	log_set_vm("vm1");
	assert_string_equal(log_name(), "cellvm[vm1]");
	assert_string_equal(logged(LOG_WARN, "restarted"),
			    "cellvm[vm1]: restarted\n");
	assert_string_equal(log_vm(), "vm1");
	assert_string_equal(log_process(), "cellvm");
}

static void test_a_child_says_vm_and_host_pid(void **state)
{
	char want[128];

	setenv("CELLVM_VM", "web-1.a_b", 1);
	log_init("cellvm-dev-uart", 1);
	snprintf(want, sizeof(want), "cellvm-dev-uart[web-1.a_b/%d]: hello\n",
		 (int)getpid());
	assert_string_equal(logged(LOG_WARN, "hello"), want);
}

static void test_a_child_without_a_vm_says_its_pid(void **state)
{
	char want[128];

	log_init("cellvm-mmu", 1);
	snprintf(want, sizeof(want), "cellvm-mmu[%d]", (int)getpid());
	assert_string_equal(log_name(), want);
}

static void test_a_vm_name_that_could_break_the_head_is_left_out(void **state)
{
	static char longest[LOG_VM_MAX + 2];
	const char *const bad[] = {
		"a/b", "x]y", "a b", ".hidden", "", longest
	};
	char want[128];
	unsigned i;

	memset(longest, 'v', LOG_VM_MAX + 1);
	snprintf(want, sizeof(want), "cellvm-dev-pit[%d]", (int)getpid());
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("CELLVM_VM", bad[i], 1);
		log_init("cellvm-dev-pit", 1);
		assert_string_equal(log_name(), want);
	}
	/* 64 is the longest name there is. */
	setenv("CELLVM_VM", longest + 1, 1);
	log_init("cellvm-dev-pit", 1);
	assert_non_null(strstr(log_name(), longest + 1));
}

static void test_the_broker_takes_nothing_from_its_environment(void **state)
{
	setenv("CELLVM_VM", "other", 1);
	setenv("CELLVM_LOG", "relay", 1);
	log_init("cellvm", 0);
	assert_string_equal(logged(LOG_ERR, "x"), "cellvm: x\n");
}

static void test_a_relayed_child_line_starts_with_its_priority(void **state)
{
	char want[128];

	setenv("CELLVM_VM", "vm1", 1);
	setenv("CELLVM_LOG", "relay", 1);
	log_init("cellvm-dev-rtc", 1);
	snprintf(want, sizeof(want), "<4>cellvm-dev-rtc[vm1/%d]: w\n",
		 (int)getpid());
	assert_string_equal(logged(LOG_WARN, "w"), want);
	assert_int_equal(logged(LOG_ERR, "e")[1], '3');
	assert_int_equal(logged(LOG_INFO, "i")[1], '6');
	assert_int_equal(logged(LOG_DEBUG, "d")[1], '7');
}

static char sunk[2048];
static int sunk_level;

static void sink(int level, const char *line, size_t len)
{
	memcpy(sunk, line, len);
	sunk[len] = '\0';
	sunk_level = level;
}

static void test_a_sink_gets_the_line_without_its_newline(void **state)
{
	log_init("cellvm", 0);
	log_set_vm("vm2");
	log_set_sink(sink);
	assert_string_equal(logged(LOG_INFO, "to the journal"), "");
	assert_string_equal(sunk, "cellvm[vm2]: to the journal");
	assert_int_equal(sunk_level, LOG_INFO);
	log_set_sink(NULL);
}

static void test_a_long_message_is_one_line_cut_short(void **state)
{
	static char msg[4096];
	char *out;

	memset(msg, 'm', sizeof(msg) - 1);
	log_init("cellvm", 0);
	out = logged(LOG_ERR, msg);
	assert_int_equal(strlen(out), 1023);
	assert_ptr_equal(strchr(out, '\n'), out + 1022);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(
			test_the_broker_says_its_vm_once_it_has_one, setup),
		cmocka_unit_test_setup(test_a_child_says_vm_and_host_pid,
				       setup),
		cmocka_unit_test_setup(test_a_child_without_a_vm_says_its_pid,
				       setup),
		cmocka_unit_test_setup(
			test_a_vm_name_that_could_break_the_head_is_left_out,
			setup),
		cmocka_unit_test_setup(
			test_the_broker_takes_nothing_from_its_environment,
			setup),
		cmocka_unit_test_setup(
			test_a_relayed_child_line_starts_with_its_priority,
			setup),
		cmocka_unit_test_setup(
			test_a_sink_gets_the_line_without_its_newline, setup),
		cmocka_unit_test_setup(
			test_a_long_message_is_one_line_cut_short, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
