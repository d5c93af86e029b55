/*
 * sched_trigger.c: each trigger's row (see sched.h): a termination with
 * its prior notice, an Exhibit D directive, a disposition of data that
 * reappeared; and the date rules every caller shares (deadlines, the end
 * of a notice period).
 *
 * MUST rules:
 *  - deadlines are calendar arithmetic on day numbers in the agreement's
 *    zone, never time_t arithmetic;
 *  - the earlier deadline wins: a directive's schedule only shortens the
 *    agreement's limit, a notice period never moves a deadline;
 *  - only a notice of the termination date in effect counts;
 *  - exempt (de-identified) datasets are never in any scope.
 */
#include "plan/sched.h"
#include "plan/sched_int.h"
#include "conf/policy.h"
#include "plan/events.h"

#include <stdio.h>
#include <string.h>

/* Links every disposition of the row's agreement (its events m) with
 * trigger= tid to r. */
static int
link_disps(struct plan_row *r, const struct events *ev, const struct mine *m,
    const char *tid)
{
	for (size_t q = 0; q < m->ndisp; q++)
		if (strcmp(ev->disp[m->disp[q]].trigger, tid) == 0 &&
		    sched_push(&r->disp, &r->ndisp, m->disp[q]) != 0)
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
		if (sched_push(&r->scope, &r->nscope, i) != 0)
			return -1;
	}
	return 0;
}

day_t
sched_termination_deadline(const struct agreement *a, day_t term)
{
	return date_add(term, a->after_termination);
}

day_t
sched_directive_deadline(const struct agreement *a, day_t received,
    day_t schedule)
{
	day_t limit = date_add(received, a->after_request);

	return schedule != DAY_NONE && schedule <= limit ? schedule : limit;
}

day_t
sched_notice_end(const struct agreement *a, day_t term, day_t sent,
    day_t *period_end)
{
	day_t end = date_add(sent, a->notice_before);
	day_t deadline = sched_termination_deadline(a, term);
	day_t from = end < deadline ? end : deadline;

	if (period_end != NULL)
		*period_end = end;
	return from < term ? term : from;
}

/* The prior notice of a termination row: from the notice of its date that
 * was sent (its events m), or, none sent yet, the one to send.  Returns 1
 * when a notice is still pending, else 0. */
static int
termination_notice(struct plan_row *r, const struct events *ev,
    const struct mine *m)
{
	const struct agreement *a = r->a;
	const struct ev_notice *n = NULL;
	day_t term = r->start, end;
	char b1[11], b2[11];

	/* only a notice of this termination date counts */
	for (size_t q = 0; q < m->nnotice; q++)
		if (events_notice_announces(&ev->notice[m->notice[q]], a,
		    "termination", term))
			n = &ev->notice[m->notice[q]];
	if (n != NULL) {
		day_t sent = tz_date_at(a->timezone, n->sent);
		r->due_from = sched_notice_end(a, term, sent, &end);
		plan_note(r, "notice sent %s", date_format(sent, b1));
		if (end > r->deadline)
			plan_note(r, "notice period ends %s, after the deadline "
			    "%s: the deadline wins", date_format(end, b1),
			    date_format(r->deadline, b2));
		return 0;
	}
	r->notice_needed = 1;
	r->notice_planned = sched_notice_end(a, term, r->today > term ?
	    r->today : term, &end);
	plan_note(r, "prior notice (%d%c) not yet sent", a->notice_before.n,
	    a->notice_before.unit);
	if (end > r->deadline)
		plan_note(r, "notice period would end %s, after the deadline "
		    "%s: the deadline wins", date_format(end, b1),
		    date_format(r->deadline, b2));
	return 1;
}

int
sched_termination_row(struct plan_row *r, const struct events *ev,
    const struct mine *m, const struct holds *h)
{
	const struct agreement *a = r->a;
	day_t term = m->term != NULL ? m->term->date : a->terminated;
	int pending = 0;

	r->kind = TRIG_TERMINATION;
	snprintf(r->trigger, sizeof(r->trigger), "termination");
	snprintf(r->trigger_id, sizeof(r->trigger_id), "termination");
	if (scope_fill(r, 0, 1) != 0 ||
	    link_disps(r, ev, m, "termination") != 0)
		return -1;
	if (term == DAY_NONE) {
		plan_note(r, "no termination recorded");
		return sched_row_state(r, ev, h, 0);
	}
	r->start = term;
	r->deadline = sched_termination_deadline(a, term);
	if (a->notice_before.n == 0)
		r->due_from = term;
	else
		pending = termination_notice(r, ev, m);
	return sched_row_state(r, ev, h, pending);
}

int
sched_directive_row(struct plan_row *r, const struct events *ev,
    const struct mine *m, const struct holds *h, const struct ev_directive *d)
{
	const struct agreement *a = r->a;
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
	r->deadline = sched_directive_deadline(a, d->received, d->schedule);
	if (d->schedule != DAY_NONE && d->schedule == r->deadline)
		plan_note(r, "scheduled by %s", date_format(d->schedule, b1));
	else if (d->schedule != DAY_NONE)
		plan_note(r, "schedule %s is after the agreement's limit %s: "
		    "the limit wins", date_format(d->schedule, b1),
		    date_format(r->deadline, b2));
	if (!d->complete && r->nscope == 0)
		plan_note(r, "no non-exempt dataset holds these categories");
	if (d->transfer)
		plan_note(r, "transfer to %s", d->transfer_to);
	if (sched_row_state(r, ev, h, 0) != 0)
		return -1;
	/* The agreement goes on: what its service makes later is not this
	 * directive's (plan/reappear.h says what is). */
	if (sched_row_finished(r))
		plan_note(r, "found again later, only the same data is "
		    "destroyed: modified before this disposition, or content "
		    "it destroyed");
	return 0;
}

int
sched_reappeared_row(struct plan_row *r, const struct events *ev,
    const struct holds *h, size_t k)
{
	const struct ev_disposition *d = &ev->disp[k];

	r->kind = TRIG_REAPPEARED;
	snprintf(r->trigger, sizeof(r->trigger), "reappeared");
	snprintf(r->trigger_id, sizeof(r->trigger_id), "reappeared");
	for (size_t j = 0; j < d->ndatasets; j++) {
		int i = sched_find_dataset(r->a, d->datasets[j]);
		if (i >= 0 && !dataset_exempt(r->a, (size_t)i) &&
		    sched_push(&r->scope, &r->nscope, (size_t)i) != 0)
			return -1;
	}
	if (sched_push(&r->disp, &r->ndisp, k) != 0)
		return -1;
	r->start = tz_date_at(r->a->timezone, d->started);
	r->due_from = r->start;
	r->deadline = d->deadline != DAY_NONE ? d->deadline : r->start;
	return sched_row_state(r, ev, h, 0);
}

static int
list_has(char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return 1;
	return 0;
}

/* A failed reappeared disposition made good later is history, not work
 * still to do. */
int
sched_reappeared_superseded(const struct events *ev, const struct mine *m, size_t q)
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
