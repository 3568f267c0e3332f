/*
 * Starting and watching child processes. A child gets its control socket
 * as fd 3, /dev/null as 0 and 1, the broker's stderr (or, with --log
 * journald, its log pipe: logrelay.c) as 2 and nothing else; an
 * environment of CELLVM_VM=NAME for its log lines, CELLVM_LOG=relay when
 * its stderr is a pipe, CELLVM_JAIL=1 when it has its own namespaces and
 * CELLVM_LEARN=1 when the VM is learning (for sandbox_enter); its own
 * process group (terminal signals are the broker's to handle); SIGKILL
 * when the broker dies; and the jail of jail.c.
 */
#include <errno.h>
#include <linux/close_range.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker.h"
#include "clock.h"
#include "learn.h"
#include "log.h"
#include "shm.h"

/* The broker is gone already: its pidfd (self) reads as exited. */
static bool parent_gone(int self)
{
	struct pollfd p = { .fd = self, .events = POLLIN };

	return poll(&p, 1, 0) != 0;
}

static void child_exec(struct family *f, struct child *c, int sock, int self,
		       int logw)
{
	char *argv[] = { c->name, NULL };
	char vm[sizeof("CELLVM_VM=") + LOG_VM_MAX], *envp[5];
	unsigned e = 0;
	sigset_t none;
	int r;

	/* In its own pid namespace getppid() is 0: ask the pidfd. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || parent_gone(self))
		_exit(127);
	/* Its log pipe from here on: what goes wrong before exec too. */
	if (logw >= 0) {
		if (dup2(logw, STDERR_FILENO) < 0)
			_exit(127);
		log_set_sink(NULL);
	}
	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	r = jail_child(f, c);
	if (r < 0) {
		log_err("cannot jail %s: %s", c->name, strerror(-r));
		_exit(127);
	}
	if (dup2(sock, CTL_FD) < 0 || dup2(f->devnull, 0) < 0 ||
	    dup2(f->devnull, 1) < 0)
		_exit(127);
	syscall(SYS_close_range, CTL_FD + 1, ~0U, CLOSE_RANGE_CLOEXEC);
	if (f->jail.ns)
		envp[e++] = "CELLVM_JAIL=1";
	snprintf(vm, sizeof(vm), "CELLVM_VM=%s", log_vm());
	if (log_vm()[0])
		envp[e++] = vm;
	if (logw >= 0)
		envp[e++] = "CELLVM_LOG=relay";
	if (f->opt->learn)
		envp[e++] = "CELLVM_LEARN=1";
	envp[e] = NULL;
	syscall(SYS_execveat, f->jail.dir_fd, c->name, argv, envp, 0);
	log_err("cannot run %s/%s: %s", f->dir, c->name, strerror(errno));
	_exit(127);
}

int child_spawn(struct family *f, struct child *c)
{
	int sv[2], self, logw, err;

	self = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (self < 0)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		err = -errno;
		close(self);
		return err;
	}
	err = logrelay_open(c, &logw);
	if (err < 0) {
		close(self);
		close(sv[0]);
		close(sv[1]);
		return err;
	}
	c->pid = jail_clone(f, &c->pidfd);
	if (c->pid < 0) {
		err = -errno;
		close(self);
		close(sv[0]);
		close(sv[1]);
		if (logw >= 0)
			close(logw);
		logrelay_close(c);
		return err;
	}
	if (c->pid == 0)
		child_exec(f, c, sv[1], self, logw);
	close(self);
	close(sv[1]);
	if (logw >= 0)
		close(logw);
	c->ctl = sv[0];
	c->alive = true;
	c->started_ns = now_ns();
	return 0;
}

/*
 * Wait for one message of kind which from c, up to timeout_ms. An
 * ErrorReply is printed and turned into -EPROTO; the child's death into
 * -ECHILD (its cause logged). Meanwhile, when learning, every child's
 * waiting system calls are answered: c may be waiting for its own, or for
 * a process that is (learn.h).
 */
