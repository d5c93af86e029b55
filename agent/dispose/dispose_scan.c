/*
 * dispose_scan.c: from a disposition's scope to the work list, and the
 * same scope again afterwards (SPEC §6.6), and for dry runs.
 *
 * MUST rules:
 *  - the work list is exactly the scope's objects to destroy (plan/scope.c),
 *    each once; nothing else is ever added to it;
 *  - the re-scan resolves the scope afresh, through the same code: what it
 *    would still destroy, and what it refuses, are remaining matches;
 *  - a preview opens nothing for writing: it reads sealed files' headers
 *    and archives' member lists, nothing more.
 */
#include "dispose/dispose_int.h"

#include "base/err.h"
#include "conf/config.h"
#include "conf/policy.h"
#include "sanitize/archive.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
dispose_items(struct dctx *x, struct item **out, size_t *nout)
{
	const struct scope *s = &x->scope;
	struct item *v = calloc(s->n + 1, sizeof(*v));
	size_t n = 0;

	*out = NULL;
	*nout = 0;
	if (v == NULL)
		return -1;
	for (size_t k = 0; k < s->n; k++) {
		const struct scope_obj *o = &s->v[k];
		struct item *it = &v[n];

		if (o->verdict != SV_DESTROY || o->kind == SK_ARCHIVE)
			continue;
		it->f.rel = o->names[0].rel;
		it->f.root = o->names[0].root;
		it->f.kind = o->kind == SK_FILE ? FOUND_FILE :
		    o->kind == SK_SYMLINK ? FOUND_SYMLINK : FOUND_OTHER;
		it->f.dev = o->dev;
		it->f.ino = o->ino;
		it->f.nlink = o->nlink;
		it->f.size = o->size;
		it->f.mode = o->mode;
		it->ds = o->ds;
		it->obj = o;
		/* Sealed under a key this keystore holds: crypto-shred; under
		 * one it does not, it is overwritten as ciphertext. */
		if (o->key >= 0 && s->keys[o->key].known) {
			it->sealed = 1;
			snprintf(it->keyid, sizeof(it->keyid), "%s",
			    s->keys[o->key].id);
		}
		x->nfiles++;
		if (o->kind == SK_FILE)
			x->nbytes += (uint64_t)o->size;
		n++;
	}
	*out = v;
	*nout = n;
	return 0;
}

/* Members of the archive object o that its datasets would still remove:
 * 0 when none, ARCHIVE_IS_SEALED, or -1 with *e set when it cannot be
 * read or would be refused (archive.h). */
static int
archive_left(struct dctx *x, const struct scope_obj *o, uint64_t *left,
    struct err *e)
{
	const struct agreement *a = x->rq->a;
	const char *base;
	char label[4200];
	int dirfd, rc = 0;

	*left = 0;
	dctx_obj_label(x, o, label, sizeof(label));
	if ((dirfd = dctx_open_parent(x, o->names[0].root, o->names[0].rel,
	    &base, e)) < 0)
		return -1;
	for (size_t k = 0; k < o->ndss && rc == 0; k++) {
		const struct dataset *d = &a->ds[o->dss[k]];
		uint64_t m = 0;
		if (d->archive == NULL || d->members == NULL)
			continue;
		rc = archive_count_members(dirfd, base, label, d->members, &m,
		    e);
		*left += m;
	}
	close(dirfd);
	return rc;
}

uint64_t
dispose_rescan(struct dctx *x)
{
	struct scope s;
	struct err e;
	uint64_t left = 0;

	if (scope_resolve(x->rq->sx, x->rq->a, x->rq->ds, x->rq->nds, &s,
	    &e) != 0) {
		diag_add(x->problems, x->rq->a->id, 0, "re-scan: %s", e.msg);
		return UINT64_MAX;
	}
	left = scope_nrefused(&s);
	for (size_t k = 0; k < s.n; k++) {
		const struct scope_obj *o = &s.v[k];
		uint64_t m;
		if (o->verdict != SV_DESTROY)
			continue;
		if (o->kind != SK_ARCHIVE) {
			left++;
			continue;
		}
		switch (archive_left(x, o, &m, &e)) {
		case 0:
			left += m;
			break;
		case ARCHIVE_IS_SEALED:
			break;	/* gone with its keys */
		default:
			left++;	/* unreadable: cannot show it is clean */
			break;
		}
	}
	scope_free(&s);
	return left;
}

int
dispose_preview(const struct scope_ctx *sx, const struct agreement *a,
    const size_t *ds, size_t nds, struct dispose_preview *p,
    struct scope *keep, struct err *e)
{
	struct dispose_req rq;
	struct dispose_out out;
	struct dctx x;
	struct item *v = NULL;
	size_t n = 0;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	memset(&rq, 0, sizeof(rq));
	rq.cfg = sx->cfg;
	rq.sx = sx;
	rq.a = a;
	rq.ds = ds;
	rq.nds = nds;
	memset(&out, 0, sizeof(out));
	if (dctx_init(&x, &rq, &out, NULL, e) != 0)
		return -1;
	if (scope_resolve(sx, a, ds, nds, &x.scope, e) != 0)
		goto out;
	if (dispose_items(&x, &v, &n) != 0) {
		err_set(e, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i].f.kind == FOUND_SYMLINK)
			p->links++;
		else if (v[i].f.kind == FOUND_OTHER)
			p->specials++;
		else if (v[i].sealed)
			p->sealed++;
		else {
			p->files++;
			p->bytes += (uint64_t)v[i].f.size;
		}
		p->links += v[i].obj->nnames - 1;
	}
	/* An archive the run would refuse (archive.h) is a refusal here. */
	uint64_t arefused = 0;
	struct err ae, later;
	for (size_t k = 0; k < x.scope.n; k++) {
		const struct scope_obj *o = &x.scope.v[k];
		uint64_t m = 0;
		int ac;
		if (o->verdict != SV_DESTROY || o->kind != SK_ARCHIVE)
			continue;
		ac = archive_left(&x, o, &m, arefused ? &later : &ae);
		if (ac == 0 && m > 0)
			p->archives++;
		else if (ac < 0)
			arefused++;
	}
	p->refused = scope_nrefused(&x.scope) + arefused;
	for (int k = SV_OWN; k < SV_CONFLICT; k++)
		p->kept += x.scope.count[k];
	scope_refusals(&x.scope, p->first_refusal, sizeof(p->first_refusal));
	if (scope_nrefused(&x.scope) == 0 && arefused > 0 &&
	    snprintf(p->first_refusal, sizeof(p->first_refusal), "%s",
	    ae.msg) >= (int)sizeof(p->first_refusal))
		p->first_refusal[sizeof(p->first_refusal) - 2] = '~';
	rc = 0;
out:
	free(v);
	if (keep != NULL && rc == 0) {
		*keep = x.scope;
		memset(&x.scope, 0, sizeof(x.scope));
	}
	dctx_free(&x);
	return rc;
}

uint64_t
dispose_preview_objects(const struct dispose_preview *p)
{
	return p->files + p->links + p->specials + p->archives + p->sealed;
}
