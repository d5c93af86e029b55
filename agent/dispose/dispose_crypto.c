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

#include "sanitize/archive.h"
#include "certify/cert.h"
#include "conf/config.h"
#include "state/durable.h"
#include "base/err.h"
#include "state/journal.h"
#include "keys/keystore.h"
#include "conf/policy.h"
#include "plan/sched.h"
#include "sanitize/transfer.h"

#include <openssl/crypto.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Whether destroying the key of `category` ("all" = the agreement-wide key)
 * can touch only data in this disposition: no dataset outside it (held,
 * exempt, or simply not in scope) may share that category. */
static int
key_only_in_disposition(const struct dispose_req *rq, const char *category)
{
	int ci = strcmp(category, "all") == 0 ? -1 : category_find(category);

	if (strcmp(category, "all") != 0 && ci < 0)
		return 0;
	for (size_t i = 0; i < rq->a->nds; i++) {
		int in = 0;
		for (size_t k = 0; k < rq->nds; k++)
			in |= rq->ds[k] == i;
		if (in)
			continue;
		if (ci < 0 || (rq->a->ds[i].categories & (1u << ci)) != 0 ||
		    rq->a->ds[i].categories == 0)
			return 0;
	}
	return 1;
}

/* Destroys the keys of agreement (category NULL: all of them) and journals
 * each tombstone.  Returns 0, or -1 with *e set. */
