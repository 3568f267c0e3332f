/*
 * Control messages: round trips with descriptors, descriptor references,
 * malformed packets and a closed peer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"

static int sv[2];

static int setup(void **state)
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
}

static int teardown(void **state)
{
	close(sv[0]);
	close(sv[1]);
	return 0;
}

static ino_t inode_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

static void test_setup_request_round_trips_with_descriptors(void **state)
{
	Cellvm__SetupDeviceRequest req = CELLVM__SETUP_DEVICE_REQUEST__INIT;
	ctl_msg m = CELLVM__CONTROL__INIT, *got;
	int p[2], fds[CTL_MAX_FDS], fd;
	int send_fds[2], nsend = 0;
	size_t nfds;

	assert_int_equal(pipe(p), 0);
	req.name = "uart";
	req.cpus = 4;
	req.gsi = 4;
	req.start = 0x3f8;
	req.ring_fd = ctl_add_fd(send_fds, &nsend, p[0]);
	req.state_fd = ctl_add_fd(send_fds, &nsend, p[1]);
	assert_int_equal(req.ring_fd, 1); /* 1-based: 0 means none */
	m.body_case = CELLVM__CONTROL__BODY_SETUP_DEVICE;
	m.setup_device = &req;
	assert_int_equal(ctl_send(sv[0], &m, send_fds, (size_t)nsend), 0);
	assert_int_equal(ctl_recv(sv[1], &got, fds, &nfds, 0), 0);
	assert_non_null(got);
	assert_int_equal(got->body_case, CELLVM__CONTROL__BODY_SETUP_DEVICE);
	assert_string_equal(got->setup_device->name, "uart");
	assert_int_equal(got->setup_device->cpus, 4);
	assert_int_equal(got->setup_device->start, 0x3f8);
	assert_int_equal(nfds, 2);
	fd = ctl_take_fd(fds, nfds, got->setup_device->state_fd);
	assert_true(fd >= 0);
	assert_int_equal(inode_of(fd), inode_of(p[1]));
	/* Received descriptors are close-on-exec. */
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* A descriptor is taken once; absent (0) and out-of-range fail. */
	assert_int_equal(ctl_take_fd(fds, nfds, got->setup_device->state_fd),
			 -EBADF);
	assert_int_equal(ctl_take_fd(fds, nfds, got->setup_device->in_fd),
			 -EBADF);
	assert_int_equal(ctl_take_fd(fds, nfds, 3), -EBADF);
	ctl_close_fds(fds, nfds);
	assert_int_equal(fds[0], -1);
	close(fd);
	close(p[0]);
	close(p[1]);
	ctl_free(got);
}

static void test_simple_and_error_messages_round_trip(void **state)
{
	int fds[CTL_MAX_FDS];
	size_t nfds;
	ctl_msg *got;

	assert_int_equal(ctl_send_simple(sv[0], CELLVM__CONTROL__BODY_DRAIN),
			 0);
	assert_int_equal(ctl_recv(sv[1], &got, fds, &nfds, 0), 0);
	assert_int_equal(got->body_case, CELLVM__CONTROL__BODY_DRAIN);
	ctl_free(got);
	assert_int_equal(ctl_send_error(sv[0], "bad %s %d", "thing", 7), 0);
	assert_int_equal(ctl_recv(sv[1], &got, fds, &nfds, 0), 0);
	assert_int_equal(got->body_case, CELLVM__CONTROL__BODY_ERROR);
	assert_string_equal(got->error->message, "bad thing 7");
	ctl_free(got);
	assert_int_equal(ctl_send_simple(sv[0], CELLVM__CONTROL__BODY_HELLO),
			 -EINVAL);
}

static void test_garbage_packet_is_refused_and_its_fds_closed(void **state)
{
	unsigned char junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02 };
	int fds[CTL_MAX_FDS];
	size_t nfds;
	ctl_msg *got;

	assert_int_equal(write(sv[0], junk, sizeof(junk)), sizeof(junk));
	assert_int_equal(ctl_recv(sv[1], &got, fds, &nfds, 0), -EBADMSG);
	assert_null(got);
	assert_int_equal(nfds, 0);
}

static void test_message_without_a_body_is_refused(void **state)
{
	unsigned char no_body[] = { 0x08, 0x01 }; /* an unknown field only */
	ctl_msg m = CELLVM__CONTROL__INIT;
	int fds[CTL_MAX_FDS];
	size_t nfds;
	ctl_msg *got;

	/* It would pack to nothing: indistinguishable from a closed peer. */
	assert_int_equal(ctl_send(sv[0], &m, NULL, 0), -EINVAL);
	assert_int_equal(write(sv[0], no_body, sizeof(no_body)),
			 sizeof(no_body));
	assert_int_equal(ctl_recv(sv[1], &got, fds, &nfds, 0), -EBADMSG);
}

static void test_nonblocking_receive_and_closed_peer(void **state)
{
	int fds[CTL_MAX_FDS];
	size_t nfds;
	ctl_msg *got;

	assert_int_equal(ctl_recv(sv[1], &got, fds, &nfds, 1), -EAGAIN);
	close(sv[0]);
	sv[0] = -1;
	assert_int_equal(ctl_recv(sv[1], &got, fds, &nfds, 0), 0);
	assert_null(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_setup_request_round_trips_with_descriptors, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_simple_and_error_messages_round_trip, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_garbage_packet_is_refused_and_its_fds_closed,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_message_without_a_body_is_refused, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_nonblocking_receive_and_closed_peer, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
