/*
 * Logging: one line per event on stderr, "name[pid]: message", written with
 * a single write() so lines of different processes never interleave.
 * The hot path never logs; it counts (status.h).
 */
#ifndef CELLVM_LOG_H
#define CELLVM_LOG_H

enum {
	LOG_ERR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3
};

/* Name shown in front of every line; with_pid adds "[pid]", the host's
 * (read from /proc: call it before sandbox_enter()). */
void log_init(const char *name, int with_pid);
void log_set_level(int level);
int log_get_level(void);
const char *log_name(void);

void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
