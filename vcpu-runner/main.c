/*
 * cellvm-vcpu: enters its sandbox, takes the VM setup from the broker,
 * starts the vCPUs and then serves pause/resume requests until the broker
 * closes the channel.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "runner.h"
#include "sandbox.h"

extern const char policy_text[];

enum {
	RUNNER_EXIT_SANDBOX = 3,
	RUNNER_EXIT_SETUP = 4,
	RUNNER_EXIT_CHANNEL = 5,
};

/* SIGUSR1 only interrupts KVM_RUN (see vcpu_kick); nothing to do here. */
static void runner_kick(int sig)
{
	(void)sig;
}

static int runner_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = runner_kick;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGUSR1, &sa, NULL);
}

static int runner_reply(struct vm *vm, Cellvm__Control__BodyCase which)
{
	int r;

	pthread_mutex_lock(&vm->ctl_lock);
	r = ctl_send_simple(vm->ctl, which);
	pthread_mutex_unlock(&vm->ctl_lock);
	return r;
}

static int runner_setup(struct vm *vm)
{
	int fds[CTL_MAX_FDS];
	size_t nfds;
	ctl_msg *m = NULL;
	int r;

	r = ctl_recv(vm->ctl, &m, fds, &nfds, 0);
	if (r < 0 || !m)
		return -EPIPE;
	if (m->body_case != CELLVM__CONTROL__BODY_SETUP_RUNNER) {
		log_err("expected a SetupRunnerRequest");
		r = -EINVAL;
	} else {
		r = vm_create(vm, m->setup_runner, fds, nfds);
	}
	ctl_close_fds(fds, nfds);
	ctl_free(m);
	if (r < 0)
		ctl_send_error(vm->ctl, "cellvm-vcpu: cannot create the VM: %s",
			       strerror(-r));
	return r;
}

static void runner_serve(struct vm *vm)
{
	int fds[CTL_MAX_FDS];
	size_t nfds;
	ctl_msg *m = NULL;

	for (;;) {
		if (ctl_recv(vm->ctl, &m, fds, &nfds, 0) < 0 || !m)
			return;
		ctl_close_fds(fds, nfds);
		switch (m->body_case) {
		case CELLVM__CONTROL__BODY_PAUSE:
			vm_pause(vm);
			runner_reply(vm, CELLVM__CONTROL__BODY_PAUSE_REPLY);
			break;
		case CELLVM__CONTROL__BODY_RESUME:
			vm_resume(vm);
			break;
		default:
			log_warn("unexpected control message %d", m->body_case);
		}
		ctl_free(m);
	}
}

int main(void)
{
	static struct vm vm;

	log_init("cellvm-vcpu", 1);
	vm.ctl = CTL_FD;
	pthread_mutex_init(&vm.ctl_lock, NULL);
	if (runner_signals() < 0 || sandbox_enter(policy_text) < 0)
		return RUNNER_EXIT_SANDBOX;
	if (ctl_send_hello(vm.ctl, CELLVM__PROC_KIND__PROC_VCPU, "cellvm-vcpu",
			   0, 0, 0) < 0)
		return RUNNER_EXIT_CHANNEL;
	if (runner_setup(&vm) < 0)
		return RUNNER_EXIT_SETUP;
	sandbox_set_note(&vm.status->bad_syscall);
	atomic_store(&vm.status->ready, 1);
	if (vm_start(&vm) < 0)
		return RUNNER_EXIT_SETUP;
	if (runner_reply(&vm, CELLVM__CONTROL__BODY_READY) < 0)
		return RUNNER_EXIT_CHANNEL;
	runner_serve(&vm);
	return 0;
}
