/*
 * VM names and the runtime directory (broker/rundir.c): which names pass,
 * where the directory goes, and that a name held by one VM is refused to
 * a second and free again once the first lets go.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api.h"
#include "log.h"

static void test_good_names_pass(void **state)
{
	char longest[VM_NAME_MAX + 1];

	memset(longest, 'a', VM_NAME_MAX);
	longest[VM_NAME_MAX] = '\0';
	assert_true(vm_name_valid("a"));
	assert_true(vm_name_valid("vm-1234"));
	assert_true(vm_name_valid("Tenant_A.web-01"));
	assert_true(vm_name_valid("0"));
	assert_true(vm_name_valid("a..b"));
	assert_true(vm_name_valid(longest));
}

static void test_bad_names_are_refused(void **state)
{
	char too_long[VM_NAME_MAX + 2];

	memset(too_long, 'a', VM_NAME_MAX + 1);
	too_long[VM_NAME_MAX + 1] = '\0';
	assert_false(vm_name_valid(NULL));
	assert_false(vm_name_valid(""));
	assert_false(vm_name_valid(too_long));
	/* Hidden files, ".", ".." and paths are never names. */
	assert_false(vm_name_valid("."));
	assert_false(vm_name_valid(".."));
	assert_false(vm_name_valid(".ids"));
	assert_false(vm_name_valid("a/b"));
	assert_false(vm_name_valid("../etc"));
	assert_false(vm_name_valid("vm 1"));
	assert_false(vm_name_valid("vm\n"));
	assert_false(vm_name_valid("caf\xc3\xa9"));
	assert_false(vm_name_valid("a:b"));
	assert_false(vm_name_valid("a*"));
}

static void test_base_depends_on_the_user(void **state)
{
	char buf[4096], want[64];

	if (geteuid() == 0) {
		assert_int_equal(rundir_base(buf, sizeof(buf)), 0);
		assert_string_equal(buf, "/run/cellvm");
		return;
	}
	setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
	assert_int_equal(rundir_base(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/user/4242/cellvm");
	/* Only an absolute path counts. */
	setenv("XDG_RUNTIME_DIR", "relative", 1);
	assert_int_equal(rundir_base(buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "/tmp/cellvm-%u", (unsigned)geteuid());
	assert_string_equal(buf, want);
	unsetenv("XDG_RUNTIME_DIR");
	assert_int_equal(rundir_base(buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	assert_int_equal(rundir_base(buf, 8), -ENAMETOOLONG);
}

static void test_a_held_name_is_refused_until_released(void **state)
{
	struct rundir a, b;
	struct sockaddr_un sun;
	char name[32], sock[4200];
	struct stat st;
	int fd;

	snprintf(name, sizeof(name), "unit-test-%d", (int)getpid());
	assert_int_equal(rundir_claim(&a, name), 0);
	assert_int_equal(stat(a.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	fd = rundir_listen(&a);
	assert_true(fd >= 0);
	snprintf(sock, sizeof(sock), "%s/%s", a.path, RUNDIR_SOCK);
	assert_int_equal(stat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	/* flock is per open file: a second claim in this process fails too. */
	assert_int_equal(rundir_claim(&b, name), -EEXIST);
	close(fd);
	rundir_release(&a);
	assert_int_equal(stat(a.path, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(rundir_connect(name), -ENOENT);
	/* A VM that died left its socket: the name is free, and the socket
	 * goes (else the new one could not be bound). */
	assert_int_equal(mkdir(a.path, 0700), 0);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_true(strlen(sock) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, sock, strlen(sock) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(rundir_connect(name), -ENOENT);
	assert_int_equal(rundir_claim(&b, name), 0);
	assert_int_equal(stat(sock, &st), -1);
	fd = rundir_listen(&b);
	assert_true(fd >= 0);
	assert_int_equal(rundir_connect(name) >= 0, 1);
	close(fd);
	rundir_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_names_pass),
		cmocka_unit_test(test_bad_names_are_refused),
		cmocka_unit_test(test_base_depends_on_the_user),
		cmocka_unit_test(test_a_held_name_is_refused_until_released),
	};

	log_set_level(-1); /* the refusal's one line is expected */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
