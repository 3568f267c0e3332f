/*
 * The control API of a running VM (proto/api.proto): VM names, the runtime
 * directory that holds each VM's control socket (docs/architecture.md,
 * "Runtime directory"), the broker's side of the socket (ctlsock.c), the
 * client (`cellvm ctl`, `cellvm list`: ctlclient.c) and the JSON it prints.
 */
#ifndef CELLVM_API_H
#define CELLVM_API_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define VM_NAME_MAX 64
#define RUNDIR_SOCK "ctl.sock"

struct family;
struct child;

/* rundir.c: [A-Za-z0-9_.-]{1,64}, not starting with '.'. */
bool vm_name_valid(const char *name);

/*
 * Where VM directories live: /run/cellvm as root, else
 * $XDG_RUNTIME_DIR/cellvm, else /tmp/cellvm-$UID. 0, or -ENAMETOOLONG.
 */
int rundir_base(char *buf, size_t len);

/* A VM's directory, held (flock) for as long as the VM runs. */
struct rundir {
	char path[4096];
	int dirfd;     /* -1: none */
	int reaper_fd; /* root: the pipe to the directory's reaper; -1 */
};

/*
 * Create (mode 0700) and hold the directory of VM name, removing what a
 * VM of that name that is gone left behind. -EEXIST when a VM of that
 * name runs; other -errno. Says why in one line.
 */
int rundir_claim(struct rundir *rd, const char *name);

/* Remove the socket and the directory, then let go of it. */
void rundir_release(struct rundir *rd);

/* The listening control socket in the held directory (mode 0600, non-
 * blocking): a descriptor, or -errno. */
int rundir_listen(struct rundir *rd);

/*
 * Connect to VM name's socket: a descriptor, -ENOENT when no VM of that
 * name runs, or another -errno.
 */
int rundir_connect(const char *name);

/* json.c: a writer of one JSON document, commas and escapes done here. */
struct json {
	FILE *out;
	unsigned depth;
	bool first[16]; /* nothing written yet at this depth */
};

void json_start(struct json *j, FILE *out);
/* Write s as a JSON string: quoted, escaped, invalid UTF-8 as U+FFFD. */
void json_string(FILE *out, const char *s);
/* key may be NULL inside arrays and at the top. */
void json_object(struct json *j, const char *key);
void json_array(struct json *j, const char *key);
void json_end(struct json *j, char close); /* '}' or ']' */
void json_str(struct json *j, const char *key, const char *v);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);

/*
 * ctlsock.c: the broker's side. Its descriptors are in the event loop's
 * epoll set as CTLSOCK_EV + 0 (the listening socket) and CTLSOCK_EV + 1 + i
 * (client i); ctlsock_event() takes what - CTLSOCK_EV.
 */
#define CTLSOCK_EV 0x400
int ctlsock_open(struct family *f);
int ctlsock_watch(struct family *f); /* once the event loop exists */
void ctlsock_event(struct family *f, unsigned what);
void ctlsock_paused(struct family *f); /* the runner's PauseReply */
void ctlsock_restarted(struct family *f, const struct child *c);
void ctlsock_close(struct family *f);

/* ctlclient.c: `cellvm ctl` and `cellvm list`; exit statuses. */
int ctl_main(int argc, char **argv);
int list_main(int argc, char **argv);

#endif
