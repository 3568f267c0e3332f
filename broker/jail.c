/*
 * The jail every child runs in (ARCHITECTURE.md, "Sandboxing"), the
 * broker's half of it:
 *
 *   - the VM's host uid/gid: --uid/--gid, else, for a broker run as root,
 *     one allocated from JAIL_ID_BASE.. by an flock on
 *     /run/cellvm/.ids/SLOT held for the VM's life, else the broker's own;
 *   - once everything is opened, a root broker drops to that uid/gid, so
 *     that it and its children are one unprivileged user on the host;
 *   - each child is cloned into new user, mount, pid, ipc, uts and network
 *     namespaces with a pidfd, and before it execs maps its uid and gid 0
 *     to the VM's (the one mapping an unprivileged process may write, so a
 *     restart needs no privilege) and takes its resource limits;
 *   - after exec, sandbox_enter() (lib/sandbox.c) pivots it into an empty
 *     read-only root.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"

#define JAIL_ID_BASE 0x10000000u
#define JAIL_ID_SLOTS 4096u
#define JAIL_RUN_DIR "/run/cellvm"
/* Not a VM name (rundir.c): those never start with a dot. */
#define JAIL_IDS_DIR JAIL_RUN_DIR "/.ids"

#define JAIL_NS                                                      \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | \
	 CLONE_NEWUTS | CLONE_NEWNET)

#define MIB (1ull << 20)

/* The first free slot of the range: its lock stays held until we exit. */
static int jail_allocate(struct jail *j)
{
	char path[64];
	unsigned slot;
	int fd;

	if ((mkdir(JAIL_RUN_DIR, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(JAIL_IDS_DIR, 0700) < 0 && errno != EEXIST)) {
		log_err("cannot make %s: %s", JAIL_IDS_DIR, strerror(errno));
		return -errno;
	}
	for (slot = 0; slot < JAIL_ID_SLOTS; slot++) {
		snprintf(path, sizeof(path), JAIL_IDS_DIR "/%u", slot);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			  0600);
		if (fd < 0) {
			log_err("cannot open %s: %s", path, strerror(errno));
			return -errno;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			j->lock_fd = fd;
			j->uid = JAIL_ID_BASE + slot;
			j->gid = JAIL_ID_BASE + slot;
			return 0;
		}
		close(fd);
	}
	log_err("all %u VM ids in use (%s)", JAIL_ID_SLOTS, JAIL_IDS_DIR);
	return -EUSERS;
}

static int jail_ids(struct family *f)
{
	const struct options *o = f->opt;
	struct jail *j = &f->jail;
	int r;

	if (geteuid() != 0) {
		j->uid = geteuid();
		j->gid = getegid();
		if ((o->uid >= 0 && (uid_t)o->uid != j->uid) ||
		    (o->gid >= 0 && (gid_t)o->gid != j->gid)) {
			log_err("--uid and --gid other than your own need "
				"root");
			return -EPERM;
		}
		return 0;
	}
	if (o->uid < 0) {
		r = jail_allocate(j);
		if (r < 0)
			return r;
	} else {
		j->uid = j->gid = (uid_t)o->uid;
	}
	if (o->gid >= 0)
		j->gid = (gid_t)o->gid;
	return 0;
}

/* Root no more: the VM's uid and gid, no supplementary groups, and no
 * way back through a set-user-ID program. */
