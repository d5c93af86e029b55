/*
 * decide.c: what run will do with each row, and why (see decide.h).
 *
 * MUST rules:
 *  - every rule that defers or blocks a disposition is applied here or in
 *    the scheduler, never only in run.c or its parts, so plan and dry
 *    runs show it;
 *  - nothing here writes: the preflight formats a certificate in memory
 *    and loads the signing key, the walk reads directories.
 */
#include "run/decide.h"

#include "base/err.h"
#include "certify/certify.h"
#include "conf/config.h"
#include "conf/directive.h"
#include "conf/policy.h"
#include "plan/events.h"
#include "plan/reappear.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
decide_pass(const struct plan_row *r)
{
	return r->kind == TRIG_REAPPEARED ? 0 : r->kind == TRIG_DIRECTIVE ?
	    1 : 2;
}

int
decide_row_acts(const struct plan_row *r)
{
	if (r->blocked || (r->state != PS_DUE && r->state != PS_OVERDUE))
		return 0;
	/* A trigger whose scope is empty (a partial directive for
	 * categories the policy does not hold) still gets its written
	 * confirmation: a disposition of nothing, certified as such.  A
	 * failed supplementary one is retried only while there is data. */
	if (r->kind == TRIG_REAPPEARED)
		return r->ntodo > 0;
	return r->ntodo > 0 || (r->nscope == 0 && r->nheld == 0 &&
	    r->nwaiting == 0);
}

int
decide_notice_now(const struct plan_row *r)
{
	return r->notice_needed && (r->state == PS_NOTICE_DUE ||
	    r->state == PS_DUE);
}

int
decide_row_finished(const struct plan_row *r)
{
	return r->kind != TRIG_REAPPEARED && (r->state == PS_DONE ||
	    r->state == PS_CERTIFIED || r->state == PS_DELIVERED ||
	    r->state == PS_DELIVERY_OVERDUE);
}

const char *
decide_transfer_of(const struct plan_row *r)
{
	return r->kind == TRIG_DIRECTIVE && r->dir != NULL && r->dir->transfer ?
	    r->dir->transfer_to : NULL;
}

