/*
 * keystore.c: DEKs wrapped under a KEK: the keys in hand, new keys, and
 * the marks on them (see keystore.h for the file format; opening and
 * crash recovery are ksopen.c, destruction ksdestroy.c, the durable file
 * steps ksstep.c, the `check` lint kekcheck.c).
 *
 * MUST rules:
 *  - key material (the KEK, unwrapped DEKs) lives only in secmem buffers,
 *    wiped on every path out; it is never in a message;
 *  - a new key is wrapped and the keystore durably rewritten before the
 *    key is handed out, so nothing is ever sealed under a key that could
 *    be lost;
 *  - writers hold the state lock; a keystore opened KS_READ is never
 *    written.
 */
#include "keys/keystore.h"
#include "keys/keystore_int.h"
#include "conf/category.h"
#include "state/durable.h"
#include "base/err.h"
#include "keys/kek.h"
#include "keys/ksfile.h"
#include "base/secmem.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define GEN_MAX 9999999

void
ks_today(char out[11])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	if (strftime(out, 11, "%Y-%m-%d", &tm) != 10)
		strcpy(out, "1970-01-01");
}

const char *
keystore_category(const char *category)
{
	return category_of_key(category);
}

static void
slug(const char *cat, char *out, size_t len)
{
	size_t j = 0;

	for (size_t i = 0; cat[i] != '\0' && j + 1 < len; i++) {
		unsigned char c = (unsigned char)cat[i];
		out[j++] = isalnum(c) ? (char)tolower(c) : '-';
	}
	out[j] = '\0';
}

/* The same KEK: nothing is destroyed, so replacing the file by rename is
 * enough. */
int
ks_save(struct keystore *ks, struct err *e)
{
	char *b = NULL;
	size_t len, cap = 0;
	int rc = -1;

	if (!ks->writable)
		return err_set(e, "%s: opened read-only", ks->path);
	if (ksfile_format(ks->v, ks->n, ks->kek, &b, &len, &cap, e) == 0 &&
	    durable_write(ks->path, b, len, 0600, e) == 0)
		rc = 0;
	if (b != NULL)
		OPENSSL_clear_free(b, cap);
	return rc;
}


void
keystore_close(struct keystore *ks)
{
	secmem_free(ks->kek, KEK_LEN);
	if (ks->v != NULL)
		OPENSSL_clear_free(ks->v, ks->n * sizeof(*ks->v));
	free(ks->keys_dir);
	free(ks->path);
	free(ks->kek_path);
	memset(ks, 0, sizeof(*ks));
}

const struct ks_entry *
keystore_find(const struct keystore *ks, const char *id)
{
	for (size_t i = 0; i < ks->n; i++)
		if (strcmp(ks->v[i].id, id) == 0)
			return &ks->v[i];
	return NULL;
}

int
ks_unwrap(const struct keystore *ks, const struct ks_entry *x, struct dek *k,
    struct err *e)
{
	unsigned char *buf;
	int n, rc = -1;

	if ((buf = secmem_alloc(KS_WRAPPED_LEN + 16, e)) == NULL)
		return -1;
	n = kek_unwrap(ks->kek, x->wrapped, KS_WRAPPED_LEN, buf);
	if (n != DEK_LEN) {
		err_set(e, "%s: key %s does not unwrap under the KEK",
		    ks->path, x->id);
		goto out;
	}
	memcpy(k->key, buf, DEK_LEN);
	snprintf(k->id, sizeof(k->id), "%s", x->id);
	rc = 0;
out:
	secmem_free(buf, KS_WRAPPED_LEN + 16);
	return rc;
}

int
keystore_lookup(const char *id, struct dek *k, void *arg, struct err *e)
{
	const struct keystore *ks = arg;
	const struct ks_entry *x = keystore_find(ks, id);

	if (x == NULL)
		return err_set(e, "key %s is not in the keystore %s", id,
		    ks->path);
	if (x->destroyed)
		return err_set(e, "key %s destroyed on %s (certificate %s)",
		    id, x->destroyed_on, x->disp_id);
	return ks_unwrap(ks, x, k, e);
}

