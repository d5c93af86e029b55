/*
 * events.c: replaying the journal (see events.h).  Pure bookkeeping: the
 * rules about what is due live in sched.c.
 */
#include "plan/events.h"
#include "base/err.h"
#include "state/journal.h"
#include "base/num.h"
#include "conf/policy.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct replay {
	struct events *ev;
	struct err *e;
	const char *path;	/* state_dir/journal, for messages */
	int oom;
};

/* Grows *v (of n elements of size sz) so one more fits: capacity doubles
 * at powers of two, so no separate capacity field is needed. */
static int
grow(void *vp, size_t n, size_t sz)
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

static char *
xdup(struct replay *rp, const char *s)
{
	char *p;

	if (s == NULL)
		return NULL;
	p = strdup(s);
	if (p == NULL)
		rp->oom = 1;
	return p;
}

static int
bad(struct replay *rp, const struct jrec *r, const char *what,
    const char *key)
{
	return err_set(rp->e, "%s:%" PRIu64 ": %s event: %s '%s'", rp->path,
	    r->seq, r->event, what, key);
}

/* The value of a required field; NULL with *e set if missing. */
static const char *
need(struct replay *rp, const struct jrec *r, const char *key)
{
	const char *v = jrec_get(r, key);

	if (v == NULL)
		bad(rp, r, "missing field", key);
	return v;
}

static int
need_date(struct replay *rp, const struct jrec *r, const char *key,
    day_t *out)
{
	const char *v = need(rp, r, key);

	if (v == NULL)
		return -1;
	if (date_parse(v, out) != 0)
		return bad(rp, r, "bad date in field", key);
	return 0;
}

static int
need_u64(struct replay *rp, const struct jrec *r, const char *key,
    uint64_t *out)
{
	const char *v = need(rp, r, key);
	int64_t n;

	if (v == NULL)
		return -1;
	if (num_parse(v, 0, INT64_MAX, &n) != 0)
		return bad(rp, r, "bad number in field", key);
	*out = (uint64_t)n;
	return 0;
}

