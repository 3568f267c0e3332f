/*
 * Test triggers and the escape attempts (see trigger.h). Built into test
 * builds only: a release binary holds none of this.
 *
 * Every attempt is made with syscall(2), not through a libc wrapper that
 * might make another system call first (glibc's setuid() signals every
 * thread, its fstatat() may become statx()): the call the filter sees is the
 * one named here.
 */
#include "trigger.h"

#if CELLVM_TEST_HOOKS

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

#define A(x) CELLVM__TEST_TRIGGER_REQUEST__ACTION__##x

/* Descriptors a compromised device would guess at (its own are 0-3). */
#define ESCAPE_GUESS_FDS 64
#define ESCAPE_PAGE 4096

static const char *const trigger_names[] = {
	[A(BAD_SYSCALL)] = "bad-syscall",
	[A(CORRUPT_STATE)] = "corrupt-state",
	[A(OPEN_FILE)] = "open-file",
	[A(CREATE_FILE)] = "create-file",
	[A(STAT_FILE)] = "stat-file",
	[A(OPEN_KVM)] = "open-kvm",
	[A(CONNECT)] = "connect",
	[A(SOCKETPAIR)] = "socketpair",
	[A(EXECVE)] = "execve",
	[A(PTRACE)] = "ptrace",
	[A(KILL)] = "kill",
	[A(STEAL_FD)] = "steal-fd",
	[A(READ_MEMORY)] = "read-memory",
	[A(MMAP_FDS)] = "mmap-fds",
	[A(MEMFD)] = "memfd",
	[A(SETUID)] = "setuid",
	[A(CAPSET)] = "capset",
	[A(UNSHARE)] = "unshare",
	[A(KEEP_FD)] = "keep-fd",
	[A(LOG_FLOOD)] = "log-flood",
};

#define TRIGGER_NACTIONS (sizeof(trigger_names) / sizeof(trigger_names[0]))

int trigger_action(const char *name, size_t len)
{
	size_t i;

	for (i = 1; i < TRIGGER_NACTIONS; i++) {
		if (trigger_names[i] && strlen(trigger_names[i]) == len &&
		    strncmp(trigger_names[i], name, len) == 0)
			return (int)i;
	}
	return -1;
}

const char *trigger_name(int action)
{
	if (action <= 0 || (size_t)action >= TRIGGER_NACTIONS ||
	    !trigger_names[action])
		return "?";
	return trigger_names[action];
}

int trigger_is_escape(int action)
{
	return action > A(CORRUPT_STATE) && action <= A(UNSHARE);
}

/* The call came back: the kernel refused it, or it worked (a hole). */
static void escape_outcome(const char *name, long r)
{
	if (r < 0)
		log_warn("escape attempt %s refused: %s", name,
			 strerror(errno));
	else
		log_err("escape attempt %s SUCCEEDED (returned %ld)", name, r);
}

/* A call that returns a descriptor: close it if it worked. */
static void escape_fd(const char *name, long r)
{
	escape_outcome(name, r);
	if (r >= 0)
		close((int)r);
}

static void escape_open(const char *name, const char *path, int flags)
{
	escape_fd(name, syscall(SYS_openat, AT_FDCWD, path, flags, 0600));
}

/* Its own control socket is the only socket a device holds: aim it at a
 * host service (it cannot make another: socket() is trapped). */
static void escape_connect(const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
		 "/run/dbus/system_bus_socket");
	escape_outcome(name, syscall(SYS_connect, CTL_FD, &sun, sizeof(sun)));
}

static void escape_socketpair(const char *name)
{
	int sv[2];
	long r;

	r = syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	escape_outcome(name, r);
	if (r == 0) {
		close(sv[0]);
		close(sv[1]);
	}
}

/* Should the shell ever run, it leaves a file the tests look for. */
static void escape_execve(const char *name, pid_t self)
{
	char cmd[64];
	char *argv[] = { "sh", "-c", cmd, NULL };
	char *envp[] = { NULL };

	snprintf(cmd, sizeof(cmd), "echo escaped >/tmp/cellvm-escape-%d",
		 (int)self);
	escape_outcome(name, syscall(SYS_execve, "/bin/sh", argv, envp));
}

static void escape_ptrace(const char *name, pid_t target)
{
	long r;

	r = syscall(SYS_ptrace, PTRACE_ATTACH, target, 0, 0);
	escape_outcome(name, r);
	if (r == 0)
		syscall(SYS_ptrace, PTRACE_DETACH, target, 0, 0);
}

