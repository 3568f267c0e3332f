/*
 * Test triggers (test builds only: meson -Dtest_hooks=true, which sets
 * CELLVM_TEST_HOOKS): a device process misbehaves on command so that the
 * tests can watch its sandbox and the broker react.
 *
 * The escape attempts are what a compromised device would try once it runs
 * an attacker's code: open or create a host file, reach a socket, execve,
 * ptrace or signal another process of the VM, open /dev/kvm, map memory it
 * was not handed, raise its privileges. Each one is the system call itself,
 * with nothing before it that the policy could trap instead, and each must
 * end one of two ways:
 *
 *   - trapped by the device's seccomp filter: the process dies by SIGSYS,
 *     the broker logs the process and the system call and restarts it on
 *     the same state;
 *   - refused by the kernel: the device logs
 *     "escape attempt NAME refused: ERROR" and carries on.
 *
 * An attempt that succeeds is logged as "escape attempt NAME SUCCEEDED"
 * (an error) and undone where it can be: that is a hole in the policy.
 */
#ifndef CELLVM_TRIGGER_H
#define CELLVM_TRIGGER_H

#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "ctl.h"

#if CELLVM_TEST_HOOKS

/* The action named by the first len bytes of name ("open-kvm"), or -1. */
int trigger_action(const char *name, size_t len);

/* Its name, for logs; "?" for an unknown one. */
const char *trigger_name(int action);

/* True for the escape attempts (not BAD_SYSCALL, CORRUPT_STATE). */
int trigger_is_escape(int action);

/* Make escape attempt t->action; self is the caller's pid, taken before
 * the sandbox (getpid is outside the policy). Returns if not trapped. */
void trigger_escape(const Cellvm__TestTriggerRequest *t, pid_t self);

#endif

#endif
