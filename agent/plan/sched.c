/*
 * sched.c: the scheduler: what is due, and by when (SPEC §5; see
 * sched.h).
 *
 * MUST rules:
 *  - pure: no I/O, no clock but the `now` passed in;
 *  - deadlines are calendar arithmetic on day numbers in the agreement's
 *    zone, never time_t arithmetic;
 *  - where a rule is ambiguous, round toward meeting the obligation early:
 *    the earlier deadline wins, a late notice never moves a deadline;
 *  - holds fail closed: a hold whose datasets or categories match nothing
 *    in the policy freezes the whole agreement;
 *  - exempt (de-identified) datasets are never in any scope.
 */
#include "plan/sched.h"
#include "base/err.h"
#include "plan/events.h"
#include "conf/policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {
	[PS_WAITING] = "waiting",
	[PS_NOTICE_DUE] = "notice-due",
	[PS_DUE] = "due",
	[PS_HELD] = "held",
	[PS_OVERDUE] = "overdue",
	[PS_DONE] = "done",
	[PS_CERTIFIED] = "certified",
	[PS_DELIVERED] = "delivered",
	[PS_DELIVERY_OVERDUE] = "delivery-overdue",
};

const char *
plan_state_name(int s)
{
	if (s < 0 || (size_t)s >= sizeof(state_names) / sizeof(state_names[0]))
		return "?";
	return state_names[s];
}


/* Per agreement: which hold (if any) freezes each dataset. */
struct holds {
	const struct ev_hold **by;	/* by[i]: a hold covering dataset i */
	char note[256];			/* fail-closed explanations */
};

void
plan_note(struct plan_row *r, const char *fmt, ...)
{
	size_t len = strlen(r->note);
	va_list ap;

	if (len > 0 && len + 2 < sizeof(r->note)) {
		memcpy(r->note + len, "; ", 3);
		len += 2;
	}
	if (len + 1 >= sizeof(r->note))
		return;
	va_start(ap, fmt);
	/* A note is for people; a long one is cut, never overflowed. */
	(void)vsnprintf(r->note + len, sizeof(r->note) - len, fmt, ap);
	va_end(ap);
}

static int row_finished(const struct plan_row *r);

static int
push(size_t **v, size_t *n, size_t x)
{
	size_t *p = realloc(*v, (*n + 1) * sizeof(**v));

	if (p == NULL)
		return -1;
	p[(*n)++] = x;
	*v = p;
	return 0;
}

