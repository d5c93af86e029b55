/*
 * scope_resolve.c: the scope of a disposition (see scope.h for the
 * rules): every name its datasets match, gathered into objects, each
 * judged against lethe's own files and the guards (scope_guard.c), then
 * by its key (keyscope.c).
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
#include "sanitize/archive.h"
#include "plan/scope_int.h"

#include "base/err.h"
#include "conf/config.h"
#include "conf/own.h"
#include "conf/policy.h"
#include "locate/locate.h"
#include "plan/events.h"
#include "plan/sched.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

static int
index_grow(struct build *b)
{
	size_t cap = b->ix.cap ? b->ix.cap * 2 : 1024;
	size_t *slot = calloc(cap, sizeof(*slot));

	if (slot == NULL)
		return -1;
	for (size_t k = 0; k < b->s->n; k++) {
		const struct scope_obj *o = &b->s->v[k];
		size_t h = scope_hash(o->dev, o->ino) & (cap - 1);
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
	for (h = scope_hash(f->dev, f->ino) & (b->ix.cap - 1);
	    b->ix.slot[h] != 0; h = (h + 1) & (b->ix.cap - 1)) {
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
	o->locked |= f->locked;
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

/* Whether name, the last component of f, is a member removal's leftover
 * whose archive lies beside it (a regular file). */
static int
leftover_beside(const struct config *c, const struct found *f,
    const char *name)
{
	char archive[NAME_MAX + 1], path[PATH_MAX * 2];
	const char *slash = strrchr(f->rel, '/');
	struct stat st;

	if (!archive_is_leftover(name, archive, sizeof(archive)))
		return 0;
	snprintf(path, sizeof(path), "%s/%.*s%s%s", c->roots[f->root],
	    slash ? (int)(slash - f->rel) : 0, f->rel, slash ? "/" : "",
	    archive);
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
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
	/* Directories the glob matched but names none of the files of: a
	 * refusal, so the set is never certified complete over them. */
	if (fl.matched_dirs > 0 && b->s->matched_dirs == 0)
		snprintf(b->s->first_dir, sizeof(b->s->first_dir), "%.1000s, "
		    "dataset %.64s", fl.first_dir, b->a->ds[ds].name);
	b->s->matched_dirs += fl.matched_dirs;
	for (size_t k = 0; k < fl.n; k++) {
		const char *base = strrchr(fl.v[k].rel, '/');
		if (archive && fl.v[k].kind != FOUND_FILE)
			continue;	/* only files hold members */
		/* What a killed member removal left beside an archive is no
		 * archive of its own while that archive is there: the removal
		 * on it sanitizes the leftover first (archive.h). */
		if (archive && leftover_beside(c, &fl.v[k], base ? base + 1 :
		    fl.v[k].rel))
			continue;
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
	if (o->verdict == SV_DESTROY && o->locked)
		o->verdict = SV_LOCKED;
}

/* Drops the objects x->only says no to (they are not in this scope). */
static void
keep_only(const struct scope_ctx *x, struct scope *s)
{
	size_t j = 0;

	for (size_t k = 0; k < s->n; k++) {
		if (x->only(x, &s->v[k], x->only_arg))
			s->v[j++] = s->v[k];
		else
			scope_obj_free(&s->v[k]);
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
	if (scope_guards_build(&b, ds, nds) != 0 || own_objects(&b) != 0) {
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
