/*
 * span.c: the allocated and data ranges of a file (see span.h).
 *
 * MUST rules:
 *  - a byte is left out only when both FIEMAP (where the filesystem has
 *    it) and SEEK_DATA say it has no storage and no data: any doubt
 *    (an error, a filesystem without SEEK_DATA) counts as data;
 *  - nothing outside [from, to) is ever in a span.
 */
#include "sanitize/span.h"
#include "base/array.h"
#include "base/err.h"
#include "locate/media.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
add(struct spans *s, uint64_t off, uint64_t end)
{
	struct span *v;

	if (end <= off)
		return 0;
	if ((v = array_grow(s->v, s->n, &s->cap, sizeof(*v), 16)) == NULL)
		return -1;
	s->v = v;
	s->v[s->n++] = (struct span){ off, end - off, 0 };
	return 0;
}

static int
by_offset(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* The SEEK_DATA ranges of [from, to).  Returns 0, 1 when the filesystem
 * cannot say (everything is data), or -1 (errno). */
static int
data_ranges(int fd, uint64_t from, uint64_t to, struct spans *s)
{
	uint64_t off = from;

	while (off < to) {
		off_t d = lseek(fd, (off_t)off, SEEK_DATA), h;

		if (d == -1 && errno == ENXIO)
			break;			/* only a hole from here */
		if (d == -1)
			return errno == EINVAL || errno == EOPNOTSUPP ? 1 : -1;
		if ((uint64_t)d >= to)
			break;
		h = lseek(fd, d, SEEK_HOLE);
		if (h == -1)
			return -1;
		if ((uint64_t)h <= (uint64_t)d)
			h = (off_t)to;		/* never stall */
		if (add(s, (uint64_t)d, (uint64_t)h < to ? (uint64_t)h : to))
			return -1;
		off = (uint64_t)h;
	}
	return 0;
}

int
spans_of(int fd, uint64_t from, uint64_t to, const struct extents *map,
    uint64_t align, const char *label, struct spans *s, struct err *e)
{
	size_t k = 0;
	int r;

	memset(s, 0, sizeof(*s));
	s->aligned = 1;
	if (to <= from)
		return 0;
	r = data_ranges(fd, from, to, s);
	if (r == -1) {
		spans_free(s);
		return err_sys(e, "%s: finding its data (SEEK_DATA)", label);
	}
	if (r == 1) {			/* cannot tell: all of it */
		s->n = 0;
		if (add(s, from, to) != 0)
			goto oom;
	}
	for (size_t i = 0; r == 0 && map != NULL && i < map->n; i++) {
		uint64_t lo = map->v[i].logical, hi = lo + map->v[i].length;

		if (lo < from)
			lo = from;
		if (hi > to)
			hi = to;
		if (add(s, lo, hi) != 0)
			goto oom;
	}
	/* Sort and merge touching or overlapping spans. */
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(s->v[0]), by_offset);
	for (size_t i = 0; i < s->n; i++) {
		if (k > 0 && s->v[i].off <= s->v[k - 1].off + s->v[k - 1].len) {
			uint64_t end = s->v[i].off + s->v[i].len;

			if (end > s->v[k - 1].off + s->v[k - 1].len)
				s->v[k - 1].len = end - s->v[k - 1].off;
			continue;
		}
		s->v[k++] = s->v[i];
	}
	s->n = k;
	for (size_t i = 0; i < s->n; i++) {
		uint64_t end = s->v[i].off + s->v[i].len;

		s->v[i].before = s->total;
		s->total += s->v[i].len;
		if (s->v[i].off % align != 0 || (end % align != 0 && end != to))
			s->aligned = 0;
	}
	return 0;
oom:
	spans_free(s);
	return err_set(e, "%s: out of memory", label);
}

void
spans_free(struct spans *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

int
spans_append(struct spans *s, const struct spans *more)
{
	if (more->n == 0)
		return 0;
	if (s->n + more->n > s->cap) {
		struct span *v = realloc(s->v, (s->n + more->n) * sizeof(*v));

		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = s->n + more->n;
	}
	for (size_t i = 0; i < more->n; i++) {
		s->v[s->n] = more->v[i];
		s->v[s->n++].before = s->total;
		s->total += more->v[i].len;
	}
	s->aligned = s->aligned && more->aligned;
	return 0;
}

int
span_next(const struct spans *s, struct span_cursor *c, size_t max,
    uint64_t *off, size_t *len)
{
	uint64_t left;

	while (c->i < s->n && c->done == s->v[c->i].len) {
		c->i++;
		c->done = 0;
	}
	if (c->i == s->n)
		return 0;
	left = s->v[c->i].len - c->done;
	*off = s->v[c->i].off + c->done;
	*len = left < max ? (size_t)left : max;
	c->done += *len;
	return 1;
}

uint64_t
span_at(const struct spans *s, uint64_t v, uint64_t *run)
{
	size_t lo = 0, hi = s->n;

	/* The last span whose `before` is <= v. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].before <= v)
			lo = mid;
		else
			hi = mid;
	}
	*run = s->v[lo].len - (v - s->v[lo].before);
	return s->v[lo].off + (v - s->v[lo].before);
}