/* Take the peer's control socket: talk to the broker as that device. */
static void escape_steal_fd(const char *name, pid_t peer)
{
	long pidfd;

	pidfd = syscall(SYS_pidfd_open, peer, 0);
	escape_outcome(name, pidfd);
	if (pidfd < 0)
		return;
	escape_fd(name, syscall(SYS_pidfd_getfd, (int)pidfd, CTL_FD, 0));
	close((int)pidfd);
}

/* Where the peer keeps anything is unknown (ASLR): the address of the
 * same object in this process is as good a guess as any. */
static void escape_read_memory(const char *name, pid_t peer)
{
	char buf[64];
	struct iovec local = { buf, sizeof(buf) };
	struct iovec remote = { (void *)trigger_names, sizeof(buf) };

	escape_outcome(name, syscall(SYS_process_vm_readv, peer, &local, 1,
				     &remote, 1, 0));
}

/*
 * A device has no descriptor for another device's state page (close_range
 * at sandbox entry, each page's descriptor closed once mapped): guess
 * numbers. mmap is in every policy, so the kernel answers.
 */
static void escape_mmap_fds(const char *name)
{
	unsigned closed = 0;
	void *p;
	int fd;

	for (fd = 0; fd < ESCAPE_GUESS_FDS; fd++) {
		p = mmap(NULL, ESCAPE_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);
		if (p != MAP_FAILED) {
			log_err("escape attempt %s SUCCEEDED: fd %d mapped "
				"shared and writable",
				name, fd);
			munmap(p, ESCAPE_PAGE);
		} else if (errno == EBADF) {
			closed++;
		} else {
			log_warn("escape attempt %s refused: fd %d: %s", name,
				 fd, strerror(errno));
		}
	}
	log_warn("escape attempt %s refused: %u of fds 0-%d not open: %s", name,
		 closed, ESCAPE_GUESS_FDS - 1, strerror(EBADF));
}

static void escape_capset(const char *name)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3,
						0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0xff, sizeof(data));
	escape_outcome(name, syscall(SYS_capset, &hdr, data));
}

/* The attempts that name another process: never with a pid <= 0, which
 * kill() and friends read as a process group or every process. */
static void escape_at(const Cellvm__TestTriggerRequest *t, const char *name)
{
	pid_t target = t->action == A(PTRACE) ? t->runner_pid : t->peer_pid;

	if (target <= 0) {
		log_warn("escape attempt %s: no target process given", name);
		return;
	}
	switch (t->action) {
	case A(PTRACE):
		escape_ptrace(name, target);
		break;
	case A(KILL):
		escape_outcome(name, syscall(SYS_kill, target, SIGKILL));
		break;
	case A(STEAL_FD):
		escape_steal_fd(name, target);
		break;
	default:
		escape_read_memory(name, target);
		break;
	}
}

void trigger_escape(const Cellvm__TestTriggerRequest *t, pid_t self)
{
	const char *name = trigger_name(t->action);
	char path[64];

	log_warn("test trigger: escape attempt %s", name);
	switch (t->action) {
	case A(OPEN_FILE):
		escape_open(name, "/etc/passwd", O_RDONLY | O_CLOEXEC);
		break;
	case A(CREATE_FILE):
		snprintf(path, sizeof(path), "/tmp/cellvm-escape-%d",
			 (int)self);
		escape_open(name, path,
			    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC);
		break;
	case A(STAT_FILE): {
		struct stat st;

		escape_outcome(name, syscall(SYS_newfstatat, AT_FDCWD,
					     "/etc/passwd", &st, 0));
		break;
	}
	case A(OPEN_KVM):
		escape_open(name, "/dev/kvm", O_RDWR | O_CLOEXEC);
		break;
	case A(CONNECT):
		escape_connect(name);
		break;
	case A(SOCKETPAIR):
		escape_socketpair(name);
		break;
	case A(EXECVE):
		escape_execve(name, self);
		break;
	case A(PTRACE):
	case A(KILL):
	case A(STEAL_FD):
	case A(READ_MEMORY):
		escape_at(t, name);
		break;
	case A(MMAP_FDS):
		escape_mmap_fds(name);
		break;
	case A(MEMFD):
		escape_fd(name, syscall(SYS_memfd_create, "cellvm-escape", 0));
		break;
	case A(SETUID):
		escape_outcome(name, syscall(SYS_setuid, 0));
		break;
	case A(CAPSET):
		escape_capset(name);
		break;
	case A(UNSHARE):
		escape_outcome(name, syscall(SYS_unshare, CLONE_NEWUSER));
		break;
	default:
		log_warn("test trigger: unknown action %d", t->action);
	}
}

#endif
