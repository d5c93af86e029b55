/*
 * events_disp.c: replaying what is recorded of each disposition (see
 * events.h): its start, its files, its completion or failure, its
 * certificate and every delivery attempt; and journal acceptances.
 */
#include "plan/events.h"
#include "plan/events_int.h"

#include "base/err.h"
#include "base/num.h"
#include "state/journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ev_disposition *
find_disp(struct replay *rp, const char *id)
{
	return (struct ev_disposition *)events_disposition(rp->ev, id);
}

/* The disposition named by field key of r; NULL with *e set if none. */
static struct ev_disposition *
need_disp(struct replay *rp, const struct jrec *r, const char *key)
{
	const char *id = ev_need(rp, r, key);
	struct ev_disposition *d;

	if (id == NULL)
		return NULL;
	d = find_disp(rp, id);
	if (d == NULL)
		ev_bad(rp, r, "no such disposition", id);
	return d;
}

int
ev_on_disp_start(struct replay *rp, const struct jrec *r)
{
	struct events *ev = rp->ev;
	const char *id = ev_need(rp, r, "id"), *a = ev_need(rp, r, "agreement");
	const char *t = ev_need(rp, r, "trigger");
	struct ev_disposition *d;

	if (id == NULL || a == NULL || t == NULL)
		return -1;
	if (find_disp(rp, id) != NULL)
		return ev_bad(rp, r, "duplicate disposition id", id);
	if ((d = ev_append(rp, &ev->disp, &ev->ndisp, sizeof(*d))) == NULL)
		return -1;
	if (strmap_put(&ev->by_disp, id, ev->ndisp - 1) != 0) {
		rp->oom = 1;
		return -1;
	}
	d->id = ev_xdup(rp, id);
	d->agreement = ev_xdup(rp, a);
	d->trigger = ev_xdup(rp, t);
	/* A supplementary disposition: the trigger whose data reappeared
	 * (older journals: not recorded). */
	if (jrec_get(r, "of") != NULL)
		d->of = ev_xdup(rp, jrec_get(r, "of"));
	d->started = r->time;
	d->seq = r->seq;
	d->deadline = DAY_NONE;
	d->certify_by = DAY_NONE;
	if (jrec_get(r, "deadline") != NULL &&
	    ev_need_date(rp, r, "deadline", &d->deadline) != 0)
		return -1;
	return ev_split_list(rp, jrec_get(r, "datasets"), &d->datasets,
	    &d->ndatasets);
}

int
ev_on_disp_complete(struct replay *rp, const struct jrec *r)
{
	struct ev_disposition *d = need_disp(rp, r, "id");
	const char *ds;

	if (d == NULL)
		return -1;
	if (ev_need_u64(rp, r, "files", &d->files) != 0 ||
	    ev_need_u64(rp, r, "bytes", &d->bytes) != 0)
		return -1;
	d->remaining = 0;
	if (jrec_get(r, "remaining") != NULL &&
	    ev_need_u64(rp, r, "remaining", &d->remaining) != 0)
		return -1;
	d->completed = r->time;
	ev_free_list(d->done_datasets, d->ndone_datasets);
	d->done_datasets = NULL;
	d->ndone_datasets = 0;
	ds = jrec_get(r, "datasets");
	if (ds == NULL) {
		for (size_t i = 0; i < d->ndatasets; i++) {
			if (ev_grow(&d->done_datasets, i,
			    sizeof(*d->done_datasets)) != 0) {
				rp->oom = 1;
				return -1;
			}
			d->done_datasets[i] = ev_xdup(rp, d->datasets[i]);
			d->ndone_datasets = i + 1;
		}
		return 0;
	}
	return ev_split_list(rp, ds, &d->done_datasets, &d->ndone_datasets);
}

int
ev_on_disp_fail(struct replay *rp, const struct jrec *r)
{
	struct ev_disposition *d = need_disp(rp, r, "id");

	if (d == NULL)
		return -1;
	d->failed = r->time;
	free(d->fail_reason);
	d->fail_reason = ev_xdup(rp, jrec_get(r, "reason"));
	/* A failure after destroying something: its record was written, and
	 * it is certified as partial (SPEC §5 "Every destroyed file is
	 * certified"). */
	d->partial = jrec_get(r, "partial") != NULL &&
	    strcmp(jrec_get(r, "partial"), "yes") == 0;
	if (d->partial && ev_need_u64(rp, r, "files", &d->files) != 0)
		return -1;
	return 0;
}

int
ev_on_file(struct replay *rp, const struct jrec *r, int destroyed)
{
	struct ev_disposition *d = need_disp(rp, r, "disp");

	if (d == NULL)
		return -1;
	if (destroyed)
		d->ndestroyed++;
	else
		d->nintent++;
	return 0;
}

int
ev_on_cert(struct replay *rp, const struct jrec *r)
{
	struct ev_disposition *d = need_disp(rp, r, "disp");
	const char *id = ev_need(rp, r, "id");

	if (d == NULL || id == NULL)
		return -1;
	if (ev_need_date(rp, r, "certify_by", &d->certify_by) != 0)
		return -1;
	free(d->cert);
	d->cert = ev_xdup(rp, id);
	d->cert_issued = r->time;
	if (strmap_put(&rp->ev->by_cert, id, (size_t)(d - rp->ev->disp)) != 0) {
		rp->oom = 1;
		return -1;
	}
	return 0;
}

int
ev_on_delivery(struct replay *rp, const struct jrec *r)
{
	struct events *ev = rp->ev;
	const char *cert, *ok;
	struct ev_disposition *d = NULL;
	size_t k;

	/* A prior notice's delivery: what counts for the scheduler is the
	 * notice-sent line run.c writes once the notice was accepted. */
	if (jrec_get(r, "cert") == NULL && jrec_get(r, "notice") != NULL)
		return 0;
	cert = ev_need(rp, r, "cert");
	ok = ev_need(rp, r, "ok");
	if (cert == NULL || ok == NULL)
		return -1;
	if (strmap_get(&ev->by_cert, cert, &k) == 0 && k < ev->ndisp &&
	    ev->disp[k].cert != NULL && strcmp(ev->disp[k].cert, cert) == 0)
		d = &ev->disp[k];
	if (d == NULL)
		return ev_bad(rp, r, "no such certificate", cert);
	if (strcmp(ok, "yes") != 0 && strcmp(ok, "no") != 0)
		return ev_bad(rp, r, "bad value of field", "ok");
	d->attempts++;
	free(d->last_detail);
	d->last_detail = ev_xdup(rp, jrec_get(r, "detail"));
	if (strcmp(ok, "yes") == 0 && d->delivered == 0)
		d->delivered = r->time;
	return 0;
}

int
ev_on_accept(struct replay *rp, const struct jrec *r)
{
	struct events *ev = rp->ev;
	struct ev_accept *x;

	if (ev_need(rp, r, "reason") == NULL)
		return -1;
	if ((x = ev_append(rp, &ev->accept, &ev->naccept, sizeof(*x))) == NULL)
		return -1;
	x->seq = r->seq;
	x->at = r->time;
	x->kind = ev_xdup(rp, jrec_get(r, "kind"));
	x->reason = ev_xdup(rp, jrec_get(r, "reason"));
	x->by = ev_xdup(rp, jrec_get(r, "by"));
	return 0;
}
