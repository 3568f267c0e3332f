#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static char log_prefix[64] = "cellvm";
static int log_level = LOG_WARN;

/* Our pid as the host sees it: a child in its own pid namespace is 1 to
 * itself, but /proc is the host's until sandbox_enter(). */
static int log_pid(void)
{
	char buf[24];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);

	if (n <= 0)
		return (int)getpid();
	buf[n] = '\0';
	return atoi(buf);
}

void log_init(const char *name, int with_pid)
{
	if (with_pid)
		snprintf(log_prefix, sizeof(log_prefix), "%s[%d]", name,
			 log_pid());
	else
		snprintf(log_prefix, sizeof(log_prefix), "%s", name);
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

void log_msg(int level, const char *fmt, ...)
{
	char line[1024];
	int saved = errno, n, m;
	va_list ap;

	if (level > log_level)
		return;
	n = snprintf(line, sizeof(line), "%s: ", log_prefix);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line: lines of different processes never mix. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		errno = saved;
	errno = saved;
}
