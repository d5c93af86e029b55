/*
 * dispose_crypto.c: crypto-shred inside a disposition (SPEC §7).
 *
 * MUST rules:
 *  - keys go after every ciphertext name was found, names after the keys;
 *  - a key that also seals data outside the disposition (another dataset,
 *    a held one, the agreement-wide key in a partial disposition) is never
 *    destroyed: refused, recorded, and the disposition fails;
 *  - the erase is verified by reading the keystore back.
 */
#include "dispose/dispose_int.h"

#include "base/err.h"
#include "conf/config.h"
#include "conf/policy.h"
#include "state/journal.h"
#include "keys/keystore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What the certificate may claim for a sealed file whose key is gone
 * (SPEC §8, lethe-certificate(5)): Purge only where no plaintext copy
 * ever existed, or every one was cleared by lethe.  As a kind of
 * dctx_remove_name, which counts it (dctx_kind_count). */
static void
sealed_kind(const struct dctx *x, const struct item *it, char *buf,
    size_t len)
{
	const struct scope_key *k = &x->scope.keys[it->obj->key];

	if (k->plain_kept[0] != '\0')
		snprintf(buf, len, "sealed kept %s", k->plain_kept);
	else if (k->sealed_after[0] != '\0')
		snprintf(buf, len, "sealed cleared %s", k->sealed_after);
	else
		snprintf(buf, len, "sealed clean");
}

/* Counts one destroyed key of this disposition for the certificate, once,
 * with what its record says about plaintext (SPEC §8 Purge), and journals
 * its key-destroyed line unless a killed run did.  Returns 0, or -1 with
 * *e set. */
static int
key_told(struct dctx *x, const struct ks_entry *k, struct err *e)
{
	const struct dispose_req *rq = x->rq;
	size_t v;

	if (strmap_get(&x->keys_counted, k->id, &v) == 0)
		return 0;
	if (strmap_get(&x->keys_journaled, k->id, &v) != 0 &&
	    journal_appendv(rq->j, e, "key-destroyed", "agreement",
	    rq->a->id, "category", k->category, "key", k->id, "disp", rq->id,
	    NULL) != 0)
		return -1;
	if (strmap_put(&x->keys_counted, k->id, 1) != 0)
		return err_set(e, "out of memory");
	x->out->keys++;
	x->out->techniques |= DT_CRYPTO;
	/* Facts of the keys themselves, for a key whose sealed files no
	 * dataset here holds (only unreachable copies). */
	if (k->plain_kept[0] != '\0' &&
	    strcmp(k->plain_kept, x->out->kept_on) > 0)
		snprintf(x->out->kept_on, sizeof(x->out->kept_on), "%s",
		    k->plain_kept);
	if (k->sealed_after[0] != '\0' &&
	    strcmp(k->sealed_after, x->out->key_sealed_after) > 0)
		snprintf(x->out->key_sealed_after,
		    sizeof(x->out->key_sealed_after), "%s", k->sealed_after);
	return 0;
}

int
dispose_keys_resume(struct dctx *x, struct err *e)
{
	const struct dispose_req *rq = x->rq;
	struct keystore ks;
	int rc = 0;

	if (!keystore_exists(rq->cfg->state_dir))
		return 0;	/* no keystore: no key was ever destroyed */
	memset(&ks, 0, sizeof(ks));
	if (keystore_open(rq->cfg->state_dir, rq->cfg->kek, KS_READ, &ks,
	    e) != 0) {
		keystore_close(&ks);
		return err_prepend(e, "the keys an earlier run of this "
		    "disposition destroyed cannot be counted");
	}
	/* A tombstone naming this disposition is a key it destroyed, whether
	 * or not the killed run lived to journal it. */
	for (size_t i = 0; rc == 0 && i < ks.n; i++)
		if (ks.v[i].destroyed && strcmp(ks.v[i].disp_id, rq->id) == 0)
			rc = key_told(x, &ks.v[i], e);
	keystore_close(&ks);
	return rc;
}

/* Destroys the keys named ids[0..nids) (the scope's decision) and journals
 * each tombstone.  Returns 0, or -1 with *e set. */
static int
destroy_keys(struct dctx *x, const char *const *ids, size_t nids,
    struct err *e)
{
	const struct dispose_req *rq = x->rq;
	struct ks_entry *list = NULL;
	size_t n = 0;
	int rc;

	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = keystore_destroy_ids(rq->cfg->state_dir, rq->cfg->kek, rq->a->id,
	    ids, nids, rq->id, &list, &n, e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	x->out->key_usec += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000);
	for (size_t i = 0; i < n; i++)
		if (key_told(x, &list[i], e) != 0) {
			rc = -1;
			break;
		}
	if (rc == 0 && n > 0) {
		/* Verify the erase: read the keystore back as unseal would;
		 * every destroyed key must be a tombstone, never live. */
		struct keystore ks;
		memset(&ks, 0, sizeof(ks));
		if (keystore_open(rq->cfg->state_dir, rq->cfg->kek, KS_READ,
		    &ks, e) != 0)
			rc = -1;
		for (size_t i = 0; rc == 0 && i < n; i++) {
			const struct ks_entry *k = keystore_find(&ks, list[i].id);
			if (k == NULL || !k->destroyed)
				rc = err_set(e, "key %s is still live after "
				    "its destruction", list[i].id);
		}
		if (rc == 0 || ks.path != NULL)
			keystore_close(&ks);
	}
	if (n > 0)
		x->out->techniques |= DT_CRYPTO;
	/* rc != 0 with n > 0: the new keystore is committed, but the old
	 * keystore or KEK is not yet overwritten, and together they still
	 * hold the key.  Not erased yet: the disposition fails, and the next
	 * run's keystore open finishes the job before it is certified. */
	free(list);
	return rc;
}