/* Splits "a,b,c" into a new array of names ("" gives none). */
static int
split_list(struct replay *rp, const char *s, char ***out, size_t *n)
{
	const char *p = s;

	*out = NULL;
	*n = 0;
	if (s == NULL || *s == '\0')
		return 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		char *name = strndup(p, len);
		if (name == NULL || grow(out, *n, sizeof(**out)) != 0) {
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

static void
free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
is_id(const char *s, char prefix)
{
	int64_t n;

	return s != NULL && s[0] == prefix && s[1] == '-' &&
	    strlen(s) < 16 && num_parse(s + 2, 1, 999999999, &n) == 0;
}

static int
on_terminate(struct replay *rp, const struct jrec *r)
{
	struct events *ev = rp->ev;
	const char *a = need(rp, r, "agreement");
	struct ev_termination *t = NULL;
	day_t d;

	if (a == NULL || need_date(rp, r, "date", &d) != 0)
		return -1;
	t = (struct ev_termination *)events_termination(ev, a);
	if (t == NULL) {
		if (grow(&ev->term, ev->nterm, sizeof(*ev->term)) != 0 ||
		    strmap_put(&ev->by_term, a, ev->nterm) != 0) {
			rp->oom = 1;
			return -1;
		}
		t = &ev->term[ev->nterm++];
		memset(t, 0, sizeof(*t));
		t->agreement = xdup(rp, a);
	}
	free(t->by);
	t->by = xdup(rp, jrec_get(r, "by"));
	t->date = d;
	t->at = r->time;
	t->seq = r->seq;
	return 0;
}

static int
on_directive_add(struct replay *rp, const struct jrec *r)
{
	struct events *ev = rp->ev;
	const char *id = need(rp, r, "id"), *a = need(rp, r, "agreement");
	const char *ext = need(rp, r, "extent"), *nat = need(rp, r, "nature");
	const char *sch = need(rp, r, "schedule");
	const char *cats = jrec_get(r, "categories");
	const char *sha = jrec_get(r, "sha256");
	struct ev_directive *d;
	char msg[256];

	if (id == NULL || a == NULL || ext == NULL || nat == NULL ||
	    sch == NULL)
		return -1;
	if (!is_id(id, 'D'))
		return bad(rp, r, "bad directive id", id);
	if (events_directive(ev, id) != NULL)
		return bad(rp, r, "duplicate directive id", id);
	if (strcmp(ext, "partial") != 0 && strcmp(ext, "complete") != 0)
		return bad(rp, r, "bad extent", ext);
	if (strcmp(nat, "destroy") != 0 && strcmp(nat, "transfer") != 0)
		return bad(rp, r, "bad nature", nat);
	if (grow(&ev->dir, ev->ndir, sizeof(*ev->dir)) != 0) {
		rp->oom = 1;
		return -1;
	}
	d = &ev->dir[ev->ndir];
	memset(d, 0, sizeof(*d));
	snprintf(d->id, sizeof(d->id), "%s", id);
	d->complete = strcmp(ext, "complete") == 0;
	d->transfer = strcmp(nat, "transfer") == 0;
	if (need_date(rp, r, "received", &d->received) != 0)
		return -1;
	d->schedule = DAY_NONE;
	if (strcmp(sch, "asap") != 0 && date_parse(sch, &d->schedule) != 0)
		return bad(rp, r, "bad schedule", sch);
	if (!d->complete && (cats == NULL ||
	    category_parse_list(cats, &d->categories, msg, sizeof(msg)) != 0))
		return bad(rp, r, "bad categories for a partial directive",
		    cats != NULL ? cats : "(none)");
	if (d->transfer && (jrec_get(r, "transfer_to") == NULL ||
	    *jrec_get(r, "transfer_to") == '\0'))
		return bad(rp, r, "missing field", "transfer_to");
	snprintf(d->sha256, sizeof(d->sha256), "%s", sha != NULL ? sha : "");
	d->agreement = xdup(rp, a);
	d->transfer_to = d->transfer ? xdup(rp, jrec_get(r, "transfer_to")) :
	    NULL;
	d->requested_by = xdup(rp, jrec_get(r, "requested_by"));
	d->by = xdup(rp, jrec_get(r, "by"));
	d->added = r->time;
	d->seq = r->seq;
	ev->ndir++;
	return 0;
}

static int
on_directive_cancel(struct replay *rp, const struct jrec *r)
{
	const char *id = need(rp, r, "id");
	struct ev_directive *d;

	if (id == NULL)
		return -1;
	d = (struct ev_directive *)events_directive(rp->ev, id);
	if (d == NULL)
		return bad(rp, r, "no such directive", id);
	d->cancelled = 1;
	free(d->cancel_reason);
	free(d->cancelled_by);
	d->cancel_reason = xdup(rp, jrec_get(r, "reason"));
	d->cancelled_by = xdup(rp, jrec_get(r, "by"));
	d->cancelled_at = r->time;
	return 0;
}

static int
on_hold(struct replay *rp, const struct jrec *r)
{
	struct events *ev = rp->ev;
	const char *id = need(rp, r, "id"), *a = need(rp, r, "agreement");
	const char *cats = jrec_get(r, "categories");
	struct ev_hold *h;
	char msg[256];

	if (id == NULL || a == NULL)
		return -1;
	if (!is_id(id, 'H'))
		return bad(rp, r, "bad hold id", id);
	if (events_hold(ev, id) != NULL)
		return bad(rp, r, "duplicate hold id", id);
	if (grow(&ev->hold, ev->nhold, sizeof(*ev->hold)) != 0) {
		rp->oom = 1;
		return -1;
	}
	h = &ev->hold[ev->nhold++];
	memset(h, 0, sizeof(*h));
	snprintf(h->id, sizeof(h->id), "%s", id);
	h->agreement = xdup(rp, a);
	h->reason = xdup(rp, jrec_get(r, "reason"));
	h->by = xdup(rp, jrec_get(r, "by"));
	h->placed = r->time;
	h->seq = r->seq;
	if (cats != NULL && *cats != '\0') {
		h->categories = xdup(rp, cats);
		/* Fails closed: an unparsable list holds everything. */
		if (category_parse_list(cats, &h->catset, msg, sizeof(msg)) != 0)
			h->cat_unknown = 1;
	}
	return split_list(rp, jrec_get(r, "datasets"), &h->datasets,
	    &h->ndatasets);
}

static int
on_release(struct replay *rp, const struct jrec *r)
{
	const char *id = need(rp, r, "id");
	struct ev_hold *h;

	if (id == NULL)
		return -1;
	h = (struct ev_hold *)events_hold(rp->ev, id);
	if (h == NULL)
		return bad(rp, r, "no such hold", id);
	h->released = 1;
	h->released_at = r->time;
	free(h->released_by);
	h->released_by = xdup(rp, jrec_get(r, "by"));
	return 0;
}

static int
on_notice(struct replay *rp, const struct jrec *r)
{
	struct events *ev = rp->ev;
	const char *a = need(rp, r, "agreement");
	const char *t = jrec_get(r, "trigger");
	const char *pl = jrec_get(r, "planned");
	struct ev_notice *n;

	if (a == NULL)
		return -1;
	if (grow(&ev->notice, ev->nnotice, sizeof(*ev->notice)) != 0) {
		rp->oom = 1;
		return -1;
	}
	n = &ev->notice[ev->nnotice++];
	memset(n, 0, sizeof(*n));
	n->agreement = xdup(rp, a);
	n->trigger = xdup(rp, t != NULL ? t : "termination");
	n->planned = DAY_NONE;
	if (pl != NULL && date_parse(pl, &n->planned) != 0)
		return bad(rp, r, "bad date in field", "planned");
	if (jrec_get(r, "terminated") != NULL) {
		if (need_date(rp, r, "terminated", &n->terminated) != 0)
			return -1;
	} else {
		/* An older line: the termination in effect when it was sent
		 * (the journal is replayed in order). */
		const struct ev_termination *te = events_termination(ev, a);
		n->terminated = te != NULL ? te->date : DAY_NONE;
	}
	n->to = xdup(rp, jrec_get(r, "to"));
	n->sent = r->time;
	n->seq = r->seq;
	return 0;
}

static struct ev_disposition *
find_disp(struct replay *rp, const char *id)
{
	return (struct ev_disposition *)events_disposition(rp->ev, id);
}

/* The disposition named by field key of r; NULL with *e set if none. */
static struct ev_disposition *
need_disp(struct replay *rp, const struct jrec *r, const char *key)
{
	const char *id = need(rp, r, key);
	struct ev_disposition *d;

	if (id == NULL)
		return NULL;
	d = find_disp(rp, id);
	if (d == NULL)
		bad(rp, r, "no such disposition", id);
	return d;
}

static int
on_disp_start(struct replay *rp, const struct jrec *r)
{
	struct events *ev = rp->ev;
	const char *id = need(rp, r, "id"), *a = need(rp, r, "agreement");
	const char *t = need(rp, r, "trigger");
	struct ev_disposition *d;

	if (id == NULL || a == NULL || t == NULL)
		return -1;
	if (find_disp(rp, id) != NULL)
		return bad(rp, r, "duplicate disposition id", id);
	if (grow(&ev->disp, ev->ndisp, sizeof(*ev->disp)) != 0 ||
	    strmap_put(&ev->by_disp, id, ev->ndisp) != 0) {
		rp->oom = 1;
		return -1;
	}
	d = &ev->disp[ev->ndisp++];
	memset(d, 0, sizeof(*d));
	d->id = xdup(rp, id);
	d->agreement = xdup(rp, a);
	d->trigger = xdup(rp, t);
	/* A supplementary disposition: the trigger whose data reappeared
	 * (older journals: not recorded). */
	if (jrec_get(r, "of") != NULL)
		d->of = xdup(rp, jrec_get(r, "of"));
	d->started = r->time;
	d->seq = r->seq;
	d->deadline = DAY_NONE;
	d->certify_by = DAY_NONE;
	if (jrec_get(r, "deadline") != NULL &&
	    need_date(rp, r, "deadline", &d->deadline) != 0)
		return -1;
	return split_list(rp, jrec_get(r, "datasets"), &d->datasets,
	    &d->ndatasets);
}

static int
on_disp_complete(struct replay *rp, const struct jrec *r)
{
	struct ev_disposition *d = need_disp(rp, r, "id");
	const char *ds;

	if (d == NULL)
		return -1;
	if (need_u64(rp, r, "files", &d->files) != 0 ||
	    need_u64(rp, r, "bytes", &d->bytes) != 0)
		return -1;
	d->remaining = 0;
	if (jrec_get(r, "remaining") != NULL &&
	    need_u64(rp, r, "remaining", &d->remaining) != 0)
		return -1;
	d->completed = r->time;
	free_list(d->done_datasets, d->ndone_datasets);
	d->done_datasets = NULL;
	d->ndone_datasets = 0;
	ds = jrec_get(r, "datasets");
	if (ds == NULL) {
		for (size_t i = 0; i < d->ndatasets; i++) {
			if (grow(&d->done_datasets, i,
			    sizeof(*d->done_datasets)) != 0) {
				rp->oom = 1;
				return -1;
			}
			d->done_datasets[i] = xdup(rp, d->datasets[i]);
			d->ndone_datasets = i + 1;
		}
		return 0;
	}
	return split_list(rp, ds, &d->done_datasets, &d->ndone_datasets);
}

static int
on_disp_fail(struct replay *rp, const struct jrec *r)
{
	struct ev_disposition *d = need_disp(rp, r, "id");

	if (d == NULL)
		return -1;
	d->failed = r->time;
	free(d->fail_reason);
	d->fail_reason = xdup(rp, jrec_get(r, "reason"));
	/* A failure after destroying something: its record was written, and
	 * it is certified as partial (SPEC §5 "Every destroyed file is
	 * certified"). */
	d->partial = jrec_get(r, "partial") != NULL &&
	    strcmp(jrec_get(r, "partial"), "yes") == 0;
	if (d->partial && need_u64(rp, r, "files", &d->files) != 0)
		return -1;
	return 0;
}

static int
on_file(struct replay *rp, const struct jrec *r, int destroyed)
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

static int
on_cert(struct replay *rp, const struct jrec *r)
{
	struct ev_disposition *d = need_disp(rp, r, "disp");
	const char *id = need(rp, r, "id");

	if (d == NULL || id == NULL)
		return -1;
	if (need_date(rp, r, "certify_by", &d->certify_by) != 0)
		return -1;
	free(d->cert);
	d->cert = xdup(rp, id);
	d->cert_issued = r->time;
	if (strmap_put(&rp->ev->by_cert, id, (size_t)(d - rp->ev->disp)) != 0) {
		rp->oom = 1;
		return -1;
	}
	return 0;
}

static int
on_delivery(struct replay *rp, const struct jrec *r)
{
	struct events *ev = rp->ev;
	const char *cert, *ok;
	struct ev_disposition *d = NULL;
	size_t k;

	/* A prior notice's delivery: what counts for the scheduler is the
	 * notice-sent line run.c writes once the notice was accepted. */
	if (jrec_get(r, "cert") == NULL && jrec_get(r, "notice") != NULL)
		return 0;
	cert = need(rp, r, "cert");
	ok = need(rp, r, "ok");
	if (cert == NULL || ok == NULL)
		return -1;
	if (strmap_get(&ev->by_cert, cert, &k) == 0 && k < ev->ndisp &&
	    ev->disp[k].cert != NULL && strcmp(ev->disp[k].cert, cert) == 0)
		d = &ev->disp[k];
	if (d == NULL)
		return bad(rp, r, "no such certificate", cert);
	if (strcmp(ok, "yes") != 0 && strcmp(ok, "no") != 0)
		return bad(rp, r, "bad value of field", "ok");
	d->attempts++;
	free(d->last_detail);
	d->last_detail = xdup(rp, jrec_get(r, "detail"));
	if (strcmp(ok, "yes") == 0 && d->delivered == 0)
		d->delivered = r->time;
	return 0;
}

static int
on_accept(struct replay *rp, const struct jrec *r)
{
	struct events *ev = rp->ev;
	struct ev_accept *x;

	if (need(rp, r, "reason") == NULL)
		return -1;
	if (grow(&ev->accept, ev->naccept, sizeof(*ev->accept)) != 0) {
		rp->oom = 1;
		return -1;
	}
	x = &ev->accept[ev->naccept++];
	memset(x, 0, sizeof(*x));
	x->seq = r->seq;
	x->at = r->time;
	x->kind = xdup(rp, jrec_get(r, "kind"));
	x->reason = xdup(rp, jrec_get(r, "reason"));
	x->by = xdup(rp, jrec_get(r, "by"));
	return 0;
}

static int
on_rec(const struct jrec *r, void *arg)
{
	static const struct {
		const char *event;
		int (*fn)(struct replay *, const struct jrec *);
	} table[] = {
		{ "terminate", on_terminate },
		{ "directive-add", on_directive_add },
		{ "directive-cancel", on_directive_cancel },
		{ "hold", on_hold },
		{ "release", on_release },
		{ "notice-sent", on_notice },
		{ "disposition-start", on_disp_start },
		{ "disposition-complete", on_disp_complete },
		{ "disposition-fail", on_disp_fail },
		{ "certificate-issued", on_cert },
		{ "delivery-attempt", on_delivery },
		{ "journal-accept", on_accept },
	};
	struct replay *rp = arg;
	int rc = 0;

	rp->ev->lines++;
	rp->ev->seq = r->seq;
	memcpy(rp->ev->head, r->hash, sizeof(rp->ev->head));
	if (strcmp(r->event, "file-intent") == 0)
		rc = on_file(rp, r, 0);
	else if (strcmp(r->event, "file-destroyed") == 0)
		rc = on_file(rp, r, 1);
	else
		for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
			if (strcmp(r->event, table[i].event) == 0) {
				rc = table[i].fn(rp, r);
				break;
			}
	if (rc == 0 && rp->oom)
		rc = err_set(rp->e, "%s:%" PRIu64 ": out of memory", rp->path,
		    r->seq);
	return rc;
}

int
events_load(const char *state_dir, struct events *ev, struct err *e)
{
	struct replay rp = { .ev = ev, .e = e };
	struct journal_report rep;
	char path[4096];
	int n;

	memset(ev, 0, sizeof(*ev));
	memset(ev->head, '0', 64);
	n = snprintf(path, sizeof(path), "%s/journal", state_dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return err_set(e, "%s: path too long", state_dir);
	rp.path = path;
	if (journal_scan(state_dir, on_rec, &rp, &rep, e) != 0)
		return -1;
	ev->torn = rep.torn;
	return 0;
}

int
events_apply(struct events *ev, const struct jrec *r, struct err *e)
{
	struct replay rp = { .ev = ev, .e = e, .path = "journal" };

	if (r->seq <= ev->seq)
		return 0;
	return on_rec(r, &rp);
}

void
events_free(struct events *ev)
{
	for (size_t i = 0; i < ev->nterm; i++) {
		free(ev->term[i].agreement);
		free(ev->term[i].by);
	}
	for (size_t i = 0; i < ev->ndir; i++) {
		struct ev_directive *d = &ev->dir[i];
		free(d->agreement);
		free(d->transfer_to);
		free(d->requested_by);
		free(d->by);
		free(d->cancel_reason);
		free(d->cancelled_by);
	}
	for (size_t i = 0; i < ev->nhold; i++) {
		struct ev_hold *h = &ev->hold[i];
		free(h->agreement);
		free(h->reason);
		free_list(h->datasets, h->ndatasets);
		free(h->categories);
		free(h->by);
		free(h->released_by);
	}
	for (size_t i = 0; i < ev->nnotice; i++) {
		free(ev->notice[i].agreement);
		free(ev->notice[i].trigger);
		free(ev->notice[i].to);
	}
	for (size_t i = 0; i < ev->ndisp; i++) {
		struct ev_disposition *d = &ev->disp[i];
		free(d->id);
		free(d->agreement);
		free(d->trigger);
		free(d->of);
		free_list(d->datasets, d->ndatasets);
		free_list(d->done_datasets, d->ndone_datasets);
		free(d->fail_reason);
		free(d->cert);
		free(d->last_detail);
	}
	free(ev->term);
	free(ev->dir);
	free(ev->hold);
	free(ev->notice);
	for (size_t i = 0; i < ev->naccept; i++) {
		free(ev->accept[i].kind);
		free(ev->accept[i].reason);
		free(ev->accept[i].by);
	}
	free(ev->disp);
	free(ev->accept);
	strmap_free(&ev->by_term);
	strmap_free(&ev->by_disp);
	strmap_free(&ev->by_cert);
	memset(ev, 0, sizeof(*ev));
}

const struct ev_termination *
events_termination(const struct events *ev, const char *agreement)
{
	size_t i;

	if (ev->by_term.n != ev->nterm) {	/* not from replay: no index */
		for (i = 0; i < ev->nterm; i++)
			if (strcmp(ev->term[i].agreement, agreement) == 0)
				return &ev->term[i];
		return NULL;
	}
	if (strmap_get(&ev->by_term, agreement, &i) == 0 && i < ev->nterm &&
	    strcmp(ev->term[i].agreement, agreement) == 0)
		return &ev->term[i];
	return NULL;
}

day_t
events_terminated(const struct events *ev, const struct agreement *a)
{
	const struct ev_termination *t = events_termination(ev, a->id);

	return t != NULL ? t->date : a->terminated;
}

const struct ev_notice *
events_notice(const struct events *ev, const struct agreement *a,
    const char *trigger, day_t term)
{
	const struct ev_notice *n = NULL;

	for (size_t i = 0; i < ev->nnotice; i++) {
		const struct ev_notice *x = &ev->notice[i];
		day_t said = x->terminated != DAY_NONE ? x->terminated :
		    a->terminated;
		if (strcmp(x->agreement, a->id) == 0 &&
		    strcmp(x->trigger, trigger) == 0 && said == term)
			n = x;
	}
	return n;
}

const struct ev_directive *
events_directive(const struct events *ev, const char *id)
{
	for (size_t i = 0; i < ev->ndir; i++)
		if (strcmp(ev->dir[i].id, id) == 0)
			return &ev->dir[i];
	return NULL;
}

const struct ev_hold *
events_hold(const struct events *ev, const char *id)
{
	for (size_t i = 0; i < ev->nhold; i++)
		if (strcmp(ev->hold[i].id, id) == 0)
			return &ev->hold[i];
	return NULL;
}

const struct ev_disposition *
events_disposition(const struct events *ev, const char *id)
{
	size_t i;

	if (ev->by_disp.n != ev->ndisp) {	/* not from replay: no index */
		for (i = 0; i < ev->ndisp; i++)
			if (strcmp(ev->disp[i].id, id) == 0)
				return &ev->disp[i];
		return NULL;
	}
	if (strmap_get(&ev->by_disp, id, &i) == 0 && i < ev->ndisp &&
	    strcmp(ev->disp[i].id, id) == 0)
		return &ev->disp[i];
	return NULL;
}

/* Whether failed disposition k was finished by a later disposition of the
 * same agreement and trigger that completed and was certified. */
static int
finished_later(const struct events *ev, size_t k)
{
	const struct ev_disposition *d = &ev->disp[k];

	for (size_t j = k + 1; j < ev->ndisp; j++) {
		const struct ev_disposition *l = &ev->disp[j];
		if (l->completed != 0 && l->cert != NULL &&
		    strcmp(l->trigger, d->trigger) == 0 &&
		    strcmp(l->agreement, d->agreement) == 0)
			return 1;
	}
	return 0;
}

const struct ev_disposition *
events_uncertified(const struct events *ev, const char *trigger)
{
	for (size_t k = 0; k < ev->ndisp; k++) {
		const struct ev_disposition *d = &ev->disp[k];
		if (strcmp(d->trigger, trigger) != 0 || d->cert != NULL)
			continue;
		/* Interrupted: its files are recorded in work/ID, not here,
		 * and the next run finishes and certifies it. */
		if (d->completed == 0 && d->failed == 0)
			return d;
		if (d->ndestroyed == 0 && d->files == 0)
			continue;
		/* A failure from before partial certificates: a later
		 * certified disposition of the trigger is all that finishes it.
		 * (A partial one is finished by its own certificate.) */
		if (d->failed != 0 && d->completed == 0 && !d->partial &&
		    finished_later(ev, k))
			continue;
		return d;
	}
	return NULL;
}

static char *
next_id(const char *prefix, size_t count, const char *(*idof)(const void *,
    size_t), const void *arr, char *buf)
{
	int64_t max = 0, n;

	for (size_t i = 0; i < count; i++) {
		const char *id = idof(arr, i);
		if (num_parse(id + 2, 1, 999999999, &n) == 0 && n > max)
			max = n;
	}
	/* max <= 999999999, so "X-" and ten digits always fit in 16. */
	if (snprintf(buf, 16, "%s-%04lld", prefix, (long long)(max + 1)) >= 16)
		buf[0] = '\0';
	return buf;
}

static const char *
dir_id(const void *arr, size_t i)
{
	return ((const struct ev_directive *)arr)[i].id;
}

static const char *
hold_id(const void *arr, size_t i)
{
	return ((const struct ev_hold *)arr)[i].id;
}

char *
events_next_directive_id(const struct events *ev, char *buf)
{
	return next_id("D", ev->ndir, dir_id, ev->dir, buf);
}

char *
events_next_hold_id(const struct events *ev, char *buf)
{
	return next_id("H", ev->nhold, hold_id, ev->hold, buf);
}

const struct ev_directive *
events_directive_by_sha(const struct events *ev, const char *sha256)
{
	for (size_t i = 0; i < ev->ndir; i++)
		if (ev->dir[i].sha256[0] != '\0' &&
		    strcmp(ev->dir[i].sha256, sha256) == 0)
			return &ev->dir[i];
	return NULL;
}
