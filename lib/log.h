/*
 * Logging: one line per event, written with a single write() so lines of
 * different processes never interleave. A line names the VM, the process
 * and its host pid (docs/architecture.md, "Logs"):
 *
 *   cellvm[vm1]: message                  the broker of VM vm1
 *   cellvm-dev-uart[vm1/12345]: message   one of its children
 *   cellvm: message                       before a VM has a name, or
 *                                         not about one (ctl, list)
 *
 * A child learns the VM's name from CELLVM_VM in its environment. With
 * CELLVM_LOG=relay there too, its stderr is a pipe the broker reads
 * (--log journald): each line then starts with "<N>", its syslog
 * priority (sd-daemon(3)), which the broker takes off.
 * The hot path never logs; it counts (status.h).
 */
#ifndef CELLVM_LOG_H
#define CELLVM_LOG_H

#include <stddef.h>

enum {
	LOG_ERR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3
};

/* A VM's name in a line: at most this long (VM_NAME_MAX, broker/api.h). */
#define LOG_VM_MAX 64

/* Who speaks: the process name and, with_pid (a child), its host pid
 * (read from /proc: call it before sandbox_enter()), the VM's name and
 * the relay from its environment. */
void log_init(const char *name, int with_pid);
/* The broker, once its VM's name is its own. */
void log_set_vm(const char *vm);
void log_set_level(int level);
int log_get_level(void);
/* The head of every line, "cellvm-dev-uart[vm1/12345]", without ": ". */
const char *log_name(void);
/* The VM's name ("" before there is one) and the process name alone. */
const char *log_vm(void);
const char *log_process(void);

/*
 * Where the broker's own lines go instead of stderr (NULL: stderr): the
 * journal. It is handed the whole line without its '\n'; lines it cannot
 * deliver it writes to stderr itself.
 */
typedef void log_sink_fn(int level, const char *line, size_t len);
void log_set_sink(log_sink_fn *sink);

/* syslog(3) priority of a level: LOG_ERR is 3, LOG_DEBUG 7. */
int log_priority(int level);

void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