static int
find_dataset(const struct agreement *a, const char *name)
{
	for (size_t i = 0; i < a->nds; i++)
		if (strcmp(a->ds[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The events of one agreement, as indexes into ev's arrays in journal
 * order: each row looks at its own agreement's events, never at all of
 * them (thousands of agreements stay linear). */
struct mine {
	const size_t *disp, *dir, *hold, *notice;
	size_t ndisp, ndir, nhold, nnotice;
	const struct ev_termination *term;	/* the latest, or NULL */
};

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

/* Works out which datasets the active holds of a freeze. */
static void
holds_compute(const struct agreement *a, const struct events *ev,
    const struct mine *m, struct holds *h)
{
	h->note[0] = '\0';
	for (size_t q = 0; q < m->nhold; q++) {
		const struct ev_hold *x = &ev->hold[m->hold[q]];
		int whole = 0, matched = 0;
		size_t n;

		if (x->released)
			continue;
		whole = x->ndatasets == 0 && x->categories == NULL;
		for (size_t j = 0; j < x->ndatasets; j++) {
			int i = find_dataset(a, x->datasets[j]);
			if (i < 0) {
				whole = 1;
				n = strlen(h->note);
				(void)snprintf(h->note + n, sizeof(h->note) - n,
				    "%shold %s names dataset '%s', which is not "
				    "in the policy: whole agreement held",
				    n ? "; " : "", x->id, x->datasets[j]);
			} else if (h->by[i] == NULL) {
				h->by[i] = x;
			}
		}
		if (x->categories != NULL) {
			for (size_t i = 0; i < a->nds && !x->cat_unknown; i++)
				if (a->ds[i].categories & x->catset) {
					matched = 1;
					if (h->by[i] == NULL)
						h->by[i] = x;
				}
			if (!matched) {
				whole = 1;
				n = strlen(h->note);
				(void)snprintf(h->note + n, sizeof(h->note) - n,
				    "%shold %s categories '%s' match no dataset: "
				    "whole agreement held", n ? "; " : "", x->id,
				    x->categories);
			}
		}
		if (whole)
			for (size_t i = 0; i < a->nds; i++)
				if (h->by[i] == NULL)
					h->by[i] = x;
	}
}

void
sched_holds(const struct agreement *a, const struct events *ev,
    const struct ev_hold **by)
{
	struct holds h;
	struct mine m;
	size_t *v = calloc(ev->nhold + 1, sizeof(*v)), n = 0;

	memset(by, 0, a->nds * sizeof(*by));
	memset(&m, 0, sizeof(m));
	if (v == NULL) {
		/* Fail closed: everything held. */
		for (size_t i = 0; i < a->nds; i++)
			by[i] = ev->nhold > 0 ? &ev->hold[0] : NULL;
		return;
	}
	for (size_t k = 0; k < ev->nhold; k++)
		if (strcmp(ev->hold[k].agreement, a->id) == 0)
			v[n++] = k;
	m.hold = v;
	m.nhold = n;
	h.by = by;
	holds_compute(a, ev, &m, &h);
	free(v);
}

int
plan_dataset_due(const struct plan *p, const struct agreement *a, size_t ds)
{
	for (size_t i = 0; p != NULL && i < p->n; i++) {
		const struct plan_row *r = &p->rows[i];
		if (r->a != a || (r->state != PS_DUE && r->state != PS_OVERDUE))
			continue;
		for (size_t k = 0; k < r->ntodo; k++)
			if (r->todo[k] == ds)
				return 1;
	}
	return 0;
}

static day_t
min_day(day_t a, day_t b)
{
	return a < b ? a : b;
}

/* The latest notice of agreement a (its events m) for trigger that
 * announced the termination of day term: a notice is for one date
 * (events_notice's rule, over a's own notices only). */
static const struct ev_notice *
find_notice(const struct events *ev, const struct mine *m,
    const struct agreement *a, const char *trigger, day_t term)
{
	const struct ev_notice *n = NULL;

	for (size_t q = 0; q < m->nnotice; q++) {
		const struct ev_notice *x = &ev->notice[m->notice[q]];
		day_t said = x->terminated != DAY_NONE ? x->terminated :
		    a->terminated;
		if (strcmp(x->trigger, trigger) == 0 && said == term)
			n = x;
	}
	return n;
}

/*
 * Decides the state of a row whose start, due_from, deadline and scope
 * are set, from its linked dispositions and the holds.  notice_pending:
 * a prior notice must still be sent before disposal.
 */
static int
row_state(struct plan_row *r, const struct events *ev, const struct holds *h,
    int notice_pending)
{
	const struct agreement *a = r->a;
	unsigned char *done = NULL;
	size_t ncompleted = 0, nremaining = 0;
	int rc = -1, all_cert = 1, all_deliv = 1;
	day_t undelivered_by = DAY_NONE;

	if (r->start == DAY_NONE) {
		r->state = PS_WAITING;
		return 0;
	}
	done = calloc(a->nds + 1, 1);
	if (done == NULL)
		return -1;
	for (size_t k = 0; k < r->ndisp; k++) {
		const struct ev_disposition *d = &ev->disp[r->disp[k]];
		day_t cb;

		if (d->completed == 0) {
			if (d->failed != 0)
				plan_note(r, "disposition %s failed: %s", d->id,
				    d->fail_reason ? d->fail_reason : "?");
			else
				plan_note(r, "disposition %s in progress",
				    d->id);
			continue;
		}
		ncompleted++;
		for (size_t j = 0; j < d->ndone_datasets; j++) {
			int i = find_dataset(a, d->done_datasets[j]);
			if (i >= 0)
				done[i] = 1;
		}
		cb = d->cert != NULL ? d->certify_by :
		    date_add(tz_date_at(a->timezone, d->completed),
		    a->certify_within);
		if (r->certify_by == DAY_NONE || cb > r->certify_by)
			r->certify_by = cb;
		if (d->cert == NULL)
			all_cert = 0;
		if (d->delivered == 0) {
			all_deliv = 0;
			if (undelivered_by == DAY_NONE || cb < undelivered_by)
				undelivered_by = cb;
		}
	}
	for (size_t k = 0; k < r->nscope; k++) {
		size_t i = r->scope[k];
		if (done[i])
			continue;
		nremaining++;
		if (h->by[i] != NULL) {
			if (push(&r->held, &r->nheld, i) != 0)
				goto out;
		}
	}
	if (nremaining == 0 && ncompleted > 0) {
		if (all_deliv)
			r->state = PS_DELIVERED;
		else if (r->today > undelivered_by) {
			r->state = PS_DELIVERY_OVERDUE;
			plan_note(r, "certificate was due by %s",
			    date_format(undelivered_by, (char[11]){ 0 }));
		} else
			r->state = all_cert ? PS_CERTIFIED : PS_DONE;
		rc = 0;
		goto out;
	}
	if (nremaining > 0 && r->nheld == nremaining) {
		const struct ev_hold *x = h->by[r->held[0]];
		r->state = PS_HELD;
		plan_note(r, "held by %s: %s", x->id, x->reason ? x->reason : "");
		rc = 0;
		goto out;
	}
	if (r->today > r->deadline) {
		r->state = PS_OVERDUE;
	} else if (notice_pending && r->today >= r->deadline) {
		/* The notice is still unsent on the deadline day: the
		 * deadline wins, the notice goes out with the disposal. */
		r->due_from = r->deadline;
		r->state = PS_DUE;
		plan_note(r, "the deadline is today: disposal goes ahead "
		    "with the notice");
	} else if (notice_pending) {
		r->state = r->today >= r->start ? PS_NOTICE_DUE : PS_WAITING;
	} else if (r->due_from != DAY_NONE && r->today >= r->due_from) {
		r->state = PS_DUE;
	} else {
		r->state = PS_WAITING;
	}
	if (r->state == PS_WAITING && r->due_from != DAY_NONE)
		plan_note(r, "due from %s",
		    date_format(r->due_from, (char[11]){ 0 }));
	if (r->state == PS_DUE || r->state == PS_OVERDUE)
		for (size_t k = 0; k < r->nscope; k++) {
			size_t i = r->scope[k];
			if (!done[i] && h->by[i] == NULL &&
			    push(&r->todo, &r->ntodo, i) != 0)
				goto out;
		}
	if (r->nheld > 0) {
		const struct ev_hold *x = h->by[r->held[0]];
		plan_note(r, "partly held: %zu of %zu datasets by %s: %s",
		    r->nheld, nremaining, x->id, x->reason ? x->reason : "");
	}
	if (r->nscope == 0)
		plan_note(r, "no dataset in scope: nothing to destroy");
	rc = 0;
out:
	free(done);
	return rc;
}

/* Links every disposition of the row's agreement (its events m) with
 * trigger= tid to r. */
static int
link_disps(struct plan_row *r, const struct events *ev, const struct mine *m,
    const char *tid)
{
	for (size_t q = 0; q < m->ndisp; q++)
		if (strcmp(ev->disp[m->disp[q]].trigger, tid) == 0 &&
		    push(&r->disp, &r->ndisp, m->disp[q]) != 0)
			return -1;
	return 0;
}

/* Scope: non-exempt datasets; with cats != 0 only those intersecting. */
static int
scope_fill(struct plan_row *r, catset_t cats, int all)
{
	for (size_t i = 0; i < r->a->nds; i++) {
		if (dataset_exempt(r->a, i))
			continue;
		if (!all && (r->a->ds[i].categories & cats) == 0)
			continue;
		if (push(&r->scope, &r->nscope, i) != 0)
			return -1;
	}
	return 0;
}

static int
termination_row(struct plan_row *r, const struct events *ev,
    const struct mine *m, const struct holds *h)
{
	const struct agreement *a = r->a;
	day_t term = m->term != NULL ? m->term->date : a->terminated;
	int pending = 0;
	char b1[11], b2[11];

	r->kind = TRIG_TERMINATION;
	snprintf(r->trigger, sizeof(r->trigger), "termination");
	snprintf(r->trigger_id, sizeof(r->trigger_id), "termination");
	if (scope_fill(r, 0, 1) != 0 ||
	    link_disps(r, ev, m, "termination") != 0)
		return -1;
	if (term == DAY_NONE) {
		plan_note(r, "no termination recorded");
		return row_state(r, ev, h, 0);
	}
	r->start = term;
	r->deadline = date_add(term, a->after_termination);
	if (a->notice_before.n == 0) {
		r->due_from = term;
	} else {
		/* only a notice of this termination date counts */
		const struct ev_notice *n = find_notice(ev, m, a,
		    "termination", term);
		if (n != NULL) {
			day_t sent = tz_date_at(a->timezone, n->sent);
			day_t end = date_add(sent, a->notice_before);
			r->due_from = min_day(end, r->deadline);
			if (r->due_from < term)
				r->due_from = term;
			plan_note(r, "notice sent %s", date_format(sent, b1));
			if (end > r->deadline)
				plan_note(r, "notice period ends %s, after the "
				    "deadline %s: the deadline wins",
				    date_format(end, b1),
				    date_format(r->deadline, b2));
		} else {
			day_t from = r->today > term ? r->today : term;
			day_t end = date_add(from, a->notice_before);
			pending = 1;
			r->notice_needed = 1;
			r->notice_planned = min_day(end, r->deadline);
			plan_note(r, "prior notice (%d%c) not yet sent",
			    a->notice_before.n, a->notice_before.unit);
			if (end > r->deadline)
				plan_note(r, "notice period would end %s, after "
				    "the deadline %s: the deadline wins",
				    date_format(end, b1),
				    date_format(r->deadline, b2));
		}
	}
	return row_state(r, ev, h, pending);
}

static int
directive_row(struct plan_row *r, const struct events *ev,
    const struct mine *m, const struct holds *h, const struct ev_directive *d)
{
	const struct agreement *a = r->a;
	day_t limit;
	char b1[11], b2[11];

	r->kind = TRIG_DIRECTIVE;
	r->dir = d;
	snprintf(r->trigger, sizeof(r->trigger), "directive %s", d->id);
	snprintf(r->trigger_id, sizeof(r->trigger_id), "%s", d->id);
	if (scope_fill(r, d->categories, d->complete) != 0 ||
	    link_disps(r, ev, m, d->id) != 0)
		return -1;
	r->start = d->received;
	r->due_from = d->received;
	limit = date_add(d->received, a->after_request);
	r->deadline = limit;
	if (d->schedule != DAY_NONE) {
		if (d->schedule <= limit) {
			r->deadline = d->schedule;
			plan_note(r, "scheduled by %s",
			    date_format(d->schedule, b1));
		} else {
			plan_note(r, "schedule %s is after the agreement's limit "
			    "%s: the limit wins", date_format(d->schedule, b1),
			    date_format(limit, b2));
		}
	}
	if (!d->complete && r->nscope == 0)
		plan_note(r, "no non-exempt dataset holds these categories");
	if (d->transfer)
		plan_note(r, "transfer to %s", d->transfer_to);
	if (row_state(r, ev, h, 0) != 0)
		return -1;
	/* The agreement goes on: what its service makes later is not this
	 * directive's (plan/reappear.h says what is). */
	if (row_finished(r))
		plan_note(r, "found again later, only the same data is "
		    "destroyed: modified before this disposition, or content "
		    "it destroyed");
	return 0;
}

static int
reappeared_row(struct plan_row *r, const struct events *ev,
    const struct holds *h, size_t k)
{
	const struct ev_disposition *d = &ev->disp[k];

	r->kind = TRIG_REAPPEARED;
	snprintf(r->trigger, sizeof(r->trigger), "reappeared");
	snprintf(r->trigger_id, sizeof(r->trigger_id), "reappeared");
	for (size_t j = 0; j < d->ndatasets; j++) {
		int i = find_dataset(r->a, d->datasets[j]);
		if (i >= 0 && !dataset_exempt(r->a, (size_t)i) &&
		    push(&r->scope, &r->nscope, (size_t)i) != 0)
			return -1;
	}
	if (push(&r->disp, &r->ndisp, k) != 0)
		return -1;
	r->start = tz_date_at(r->a->timezone, d->started);
	r->due_from = r->start;
	r->deadline = d->deadline != DAY_NONE ? d->deadline : r->start;
	return row_state(r, ev, h, 0);
}

static int
list_has(char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return 1;
	return 0;
}

/* Whether failed reappeared disposition k was made good by a later
 * reappeared disposition of the same agreement that completed over all of
 * k's datasets: the failure is then history, not work still to do. */
static int
reappeared_superseded(const struct events *ev, const struct mine *m, size_t q)
{
	const struct ev_disposition *d = &ev->disp[m->disp[q]];

	if (d->failed == 0 || d->completed != 0)
		return 0;
	for (size_t j = q + 1; j < m->ndisp; j++) {
		const struct ev_disposition *l = &ev->disp[m->disp[j]];
		size_t covered = 0;

		if (l->completed == 0 ||
		    strcmp(l->trigger, "reappeared") != 0)
			continue;
		for (size_t x = 0; x < d->ndatasets; x++)
			covered += list_has(l->done_datasets,
			    l->ndone_datasets, d->datasets[x]);
		if (covered == d->ndatasets)
			return 1;
	}
	return 0;
}

static int
row_finished(const struct plan_row *r)
{
	return r->state == PS_DONE || r->state == PS_CERTIFIED ||
	    r->state == PS_DELIVERED || r->state == PS_DELIVERY_OVERDUE;
}

/* An Exhibit D transfer the LEA asked for and not yet done comes before
 * any destruction of the same data: a termination falling due first must
 * not destroy what is still to be handed over.  Moves those datasets from
 * the termination row's todo to its waiting list and says why; a due row
 * left with nothing to do waits (an overdue one stays overdue). */
static int
wait_for_transfers(struct plan_row *rows, size_t n)
{
	for (size_t t = 0; t < n; t++) {
		struct plan_row *tr = &rows[t];
		size_t kept = 0;
		const char *by = NULL;

		if (tr->kind != TRIG_TERMINATION || tr->ntodo == 0)
			continue;
		for (size_t k = 0; k < tr->ntodo; k++) {
			const struct plan_row *dr = NULL;
			for (size_t d = 0; d < n && dr == NULL; d++) {
				const struct plan_row *x = &rows[d];
				if (x->kind != TRIG_DIRECTIVE || x->dir == NULL ||
				    !x->dir->transfer || row_finished(x))
					continue;
				for (size_t j = 0; j < x->nscope; j++)
					if (x->scope[j] == tr->todo[k])
						dr = x;
			}
			if (dr == NULL) {
				tr->todo[kept++] = tr->todo[k];
				continue;
			}
			if (push(&tr->waiting, &tr->nwaiting, tr->todo[k]) != 0)
				return -1;
			by = dr->trigger;
		}
		tr->ntodo = kept;
		if (tr->nwaiting == 0)
			continue;
		plan_note(tr, "%zu dataset%s wait%s for the transfer of %s "
		    "first", tr->nwaiting, tr->nwaiting == 1 ? "" : "s",
		    tr->nwaiting == 1 ? "s" : "", by);
		if (tr->ntodo == 0 && tr->state == PS_DUE)
			tr->state = PS_WAITING;
	}
	return 0;
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
		holds_compute(a, ev, &m, &h);
		if ((r = new_row(out, ps, i, today)) == NULL ||
		    termination_row(r, ev, &m, &h) != 0)
			goto oom;
		for (size_t q = 0; q < m.ndir; q++) {
			const struct ev_directive *d = &ev->dir[m.dir[q]];
			if (d->cancelled)
				continue;
			if ((r = new_row(out, ps, i, today)) == NULL ||
			    directive_row(r, ev, &m, &h, d) != 0)
				goto oom;
		}
		for (size_t q = 0; q < m.ndisp; q++) {
			if (strcmp(ev->disp[m.disp[q]].trigger, "reappeared") != 0 ||
			    reappeared_superseded(ev, &m, q))
				continue;
			if ((r = new_row(out, ps, i, today)) == NULL ||
			    reappeared_row(r, ev, &h, m.disp[q]) != 0)
				goto oom;
		}
		if (h.note[0] != '\0')
			for (size_t k = first; k < out->n; k++)
				plan_note(&out->rows[k], "%s", h.note);
		if (wait_for_transfers(out->rows + first, out->n - first) != 0)
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

void
plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->rows[i].scope);
		free(p->rows[i].todo);
		free(p->rows[i].held);
		free(p->rows[i].disp);
		free(p->rows[i].waiting);
	}
	free(p->rows);
	p->rows = NULL;
	p->n = 0;
}

int
plan_overdue(const struct plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->rows[i].state == PS_OVERDUE ||
		    p->rows[i].state == PS_DELIVERY_OVERDUE)
			return 1;
	return 0;
}
