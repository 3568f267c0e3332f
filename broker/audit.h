/*
 * `cellvm policy`: what each process of a VM may do, and whether the live
 * processes are held to it (audit.c). The policy texts are the ones the
 * children's binaries were built with (policy/NAME.policy, compiled into
 * this binary too: policy-table.c, generated).
 */
#ifndef CELLVM_AUDIT_H
#define CELLVM_AUDIT_H

#include <stdbool.h>

struct policy_file {
	const char *process; /* "cellvm-dev-uart" */
	const char *text;
};

extern const struct policy_file policy_files[];
extern const unsigned policy_files_len;

/* The policy text of process name, NULL if it has none. */
const char *audit_policy_text(const char *name);

/* `cellvm policy ...`: an exit status. */
int policy_main(int argc, char **argv);

#endif
