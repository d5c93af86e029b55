/*
 * ksopen.c: opening the keystore, and finishing an interrupted
 * destruction on the way (see keystore.h, "DESTRUCTION AND CRASH
 * RECOVERY").
 *
 * MUST rules:
 *  - the KEK file is opened O_NOFOLLOW and checked on the fd (kek.c):
 *    regular, ours, 32 bytes, no group/other bits; anything else is
 *    refused;
 *  - a keystore is used only after its MAC verifies under the KEK in hand;
 *  - KS_READ never writes; KS_WRITE (state lock held) completes a
 *    committed destruction and sanitizes an uncommitted one's files.
 */
#include "keys/keystore.h"
#include "keys/keystore_int.h"
#include "base/err.h"
#include "keys/kek.h"
#include "keys/ksfile.h"
#include "base/secmem.h"
#include "state/durable.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE (16u << 20)

/* Brings the files to a clean state after a crash (see keystore.h).
 * text/len is the keystore's content; on return ks->kek is the KEK it
 * verifies under and *body the length before its mac line. */
static int
recover(struct keystore *ks, const struct ks_paths *p, const char *text,
    size_t len, size_t *body, struct err *e)
{
	unsigned char *knew = NULL;
	int missing, rc = -1, committed = 0;
	struct err ke;

	if (kek_read(ks->kek_path, ks->kek, &missing, &ke) != 0) {
		if (!missing || ks_exists(p->kek_new) != 1) {
			err_set(e, "%s", ke.msg);
			goto out;
		}
	} else if (ksfile_verifies(ks->kek, text, len, body)) {
		committed = 0;
		goto clean;
	}
	/* Not under KEK: a committed destruction whose KEK is still .new? */
	if ((knew = secmem_alloc(KEK_LEN, e)) == NULL)
		goto out;
	if (ks_exists(p->kek_new) != 1) {
		err_set(e, "%s does not verify under the KEK %s: a keystore "
		    "restored from before a key destruction stays unreadable "
		    "by design; otherwise the KEK or keystore was replaced",
		    ks->path, ks->kek_path);
		goto out;
	}
	if (kek_read(p->kek_new, knew, &missing, e) != 0)
		goto out;
	if (!ksfile_verifies(knew, text, len, body)) {
		err_set(e, "%s verifies under neither %s nor %s: the KEK or "
		    "keystore was replaced", ks->path, ks->kek_path,
		    p->kek_new);
		goto out;
	}
	committed = 1;
	/* Steps 5 and 6. */
	if (ks_exists(ks->kek_path) == 1 && ks_exists(p->kek_old) != 1 &&
	    ks_link_durable(ks->kek_path, p->kek_old, p->kek_dir, e) != 0)
		goto out;
	if (ks_rename_durable(p->kek_new, ks->kek_path, p->kek_dir, e) != 0)
		goto out;
	memcpy(ks->kek, knew, KEK_LEN);
clean:
	if (!committed) {
		/* An uncommitted destruction: its new files go. */
		if (ks_sanitize(p->kek_new, e) != 0 ||
		    ks_sanitize(p->ks_new, e) != 0)
			goto out;
	} else if (ks_drop_old(p->ks_new, ks->path, e) != 0)
		goto out;
	if (ks_drop_old(p->ks_old, ks->path, e) != 0 ||
	    ks_drop_old(p->kek_old, ks->kek_path, e) != 0 ||
	    ks_sanitize_temps(p->kek_dir, p->kek_base, e) != 0 ||
	    ks_sanitize_temps(p->kek_dir, p->kek_new_base, e) != 0 ||
	    ks_sanitize_temps(ks->keys_dir, "keystore", e) != 0 ||
	    ks_sanitize_temps(ks->keys_dir, "keystore.new", e) != 0)
		goto out;
	rc = 0;
out:
	secmem_free(knew, KEK_LEN);
	return rc;
}

/* KS_READ: the KEK the keystore verifies under, trying KEK, KEK.new and
 * KEK again (a destruction may rename between our reads). */
static int
pick_kek(struct keystore *ks, const struct ks_paths *p, const char *text,
    size_t len, size_t *body, struct err *e)
{
	const char *cand[3] = { ks->kek_path, p->kek_new, ks->kek_path };
	struct err first = { "" };
	int missing, have_err = 0;

	for (int i = 0; i < 3; i++) {
		struct err ke;
		if (kek_read(cand[i], ks->kek, &missing, &ke) == 0) {
			if (ksfile_verifies(ks->kek, text, len, body))
				return 0;
		} else if (i == 0) {
			first = ke;
			have_err = 1;
		}
	}
	OPENSSL_cleanse(ks->kek, KEK_LEN);
	if (have_err)
		return err_set(e, "%s", first.msg);
	return err_set(e, "%s does not verify under the KEK %s: a keystore "
	    "restored from before a key destruction stays unreadable by "
	    "design; otherwise the KEK or keystore was replaced", ks->path,
	    ks->kek_path);
}

/* KS_WRITE with no keystore: make the KEK if missing, then an empty
 * keystore under it. */
static int
create(struct keystore *ks, const struct ks_paths *p, struct err *e)
{
	int missing;
	struct err ke;

	if (mkdirs(ks->keys_dir, 0700, e) != 0)
		return -1;
	/* A crashed first destruction cannot exist without a keystore. */
	if (ks_sanitize(p->kek_new, e) != 0)
		return -1;
	if (kek_read(ks->kek_path, ks->kek, &missing, &ke) != 0) {
		if (!missing)
			return err_set(e, "%s", ke.msg);
		if (mkdirs(p->kek_dir, 0700, e) != 0)
			return -1;
		if (kek_create(ks->kek_path, ks->kek, e) != 0)
			return -1;
	}
	ks->n = 0;
	return ks_save(ks, e);
}

int
keystore_open(const char *state_dir, const char *kek_path, int flags,
    struct keystore *ks, struct err *e)
{
	struct ks_paths p = { 0 };
	char *text = NULL;
	size_t len = 0, body = 0;
	int rc = -1, have;

	memset(ks, 0, sizeof(*ks));
	ks->writable = flags == KS_WRITE;
	if (state_dir[0] != '/' || (kek_path != NULL && kek_path[0] != '/'))
		return err_set(e, "%s: state_dir and the KEK must be absolute "
		    "paths", state_dir[0] != '/' ? state_dir : kek_path);
	if (asprintf(&ks->keys_dir, "%s/keys", state_dir) < 0 ||
	    (ks->path = ks_join(ks->keys_dir, "/keystore")) == NULL ||
	    (ks->kek_path = kek_path ? strdup(kek_path) :
	    ks_join(state_dir, "/kek")) == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	if ((ks->kek = secmem_alloc(KEK_LEN, e)) == NULL ||
	    ks_paths_make(ks, &p, e) != 0)
		goto out;
	have = ks_exists(ks->path);
	if (have < 0) {
		err_sys(e, "%s", ks->path);
		goto out;
	}
	if (!have) {
		if (!ks->writable) {
			err_set(e, "%s: no keystore (nothing was ever sealed "
			    "here)", ks->path);
			goto out;
		}
		rc = create(ks, &p, e);
		goto out;
	}
	if (slurp(ks->path, MAX_FILE, &text, &len, e) != 0)
		goto out;
	if (ks->writable ? recover(ks, &p, text, len, &body, e) :
	    pick_kek(ks, &p, text, len, &body, e))
		goto out;
	rc = ksfile_parse(ks->path, text, body, &ks->v, &ks->n, e);
out:
	if (text != NULL)
		OPENSSL_clear_free(text, len + 1);
	ks_paths_free(&p);
	return rc;
}