static int jail_drop(const struct jail *j)
{
	uid_t r, e, s;

	if (geteuid() == 0 &&
	    (setgroups(0, NULL) < 0 || setresgid(j->gid, j->gid, j->gid) < 0 ||
	     setresuid(j->uid, j->uid, j->uid) < 0)) {
		log_err("cannot become uid %u gid %u: %s", j->uid, j->gid,
			strerror(errno));
		return -errno;
	}
	if (getresuid(&r, &e, &s) < 0 || r != j->uid || e != j->uid ||
	    s != j->uid) {
		log_err("still not uid %u", j->uid);
		return -EPERM;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

int jail_setup(struct family *f)
{
	struct jail *j = &f->jail;
	int r;

	r = jail_ids(f);
	if (r < 0)
		return r;
	/* The binaries, found now: a restart execs them as the VM's uid,
	 * which may not be able to walk to them. */
	j->dir_fd = open(f->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (j->dir_fd < 0) {
		log_err("cannot open %s: %s", f->dir, strerror(errno));
		return -errno;
	}
	r = jail_drop(j);
	if (r < 0)
		return r;
	j->ns = true;
	log_info("processes run as uid %u gid %u", j->uid, j->gid);
	return 0;
}

void jail_close(struct family *f)
{
	if (f->jail.dir_fd >= 0)
		close(f->jail.dir_fd);
	if (f->jail.lock_fd >= 0)
		close(f->jail.lock_fd);
	f->jail.dir_fd = f->jail.lock_fd = -1;
}

static pid_t jail_clone3(uint64_t flags, int *pidfd)
{
	struct clone_args a;

	memset(&a, 0, sizeof(a));
	a.flags = flags | CLONE_PIDFD;
	a.pidfd = (uint64_t)(uintptr_t)pidfd;
	a.exit_signal = SIGCHLD;
	return (pid_t)syscall(SYS_clone3, &a, sizeof(a));
}

pid_t jail_clone(struct family *f, int *pidfd)
{
	struct jail *j = &f->jail;
	pid_t pid;

	if (!j->ns)
		return jail_clone3(0, pidfd);
	pid = jail_clone3(JAIL_NS, pidfd);
	if (pid >= 0 || (errno != EPERM && errno != EINVAL && errno != ENOSPC &&
			 errno != EUSERS))
		return pid;
	/* User namespaces disabled (user.max_user_namespaces = 0, or a
	 * distribution's switch): say so once and go on without. */
	log_warn("cannot make namespaces for the VM's processes (%s): they "
		 "run without them and without an empty root",
		 strerror(errno));
	j->ns = false;
	return jail_clone3(0, pidfd);
}

static int jail_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		r = -errno;
	close(fd);
	return r;
}

/* Uid and gid 0 inside are the VM's ids outside; nothing else maps. */
static int jail_map(const struct jail *j)
{
	char map[32];
	int r;

	/* /proc/self is ours to write only while we are dumpable, which a
	 * broker that changed uid is not (and so neither its fork). */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return -errno;
	r = jail_write("/proc/self/setgroups", "deny");
	if (r < 0)
		return r;
	snprintf(map, sizeof(map), "0 %u 1\n", j->uid);
	r = jail_write("/proc/self/uid_map", map);
	if (r < 0)
		return r;
	snprintf(map, sizeof(map), "0 %u 1\n", j->gid);
	return jail_write("/proc/self/gid_map", map);
}

static int jail_limit(int resource, uint64_t value)
{
	struct rlimit rl = { value, value };

	return setrlimit(resource, &rl) < 0 ? -errno : 0;
}

/*
 * What a child may hold, from the VM's size: descriptors (the runner one
 * per vCPU more), tasks and address space (guest RAM for those that map
 * it; the MMU service also reads the kernel and initrd, each smaller than
 * RAM, into memory). The runner's tasks: main, the vCPU threads, the
 * kicker, and KVM's NX huge page recovery worker, a task of the process
 * that made the VM since Linux 6.13; one to spare. Tasks are counted per
 * user namespace, so only a jailed child gets that limit.
 */
static int jail_limits(struct family *f, const struct child *c)
{
	const struct options *o = f->opt;
	uint64_t files = 64, tasks = 1, as = 256 * MIB;
	int r;

	switch (c->kind) {
	case CHILD_VCPU:
		files += o->cpus;
		tasks += o->cpus + 3;
		as += o->mem + o->cpus * 16 * MIB;
		break;
	case CHILD_MMU:
		as += 2 * o->mem;
		break;
	case CHILD_DEVICE:
		if (c->dev->virtio_type)
			as += o->mem;
		break;
	}
	r = jail_limit(RLIMIT_CORE, 0);
	if (!r)
		r = jail_limit(RLIMIT_NOFILE, files);
	if (!r)
		r = jail_limit(RLIMIT_AS, as);
	if (!r && f->jail.ns)
		r = jail_limit(RLIMIT_NPROC, tasks);
	return r;
}

int jail_child(struct family *f, const struct child *c)
{
	int r = 0;

	if (f->jail.ns)
		r = jail_map(&f->jail);
	if (!r)
		r = jail_limits(f, c);
	return r;
}
