/*
 * Entering the sandbox: the first thing every child process does, before it
 * reads any input.
 *
 *   0. when the broker gave it its own namespaces (CELLVM_JAIL=1 in the
 *      environment, broker/jail.c), pivot into an empty read-only root;
 *   1. close every descriptor but 0, 1, 2 and the control socket (3);
 *   2. PR_SET_NO_NEW_PRIVS;
 *   3. drop every capability, the bounding set and the ambient set
 *      (libcap-ng);
 *   4. install a SIGSYS handler that notes the trapped system call in the
 *      process's status page (sandbox_set_note), then lets the kernel kill
 *      the process by SIGSYS;
 *   5. load the seccomp filter compiled from the process's policy text;
 *      with CELLVM_LEARN=1 instead (`cellvm policy learn`, never in
 *      production), a filter that notifies the broker of every system
 *      call but sendmsg, recvmsg and exit_group, and lets them all go on
 *      once it has recorded them; its listener goes to the broker at once
 *      (LearnListener, before HelloNotice).
 */
#ifndef CELLVM_SANDBOX_H
#define CELLVM_SANDBOX_H

#include <stdatomic.h>
#include <stdint.h>

/* Returns 0, or -errno after logging what failed. */
int sandbox_enter(const char *policy_text);

/*
 * Ask for a short scheduler slice for the calling thread (Linux 6.12+ EEVDF
 * custom slices; older kernels ignore it). A thread that sleeps nearly
 * always and must run as soon as it is woken (a device, the runner's
 * kicker) then preempts a busy vCPU thread at once instead of waiting for
 * the end of that thread's slice, milliseconds later.
 */
void sched_short_slice(void);

/* What the learning filter lets through without a word to the broker:
 * the control channel (sendmsg, recvmsg) and dying (exit_group). */
#define SANDBOX_LEARN_UNSEEN 3
extern const int sandbox_learn_unseen[SANDBOX_LEARN_UNSEEN];

/* Where the SIGSYS handler records a trapped system call number. */
void sandbox_set_note(_Atomic int32_t *slot);

#endif
