/*
 * scope.c: the scope of a disposition (see scope.h for the rules).
 *
 * MUST rules:
 *  - protection is decided by object: an object is kept or refused when
 *    ANY of its names is protected, and then none of its names is touched;
 *  - protection always wins: the verdict is the first of scope.h's list
 *    that applies, and SV_DESTROY is only what is left;
 *  - an object is counted once, however many names and datasets reach it
 *    (nested roots resolve each name to the deepest root holding it, in
 *    locate.c, so one directory entry is one name);
 *  - nothing here opens a dataset file: directories are read and names
 *    stat'ed, nothing more, so plan and dry runs can use it freely.
 */
#include "plan/scope.h"

#include "base/err.h"
#include "conf/config.h"
#include "conf/own.h"
#include "conf/policy.h"
#include "locate/locate.h"
#include "locate/resolve.h"
#include "plan/events.h"
#include "plan/sched.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A glob that protects what it matches, from a dataset not being
 * destroyed by this disposition. */
struct guard {
	const char *glob;
	int verdict;		/* SV_EXEMPT .. SV_CONFLICT */
	int from_archive;	/* the dataset's `archive` glob */
	int same;		/* a dataset of the disposition's agreement */
	const char *agreement, *dataset, *hold;
};

struct guards {
	struct guard *v;
	size_t n;
};

/* (dev, ino) -> object index, open addressing. */
struct index {
	size_t *slot;		/* object index + 1; 0 empty */
	size_t cap;
};

struct build {
	const struct scope_ctx *x;
	const struct agreement *a;
	struct scope *s;
	size_t cap;
	struct index ix;
	struct guards g;
	char (*prefix)[PATH_MAX];	/* the disposition's literal prefixes */
	size_t nprefix;
	dev_t *owndev;		/* lethe's own files, by object */
	ino_t *ownino;
	const char **ownwhat;
	size_t nown;
	struct err *e;
};

static size_t
hash(dev_t d, ino_t i)
{
	uint64_t h = (uint64_t)d * 0x9e3779b97f4a7c15ULL ^ (uint64_t)i;

	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	return (size_t)(h ^ (h >> 29));
}

static int
index_grow(struct build *b)
{
	size_t cap = b->ix.cap ? b->ix.cap * 2 : 1024;
	size_t *slot = calloc(cap, sizeof(*slot));

	if (slot == NULL)
		return -1;
	for (size_t k = 0; k < b->s->n; k++) {
		const struct scope_obj *o = &b->s->v[k];
		size_t h = hash(o->dev, o->ino) & (cap - 1);
		while (slot[h] != 0)
			h = (h + 1) & (cap - 1);
		slot[h] = k + 1;
	}
	free(b->ix.slot);
	b->ix.slot = slot;
	b->ix.cap = cap;
	return 0;
}

/* The object (dev, ino), added when new.  NULL when out of memory. */
static struct scope_obj *
object(struct build *b, const struct found *f)
{
	struct scope *s = b->s;
	size_t h;

	if ((s->n + 1) * 2 > b->ix.cap && index_grow(b) != 0)
		return NULL;
	for (h = hash(f->dev, f->ino) & (b->ix.cap - 1); b->ix.slot[h] != 0;
	    h = (h + 1) & (b->ix.cap - 1)) {
		struct scope_obj *o = &s->v[b->ix.slot[h] - 1];
		if (o->dev == f->dev && o->ino == f->ino)
			return o;
	}
	if (s->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct scope_obj *v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		s->v = v;
		b->cap = cap;
	}
	b->ix.slot[h] = s->n + 1;
	memset(&s->v[s->n], 0, sizeof(s->v[0]));
	s->v[s->n].dev = f->dev;
	s->v[s->n].ino = f->ino;
	s->v[s->n].ds = (size_t)-1;
	return &s->v[s->n++];
}

