/*
 * The log relay's line splitter (logrelay.h): whatever a read returned in,
 * whole lines out. A line may arrive in pieces and several in one piece;
 * one longer than the buffer is passed on cut as soon as the buffer is
 * full and the rest of it dropped, so a child that never writes '\n'
 * costs the broker no more than LOGSPLIT_LINE_MAX bytes.
 */
#include <string.h>

#include "logrelay.h"

static void logsplit_emit(struct logsplit *s, logsplit_fn *fn, void *arg,
			  bool cut)
{
	if (s->len)
		fn(arg, s->buf, s->len, cut);
	s->len = 0;
}

void logsplit_feed(struct logsplit *s, const char *data, size_t n,
		   logsplit_fn *fn, void *arg)
{
	while (n) {
		const char *nl = memchr(data, '\n', n);
		size_t k = nl ? (size_t)(nl - data) : n; /* before the '\n' */
		size_t take;

		if (s->cut) {
			/* The tail of a line passed on already. */
			s->cut = !nl;
		} else if (s->len + k > LOGSPLIT_LINE_MAX) {
			take = LOGSPLIT_LINE_MAX - s->len;
			memcpy(s->buf + s->len, data, take);
			s->len = LOGSPLIT_LINE_MAX;
			logsplit_emit(s, fn, arg, true);
			s->cut = !nl;
		} else {
			memcpy(s->buf + s->len, data, k);
			s->len += k;
			if (nl)
				logsplit_emit(s, fn, arg, false);
		}
		if (!nl)
			return;
		data += k + 1;
		n -= k + 1;
	}
}

void logsplit_end(struct logsplit *s, logsplit_fn *fn, void *arg)
{
	logsplit_emit(s, fn, arg, false);
	s->cut = false;
}
