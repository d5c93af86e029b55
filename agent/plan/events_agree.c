/*
 * events_agree.c: replaying what is recorded of an agreement (see
 * events.h): terminations, Exhibit D directives and their cancellations,
 * holds and their releases, and prior notices sent.
 */
#include "plan/events.h"
#include "plan/events_int.h"

#include "base/err.h"
#include "base/num.h"
#include "state/journal.h"
#include "conf/category.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
ev_on_terminate(struct replay *rp, const struct jrec *r)
{
	struct events *ev = rp->ev;
	const char *a = ev_need(rp, r, "agreement");
	struct ev_termination *t = NULL;
	day_t d;

	if (a == NULL || ev_need_date(rp, r, "date", &d) != 0)
		return -1;
	t = (struct ev_termination *)events_termination(ev, a);
	if (t == NULL) {
		if ((t = ev_append(rp, &ev->term, &ev->nterm,
		    sizeof(*t))) == NULL)
			return -1;
		if (strmap_put(&ev->by_term, a, ev->nterm - 1) != 0) {
			rp->oom = 1;
			return -1;
		}
		t->agreement = ev_xdup(rp, a);
	}
	free(t->by);
	t->by = ev_xdup(rp, jrec_get(r, "by"));
	t->date = d;
	t->at = r->time;
	t->seq = r->seq;
	return 0;
}

int
ev_on_directive_add(struct replay *rp, const struct jrec *r)
{
	struct events *ev = rp->ev;
	const char *id = ev_need(rp, r, "id"), *a = ev_need(rp, r, "agreement");
	const char *ext = ev_need(rp, r, "extent"), *nat = ev_need(rp, r, "nature");
	const char *sch = ev_need(rp, r, "schedule");
	const char *cats = jrec_get(r, "categories");
	const char *sha = jrec_get(r, "sha256");
	struct ev_directive *d;
	char msg[256];

	if (id == NULL || a == NULL || ext == NULL || nat == NULL ||
	    sch == NULL)
		return -1;
	if (!ev_is_id(id, 'D'))
		return ev_bad(rp, r, "bad directive id", id);
	if (events_directive(ev, id) != NULL)
		return ev_bad(rp, r, "duplicate directive id", id);
	if (strcmp(ext, "partial") != 0 && strcmp(ext, "complete") != 0)
		return ev_bad(rp, r, "bad extent", ext);
	if (strcmp(nat, "destroy") != 0 && strcmp(nat, "transfer") != 0)
		return ev_bad(rp, r, "bad nature", nat);
	if (ev_grow(&ev->dir, ev->ndir, sizeof(*ev->dir)) != 0) {
		rp->oom = 1;
		return -1;
	}
	d = &ev->dir[ev->ndir];
	memset(d, 0, sizeof(*d));
	snprintf(d->id, sizeof(d->id), "%s", id);
	d->complete = strcmp(ext, "complete") == 0;
	d->transfer = strcmp(nat, "transfer") == 0;
	if (ev_need_date(rp, r, "received", &d->received) != 0)
		return -1;
	d->schedule = DAY_NONE;
	if (strcmp(sch, "asap") != 0 && date_parse(sch, &d->schedule) != 0)
		return ev_bad(rp, r, "bad schedule", sch);
	if (!d->complete && (cats == NULL ||
	    category_parse_list(cats, &d->categories, msg, sizeof(msg)) != 0))
		return ev_bad(rp, r, "bad categories for a partial directive",
		    cats != NULL ? cats : "(none)");
	if (d->transfer && (jrec_get(r, "transfer_to") == NULL ||
	    *jrec_get(r, "transfer_to") == '\0'))
		return ev_bad(rp, r, "missing field", "transfer_to");
	snprintf(d->sha256, sizeof(d->sha256), "%s", sha != NULL ? sha : "");
	d->agreement = ev_xdup(rp, a);
	d->transfer_to = d->transfer ? ev_xdup(rp, jrec_get(r, "transfer_to")) :
	    NULL;
	d->requested_by = ev_xdup(rp, jrec_get(r, "requested_by"));
	d->by = ev_xdup(rp, jrec_get(r, "by"));
	d->added = r->time;
	d->seq = r->seq;
	ev->ndir++;
	return 0;
}

