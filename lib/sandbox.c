#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "policy.h"
#include "sandbox.h"

static _Atomic int32_t *sigsys_note;

void sandbox_set_note(_Atomic int32_t *slot)
{
	sigsys_note = slot;
}

/* Async-signal-safe decimal formatting. */
static size_t fmt_uint(char *p, unsigned long v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

/*
 * The filter trapped a system call. Note which one where the broker will
 * look, say so on stderr, then make the same call again: SIGSYS is blocked
 * inside this handler, so the kernel now kills the process by SIGSYS
 * (force_sig_seccomp resets a blocked handler to the default action).
 * Re-issuing it with the same registers gets the same verdict from the
 * stateless filter, so there is no way back into the program.
 */
static void sandbox_sigsys(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	greg_t *g = uc->uc_mcontext.gregs;
	const char *name = log_name();
	char line[200];
	size_t n = 0;

	(void)sig;
	if (sigsys_note)
		atomic_store(sigsys_note, si->si_syscall);
	/* "cellvm-dev-virtio-console[<64-byte VM name>/pid]" fits. */
	n = strlen(name);
	if (n > 127)
		n = 127;
	memcpy(line, name, n);
	memcpy(line + n, ": seccomp: blocked system call ", 31);
	n += 31;
	n += fmt_uint(line + n, (unsigned long)si->si_syscall);
	line[n++] = '\n';
	/* Nothing to do if stderr is gone: the note is what matters. */
	(void)!write(STDERR_FILENO, line, n);
	syscall(si->si_syscall, g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10],
		g[REG_R8], g[REG_R9]);
	_exit(125); /* not reached: the filter traps the call again */
}

static int sandbox_caps(void)
{
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_apply(CAPNG_SELECT_ALL) < 0) {
		/* Without CAP_SETPCAP the bounding set cannot shrink. */
		capng_clear(CAPNG_SELECT_CAPS);
		if (capng_apply(CAPNG_SELECT_CAPS) < 0)
			return -EPERM;
	}
	capng_get_caps_process();
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
		return -EPERM;
	return 0;
}

/* A tmpfs with nothing in it, mounted read-only: a descriptor, or -errno. */
static int sandbox_empty_fs(void)
{
	int fs, mnt, err;

	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	if (fsconfig(fs, FSCONFIG_SET_STRING, "size", "4k", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0555", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		err = -errno;
		close(fs);
		return err;
	}
	mnt = fsmount(fs, FSMOUNT_CLOEXEC,
		      MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
			      MOUNT_ATTR_NOEXEC);
	err = -errno;
	close(fs);
	return mnt < 0 ? err : mnt;
}

/*
 * The empty root of a child the broker gave its own namespaces (jail.c
 * says so with CELLVM_JAIL=1): root in its user namespace, the child
 * mounts an empty read-only tmpfs over /, makes it the root and lets the
 * old one go. Every library is mapped by now and no policy allows an
 * open. The unshare first makes sure the pivot can only ever change a
 * mount namespace of our own, whoever started us.
 */
static int sandbox_root(void)
{
	int mnt, r = 0;

	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	mnt = sandbox_empty_fs();
	if (mnt < 0)
		return mnt;
	if (move_mount(mnt, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0 ||
	    fchdir(mnt) < 0) {
		r = -errno;
	} else if (syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
			r = -errno;
	} else if (errno == EINVAL) {
		/*
		 * The host runs from its initramfs (rootfs), which cannot be
		 * pivoted away: the empty fs is mounted over it already, so
		 * make it our root; the rootfs under it is out of reach (no
		 * descriptor into it, and CAP_SYS_CHROOT goes with the rest).
		 */
		if (chroot(".") < 0 || chdir("/") < 0)
			r = -errno;
	} else {
		r = -errno;
	}
	close(mnt);
	return r;
}

/*
 * Learning mode (`cellvm policy learn`: CELLVM_LEARN=1 from the broker).
 * The filter lets through only what the control channel and dying need
 * and turns every other call into a notification (SECCOMP_RET_USER_NOTIF)
 * to whoever holds its listener: the broker, which records the call and
 * lets it go on. Until the broker has the listener a notified call would
 * wait for ever, so nothing may come between loading the filter and
 * sending it: the message is packed first, seccomp_notify_fd() only
 * returns what seccomp_load() kept (libseccomp probed the kernel in
 * seccomp_init), and ctl_send_packed() makes one sendmsg. If that fails
 * the process can only exit: even a log line would wait for ever.
 */
const int sandbox_learn_unseen[SANDBOX_LEARN_UNSEEN] = {
	SCMP_SYS(sendmsg),
	SCMP_SYS(recvmsg),
	SCMP_SYS(exit_group),
};

static int sandbox_learn(void)
{
	Cellvm__LearnListener ll = CELLVM__LEARN_LISTENER__INIT;
	ctl_msg m = CELLVM__CONTROL__INIT;
	uint8_t pkt[16];
	scmp_filter_ctx ctx;
	size_t len;
	int fd, r = 0;
	unsigned i;

	ll.listener_fd = 1;
	m.body_case = CELLVM__CONTROL__BODY_LEARN_LISTENER;
	m.learn_listener = &ll;
	if (cellvm__control__get_packed_size(&m) > sizeof(pkt))
		return -EMSGSIZE;
	len = cellvm__control__pack(&m, pkt);
	ctx = seccomp_init(SCMP_ACT_NOTIFY);
	if (!ctx)
		return -ENOMEM;
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			     SCMP_ACT_KILL_PROCESS);
	for (i = 0; !r && i < SANDBOX_LEARN_UNSEEN; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
				     sandbox_learn_unseen[i], 0);
	if (!r)
		r = seccomp_load(ctx);
	if (r) {
		seccomp_release(ctx);
		return r;
	}
	fd = seccomp_notify_fd(ctx);
	if (fd < 0 || ctl_send_packed(CTL_FD, pkt, len, &fd, 1) < 0)
		_exit(126);
	/* The listener stays open here too: closing it would be a call the
	 * process makes only because it is learning. */
	seccomp_release(ctx);
	return 0;
}

int sandbox_enter(const char *policy_text)
{
	static struct policy pol;
	struct rlimit nocore = { 0, 0 };
	struct sigaction sa;
	char err[256];
	int r;

	if (getenv("CELLVM_JAIL")) {
		r = sandbox_root();
		if (r < 0) {
			log_err("sandbox: cannot make an empty root: %s",
				strerror(-r));
			return r;
		}
	}
	if (syscall(SYS_close_range, CTL_FD + 1, ~0U, 0) < 0) {
		log_err("sandbox: close_range: %s", strerror(errno));
		return -errno;
	}
	if (setrlimit(RLIMIT_CORE, &nocore) < 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_err("sandbox: %s", strerror(errno));
		return -errno;
	}
	r = sandbox_caps();
	if (r < 0) {
		log_err("sandbox: cannot drop capabilities");
		return r;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
	r = policy_parse(policy_text, &pol, err, sizeof(err));
	if (r < 0) {
		log_err("sandbox: policy %s", err);
		return r;
	}
	if (getenv("CELLVM_LEARN"))
		r = sandbox_learn();
	else
		r = policy_load(&pol, SCMP_ACT_TRAP);
	if (r < 0) {
		log_err("sandbox: cannot load the seccomp filter: %s",
			strerror(-r));
		return r;
	}
	return 0;
}
