/*
 * scope_index.c: every dataset glob of every agreement by its literal
 * prefix (see scope_index_new in scope.h), so that a scope looks only at
 * the datasets that can meet its own: those whose prefix lies on the path
 * of one of its prefixes.
 */
#include "plan/scope.h"

#include "conf/policy.h"
#include "locate/locate.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ixent {
	char *prefix;
	const struct agreement *a;
	size_t ds;
	int archive;
};

struct scope_index {
	struct ixent *v;
	size_t n;
};

static int
cmp_ixent(const void *pa, const void *pb)
{
	return strcmp(((const struct ixent *)pa)->prefix,
	    ((const struct ixent *)pb)->prefix);
}

struct scope_index *
scope_index_new(const struct policyset *ps)
{
	struct scope_index *ix = calloc(1, sizeof(*ix));
	size_t cap = 0;

	if (ix == NULL)
		return NULL;
	for (size_t i = 0; i < ps->n; i++)
		for (size_t k = 0; k < ps->a[i].nds; k++)
			for (int w = 0; w < 2; w++) {
				const char *g = w ? ps->a[i].ds[k].archive :
				    ps->a[i].ds[k].path;
				char p[PATH_MAX];
				if (g == NULL)
					continue;
				if (ix->n == cap) {
					struct ixent *v;
					cap = cap ? cap * 2 : 256;
					v = realloc(ix->v, cap * sizeof(*v));
					if (v == NULL)
						goto oom;
					ix->v = v;
				}
				glob_literal_prefix(g, p, sizeof(p));
				if ((ix->v[ix->n].prefix = strdup(p)) == NULL)
					goto oom;
				ix->v[ix->n].a = &ps->a[i];
				ix->v[ix->n].ds = k;
				ix->v[ix->n].archive = w;
				ix->n++;
			}
	if (ix->n > 0)
		qsort(ix->v, ix->n, sizeof(*ix->v), cmp_ixent);
	return ix;
oom:
	scope_index_free(ix);
	return NULL;
}

void
scope_index_free(struct scope_index *ix)
{
	if (ix == NULL)
		return;
	for (size_t i = 0; i < ix->n; i++)
		free(ix->v[i].prefix);
	free(ix->v);
	free(ix);
}

/* The first entry whose prefix is not below p, by binary search. */
static size_t
lower(const struct scope_index *ix, const char *p)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(ix->v[mid].prefix, p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Calls fn for entry i; returns what it does. */
static int
visit(const struct scope_index *ix, size_t i, scope_index_fn fn, void *arg)
{
	const struct ixent *x = &ix->v[i];

	return fn(arg, x->a, x->ds, x->archive);
}

int
scope_index_near(const struct scope_index *ix, const char *p,
    scope_index_fn fn, void *arg)
{
	char anc[PATH_MAX];
	size_t len = strlen(p), i;
	int root = strcmp(p, "/") == 0;

	/* At or below p ("/" holds everything). */
	for (i = root ? 0 : lower(ix, p); i < ix->n; i++) {
		const char *q = ix->v[i].prefix;
		if (!root && strncmp(q, p, len) != 0)
			break;
		if ((root || q[len] == '\0' || q[len] == '/') &&
		    visit(ix, i, fn, arg) != 0)
			return -1;
	}
	if (root)
		return 0;
	/* Its ancestors, "/" included. */
	snprintf(anc, sizeof(anc), "%s", p);
	for (;;) {
		char *slash = strrchr(anc, '/');
		if (slash == NULL)
			break;
		if (slash == anc)
			slash[1] = '\0';
		else
			*slash = '\0';
		for (i = lower(ix, anc); i < ix->n &&
		    strcmp(ix->v[i].prefix, anc) == 0; i++)
			if (visit(ix, i, fn, arg) != 0)
				return -1;
		if (strcmp(anc, "/") == 0)
			break;
	}
	return 0;
}
