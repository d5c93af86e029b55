/*
 * events_field.c: the fields of a journal line, as replay reads them (see
 * events_int.h): a missing or unparsable field of a known event is an
 * error naming the line, never a guess.
 */
#include "plan/events.h"
#include "plan/events_int.h"

#include "base/err.h"
#include "base/num.h"
#include "state/journal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Grows *v (of n elements of size sz) so one more fits: capacity doubles
 * at powers of two, so no separate capacity field is needed. */
int
ev_grow(void *vp, size_t n, size_t sz)
{
	void **v = vp;
	size_t cap;

	if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
		return 0;
	cap = n == 0 ? 4 : n * 2;
	void *p = realloc(*v, cap * sz);
	if (p == NULL)
		return -1;
	*v = p;
	return 0;
}

void *
ev_append(struct replay *rp, void *v, size_t *n, size_t sz)
{
	unsigned char *p;

	if (ev_grow(v, *n, sz) != 0) {
		rp->oom = 1;
		return NULL;
	}
	p = *(unsigned char **)v + *n * sz;
	memset(p, 0, sz);
	(*n)++;
	return p;
}

char *
ev_xdup(struct replay *rp, const char *s)
{
	char *p;

	if (s == NULL)
		return NULL;
	p = strdup(s);
	if (p == NULL)
		rp->oom = 1;
	return p;
}

int
ev_bad(struct replay *rp, const struct jrec *r, const char *what,
    const char *key)
{
	return err_set(rp->e, "%s:%" PRIu64 ": %s event: %s '%s'", rp->path,
	    r->seq, r->event, what, key);
}

/* The value of a required field; NULL with *e set if missing. */
const char *
ev_need(struct replay *rp, const struct jrec *r, const char *key)
{
	const char *v = jrec_get(r, key);

	if (v == NULL)
		ev_bad(rp, r, "missing field", key);
	return v;
}

int
ev_need_date(struct replay *rp, const struct jrec *r, const char *key,
    day_t *out)
{
	const char *v = ev_need(rp, r, key);

	if (v == NULL)
		return -1;
	if (date_parse(v, out) != 0)
		return ev_bad(rp, r, "bad date in field", key);
	return 0;
}

int
ev_need_u64(struct replay *rp, const struct jrec *r, const char *key,
    uint64_t *out)
{
	const char *v = ev_need(rp, r, key);
	int64_t n;

	if (v == NULL)
		return -1;
	if (num_parse(v, 0, INT64_MAX, &n) != 0)
		return ev_bad(rp, r, "bad number in field", key);
	*out = (uint64_t)n;
	return 0;
}

/* Splits "a,b,c" into a new array of names ("" gives none). */
int
ev_split_list(struct replay *rp, const char *s, char ***out, size_t *n)
{
	const char *p = s;

	*out = NULL;
	*n = 0;
	if (s == NULL || *s == '\0')
		return 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		char *name = strndup(p, len);
		if (name == NULL || ev_grow(out, *n, sizeof(**out)) != 0) {
			free(name);
			rp->oom = 1;
			return -1;
		}
		(*out)[(*n)++] = name;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	return 0;
}

int
ev_is_id(const char *s, char prefix)
{
	int64_t n;

	return s != NULL && s[0] == prefix && s[1] == '-' &&
	    strlen(s) < 16 && num_parse(s + 2, 1, 999999999, &n) == 0;
}
