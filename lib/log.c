#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static char log_proc[48] = "cellvm";
static char log_vmname[LOG_VM_MAX + 1];
static int log_hostpid; /* 0: not shown */
static char log_prefix[128] = "cellvm";
static int log_level = LOG_WARN;
static bool log_relayed; /* lines start with "<N>" (log.h) */
static log_sink_fn *log_sink;

/* Our pid as the host sees it: a child in its own pid namespace is 1 to
 * itself, but /proc is the host's until sandbox_enter(). */
static int log_self_pid(void)
{
	char buf[24];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);

	if (n <= 0)
		return (int)getpid();
	buf[n] = '\0';
	return atoi(buf);
}

/* A VM name as rundir.c allows them: nothing that could end the head of a
 * line ("]", "/", ": ") or break it. */
static bool log_vm_ok(const char *vm)
{
	size_t i;

	if (!vm || !vm[0] || vm[0] == '.' || strlen(vm) > LOG_VM_MAX)
		return false;
	for (i = 0; vm[i]; i++) {
		char c = vm[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return false;
	}
	return true;
}

static void log_make_prefix(void)
{
	const char *sep = log_vmname[0] && log_hostpid ? "/" : "";

	if (!log_vmname[0] && !log_hostpid)
		snprintf(log_prefix, sizeof(log_prefix), "%s", log_proc);
	else if (log_hostpid)
		snprintf(log_prefix, sizeof(log_prefix), "%s[%s%s%d]", log_proc,
			 log_vmname, sep, log_hostpid);
	else
		snprintf(log_prefix, sizeof(log_prefix), "%s[%s]", log_proc,
			 log_vmname);
}

void log_set_vm(const char *vm)
{
	log_vmname[0] = '\0';
	if (log_vm_ok(vm))
		memcpy(log_vmname, vm, strlen(vm) + 1);
	log_make_prefix();
}

void log_init(const char *name, int with_pid)
{
	/* The broker's environment is its user's: only a child (with_pid)
	 * takes these from its own, which the broker wrote. */
	const char *relay = with_pid ? getenv("CELLVM_LOG") : NULL;
	const char *vm = with_pid ? getenv("CELLVM_VM") : NULL;

	snprintf(log_proc, sizeof(log_proc), "%s", name);
	log_hostpid = with_pid ? log_self_pid() : 0;
	log_set_vm(vm);
	log_relayed = relay && strcmp(relay, "relay") == 0;
}

void log_set_level(int level)
{
	log_level = level;
}

int log_get_level(void)
{
	return log_level;
}

const char *log_name(void)
{
	return log_prefix;
}

const char *log_vm(void)
{
	return log_vmname;
}

const char *log_process(void)
{
	return log_proc;
}

void log_set_sink(log_sink_fn *sink)
{
	log_sink = sink;
}

int log_priority(int level)
{
	if (level <= LOG_ERR)
		return 3;
	if (level == LOG_WARN)
		return 4;
	return level == LOG_INFO ? 6 : 7;
}

void log_msg(int level, const char *fmt, ...)
{
	char line[1024];
	int saved = errno, n = 0, m;
	va_list ap;

	if (level > log_level)
		return;
	if (log_relayed && !log_sink)
		n = snprintf(line, sizeof(line), "<%d>", log_priority(level));
	n += snprintf(line + n, sizeof(line) - (size_t)n, "%s: ", log_prefix);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	if (log_sink) {
		log_sink(level, line, (size_t)n);
		errno = saved;
		return;
	}
	line[n++] = '\n';
	/* One write per line: lines of different processes never mix. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		errno = saved;
	errno = saved;
}