/* Key k stays (a hold reached a file sealed under it): none of the files
 * sealed under it is destroyed now. */
static void
kept_key(struct dctx *x, struct item *v, size_t n, int k)
{
	x->scope.keys[k].destroy = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].done == ITEM_SEALED && v[i].obj->key == k)
			v[i].done = ITEM_TODO;
}

/* Destroys the keys the scope decided on.  0, or -1 with *e set. */
static int
destroy_decided(struct dctx *x, struct err *e)
{
	const struct scope *s = &x->scope;
	const char **ids = calloc(s->nkeys + 1, sizeof(*ids));
	size_t nids = 0;
	int rc = 0;

	if (ids == NULL)
		return err_set(e, "out of memory");
	for (size_t k = 0; k < s->nkeys; k++)
		if (s->keys[k].destroy)
			ids[nids++] = s->keys[k].id;
	if (nids > 0)
		rc = destroy_keys(x, ids, nids, e);
	free(ids);
	return rc;
}

/* The keys are gone: the ciphertext is noise; removes its names. */
static void
remove_sealed(struct dctx *x, struct item *v, size_t n)
{
	const struct agreement *a = x->rq->a;
	struct err e;

	for (size_t i = 0; i < n; i++) {
		char label[4200], kind[48];
		if (v[i].done != ITEM_SEALED)
			continue;
		dctx_label(x, &v[i].f, label, sizeof(label));
		sealed_kind(x, &v[i], kind, sizeof(kind));
		if (dctx_remove_name(x, &v[i], &v[i].obj->names[0],
		    (uint64_t)v[i].f.size, kind, &e) != 0) {
			diag_add(x->problems, label, 0, "%s", e.msg);
			dctx_exception(x, "a ciphertext name of dataset %s "
			    "could not be removed", a->ds[v[i].ds].name);
			v[i].done = ITEM_TODO;
			continue;
		}
		v[i].done = ITEM_DONE;
		dctx_categories(x, v[i].obj);
		for (size_t k = 1; k < v[i].obj->nnames; k++) {
			if (dctx_remove_name(x, &v[i], &v[i].obj->names[k],
			    0, "link", &e) != 0) {
				diag_add(x->problems, label, 0, "%s", e.msg);
				dctx_exception(x, "a further name of a "
				    "ciphertext file of dataset %s could not "
				    "be removed", a->ds[v[i].ds].name);
				break;
			}
		}
	}
}

/* Crypto-shred (SPEC §7): destroy the keys the scope decided on (keyscope.c:
 * only those whose every known sealed file is in it; for a disposition of
 * the whole agreement every such key, so copies no locator can reach go
 * too), then the ciphertext names.  Returns -1 only when the journal
 * failed. */
int
dispose_crypto_shred(struct dctx *x, struct item *v, size_t n)
{
	const struct dispose_req *rq = x->rq;
	const struct scope *s = &x->scope;
	struct err e = { { 0 } };

	/* A hold recorded during the run keeps the keys of what it covers,
	 * and so every file sealed under them (SPEC §5). */
	if (dctx_sync(x) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (v[i].done == ITEM_SEALED && v[i].obj->key >= 0 &&
		    s->keys[v[i].obj->key].destroy &&
		    dctx_held(x, v[i].obj, v[i].ds))
			kept_key(x, v, n, v[i].obj->key);
	/* A key is destroyed only with all it seals: a sealed file kept
	 * earlier in this disposition (a hold recorded meanwhile, a name that
	 * could not be handled) keeps its key. */
	for (size_t i = 0; i < n; i++)
		if (v[i].done == ITEM_TODO && v[i].sealed &&
		    v[i].obj->key >= 0 && s->keys[v[i].obj->key].destroy)
			kept_key(x, v, n, v[i].obj->key);
	if (destroy_decided(x, &e) != 0) {
		diag_add(x->problems, rq->a->id, 0, "crypto-shred: %s", e.msg);
		dctx_exception(x, "crypto-shred of agreement %s failed: %s",
		    rq->a->id, e.msg);
		for (size_t i = 0; i < n; i++)
			if (v[i].done == ITEM_SEALED)
				v[i].done = ITEM_TODO;
		return 0;
	}
	remove_sealed(x, v, n);
	return 0;
}