/* Adds ds to o's datasets, kept in policy order. */
static int
dss_add(struct scope_obj *o, size_t ds)
{
	size_t *v, k;

	for (k = 0; k < o->ndss && o->dss[k] < ds; k++)
		;
	if (k < o->ndss && o->dss[k] == ds)
		return 0;
	v = realloc(o->dss, (o->ndss + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	memmove(v + k + 1, v + k, (o->ndss - k) * sizeof(*v));
	v[k] = ds;
	o->dss = v;
	o->ndss++;
	return 0;
}

/* Adds the name f (found by dataset ds, as an archive when archive) to
 * its object.  Takes f->rel.  Returns 0 or -1 (out of memory). */
static int
add_name(struct build *b, struct found *f, size_t ds, int archive)
{
	struct scope_obj *o = object(b, f);
	struct scope_name *v;
	int kind = archive ? SK_ARCHIVE : f->kind == FOUND_FILE ? SK_FILE :
	    f->kind == FOUND_SYMLINK ? SK_SYMLINK : SK_OTHER;

	if (o == NULL)
		return -1;
	if (o->nnames == 0 || (o->kind == SK_ARCHIVE && kind != SK_ARCHIVE))
		o->kind = kind;	/* a path dataset destroys a file whole */
	o->nlink = f->nlink;
	o->size = f->size;
	o->mode = f->mode;
	o->mtime = f->mtime;
	if (ds < o->ds)
		o->ds = ds;
	if (dss_add(o, ds) != 0)
		return -1;
	for (size_t k = 0; k < o->nnames; k++)
		if (o->names[k].root == f->root &&
		    strcmp(o->names[k].rel, f->rel) == 0) {
			if (ds < o->names[k].ds)
				o->names[k].ds = ds;
			free(f->rel);
			f->rel = NULL;
			return 0;
		}
	v = realloc(o->names, (o->nnames + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	o->names = v;
	v[o->nnames].root = f->root;
	v[o->nnames].rel = f->rel;
	v[o->nnames].ds = ds;
	o->nnames++;
	f->rel = NULL;
	return 0;
}

int
scope_set_has(const struct scope_set *set, dev_t dev, ino_t ino)
{
	if (set == NULL || set->cap == 0)
		return 0;
	for (size_t h = hash(dev, ino) & (set->cap - 1); set->dev[h] != 0 ||
	    set->ino[h] != 0; h = (h + 1) & (set->cap - 1))
		if (set->dev[h] == dev && set->ino[h] == ino)
			return 1;
	return 0;
}

static int
set_put(struct scope_set *set, dev_t dev, ino_t ino)
{
	size_t h;

	if (scope_set_has(set, dev, ino))
		return 0;
	if ((set->n + 1) * 2 > set->cap) {
		struct scope_set bigger = { 0 };
		bigger.cap = set->cap ? set->cap * 2 : 1024;
		bigger.dev = calloc(bigger.cap, sizeof(*bigger.dev));
		bigger.ino = calloc(bigger.cap, sizeof(*bigger.ino));
		if (bigger.dev == NULL || bigger.ino == NULL) {
			scope_set_free(&bigger);
			return -1;
		}
		for (size_t k = 0; k < set->cap; k++)
			if ((set->dev[k] != 0 || set->ino[k] != 0) &&
			    set_put(&bigger, set->dev[k], set->ino[k]) != 0) {
				scope_set_free(&bigger);
				return -1;
			}
		scope_set_free(set);
		*set = bigger;
	}
	for (h = hash(dev, ino) & (set->cap - 1); set->dev[h] != 0 ||
	    set->ino[h] != 0; h = (h + 1) & (set->cap - 1))
		;
	set->dev[h] = dev;
	set->ino[h] = ino;
	set->n++;
	return 0;
}

int
scope_set_add_one(struct scope_set *set, dev_t dev, ino_t ino)
{
	return set_put(set, dev, ino);
}

int
scope_set_add(struct scope_set *set, const struct scope *s)
{
	for (size_t k = 0; k < s->n; k++)
		if (s->v[k].verdict == SV_DESTROY && s->v[k].kind != SK_ARCHIVE &&
		    set_put(set, s->v[k].dev, s->v[k].ino) != 0)
			return -1;
	return 0;
}

void
scope_set_free(struct scope_set *set)
{
	free(set->dev);
	free(set->ino);
	memset(set, 0, sizeof(*set));
}

/* Locates one glob of dataset ds into the objects. */
static int
gather(struct build *b, const char *glob, size_t ds, int archive)
{
	const struct config *c = b->x->cfg;
	struct foundlist fl = { 0 };
	int rc = -1;

	if (locate((const char *const *)c->roots, c->nroots, glob, &fl,
	    b->e) != 0) {
		err_prefix(b->e, "dataset %s", b->a->ds[ds].name);
		goto out;
	}
	b->s->skipped_mounts += fl.skipped_mounts;
	for (size_t k = 0; k < fl.n; k++) {
		if (archive && fl.v[k].kind != FOUND_FILE)
			continue;	/* only files hold members */
		if (scope_set_has(b->x->gone, fl.v[k].dev, fl.v[k].ino))
			continue;	/* an earlier disposition takes it */
		if (add_name(b, &fl.v[k], ds, archive) != 0) {
			err_set(b->e, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	foundlist_free(&fl);
	return rc;
}

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

/* ---- the index ---- */

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

static int
guard_entry(struct build *b, const struct ixent *x)
{
	return guard_of(b, x->a, x->ds, x->archive ? x->a->ds[x->ds].archive :
	    x->a->ds[x->ds].path, x->archive);
}

/* The guards whose prefixes lie on the path of p: at or below it, or one
 * of its ancestors (any other cannot meet a name below p). */
static int
guards_near(struct build *b, const struct scope_index *ix, const char *p)
{
	char anc[PATH_MAX];
	size_t len = strlen(p), i;

	/* At or below p ("/" holds everything). */
	for (i = strcmp(p, "/") == 0 ? 0 : lower(ix, p); i < ix->n; i++) {
		const char *q = ix->v[i].prefix;
		if (strcmp(p, "/") != 0 && strncmp(q, p, len) != 0)
			break;
		if (strcmp(p, "/") == 0 || q[len] == '\0' || q[len] == '/')
			if (guard_entry(b, &ix->v[i]) != 0)
				return -1;
	}
	if (strcmp(p, "/") == 0)
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
			if (guard_entry(b, &ix->v[i]) != 0)
				return -1;
		if (strcmp(anc, "/") == 0)
			break;
	}
	return 0;
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

static int
guards_build(struct build *b, const size_t *ds, size_t nds)
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
			if (guards_near(b, b->x->index, b->prefix[k]) != 0)
				return -1;
		guards_dedup(&b->g);
		return 0;
	}
	for (size_t i = 0; i < b->x->ps->n; i++)
		if (guards_of(b, &b->x->ps->a[i]) != 0)
			return -1;
	return 0;
}

/* lethe's own files, by object: whatever name they are reached by. */
static int
own_objects(struct build *b)
{
	const struct own *o = b->x->own;

	if (o == NULL || o->n == 0)
		return 0;
	b->owndev = calloc(o->n, sizeof(*b->owndev));
	b->ownino = calloc(o->n, sizeof(*b->ownino));
	b->ownwhat = calloc(o->n, sizeof(*b->ownwhat));
	if (b->owndev == NULL || b->ownino == NULL || b->ownwhat == NULL)
		return -1;
	for (size_t i = 0; i < o->n; i++) {
		if (!o->v[i].exists)
			continue;
		b->owndev[b->nown] = o->v[i].dev;
		b->ownwhat[b->nown] = o->v[i].what;
		b->ownino[b->nown++] = o->v[i].ino;
	}
	return 0;
}

/* The absolute path of name n into buf; 0, or -1 when too long. */
static int
abs_path(const struct config *c, const struct scope_name *n, char *buf,
    size_t len)
{
	int w = snprintf(buf, len, "%s/%s", c->roots[n->root], n->rel);

	return w < 0 || (size_t)w >= len ? -1 : 0;
}

/* Decides o's verdict (see the MUST rules). */
static void
judge(struct build *b, struct scope_obj *o)
{
	const struct config *c = b->x->cfg;
	char path[PATH_MAX * 2];

	o->verdict = SV_DESTROY;
	for (size_t k = 0; k < b->nown; k++)
		if (b->owndev[k] == o->dev && b->ownino[k] == o->ino) {
			o->verdict = SV_OWN;
			o->by_own = b->ownwhat[k];
			return;
		}
	for (size_t n = 0; n < o->nnames; n++) {
		const struct own_path *op;

		if (abs_path(c, &o->names[n], path, sizeof(path)) != 0)
			continue;
		if (b->x->own != NULL &&
		    (op = own_covers(b->x->own, path)) != NULL) {
			o->verdict = SV_OWN;
			o->by_own = op->what;
			return;
		}
		for (size_t k = 0; k < b->g.n; k++) {
			const struct guard *g = &b->g.v[k];
			/* Another agreement's member removal takes its own
			 * members only: the same backup may serve both. */
			if (o->kind == SK_ARCHIVE && g->from_archive && !g->same)
				continue;
			if (o->verdict != SV_DESTROY && g->verdict >= o->verdict)
				continue;
			if (!glob_match_path(g->glob, path))
				continue;
			o->verdict = g->verdict;
			o->by_agreement = g->agreement;
			o->by_dataset = g->dataset;
			o->by_hold = g->hold;
		}
	}
	if (o->verdict == SV_DESTROY && o->nlink > o->nnames)
		o->verdict = SV_LINKS;
}

static void obj_free(struct scope_obj *o);

/* Drops the objects x->only says no to (they are not in this scope). */
static void
keep_only(const struct scope_ctx *x, struct scope *s)
{
	size_t j = 0;

	for (size_t k = 0; k < s->n; k++) {
		if (x->only(x, &s->v[k], x->only_arg))
			s->v[j++] = s->v[k];
		else
			obj_free(&s->v[k]);
	}
	s->n = j;
}

static int
cmp_name(const void *pa, const void *pb)
{
	const struct scope_name *x = pa, *y = pb;

	if (x->root != y->root)
		return x->root < y->root ? -1 : 1;
	return strcmp(x->rel, y->rel);
}

static int
cmp_obj(const void *pa, const void *pb)
{
	const struct scope_obj *x = pa, *y = pb;

	return cmp_name(&x->names[0], &y->names[0]);
}

int
scope_resolve(const struct scope_ctx *x, const struct agreement *a,
    const size_t *ds, size_t nds, struct scope *out, struct err *e)
{
	struct build b;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&b, 0, sizeof(b));
	b.x = x;
	b.a = a;
	b.s = out;
	b.e = e;
	if (guards_build(&b, ds, nds) != 0 || own_objects(&b) != 0) {
		err_set(e, "scope: out of memory");
		goto out;
	}
	for (size_t i = 0; i < nds; i++) {
		const struct dataset *d = &a->ds[ds[i]];
		if ((d->path != NULL && gather(&b, d->path, ds[i], 0) != 0) ||
		    (d->archive != NULL && gather(&b, d->archive, ds[i],
		    1) != 0))
			goto out;
	}
	for (size_t k = 0; k < out->n; k++)
		qsort(out->v[k].names, out->v[k].nnames,
		    sizeof(*out->v[k].names), cmp_name);
	if (x->only != NULL)
		keep_only(x, out);
	for (size_t k = 0; k < out->n; k++)
		judge(&b, &out->v[k]);
	/* Sealed objects are judged by their keys too (keyscope.c). */
	if (scope_keys(x, a, ds, nds, out, e) != 0)
		goto out;
	for (size_t k = 0; k < out->n; k++) {
		struct scope_obj *o = &out->v[k];
		out->count[o->verdict]++;
		if (o->verdict != SV_DESTROY)
			continue;
		switch (o->kind) {
		case SK_FILE:
			out->destroy_files++;
			out->destroy_bytes += (uint64_t)o->size;
			break;
		case SK_SYMLINK:
			out->destroy_links++;
			break;
		case SK_OTHER:
			out->destroy_other++;
			break;
		default:
			out->destroy_archives++;
			break;
		}
	}
	if (out->n > 0)
		qsort(out->v, out->n, sizeof(*out->v), cmp_obj);
	rc = 0;
out:
	free(b.ix.slot);
	free(b.g.v);
	free(b.prefix);
	free(b.owndev);
	free(b.ownino);
	free(b.ownwhat);
	return rc;
}

static void
obj_free(struct scope_obj *o)
{
	for (size_t n = 0; n < o->nnames; n++)
		free(o->names[n].rel);
	free(o->names);
	free(o->dss);
}

void
scope_free(struct scope *s)
{
	for (size_t k = 0; k < s->n; k++)
		obj_free(&s->v[k]);
	free(s->v);
	free(s->keys);
	memset(s, 0, sizeof(*s));
}

/* The id of the hold of agreement h that covers one of o's names, or
 * NULL. */
static const char *
held_by(const struct scope_ctx *x, const struct agreement *h,
    const struct scope_obj *o)
{
	const struct ev_hold **by = calloc(h->nds + 1, sizeof(*by));
	const char *held = NULL;
	char path[PATH_MAX * 2];

	if (by == NULL)
		return "(out of memory: treated as held)";
	sched_holds(h, x->ev, by);
	for (size_t k = 0; k < h->nds && held == NULL; k++) {
		if (by[k] == NULL)
			continue;
		for (size_t n = 0; n < o->nnames && held == NULL; n++) {
			if (abs_path(x->cfg, &o->names[n], path,
			    sizeof(path)) != 0)
				continue;
			if ((h->ds[k].path != NULL &&
			    glob_match_path(h->ds[k].path, path)) ||
			    (h->ds[k].archive != NULL &&
			    glob_match_path(h->ds[k].archive, path)))
				held = by[k]->id;
		}
	}
	free(by);
	return held;
}

const char *
scope_held_now(const struct scope_ctx *x, const struct agreement *a,
    const struct scope_obj *o)
{
	const char *held = held_by(x, a, o);

	/* Another agreement's hold protects its data too (rule 4): every
	 * agreement with an active hold is asked, each once. */
	for (size_t i = 0; i < x->ev->nhold && held == NULL; i++) {
		const struct ev_hold *h = &x->ev->hold[i];
		const struct agreement *ha;
		int seen = 0;
		if (h->released || strcmp(h->agreement, a->id) == 0)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = !x->ev->hold[j].released &&
			    strcmp(x->ev->hold[j].agreement, h->agreement) == 0;
		if (!seen && x->ps != NULL &&
		    (ha = policy_find(x->ps, h->agreement)) != NULL)
			held = held_by(x, ha, o);
	}
	return held;
}

void
scope_why(const struct scope_obj *o, char *buf, size_t len)
{
	switch (o->verdict) {
	case SV_DESTROY:
		snprintf(buf, len, "destroyed");
		break;
	case SV_OWN:
		snprintf(buf, len, "kept: %s; lethe's own files are never data",
		    o->by_own ? o->by_own : "lethe's own file");
		break;
	case SV_EXEMPT:
		snprintf(buf, len, "kept: de-identified dataset %s",
		    o->by_dataset);
		break;
	case SV_HELD:
		snprintf(buf, len, "kept: dataset %s is held by %s",
		    o->by_dataset, o->by_hold ? o->by_hold : "a hold");
		break;
	case SV_KEPT_OTHER:
		snprintf(buf, len, "kept: agreement %s retains it (dataset %s, "
		    "%s)", o->by_agreement, o->by_dataset, o->by_hold ?
		    o->by_hold : "de-identified");
		break;
	case SV_CONFLICT:
		snprintf(buf, len, "refused: agreement %s's dataset %s also "
		    "matches it, and is not due", o->by_agreement,
		    o->by_dataset);
		break;
	case SV_FOREIGN_KEY:
		snprintf(buf, len, "refused: sealed under agreement %s's key: "
		    "it is that agreement's data, and this disposition cannot "
		    "crypto-erase it", o->by_agreement);
		break;
	case SV_KEY_KEPT:
		snprintf(buf, len, "refused: its key is kept: %s", o->by_own);
		break;
	default:
		snprintf(buf, len, "refused: %ju hard links, %zu of them in "
		    "this disposition; its data lives on under another name",
		    (uintmax_t)o->nlink, o->nnames);
		break;
	}
}

size_t
scope_nrefused(const struct scope *s)
{
	return s->count[SV_CONFLICT] + s->count[SV_LINKS] +
	    s->count[SV_FOREIGN_KEY] + s->count[SV_KEY_KEPT] + s->skipped_mounts;
}

void
scope_refusals(const struct scope *s, char *buf, size_t len)
{
	const struct scope_obj *conflict = NULL, *kept = NULL;
	char part[5][320];
	int np = 0;
	size_t off;

	buf[0] = '\0';
	if (scope_nrefused(s) == 0)
		return;
	for (size_t k = 0; k < s->n; k++) {
		if (s->v[k].verdict == SV_CONFLICT && conflict == NULL)
			conflict = &s->v[k];
		if (s->v[k].verdict == SV_KEY_KEPT && kept == NULL)
			kept = &s->v[k];
	}
	if (conflict != NULL)
		snprintf(part[np++], sizeof(part[0]), "%zu also matched by "
		    "another agreement's data that is not due (first: agreement "
		    "%s, dataset %s)", s->count[SV_CONFLICT],
		    conflict->by_agreement, conflict->by_dataset);
	if (s->count[SV_LINKS] > 0)
		snprintf(part[np++], sizeof(part[0]), "%zu with a hard link "
		    "outside the disposition", s->count[SV_LINKS]);
	if (s->count[SV_FOREIGN_KEY] > 0)
		snprintf(part[np++], sizeof(part[0]), "%zu sealed under another "
		    "agreement's key", s->count[SV_FOREIGN_KEY]);
	if (kept != NULL)
		snprintf(part[np++], sizeof(part[0]), "%zu sealed under a key "
		    "that must be kept: %.200s", s->count[SV_KEY_KEPT],
		    kept->by_own);
	if (s->skipped_mounts > 0)
		snprintf(part[np++], sizeof(part[0]), "%zu mount point%s inside "
		    "the datasets (never crossed; add it to allowed_roots or "
		    "unmount it)", s->skipped_mounts,
		    s->skipped_mounts == 1 ? "" : "s");
	off = (size_t)snprintf(buf, len, "%zu refused", scope_nrefused(s));
	for (int i = 0; i < np && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%s", i ? ", " : ": ",
		    part[i]);
		off += w > 0 ? (size_t)w : 0;
	}
}