int child_expect(struct family *f, struct child *c,
		 Cellvm__Control__BodyCase which, int timeout_ms, ctl_msg **out)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000ull;
	struct pollfd p[5];
	int fds[CTL_MAX_FDS];
	char cause[160];
	size_t nfds;
	ctl_msg *m = NULL;
	int r;

	for (;;) {
		uint64_t t = now_ns();

		if (t >= end) {
			log_err("%s did not answer in %d ms", c->name,
				timeout_ms);
			return -ETIMEDOUT;
		}
		p[0].fd = c->ctl;
		p[0].events = POLLIN;
		p[1].fd = c->pidfd;
		p[1].events = POLLIN;
		/* Keep relaying the console: a UART blocked on a full pipe
		 * would never answer. */
		p[2].fd = f->con.out_rd;
		p[2].events = POLLIN;
		p[2].revents = 0;
		/* And its log: a child blocked on a full pipe neither. */
		p[3].fd = c->log.open ? c->log.fd : -1;
		p[3].events = POLLIN;
		p[3].revents = 0;
		p[4].fd = f->learn ? learn_fd(f->learn) : -1;
		p[4].events = POLLIN;
		p[4].revents = 0;
		r = poll(p, 5, (int)((end - t) / 1000000ull) + 1);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		if (p[2].revents & POLLIN)
			console_pump_output(f);
		if (p[3].revents & (POLLIN | POLLHUP))
			logrelay_pump(c);
		if (p[4].revents & POLLIN)
			learn_service(f->learn);
		if (p[0].revents & POLLIN) {
			r = ctl_recv(c->ctl, &m, fds, &nfds, 1);
			if (r == -EAGAIN)
				continue;
			if (r < 0 || !m)
				goto dead;
			if (learn_message(f, c, m, fds, nfds)) {
				ctl_close_fds(fds, nfds);
				ctl_free(m);
				continue;
			}
			ctl_close_fds(fds, nfds);
			if (m->body_case == CELLVM__CONTROL__BODY_ERROR) {
				log_err("%s", m->error->message);
				ctl_free(m);
				return -EPROTO;
			}
			if (m->body_case == which) {
				*out = m;
				return 0;
			}
			log_debug("%s: ignoring message %d while waiting",
				  c->name, m->body_case);
			ctl_free(m);
			continue;
		}
		if (p[1].revents & POLLIN)
			goto dead;
		if (p[0].revents & (POLLHUP | POLLERR))
			goto dead;
	}
dead:
	child_reap(c, cause, sizeof(cause));
	log_err("%s %s", c->name, cause);
	return -ECHILD;
}

void child_kill(struct child *c)
{
	if (c->alive && c->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
}

/* How a child died, in words: which system call, for a seccomp kill. */
static void child_cause(struct child *c, const siginfo_t *si, char *cause,
			size_t len)
{
	int nr = c->status ? atomic_load(&c->status->bad_syscall) : -1;
	char *name;

	if (si->si_code == CLD_EXITED) {
		snprintf(cause, len, "exited with status %d", si->si_status);
		return;
	}
	if (si->si_status != SIGSYS || nr < 0) {
		snprintf(cause, len, "was killed by signal %d (%s)",
			 si->si_status, strsignal(si->si_status));
		return;
	}
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	snprintf(cause, len,
		 "was killed by its seccomp policy: system call %s (%d)",
		 name ? name : "?", nr);
	free(name);
	atomic_store(&c->status->bad_syscall, -1);
}

void child_reap(struct child *c, char *cause, size_t len)
{
	siginfo_t si;

	snprintf(cause, len, "is gone");
	if (!c->alive)
		return;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)c->pidfd, &si, WEXITED) == 0)
		child_cause(c, &si, cause, len);
	/* Its last lines before the broker's about its end. */
	logrelay_close(c);
	snprintf(c->last_exit, sizeof(c->last_exit), "%s", cause);
	close(c->pidfd);
	close(c->ctl);
	c->pidfd = c->ctl = -1;
	c->alive = false;
}

int child_status_page(struct child *c, unsigned nvcpus)
{
	c->status_len = status_size(nvcpus);
	c->status_fd = shm_create("cellvm-status", c->status_len);
	if (c->status_fd < 0)
		return c->status_fd;
	c->status = shm_map(c->status_fd, c->status_len, 1);
	if (!c->status)
		return -errno;
	status_init(c->status, nvcpus);
	return 0;
}
