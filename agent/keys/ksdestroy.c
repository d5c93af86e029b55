/*
 * ksdestroy.c: destroying keys (see keystore.h, "DESTRUCTION AND CRASH
 * RECOVERY", for the numbered steps).
 *
 * MUST rules:
 *  - destruction follows the numbered steps in keystore.h exactly, each
 *    step durable before the next, so that at every instant the live
 *    keystore verifies under a KEK that is on disk;
 *  - the new KEK and the re-wrapped keys live only in secmem buffers and
 *    are wiped on every path out;
 *  - before the commit (step 4) a failure undoes steps 1-3; after it, the
 *    keys are destroyed whatever follows, and the caller is told so.
 */
#include "keys/keystore.h"
#include "keys/keystore_int.h"
#include "base/err.h"
#include "keys/kek.h"
#include "keys/ksfile.h"
#include "base/secmem.h"
#include "state/durable.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Which keys a destruction takes: the agreement's, then (when set) only
 * those of one category, or only those named. */
struct sel {
	const char *agreement;
	const char *cat;		/* NULL: any */
	const char *const *ids;		/* NULL: any */
	size_t nids;
};

static int
matches(const struct ks_entry *x, const struct sel *w)
{
	int named = w->ids == NULL;

	for (size_t i = 0; !named && i < w->nids; i++)
		named = strcmp(x->id, w->ids[i]) == 0;
	return named && strcmp(x->agreement, w->agreement) == 0 &&
	    (w->cat == NULL || strcmp(x->category, w->cat) == 0);
}

/* The new entries: matching live keys tombstoned, the others re-wrapped
 * under knew.  Returns the number tombstoned, or -1. */
static int
rewrap(const struct keystore *ks, const unsigned char *knew,
    const struct sel *w, const char *disp_id, struct ks_entry *nv,
    struct err *e)
{
	struct dek *k;
	int ndead = 0, rc = -1;
	char d[11];

	ks_today(d);
	if ((k = secmem_alloc(sizeof(*k), e)) == NULL)
		return -1;
	for (size_t i = 0; i < ks->n; i++) {
		nv[i] = ks->v[i];
		if (nv[i].destroyed)
			continue;
		if (matches(&nv[i], w)) {
			nv[i].destroyed = 1;
			memcpy(nv[i].destroyed_on, d, sizeof(d));
			snprintf(nv[i].disp_id, sizeof(nv[i].disp_id), "%s",
			    disp_id);
			OPENSSL_cleanse(nv[i].wrapped, KS_WRAPPED_LEN);
			ndead++;
			continue;
		}
		if (ks_unwrap(ks, &ks->v[i], k, e) != 0)
			goto out;
		if (kek_wrap(knew, k->key, DEK_LEN, nv[i].wrapped) !=
		    KS_WRAPPED_LEN) {
			err_set(e, "cannot re-wrap key %s", nv[i].id);
			goto out;
		}
	}
	rc = ndead;
out:
	secmem_free(k, sizeof(*k));
	return rc;
}

/* The tombstones of this disposition, for the caller. */
static int
collect(const struct ks_entry *v, size_t n, const struct sel *w,
    const char *disp_id, struct ks_entry **list, size_t *nl, struct err *e)
{
	size_t c = 0;

	*list = NULL;
	*nl = 0;
	for (size_t i = 0; i < n; i++)
		c += v[i].destroyed && matches(&v[i], w) &&
		    strcmp(v[i].disp_id, disp_id) == 0;
	if (c == 0)
		return 0;
	if ((*list = calloc(c, sizeof(**list))) == NULL)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (v[i].destroyed && matches(&v[i], w) &&
		    strcmp(v[i].disp_id, disp_id) == 0)
			(*list)[(*nl)++] = v[i];
	return 0;
}

/* One destruction in progress. */
struct destruction {
	const struct sel *w;
	const char *disp_id;
	struct keystore ks;		/* opened KS_WRITE */
	struct ks_paths p;
	struct ks_entry *nv;		/* the entries after it */
	unsigned char *knew;		/* the new KEK (secmem) */
	char *b;			/* nv as the new keystore's text */
	size_t blen, bcap;
	int committed;			/* step 4 done: the keys are gone */
};

/* The new KEK, the remaining keys re-wrapped under it and the new
 * keystore's text.  Returns 0, or -1 with *e set. */
static int
prepare(struct destruction *d, struct err *e)
{
	struct keystore *ks = &d->ks;

	if ((d->nv = calloc(ks->n, sizeof(*d->nv))) == NULL)
		return err_set(e, "out of memory");
	if ((d->knew = secmem_alloc(KEK_LEN, e)) == NULL)
		return -1;
	if (RAND_bytes(d->knew, KEK_LEN) != 1)
		return err_set(e, "no random bytes for the new KEK");
	if (rewrap(ks, d->knew, d->w, d->disp_id, d->nv, e) < 0)
		return -1;
	return ksfile_format(d->nv, ks->n, d->knew, &d->b, &d->blen,
	    &d->bcap, e);
}