static int
destroy_keys(struct dctx *x, const char *category, struct err *e)
{
	const struct dispose_req *rq = x->rq;
	struct ks_entry *list = NULL;
	size_t n = 0;
	int rc;

	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = keystore_destroy(rq->cfg->state_dir, rq->cfg->kek, rq->a->id,
	    category, rq->id, &list, &n, e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	x->out->key_usec += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000);
	for (size_t i = 0; i < n; i++) {
		struct err je;
		if (journal_appendv(rq->j, &je, "key-destroyed", "agreement",
		    rq->a->id, "category", list[i].category, "key", list[i].id,
		    "disp", rq->id, NULL) != 0) {
			rc = err_set(e, "%s", je.msg);
			break;
		}
		x->out->keys++;
		if (list[i].sealed_after[0] != '\0' &&
		    strcmp(list[i].sealed_after, x->out->key_sealed_after) > 0)
			snprintf(x->out->key_sealed_after,
			    sizeof(x->out->key_sealed_after), "%s",
			    list[i].sealed_after);
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

/* Crypto-shred (SPEC §7): destroy the keys, then the ciphertext names.
 * A disposition of the whole agreement destroys every key it has, so the
 * copies no locator can reach (backups, tapes) go too; a partial one
 * destroys the keys of the sealed files it found.  Returns -1 only when
 * the journal failed. */
int
dispose_crypto_shred(struct dctx *x, struct item *v, size_t n)
{
	const struct dispose_req *rq = x->rq;
	char path[4200];
	struct stat st;
	struct err e;
	int any = 0;

	for (size_t i = 0; i < n; i++)
		any |= v[i].done == ITEM_SEALED;
	if (snprintf(path, sizeof(path), "%s/keys/keystore",
	    rq->cfg->state_dir) >= (int)sizeof(path))
		return 0;
	if (lstat(path, &st) != 0) {
		/* Nothing was ever sealed here: no keys to destroy. */
		for (size_t i = 0; i < n; i++)
			if (v[i].done == ITEM_SEALED) {
				v[i].done = ITEM_TODO;
				dispose_exception(x, "a sealed file of dataset %s has no "
				    "key in this host's keystore",
				    rq->a->ds[v[i].ds].name);
			}
		return 0;
	}
	e.msg[0] = '\0';
	if (dispose_covers_agreement(rq)) {
		if (destroy_keys(x, NULL, &e) != 0)
			goto failed;
	} else {
		struct keystore ks;
		char done[64][48];
		size_t ndone = 0;

		memset(&ks, 0, sizeof(ks));
		if (any && keystore_open(rq->cfg->state_dir, rq->cfg->kek,
		    KS_READ, &ks, &e) != 0)
			goto failed;
		for (size_t i = 0; i < n && any; i++) {
			const struct ks_entry *k;
			char cat[48];
			size_t d;
			if (v[i].done != ITEM_SEALED)
				continue;
			k = keystore_find(&ks, v[i].keyid);
			if (k == NULL) {
				v[i].done = ITEM_TODO;
				dispose_exception(x, "a sealed file of dataset %s names a "
				    "key this keystore does not have",
				    rq->a->ds[v[i].ds].name);
				continue;
			}
			if (strcmp(k->agreement, rq->a->id) != 0) {
				v[i].done = ITEM_TODO;
				diag_add(x->problems, rq->a->ds[v[i].ds].name, 0,
				    "a sealed file is under agreement %s's key "
				    "%s, not %s's: refused", k->agreement, k->id,
				    rq->a->id);
				dispose_exception(x, "a sealed file of dataset %s is "
				    "sealed under another agreement's key",
				    rq->a->ds[v[i].ds].name);
				continue;
			}
			snprintf(cat, sizeof(cat), "%s", k->category);
			if (!key_only_in_disposition(rq, cat)) {
				v[i].done = ITEM_TODO;
				diag_add(x->problems, rq->a->ds[v[i].ds].name, 0,
				    "sealed under key %s (category %s), which "
				    "also seals data outside this disposition "
				    "(another dataset or category, or a held "
				    "one): destroying it would destroy that too; "
				    "refused.  Seal each category under its own "
				    "key (lethe seal --category)", k->id, cat);
				dispose_exception(x, "a sealed file of dataset %s is "
				    "under a key shared with data outside the "
				    "disposition", rq->a->ds[v[i].ds].name);
				continue;
			}
			for (d = 0; d < ndone; d++)
				if (strcmp(done[d], cat) == 0)
					break;
			if (d < ndone || k->destroyed)
				continue;
			if (ndone < 64)
				snprintf(done[ndone++], sizeof(done[0]), "%s",
				    cat);
		}
		if (any)
			keystore_close(&ks);
		for (size_t d = 0; d < ndone; d++)
			if (destroy_keys(x, done[d], &e) != 0)
				goto failed;
	}
	/* The keys are gone: the ciphertext is noise; remove its names. */
	for (size_t i = 0; i < n; i++) {
		char label[4200];
		if (v[i].done != ITEM_SEALED)
			continue;
		dispose_label(x, &v[i].f, label, sizeof(label));
		if (dispose_remove_name(x, &v[i], &v[i].obj->names[0],
		    (uint64_t)v[i].f.size, &e) != 0) {
			diag_add(x->problems, label, 0, "%s", e.msg);
			dispose_exception(x, "a ciphertext name of dataset %s could not "
			    "be removed", rq->a->ds[v[i].ds].name);
			v[i].done = ITEM_TODO;
			continue;
		}
		v[i].done = ITEM_DONE;
		x->out->sealed_files++;
		for (size_t k = 1; k < v[i].obj->nnames; k++) {
			if (dispose_remove_name(x, &v[i], &v[i].obj->names[k],
			    0, &e) != 0) {
				diag_add(x->problems, label, 0, "%s", e.msg);
				dispose_exception(x, "a further name of a "
				    "ciphertext file of dataset %s could not "
				    "be removed", rq->a->ds[v[i].ds].name);
				break;
			}
			x->out->links++;
		}
	}
	return 0;
failed:
	diag_add(x->problems, rq->a->id, 0, "crypto-shred: %s", e.msg);
	dispose_exception(x, "crypto-shred of agreement %s failed: %s", rq->a->id,
	    e.msg);
	for (size_t i = 0; i < n; i++)
		if (v[i].done == ITEM_SEALED)
			v[i].done = ITEM_TODO;
	return 0;
}