int
ev_on_directive_cancel(struct replay *rp, const struct jrec *r)
{
	const char *id = ev_need(rp, r, "id");
	struct ev_directive *d;

	if (id == NULL)
		return -1;
	d = (struct ev_directive *)events_directive(rp->ev, id);
	if (d == NULL)
		return ev_bad(rp, r, "no such directive", id);
	d->cancelled = 1;
	free(d->cancel_reason);
	free(d->cancelled_by);
	d->cancel_reason = ev_xdup(rp, jrec_get(r, "reason"));
	d->cancelled_by = ev_xdup(rp, jrec_get(r, "by"));
	d->cancelled_at = r->time;
	return 0;
}

int
ev_on_hold(struct replay *rp, const struct jrec *r)
{
	struct events *ev = rp->ev;
	const char *id = ev_need(rp, r, "id"), *a = ev_need(rp, r, "agreement");
	const char *cats = jrec_get(r, "categories");
	struct ev_hold *h;
	char msg[256];

	if (id == NULL || a == NULL)
		return -1;
	if (!ev_is_id(id, 'H'))
		return ev_bad(rp, r, "bad hold id", id);
	if (events_hold(ev, id) != NULL)
		return ev_bad(rp, r, "duplicate hold id", id);
	if ((h = ev_append(rp, &ev->hold, &ev->nhold, sizeof(*h))) == NULL)
		return -1;
	snprintf(h->id, sizeof(h->id), "%s", id);
	h->agreement = ev_xdup(rp, a);
	h->reason = ev_xdup(rp, jrec_get(r, "reason"));
	h->by = ev_xdup(rp, jrec_get(r, "by"));
	h->placed = r->time;
	h->seq = r->seq;
	if (cats != NULL && *cats != '\0') {
		h->categories = ev_xdup(rp, cats);
		/* Fails closed: an unparsable list holds everything. */
		if (category_parse_list(cats, &h->catset, msg, sizeof(msg)) != 0)
			h->cat_unknown = 1;
	}
	return ev_split_list(rp, jrec_get(r, "datasets"), &h->datasets,
	    &h->ndatasets);
}

int
ev_on_release(struct replay *rp, const struct jrec *r)
{
	const char *id = ev_need(rp, r, "id");
	struct ev_hold *h;

	if (id == NULL)
		return -1;
	h = (struct ev_hold *)events_hold(rp->ev, id);
	if (h == NULL)
		return ev_bad(rp, r, "no such hold", id);
	h->released = 1;
	h->released_at = r->time;
	free(h->released_by);
	h->released_by = ev_xdup(rp, jrec_get(r, "by"));
	return 0;
}

int
ev_on_notice(struct replay *rp, const struct jrec *r)
{
	struct events *ev = rp->ev;
	const char *a = ev_need(rp, r, "agreement");
	const char *t = jrec_get(r, "trigger");
	const char *pl = jrec_get(r, "planned");
	struct ev_notice *n;

	if (a == NULL)
		return -1;
	if ((n = ev_append(rp, &ev->notice, &ev->nnotice, sizeof(*n))) == NULL)
		return -1;
	n->agreement = ev_xdup(rp, a);
	n->trigger = ev_xdup(rp, t != NULL ? t : "termination");
	n->planned = DAY_NONE;
	if (pl != NULL && date_parse(pl, &n->planned) != 0)
		return ev_bad(rp, r, "bad date in field", "planned");
	if (jrec_get(r, "terminated") != NULL) {
		if (ev_need_date(rp, r, "terminated", &n->terminated) != 0)
			return -1;
	} else {
		/* An older line: the termination in effect when it was sent
		 * (the journal is replayed in order). */
		const struct ev_termination *te = events_termination(ev, a);
		n->terminated = te != NULL ? te->date : DAY_NONE;
	}
	n->to = ev_xdup(rp, jrec_get(r, "to"));
	n->sent = r->time;
	n->seq = r->seq;
	return 0;
}