/* Steps 1 to 7 of keystore.h, each durable before the next; *list gets
 * the tombstones once committed.  Returns 0, or -1 with *e set. */
static int
steps(struct destruction *d, struct ks_entry **list, size_t *nlist,
    struct err *e)
{
	const struct keystore *ks = &d->ks;
	const struct ks_paths *p = &d->p;

	/* 1, 2: the new KEK and keystore beside the live ones. */
	if (durable_write(p->kek_new, d->knew, KEK_LEN, 0600, e) != 0 ||
	    durable_write(p->ks_new, d->b, d->blen, 0600, e) != 0)
		return -1;
	/* 3, 4: keep the old keystore's content reachable, then commit. */
	if (ks_link_durable(ks->path, p->ks_old, ks->keys_dir, e) != 0)
		return -1;
	if (rename(p->ks_new, ks->path) != 0)
		return err_sys(e, "%s: rename to %s", p->ks_new, ks->path);
	/* Committed from here even if what follows fails: KEK.new must
	 * survive until it is the KEK. */
	d->committed = 1;
	if (fsync_dir(ks->keys_dir, e) != 0 ||
	    collect(d->nv, ks->n, d->w, d->disp_id, list, nlist, e) != 0)
		return -1;
	/* 5, 6: the new KEK in place, the old one kept for sanitizing. */
	if (ks_link_durable(ks->kek_path, p->kek_old, p->kek_dir, e) != 0 ||
	    ks_rename_durable(p->kek_new, ks->kek_path, p->kek_dir, e) != 0)
		return -1;
	/* 7 */
	if (ks_sanitize(p->ks_old, e) != 0 || ks_sanitize(p->kek_old, e) != 0)
		return -1;
	return 0;
}

/* Undoes steps 1-3 of a destruction that did not commit: the live
 * keystore and KEK are untouched. */
static void
undo(struct destruction *d)
{
	struct err ue;

	if (ks_exists(d->p.ks_old) == 1 && ks_same_file(d->p.ks_old,
	    d->ks.path))
		(void)unlink(d->p.ks_old);
	if (d->p.ks_new != NULL)
		(void)ks_sanitize(d->p.ks_new, &ue);
	if (d->p.kek_new != NULL)
		(void)ks_sanitize(d->p.kek_new, &ue);
}

static int
destroy_sel(const char *state_dir, const char *kek_path, const struct sel *w,
    const char *disp_id, struct ks_entry **list, size_t *nlist, struct err *e)
{
	struct destruction d = { .w = w, .disp_id = disp_id };
	int rc = -1, ndead = 0;

	if (!ksfile_valid_token(disp_id, KS_DISP_MAX))
		return err_set(e, "'%s' is not a disposition id", disp_id);
	if (keystore_open(state_dir, kek_path, KS_WRITE, &d.ks, e) != 0) {
		keystore_close(&d.ks);
		return -1;
	}
	if (ks_paths_make(&d.ks, &d.p, e) != 0)
		goto out;
	for (size_t i = 0; i < d.ks.n; i++)
		ndead += !d.ks.v[i].destroyed && matches(&d.ks.v[i], w);
	if (ndead == 0) {
		/* Nothing live: report this disposition's earlier work. */
		rc = collect(d.ks.v, d.ks.n, w, disp_id, list, nlist, e);
		goto out;
	}
	if (prepare(&d, e) == 0 && steps(&d, list, nlist, e) == 0)
		rc = 0;
	if (rc != 0 && !d.committed && d.knew != NULL)
		undo(&d);
	if (rc != 0 && d.committed)
		err_prefix(e, "keys destroyed, but the destruction did not "
		    "finish (the next run completes it)");
out:
	if (d.nv != NULL)
		OPENSSL_clear_free(d.nv, d.ks.n * sizeof(*d.nv));
	if (d.b != NULL)
		OPENSSL_clear_free(d.b, d.bcap);
	secmem_free(d.knew, KEK_LEN);
	ks_paths_free(&d.p);
	keystore_close(&d.ks);
	return rc;
}

int
keystore_destroy(const char *state_dir, const char *kek_path,
    const char *agreement, const char *category, const char *disp_id,
    struct ks_entry **list, size_t *nlist, struct err *e)
{
	struct sel w = { agreement, NULL, NULL, 0 };

	*list = NULL;
	*nlist = 0;
	if (category != NULL && (w.cat = keystore_category(category)) == NULL)
		return err_set(e, "unknown category '%s'", category);
	return destroy_sel(state_dir, kek_path, &w, disp_id, list, nlist, e);
}

int
keystore_destroy_ids(const char *state_dir, const char *kek_path,
    const char *agreement, const char *const *ids, size_t nids,
    const char *disp_id, struct ks_entry **list, size_t *nlist, struct err *e)
{
	struct sel w = { agreement, NULL, ids, nids };

	*list = NULL;
	*nlist = 0;
	if (nids == 0)
		return 0;
	return destroy_sel(state_dir, kek_path, &w, disp_id, list, nlist, e);
}
