/*
 * sched_row.c: a row's state (see sched_row_state in sched_int.h): from
 * what its dispositions did, the holds, the deadline and the notice.
 *
 * MUST rules:
 *  - a dataset is done only when a completed disposition of the trigger
 *    says so; one in progress or failed is noted, never counted;
 *  - a row whose every remaining dataset is held is held, never overdue;
 *  - the deadline wins over a notice still unsent on the deadline day.
 */
#include "plan/sched.h"
#include "plan/sched_int.h"
#include "conf/policy.h"
#include "plan/events.h"

#include <stdlib.h>

/* What a row's linked dispositions did. */
struct tally {
	unsigned char *done;	/* done[i]: dataset i destroyed */
	size_t ncompleted;
	int all_cert, all_deliv;
	day_t undelivered_by;	/* the earliest certify_by not delivered */
};

/* Tallies r's dispositions into t (t->done zeroed), noting those that
 * failed or are in progress, and sets r->certify_by. */
static void
tally(struct plan_row *r, const struct events *ev, struct tally *t)
{
	const struct agreement *a = r->a;

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
		t->ncompleted++;
		for (size_t j = 0; j < d->ndone_datasets; j++) {
			int i = sched_find_dataset(a, d->done_datasets[j]);
			if (i >= 0)
				t->done[i] = 1;
		}
		cb = d->cert != NULL ? d->certify_by :
		    date_add(tz_date_at(a->timezone, d->completed),
		    a->certify_within);
		if (r->certify_by == DAY_NONE || cb > r->certify_by)
			r->certify_by = cb;
		if (d->cert == NULL)
			t->all_cert = 0;
		if (d->delivered == 0) {
			t->all_deliv = 0;
			if (t->undelivered_by == DAY_NONE ||
			    cb < t->undelivered_by)
				t->undelivered_by = cb;
		}
	}
}

/* The state of a row with nothing left to destroy. */
static void
finished_state(struct plan_row *r, const struct tally *t)
{
	if (t->all_deliv)
		r->state = PS_DELIVERED;
	else if (r->today > t->undelivered_by) {
		r->state = PS_DELIVERY_OVERDUE;
		plan_note(r, "certificate was due by %s",
		    date_format(t->undelivered_by, (char[11]){ 0 }));
	} else
		r->state = t->all_cert ? PS_CERTIFIED : PS_DONE;
}

/* The state of a row with something left to destroy that is not all
 * held: by the deadline, the notice and the day it is due from. */
static void
open_state(struct plan_row *r, int notice_pending)
{
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
}

int
sched_row_state(struct plan_row *r, const struct events *ev,
    const struct holds *h, int notice_pending)
{
	struct tally t = { .all_cert = 1, .all_deliv = 1,
	    .undelivered_by = DAY_NONE };
	size_t nremaining = 0;
	int rc = -1;

	if (r->start == DAY_NONE) {
		r->state = PS_WAITING;
		return 0;
	}
	if ((t.done = calloc(r->a->nds + 1, 1)) == NULL)
		return -1;
	tally(r, ev, &t);
	for (size_t k = 0; k < r->nscope; k++) {
		size_t i = r->scope[k];
		if (t.done[i])
			continue;
		nremaining++;
		if (h->by[i] != NULL && sched_push(&r->held, &r->nheld, i) != 0)
			goto out;
	}
	if (nremaining == 0 && t.ncompleted > 0) {
		finished_state(r, &t);
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
	open_state(r, notice_pending);
	if (r->state == PS_DUE || r->state == PS_OVERDUE)
		for (size_t k = 0; k < r->nscope; k++) {
			size_t i = r->scope[k];
			if (!t.done[i] && h->by[i] == NULL &&
			    sched_push(&r->todo, &r->ntodo, i) != 0)
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
	free(t.done);
	return rc;
}