int
keystore_key_for(struct keystore *ks, const char *agreement,
    const char *category, int create_it, struct dek *k, struct err *e)
{
	const char *cat = keystore_category(category);
	struct ks_entry en, *v;
	unsigned gen = 0;
	char sl[64];
	int n, rc = -1;

	if (cat == NULL)
		return err_set(e, "unknown category '%s'", category);
	if (!ksfile_valid_agreement(agreement))
		return err_set(e, "'%s' is not an agreement id", agreement);
	for (size_t i = 0; i < ks->n; i++) {
		struct ks_entry *x = &ks->v[i];
		if (strcmp(x->agreement, agreement) != 0 ||
		    strcmp(x->category, cat) != 0)
			continue;
		if (!x->destroyed)
			return ks_unwrap(ks, x, k, e);
		if (x->gen > gen)
			gen = x->gen;
	}
	if (!create_it)
		return err_set(e, "agreement %s has no live key for category "
		    "%s in %s", agreement, cat, ks->path);
	if (!ks->writable)
		return err_set(e, "%s: opened read-only", ks->path);
	if (gen >= GEN_MAX)
		return err_set(e, "agreement %s, category %s: too many key "
		    "generations", agreement, cat);
	memset(&en, 0, sizeof(en));
	slug(cat, sl, sizeof(sl));
	n = snprintf(en.id, sizeof(en.id), "%s/%s/%u", agreement, sl, gen + 1);
	if (n < 0 || (size_t)n >= sizeof(en.id))
		return err_set(e, "key id for %s/%s too long", agreement, sl);
	snprintf(en.agreement, sizeof(en.agreement), "%s", agreement);
	snprintf(en.category, sizeof(en.category), "%s", cat);
	en.gen = gen + 1;
	ks_today(en.created);
	if (RAND_bytes(k->key, DEK_LEN) != 1) {
		err_set(e, "no random bytes for a key");
		goto out;
	}
	if (kek_wrap(ks->kek, k->key, DEK_LEN, en.wrapped) !=
	    KS_WRAPPED_LEN) {
		err_set(e, "cannot wrap a new key");
		goto out;
	}
	v = realloc(ks->v, (ks->n + 1) * sizeof(*v));
	if (v == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	ks->v = v;
	ks->v[ks->n++] = en;
	if (ks_save(ks, e) != 0) {
		ks->n--;
		goto out;
	}
	snprintf(k->id, sizeof(k->id), "%s", en.id);
	rc = 0;
out:
	if (rc != 0)
		OPENSSL_cleanse(k->key, DEK_LEN);
	return rc;
}

int
keystore_mark_sealed_after(struct keystore *ks, const char *id,
    const char *date, struct err *e)
{
	struct ks_entry *x = (struct ks_entry *)keystore_find(ks, id);
	char old[11];

	if (x == NULL || x->destroyed)
		return err_set(e, "key %s is not a live key in %s", id,
		    ks->path);
	if (date != NULL && !ksfile_valid_date(date))
		return err_set(e, "'%s' is not a date", date);
	memcpy(old, x->sealed_after, sizeof(old));
	if (date != NULL)
		snprintf(x->sealed_after, sizeof(x->sealed_after), "%s", date);
	else
		ks_today(x->sealed_after);
	if (ks_save(ks, e) != 0) {
		memcpy(x->sealed_after, old, sizeof(old));
		return -1;
	}
	return 0;
}

int
keystore_mark_plain_kept(struct keystore *ks, const char *id, struct err *e)
{
	struct ks_entry *x = (struct ks_entry *)keystore_find(ks, id);
	char old[11];

	if (x == NULL || x->destroyed)
		return err_set(e, "key %s is not a live key in %s", id,
		    ks->path);
	memcpy(old, x->plain_kept, sizeof(old));
	ks_today(x->plain_kept);
	if (ks_save(ks, e) != 0) {
		memcpy(x->plain_kept, old, sizeof(old));
		return -1;
	}
	return 0;
}

int
keystore_exists(const char *state_dir)
{
	char path[PATH_MAX];
	struct stat st;

	return snprintf(path, sizeof(path), "%s/keys/keystore", state_dir) <
	    (int)sizeof(path) && lstat(path, &st) == 0;
}
