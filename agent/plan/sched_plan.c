/*
 * sched_plan.c: the scheduler: what is due, and by when (SPEC §5; see
 * sched.h): every agreement's rows, one per trigger, from the policy, the
 * replayed events and the clock.
 *
 * MUST rules:
 *  - pure: no I/O, no clock but the `now` passed in;
 *  - deadlines are calendar arithmetic on day numbers in the agreement's
 *    zone, never time_t arithmetic;
 *  - where a rule is ambiguous, round toward meeting the obligation early:
 *    the earlier deadline wins, a late notice never moves a deadline;
 *  - each agreement's rows see its own events only (sorted once by
 *    agreement), so thousands of agreements stay linear.
 */
#include "plan/sched.h"
#include "plan/sched_int.h"
#include "base/err.h"
#include "conf/policy.h"
#include "plan/events.h"

#include <stdlib.h>
#include <string.h>

/* Every event array's indexes, sorted by agreement (then journal order). */
struct byagr {
	size_t *disp, *dir, *hold, *notice, *term;
	size_t ndisp, ndir, nhold, nnotice, nterm;
};

struct keyof {
	const struct events *ev;
	int what;	/* 0 disp, 1 dir, 2 hold, 3 notice, 4 term */
};

static const char *
agr_of(const struct events *ev, int what, size_t i)
{
	switch (what) {
	case 0: return ev->disp[i].agreement;
	case 1: return ev->dir[i].agreement;
	case 2: return ev->hold[i].agreement;
	case 3: return ev->notice[i].agreement;
	default: return ev->term[i].agreement;
	}
}

static int
cmp_agr(const void *pa, const void *pb, void *arg)
{
	const struct keyof *k = arg;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	int c = strcmp(agr_of(k->ev, k->what, a), agr_of(k->ev, k->what, b));

	return c != 0 ? c : a < b ? -1 : a > b;
}

static size_t *
sorted(const struct events *ev, int what, size_t n)
{
	struct keyof k = { ev, what };
	size_t *v = calloc(n + 1, sizeof(*v));

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = i;
	qsort_r(v, n, sizeof(*v), cmp_agr, &k);
	return v;
}

static int
byagr_build(const struct events *ev, struct byagr *b)
{
	b->ndisp = ev->ndisp;
	b->ndir = ev->ndir;
	b->nhold = ev->nhold;
	b->nnotice = ev->nnotice;
	b->nterm = ev->nterm;
	b->disp = sorted(ev, 0, ev->ndisp);
	b->dir = sorted(ev, 1, ev->ndir);
	b->hold = sorted(ev, 2, ev->nhold);
	b->notice = sorted(ev, 3, ev->nnotice);
	b->term = sorted(ev, 4, ev->nterm);
	return b->disp && b->dir && b->hold && b->notice && b->term ? 0 : -1;
}

static void
byagr_free(struct byagr *b)
{
	free(b->disp);
	free(b->dir);
	free(b->hold);
	free(b->notice);
	free(b->term);
}

/* The run of v (sorted by agreement) that is id's. */
static const size_t *
range(const struct events *ev, int what, const size_t *v, size_t n,
    const char *id, size_t *len)
{
	size_t lo = 0, hi = n, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(agr_of(ev, what, v[mid]), id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < n && strcmp(agr_of(ev, what, v[end]), id) == 0;
	    end++)
		;
	*len = end - lo;
	return v + lo;
}

static void
mine_of(const struct events *ev, const struct byagr *b, const char *id,
    struct mine *m)
{
	const size_t *t;
	size_t nt;

	m->disp = range(ev, 0, b->disp, b->ndisp, id, &m->ndisp);
	m->dir = range(ev, 1, b->dir, b->ndir, id, &m->ndir);
	m->hold = range(ev, 2, b->hold, b->nhold, id, &m->nhold);
	m->notice = range(ev, 3, b->notice, b->nnotice, id, &m->nnotice);
	t = range(ev, 4, b->term, b->nterm, id, &nt);
	m->term = nt > 0 ? &ev->term[t[nt - 1]] : NULL;
}

/* Appends a fresh row for agreement i; NULL when out of memory. */
static struct plan_row *
new_row(struct plan *p, const struct policyset *ps, size_t i, day_t today)
{
	struct plan_row *rows = realloc(p->rows, (p->n + 1) * sizeof(*rows));
	struct plan_row *r;

	if (rows == NULL)
		return NULL;
	p->rows = rows;
	r = &rows[p->n++];
	memset(r, 0, sizeof(*r));
	r->agreement = i;
	r->a = &ps->a[i];
	r->today = today;
	r->start = r->due_from = r->deadline = DAY_NONE;
	r->certify_by = r->notice_planned = DAY_NONE;
	return r;
}

int
sched_plan_on(const struct policyset *ps, const struct events *ev,
    time_t now, day_t today_override, struct plan *out, struct err *e)
{
	struct holds h = { 0 };
	struct byagr b = { 0 };
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (byagr_build(ev, &b) != 0)
		goto oom;
	for (size_t i = 0; i < ps->n; i++) {
		const struct agreement *a = &ps->a[i];
		day_t today = today_override != DAY_NONE ? today_override :
		    tz_date_at(a->timezone, now);
		struct plan_row *r;
		size_t first = out->n;
		struct mine m;

		mine_of(ev, &b, a->id, &m);
		free(h.by);
		h.by = calloc(a->nds + 1, sizeof(*h.by));
		if (h.by == NULL)
			goto oom;
		sched_holds_compute(a, ev, &m, &h);
		if ((r = new_row(out, ps, i, today)) == NULL ||
		    sched_termination_row(r, ev, &m, &h) != 0)
			goto oom;
		for (size_t q = 0; q < m.ndir; q++) {
			const struct ev_directive *d = &ev->dir[m.dir[q]];
			if (d->cancelled)
				continue;
			if ((r = new_row(out, ps, i, today)) == NULL ||
			    sched_directive_row(r, ev, &m, &h, d) != 0)
				goto oom;
		}
		for (size_t q = 0; q < m.ndisp; q++) {
			if (strcmp(ev->disp[m.disp[q]].trigger, "reappeared") != 0 ||
			    sched_reappeared_superseded(ev, &m, q))
				continue;
			if ((r = new_row(out, ps, i, today)) == NULL ||
			    sched_reappeared_row(r, ev, &h, m.disp[q]) != 0)
				goto oom;
		}
		if (h.note[0] != '\0')
			for (size_t k = first; k < out->n; k++)
				plan_note(&out->rows[k], "%s", h.note);
		if (sched_wait_for_transfers(out->rows + first,
		    out->n - first) != 0)
			goto oom;
	}
	rc = 0;
	goto out;
oom:
	err_set(e, "scheduler: out of memory");
	plan_free(out);
out:
	byagr_free(&b);
	free(h.by);
	return rc;
}

int
sched_plan(const struct policyset *ps, const struct events *ev, time_t now,
    struct plan *out, struct err *e)
{
	return sched_plan_on(ps, ev, now, DAY_NONE, out, e);
}
