/*
 * keyscope.c: which data-encryption keys a disposition may destroy (SPEC
 * §7; see scope_keys in scope.h).
 *
 * MUST rules:
 *  - a key is destroyed only when every sealed file known to use it is in
 *    the scope to destroy: known means found, by its header, in any dataset
 *    of any agreement (exempt, held and other agreements' included);
 *    copies no dataset reaches (backups, tapes) are what crypto-shred is
 *    for, and go with the key;
 *  - a disposition that does not cover the whole agreement never destroys
 *    the agreement-wide key, nor a category's key that a dataset outside it
 *    also holds: that data is the agreement's, but not due;
 *  - a file sealed under another agreement's key is that agreement's data:
 *    refused, never counted as crypto-erased; one under a key this keystore
 *    does not know is overwritten as ciphertext (Clear), never called Purge;
 *  - when in doubt (a dataset that cannot be searched), the key is kept.
 *  - only headers are read: nothing is opened for writing.
 */
#include "plan/scope.h"

#include "base/err.h"
#include "conf/category.h"
#include "conf/config.h"
#include "conf/policy.h"
#include "keys/keystore.h"
#include "keys/seal.h"
#include "locate/locate.h"
#include "locate/resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct kb {
	const struct scope_ctx *x;
	const struct agreement *a;
	struct scope *s;
	struct rootdir *roots;		/* per allowed root, fd -1 until used */
	struct keystore ks;
	int have_ks;
	struct err *e;
};

/* Whether the file (root, rel) with this (dev, ino) is sealed: 1 with its
 * key id in keyid, 0 when not (or when it cannot be read: the overwrite
 * will say why, if it is ours to destroy). */
static int
sealed_header(struct kb *b, int root, const char *rel, dev_t dev, ino_t ino,
    char *keyid, size_t len)
{
	struct seal_header h;
	struct stat st;
	struct err e;
	const char *base;
	int dirfd, fd, rc = 0;

	if (b->roots[root].fd == -1 &&
	    resolve_root(b->x->cfg->roots[root], &b->roots[root], &e) != 0)
		return 0;
	if ((dirfd = resolve_parent(&b->roots[root], rel, &base, &e)) < 0)
		return 0;
	fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	close(dirfd);
	if (fd == -1)
		return 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == dev &&
	    st.st_ino == ino && seal_is_sealed(fd) == 1 &&
	    seal_peek(fd, &h, &e) == 0) {
		snprintf(keyid, len, "%s", h.keyid);
		rc = 1;
	}
	close(fd);
	return rc;
}

/* The index of key id in s->keys, added (with what the keystore says of
 * it) when new; -1 when out of memory. */
