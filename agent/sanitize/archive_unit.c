/*
 * archive_unit.c: what the format walkers (archive_tar.c, archive_cpio.c)
 * report through: the queue of units they parse, which the reader pair
 * (archive_scan.c) takes from, and the first failure, kept with its
 * reason (archive_int.h).
 */
#include "sanitize/archive_int.h"

#include "base/array.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
walk_fail(struct walker *w, const char *fmt, ...)
{
	va_list ap;

	if (!w->failed) {
		va_start(ap, fmt);
		vsnprintf(w->why, sizeof(w->why), fmt, ap);
		va_end(ap);
		w->failed = 1;
	}
	return -1;
}

int
walk_push(struct walker *w, const struct unit *u)
{
	if (w->qhead > 0 && w->qhead == w->qlen) {
		w->qhead = w->qlen = 0;
	}
	if (w->qlen == w->qcap) {
		if (w->qhead > 0) {
			memmove(w->q, w->q + w->qhead, (w->qlen - w->qhead) *
			    sizeof(*w->q));
			w->qlen -= w->qhead;
			w->qhead = 0;
		} else {
			struct unit *v = array_grow(w->q, w->qlen, &w->qcap,
			    sizeof(*v), 64);
			if (v == NULL)
				return walk_fail(w, "out of memory");
			w->q = v;
		}
	}
	w->q[w->qlen++] = *u;
	w->nunits++;
	return 0;
}

int
walk_take(struct walker *w, struct unit *u)
{
	if (w->qhead == w->qlen)
		return 0;
	*u = w->q[w->qhead++];
	return 1;
}