int
decide_disp_id(const char *agreement, time_t now, uint64_t seq, char *buf,
    size_t len)
{
	int y, m, d, n;

	date_to_ymd(tz_date_at(NULL, now), &y, &m, &d);
	n = snprintf(buf, len, "%s-%04d%02d%02d-%" PRIu64, agreement, y, m, d,
	    seq + 1);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Step 2: the certificate must be issuable before anything goes. */
static void
preflight(struct decide *d, struct plan_row *r)
{
	char id[160];
	struct err e;

	size_t len = 0;

	if (!decide_row_acts(r))
		return;
	for (size_t k = 0; k < r->ntodo; k++)
		len += strlen(r->a->ds[r->todo[k]].name) + 1;
	if (len > DECIDE_DS_LIST_MAX) {
		r->blocked = 1;
		plan_note(r, "blocked: its %zu datasets' names take %zu bytes, "
		    "more than a journal line holds (%d); split the agreement's "
		    "datasets, or merge overlapping ones", r->ntodo, len,
		    DECIDE_DS_LIST_MAX);
		return;
	}
	/* The id run would give it today. */
	(void)decide_disp_id(r->a->id, time(NULL), d->ev->seq, id, sizeof(id));
	if (certify_preflight(d->c, r->a, id, r->trigger_id, r->start,
	    r->deadline, r->todo, r->ntodo, d->ev, &e) != 0) {
		r->blocked = 1;
		plan_note(r, "blocked: preflight: %s; nothing is destroyed "
		    "until it is fixed", e.msg);
	}
	if (decide_transfer_of(r) != NULL && !r->blocked &&
	    directive_check_transfer(d->c, d->ps, decide_transfer_of(r),
	    &e) != 0) {
		r->blocked = 1;
		plan_note(r, "blocked: %s", e.msg);
	}
}

int
decide_open(struct decide *d, const struct config *c,
    const struct policyset *ps, const struct events *ev, time_t now,
    day_t today, struct err *e)
{
	memset(d, 0, sizeof(*d));
	d->c = c;
	d->ps = ps;
	d->ev = ev;
	if (own_paths(c, ps, &d->own) != 0)
		return err_set(e, "out of memory");
	if (sched_plan_on(ps, ev, now, today, &d->plan, e) != 0)
		return -1;
	d->sx.cfg = c;
	d->sx.ps = ps;
	d->sx.ev = ev;
	d->sx.plan = &d->plan;
	d->sx.own = &d->own;
	d->sx.index = d->index = scope_index_new(ps);
	for (size_t i = 0; i < d->plan.n; i++)
		preflight(d, &d->plan.rows[i]);
	return 0;
}

int
decide_reappeared(const struct decide *d, const struct agreement *a,
    const char *of, struct scope_ctx *sx, struct reappear *r, struct err *e)
{
	*sx = d->sx;
	memset(r, 0, sizeof(*r));
	if (of == NULL)
		return 0;
	if (reappear_load(d->c->state_dir, d->ev, a->id, of, r, e) != 0)
		return -1;
	sx->only = reappear_same;
	sx->only_arg = r;
	return 0;
}

const char *
decide_reappeared_of(const struct decide *d, const struct plan_row *r)
{
	if (r->kind != TRIG_REAPPEARED || r->ndisp == 0)
		return NULL;
	return d->ev->disp[r->disp[0]].of;
}

/* Step 3 for one row. */
static int
walk_row(struct decide *d, size_t i, int keep)
{
	struct plan_row *r = &d->plan.rows[i];
	struct dispose_preview *p = &d->pv[i];
	struct reappear rp;
	struct scope_ctx sx;
	struct scope s;
	struct err e;
	uint64_t n;
	int rc;

	if (decide_reappeared(d, r->a, decide_reappeared_of(d, r), &sx, &rp,
	    &e) != 0) {
		r->blocked = 1;
		plan_note(r, "blocked: %s", e.msg);
		return 0;
	}
	rc = dispose_preview(&sx, r->a, r->todo, r->ntodo, p, &s, &e);
	reappear_free(&rp);
	if (rc != 0) {
		r->blocked = 1;
		plan_note(r, "blocked: %s", e.msg);
		return 0;
	}
	d->walked[i] = 1;
	n = dispose_preview_objects(p);
	if (p->refused > 0 && n == 0) {
		r->blocked = 1;
		plan_note(r, "blocked: %s", p->first_refusal);
	} else if (p->refused > 0) {
		plan_note(r, "%s: kept; the rest is destroyed and certified as "
		    "partial", p->first_refusal);
	}
	if (scope_set_add(&d->gone, &s) != 0) {
		scope_free(&s);
		return -1;
	}
	if (keep)
		d->scopes[i] = s;
	else
		scope_free(&s);
	return 0;
}

int
decide_walk(struct decide *d, int keep, struct err *e)
{
	d->pv = calloc(d->plan.n + 1, sizeof(*d->pv));
	d->scopes = calloc(d->plan.n + 1, sizeof(*d->scopes));
	d->walked = calloc(d->plan.n + 1, sizeof(*d->walked));
	if (d->pv == NULL || d->scopes == NULL || d->walked == NULL)
		return err_set(e, "out of memory");
	d->sx.gone = &d->gone;
	for (int pass = 0; pass < DECIDE_PASSES; pass++)
		for (size_t i = 0; i < d->plan.n; i++) {
			struct plan_row *r = &d->plan.rows[i];
			if (decide_pass(r) != pass || !decide_row_acts(r) ||
			    r->ntodo == 0)
				continue;
			if (walk_row(d, i, keep) != 0)
				return err_set(e, "out of memory");
		}
	d->sx.gone = NULL;
	return 0;
}

void
decide_close(struct decide *d)
{
	for (size_t i = 0; d->scopes != NULL && i < d->plan.n; i++)
		scope_free(&d->scopes[i]);
	free(d->scopes);
	free(d->pv);
	free(d->walked);
	scope_set_free(&d->gone);
	plan_free(&d->plan);
	scope_index_free(d->index);
	own_free(&d->own);
	memset(d, 0, sizeof(*d));
}
