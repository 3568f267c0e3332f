#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl.h"

int ctl_send_packed(int sock, const uint8_t *buf, size_t len, const int *fds,
		    size_t nfds)
{
	union {
		char buf[CMSG_SPACE(CTL_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	struct iovec iov;
	ssize_t n;

	if (nfds > CTL_MAX_FDS)
		return -EINVAL;
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	do {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int ctl_send(int sock, const ctl_msg *msg, const int *fds, size_t nfds)
{
	uint8_t *buf;
	size_t len;
	int err;

	/* A message without a body packs to nothing, which the peer could
	 * not tell from a closed channel. */
	if (nfds > CTL_MAX_FDS ||
	    msg->body_case == CELLVM__CONTROL__BODY__NOT_SET)
		return -EINVAL;
	len = cellvm__control__get_packed_size(msg);
	if (len > CTL_MAX_MSG)
		return -EMSGSIZE;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	cellvm__control__pack(msg, buf);
	err = ctl_send_packed(sock, buf, len, fds, nfds);
	free(buf);
	return err;
}

/* Collect the descriptors of a received packet; -EBADMSG if malformed. */
static int ctl_collect_fds(struct msghdr *mh, int *fds, size_t *nfds)
{
	struct cmsghdr *cm;
	size_t n, i;
	int err = 0;

	*nfds = 0;
	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS) {
			err = -EBADMSG;
			continue;
		}
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(fd));
			if (*nfds < CTL_MAX_FDS)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	if (mh->msg_flags & (MSG_CTRUNC | MSG_TRUNC))
		err = -EBADMSG;
	return err;
}

int ctl_recv(int sock, ctl_msg **msg, int *fds, size_t *nfds, int nonblock)
{
	union {
		char buf[CMSG_SPACE(CTL_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct msghdr mh = { 0 };
	struct iovec iov;
	uint8_t *buf;
	ssize_t n;
	int err;

	*msg = NULL;
	*nfds = 0;
	buf = malloc(CTL_MAX_MSG);
	if (!buf)
		return -ENOMEM;
	iov.iov_base = buf;
	iov.iov_len = CTL_MAX_MSG;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	do {
		n = recvmsg(sock, &mh,
			    MSG_CMSG_CLOEXEC | (nonblock ? MSG_DONTWAIT : 0));
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		err = -errno;
		free(buf);
		return err;
	}
	err = ctl_collect_fds(&mh, fds, nfds);
	if (n == 0 && *nfds == 0 && !err) {
		free(buf);
		return 0; /* peer closed */
	}
	if (!err) {
		*msg = cellvm__control__unpack(NULL, (size_t)n, buf);
		if (!*msg ||
		    (*msg)->body_case == CELLVM__CONTROL__BODY__NOT_SET) {
			ctl_free(*msg);
			*msg = NULL;
			err = -EBADMSG;
		}
	}
	free(buf);
	if (err) {
		ctl_close_fds(fds, *nfds);
		*nfds = 0;
	}
	return err;
}

void ctl_free(ctl_msg *msg)
{
	if (msg)
		cellvm__control__free_unpacked(msg, NULL);
}

int ctl_add_fd(int *fds, int *nfds, int fd)
{
	fds[(*nfds)++] = fd;
	return *nfds;
}

int ctl_take_fd(int *fds, size_t nfds, int field)
{
	int fd;

	if (field <= 0 || (size_t)field > nfds)
		return -EBADF;
	fd = fds[field - 1];
	if (fd < 0)
		return -EBADF;
	fds[field - 1] = -1;
	return fd;
}

void ctl_close_fds(int *fds, size_t nfds)
{
	size_t i;

	for (i = 0; i < nfds; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int ctl_send_simple(int sock, Cellvm__Control__BodyCase which)
{
	Cellvm__ReadyNotice ready = CELLVM__READY_NOTICE__INIT;
	Cellvm__PauseRequest pause = CELLVM__PAUSE_REQUEST__INIT;
	Cellvm__PauseReply pause_reply = CELLVM__PAUSE_REPLY__INIT;
	Cellvm__ResumeRequest resume = CELLVM__RESUME_REQUEST__INIT;
	Cellvm__DrainRequest drain = CELLVM__DRAIN_REQUEST__INIT;
	ctl_msg m = CELLVM__CONTROL__INIT;

	m.body_case = which;
	switch (which) {
	case CELLVM__CONTROL__BODY_READY:
		m.ready = &ready;
		break;
	case CELLVM__CONTROL__BODY_PAUSE:
		m.pause = &pause;
		break;
	case CELLVM__CONTROL__BODY_PAUSE_REPLY:
		m.pause_reply = &pause_reply;
		break;
	case CELLVM__CONTROL__BODY_RESUME:
		m.resume = &resume;
		break;
	case CELLVM__CONTROL__BODY_DRAIN:
		m.drain = &drain;
		break;
	default:
		return -EINVAL;
	}
	return ctl_send(sock, &m, NULL, 0);
}

int ctl_send_hello(int sock, Cellvm__ProcKind kind, const char *name,
		   uint64_t state_size, uint64_t block_size,
		   unsigned blocks_per_cpu)
{
	Cellvm__HelloNotice h = CELLVM__HELLO_NOTICE__INIT;
	ctl_msg m = CELLVM__CONTROL__INIT;

	h.kind = kind;
	h.name = (char *)name;
	h.state_size = state_size;
	h.block_size = block_size;
	h.blocks_per_cpu = blocks_per_cpu;
	m.body_case = CELLVM__CONTROL__BODY_HELLO;
	m.hello = &h;
	return ctl_send(sock, &m, NULL, 0);
}

int ctl_send_error(int sock, const char *fmt, ...)
{
	Cellvm__ErrorReply e = CELLVM__ERROR_REPLY__INIT;
	ctl_msg m = CELLVM__CONTROL__INIT;
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	e.message = text;
	m.body_case = CELLVM__CONTROL__BODY_ERROR;
	m.error = &e;
	return ctl_send(sock, &m, NULL, 0);
}
