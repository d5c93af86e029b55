/*
 * scope_guard.c: what protects objects from a disposition (see scope.h):
 * the globs of datasets that are exempt, held, or another agreement's and
 * not due, each a guard with the verdict it gives what it matches.
 *
 * MUST rules:
 *  - holds are sched_holds' (the plan's one rule), due is the plan's:
 *    scope, plan and run cannot disagree about either;
 *  - only guards that can meet one of the disposition's literal prefixes
 *    are kept; when in doubt (no index), every dataset is a guard.
 */
#include "plan/scope.h"
#include "plan/scope_int.h"

#include "conf/policy.h"
#include "locate/locate.h"
#include "locate/resolve.h"
#include "plan/events.h"
#include "plan/sched.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Whether one of two absolute directory paths holds the other (path
 * components, as resolve_which_root compares them). */
static int
nested_either(const char *p, const char *q)
{
	const char *rest, *pv[1] = { p }, *qv[1] = { q };

	return resolve_which_root(pv, 1, q, &rest) == 0 ||
	    resolve_which_root(qv, 1, p, &rest) == 0;
}

/* Whether glob g can match anything below one of the disposition's
 * literal prefixes: only those guards are worth matching names against. */
static int
relevant(const struct build *b, const char *g)
{
	char p[PATH_MAX];

	glob_literal_prefix(g, p, sizeof(p));
	for (size_t k = 0; k < b->nprefix; k++)
		if (nested_either(p, b->prefix[k]))
			return 1;
	return 0;
}

static int
guard_add(struct build *b, const char *glob, int verdict, int from_archive,
    int same, const struct agreement *a, size_t ds, const char *hold)
{
	struct guard *v;

	if (glob == NULL || !relevant(b, glob))
		return 0;
	v = realloc(b->g.v, (b->g.n + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	b->g.v = v;
	v[b->g.n].glob = glob;
	v[b->g.n].verdict = verdict;
	v[b->g.n].from_archive = from_archive;
	v[b->g.n].same = same;
	v[b->g.n].agreement = a->id;
	v[b->g.n].dataset = a->ds[ds].name;
	v[b->g.n].hold = hold;
	b->g.n++;
	return 0;
}

/* What one dataset of agreement a guards against this disposition, or
 * -1 when it does not: its exempt and held datasets (and, for another
 * agreement, those not due now).  by has a's holds. */
static int
guard_verdict(struct build *b, const struct agreement *a, size_t k,
    const struct ev_hold *const *by)
{
	int same = a == b->a;

	if (dataset_exempt(a, k))
		return same ? SV_EXEMPT : SV_KEPT_OTHER;
	if (by[k] != NULL)
		return same ? SV_HELD : SV_KEPT_OTHER;
	if (same || plan_dataset_due(b->x->plan, a, k))
		return -1;
	return SV_CONFLICT;
}

/* Adds the guard of dataset k of a (glob g, archive or path). */
static int
guard_of(struct build *b, const struct agreement *a, size_t k,
    const char *g, int from_archive)
{
	const struct ev_hold **by;
	int v, rc;

	if (g == NULL || !relevant(b, g))
		return 0;
	if ((by = calloc(a->nds + 1, sizeof(*by))) == NULL)
		return -1;
	sched_holds(a, b->x->ev, by);
	v = guard_verdict(b, a, k, by);
	rc = v < 0 ? 0 : guard_add(b, g, v, from_archive, a == b->a, a, k,
	    by[k] != NULL ? by[k]->id : NULL);
	free(by);
	return rc;
}

/* The guards of one agreement's datasets. */
static int
guards_of(struct build *b, const struct agreement *a)
{
	for (size_t k = 0; k < a->nds; k++)
		if (guard_of(b, a, k, a->ds[k].path, 0) != 0 ||
		    guard_of(b, a, k, a->ds[k].archive, 1) != 0)
			return -1;
	return 0;
}

/* scope_index_fn: adds the guard of one indexed dataset glob. */
static int
guard_entry(void *arg, const struct agreement *a, size_t ds, int archive)
{
	return guard_of(arg, a, ds, archive ? a->ds[ds].archive :
	    a->ds[ds].path, archive);
}

/* Drops repeated guards (the same glob of the same dataset). */
static void
guards_dedup(struct guards *g)
{
	size_t j = 0;

	for (size_t i = 0; i < g->n; i++) {
		int dup = 0;
		for (size_t k = 0; k < j && !dup; k++)
			dup = g->v[k].glob == g->v[i].glob;
		if (!dup)
			g->v[j++] = g->v[i];
	}
	g->n = j;
}

int
scope_guards_build(struct build *b, const size_t *ds, size_t nds)
{
	b->prefix = calloc(nds * 2 + 1, sizeof(*b->prefix));
	if (b->prefix == NULL)
		return -1;
	for (size_t i = 0; i < nds; i++) {
		const struct dataset *d = &b->a->ds[ds[i]];
		if (d->path != NULL)
			glob_literal_prefix(d->path, b->prefix[b->nprefix++],
			    PATH_MAX);
		if (d->archive != NULL)
			glob_literal_prefix(d->archive,
			    b->prefix[b->nprefix++], PATH_MAX);
	}
	if (b->x->index != NULL) {
		/* Each guard once, though several prefixes may reach it. */
		for (size_t k = 0; k < b->nprefix; k++)
			if (scope_index_near(b->x->index, b->prefix[k],
			    guard_entry, b) != 0)
				return -1;
		guards_dedup(&b->g);
		return 0;
	}
	for (size_t i = 0; i < b->x->ps->n; i++)
		if (guards_of(b, &b->x->ps->a[i]) != 0)
			return -1;
	return 0;
}
