/*
 * The control channel: one SOCK_SEQPACKET socket per child, one protobuf-c
 * Control message per packet, descriptors alongside as SCM_RIGHTS.
 *
 * Descriptor fields in messages hold 1 + an index into the packet's
 * descriptor array (0: none). ctl_take_fd() resolves such a field; whatever
 * a handler does not take is closed by ctl_close_fds().
 */
#ifndef CELLVM_CTL_H
#define CELLVM_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "proto/control.pb-c.h"

#define CTL_MAX_MSG 65536
#define CTL_MAX_FDS 64
#define CTL_FD 3 /* where a child finds its control socket */

typedef Cellvm__Control ctl_msg;

/* Send msg with nfds descriptors. Returns 0 or -errno. */
int ctl_send(int sock, const ctl_msg *msg, const int *fds, size_t nfds);

/* Send a message packed already (cellvm__control__pack): sendmsg(2) is
 * its one system call, no allocation. Returns 0 or -errno. */
int ctl_send_packed(int sock, const uint8_t *buf, size_t len, const int *fds,
		    size_t nfds);

/*
 * Receive one message. Returns 0 with *msg set (free it with ctl_free), 0
 * with *msg NULL when the peer has closed the channel, or -errno; a
 * malformed packet is -EBADMSG. Descriptors are received close-on-exec into
 * fds (at most CTL_MAX_FDS) and counted in *nfds.
 * With nonblock set, -EAGAIN when no packet is waiting.
 */
int ctl_recv(int sock, ctl_msg **msg, int *fds, size_t *nfds, int nonblock);

void ctl_free(ctl_msg *msg);

/* Append fd to a packet's descriptors; returns the field value for it. */
int ctl_add_fd(int *fds, int *nfds, int fd);

/* Resolve a descriptor field (1-based, 0 none): the fd, or -EBADF. */
int ctl_take_fd(int *fds, size_t nfds, int field);

/* Close every descriptor not taken. */
void ctl_close_fds(int *fds, size_t nfds);

/* Send a bare message of the given body case (no payload fields). */
int ctl_send_simple(int sock, Cellvm__Control__BodyCase which);

/* Child -> broker, once it is sandboxed. The state layout: devices only
 * (state_size 0 for others). */
int ctl_send_hello(int sock, Cellvm__ProcKind kind, const char *name,
		   uint64_t state_size, uint64_t block_size,
		   unsigned blocks_per_cpu);

/* Send an ErrorReply carrying a printf-style message. */
int ctl_send_error(int sock, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