static int
key_index(struct kb *b, const char *id)
{
	struct scope *s = b->s;
	struct scope_key *v, *k;
	const struct ks_entry *en;

	for (size_t i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i].id, id) == 0)
			return (int)i;
	v = realloc(s->keys, (s->nkeys + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	s->keys = v;
	k = &v[s->nkeys];
	memset(k, 0, sizeof(*k));
	snprintf(k->id, sizeof(k->id), "%s", id);
	en = b->have_ks ? keystore_find(&b->ks, id) : NULL;
	/* Whose the key is: the keystore says; for a key it does not hold
	 * (sealed on another host), the id's first part ("b/all/1"). */
	snprintf(k->agreement, sizeof(k->agreement), "%.*s",
	    (int)strcspn(id, "/"), id);
	if (en != NULL) {
		k->known = 1;
		k->live = !en->destroyed;
		snprintf(k->agreement, sizeof(k->agreement), "%s",
		    en->agreement);
		snprintf(k->sealed_after, sizeof(k->sealed_after), "%s",
		    en->sealed_after);
		snprintf(k->plain_kept, sizeof(k->plain_kept), "%s",
		    en->plain_kept);
	}
	return (int)s->nkeys++;
}

/* Whether dataset i of a is one of the disposition's. */
static int
in_ds(const size_t *ds, size_t nds, size_t i)
{
	for (size_t k = 0; k < nds; k++)
		if (ds[k] == i)
			return 1;
	return 0;
}

/* The partial-disposition rule: a category's key is destroyed only when
 * no dataset of the agreement outside the disposition holds it. */
static void
partial_rule(struct kb *b, const size_t *ds, size_t nds, struct scope_key *k,
    const char *category)
{
	const struct agreement *a = b->a;
	int ci = category_find(category);

	if (strcmp(category, "all") == 0 || ci < 0) {
		k->destroy = 0;
		snprintf(k->why, sizeof(k->why), "it is the agreement-wide key, "
		    "which also seals data this disposition does not cover");
		return;
	}
	for (size_t i = 0; i < a->nds; i++) {
		if (in_ds(ds, nds, i) || (a->ds[i].categories != 0 &&
		    (a->ds[i].categories & (1u << ci)) == 0))
			continue;
		k->destroy = 0;
		snprintf(k->why, sizeof(k->why), "dataset %s, outside this "
		    "disposition, holds category %s too", a->ds[i].name,
		    category);
		return;
	}
}

/* Keeps every destroyable key that seals a file of glob g (of agreement
 * aid, dataset dsn) that the scope does not destroy. */
static void
protect_by(struct kb *b, const struct scope_set *mine, const char *g,
    const char *aid, const char *dsn)
{
	const struct config *c = b->x->cfg;
	struct foundlist fl = { 0 };
	struct err e;
	char keyid[SEAL_KEYID_MAX + 1];

	if (locate((const char *const *)c->roots, c->nroots, g, &fl, &e) != 0) {
		/* Cannot show the key seals nothing else: keep it. */
		for (size_t i = 0; i < b->s->nkeys; i++)
			if (b->s->keys[i].destroy) {
				b->s->keys[i].destroy = 0;
				snprintf(b->s->keys[i].why,
				    sizeof(b->s->keys[i].why), "dataset %s of "
				    "agreement %s could not be searched for "
				    "files it seals", dsn, aid);
			}
		foundlist_free(&fl);
		return;
	}
	for (size_t f = 0; f < fl.n; f++) {
		const struct found *x = &fl.v[f];
		if (x->kind != FOUND_FILE || scope_set_has(mine, x->dev, x->ino) ||
		    !sealed_header(b, x->root, x->rel, x->dev, x->ino, keyid,
		    sizeof(keyid)))
			continue;
		for (size_t i = 0; i < b->s->nkeys; i++) {
			struct scope_key *k = &b->s->keys[i];
			if (!k->destroy || strcmp(k->id, keyid) != 0)
				continue;
			k->destroy = 0;
			snprintf(k->why, sizeof(k->why), "it also seals a file "
			    "of agreement %s's dataset %s that this "
			    "disposition does not destroy", aid, dsn);
		}
	}
	foundlist_free(&fl);
}

/* Any key still to be destroyed? */
static int
any_destroy(const struct scope *s)
{
	for (size_t i = 0; i < s->nkeys; i++)
		if (s->keys[i].destroy)
			return 1;
	return 0;
}

/* Step 1: the header of every file to destroy that may be sealed. */
static int
read_headers(struct kb *b)
{
	struct scope *s = b->s;
	char keyid[SEAL_KEYID_MAX + 1];

	for (size_t k = 0; k < s->n; k++) {
		struct scope_obj *o = &s->v[k];
		int ki;
		o->key = -1;
		if (o->verdict != SV_DESTROY ||
		    (o->kind != SK_FILE && o->kind != SK_ARCHIVE) ||
		    dataset_method(b->a, &b->a->ds[o->ds]) == METHOD_OVERWRITE)
			continue;
		if (!sealed_header(b, o->names[0].root, o->names[0].rel, o->dev,
		    o->ino, keyid, sizeof(keyid)))
			continue;
		if ((ki = key_index(b, keyid)) < 0)
			return err_set(b->e, "out of memory");
		o->key = ki;
	}
	return 0;
}

/* Steps 2 and 3: the candidates, and the rules that keep them. */
static int
candidates(struct kb *b, const size_t *ds, size_t nds)
{
	struct scope *s = b->s;

	if (s->whole && b->have_ks)
		for (size_t i = 0; i < b->ks.n; i++)
			if (!b->ks.v[i].destroyed &&
			    strcmp(b->ks.v[i].agreement, b->a->id) == 0 &&
			    key_index(b, b->ks.v[i].id) < 0)
				return err_set(b->e, "out of memory");
	for (size_t i = 0; i < s->nkeys; i++) {
		struct scope_key *k = &s->keys[i];
		const struct ks_entry *en;
		k->destroy = k->live && strcmp(k->agreement, b->a->id) == 0;
		if (!k->destroy || s->whole)
			continue;
		en = keystore_find(&b->ks, k->id);
		partial_rule(b, ds, nds, k, en->category);
	}
	return 0;
}

/* Step 4: search every dataset of every agreement for other files the
 * candidate keys seal. */
static int
search(struct kb *b)
{
	const struct policyset *ps = b->x->ps;
	struct scope_set mine = { 0 };

	if (!any_destroy(b->s))
		return 0;
	for (size_t k = 0; k < b->s->n; k++)
		if (b->s->v[k].verdict == SV_DESTROY &&
		    scope_set_add_one(&mine, b->s->v[k].dev,
		    b->s->v[k].ino) != 0) {
			scope_set_free(&mine);
			return err_set(b->e, "out of memory");
		}
	for (size_t i = 0; i < ps->n && any_destroy(b->s); i++)
		for (size_t d = 0; d < ps->a[i].nds; d++) {
			const struct dataset *x = &ps->a[i].ds[d];
			if (x->path != NULL)
				protect_by(b, &mine, x->path, ps->a[i].id,
				    x->name);
			if (x->archive != NULL)
				protect_by(b, &mine, x->archive, ps->a[i].id,
				    x->name);
		}
	scope_set_free(&mine);
	return 0;
}

/* Step 5: each sealed object's verdict from its key. */
static void
judge_by_key(struct kb *b)
{
	struct scope *s = b->s;

	for (size_t k = 0; k < s->n; k++) {
		struct scope_obj *o = &s->v[k];
		struct scope_key *key;
		if (o->key < 0 || o->verdict != SV_DESTROY)
			continue;
		key = &s->keys[o->key];
		if (strcmp(key->agreement, b->a->id) != 0) {
			o->verdict = SV_FOREIGN_KEY;
			o->by_agreement = key->agreement;
		} else if (key->live && !key->destroy) {
			o->verdict = SV_KEY_KEPT;
			o->by_own = key->why;
		} else
			key->nobj++;
	}
}

int
scope_keys(const struct scope_ctx *x, const struct agreement *a,
    const size_t *ds, size_t nds, struct scope *s, struct err *e)
{
	const struct config *c = x->cfg;
	struct kb b;
	int rc = -1;

	memset(&b, 0, sizeof(b));
	b.x = x;
	b.a = a;
	b.s = s;
	b.e = e;
	s->whole = 1;
	for (size_t i = 0; i < a->nds; i++)
		if (!dataset_exempt(a, i) && !in_ds(ds, nds, i))
			s->whole = 0;
	b.roots = calloc(c->nroots + 1, sizeof(*b.roots));
	if (b.roots == NULL)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < c->nroots; i++)
		b.roots[i].fd = -1;
	if (c->state_dir != NULL && keystore_exists(c->state_dir)) {
		if (keystore_open(c->state_dir, c->kek, KS_READ, &b.ks, e) != 0) {
			err_prefix(e, "the keystore, to tell which keys seal "
			    "what");
			goto out;
		}
		b.have_ks = 1;
	}
	if (read_headers(&b) != 0 || candidates(&b, ds, nds) != 0 ||
	    search(&b) != 0)
		goto out;
	judge_by_key(&b);
	rc = 0;
out:
	if (b.have_ks)
		keystore_close(&b.ks);
	for (size_t i = 0; i < c->nroots; i++)
		resolve_root_close(&b.roots[i]);
	free(b.roots);
	return rc;
}
