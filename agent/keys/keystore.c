/*
 * keystore.c: DEKs wrapped under a KEK, and their destruction (see
 * keystore.h for the file format and the destruction protocol).
 *
 * MUST rules:
 *  - key material (KEK, new KEK, unwrapped DEKs, the MAC key) lives only in
 *    secmem buffers, wiped on every path out; it is never in a message;
 *  - the KEK file is opened O_NOFOLLOW and checked on the fd: regular,
 *    ours, 32 bytes, no group/other bits; anything else is refused;
 *  - a keystore is used only after its MAC verifies under the KEK in hand;
 *  - destruction follows the numbered steps in keystore.h exactly, each
 *    step durable before the next, so that at every instant the live
 *    keystore verifies under a KEK that is on disk;
 *  - an old KEK or keystore is removed only by overwriting it (ow_path);
 *    a second name of a live file is only ever unlinked, never overwritten;
 *  - writers hold the state lock; KS_READ never writes.
 */
#include "keys/keystore.h"
#include "conf/category.h"
#include "conf/config.h"
#include "state/durable.h"
#include "base/err.h"
#include "keys/kek.h"
#include "keys/ksfile.h"
#include "sanitize/overwrite.h"
#include "conf/policy.h"
#include "base/secmem.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILE (16u << 20)
#define GEN_MAX 9999999

/* ---- small helpers ---- */

static void
today(char out[11])
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

static char *
join(const char *a, const char *b)
{
	char *s;

	return asprintf(&s, "%s%s", a, b) < 0 ? NULL : s;
}

/* Whether path names an existing object (lstat).  1, 0, or -1 on error. */
static int
exists(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

static int
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return lstat(a, &sa) == 0 && lstat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static char *
dir_of(const char *path)
{
	const char *s = strrchr(path, '/');

	if (s == NULL)
		return strdup(".");
	if (s == path)
		return strdup("/");
	return strndup(path, (size_t)(s - path));
}

/* Sanitizes a file with the overwrite engine; if that fails the name is
 * removed anyway (a key file must not stay) and the failure reported. */
static int
sanitize(const char *path, struct err *e)
{
	struct err oe;

	if (exists(path) != 1)
		return 0;
	if (ow_path(path, &oe) == 0)
		return 0;
	if (unlink(path) == 0 || errno == ENOENT)
		return err_set(e, "%s: removed but not overwritten: %s", path,
		    oe.msg);
	return err_set(e, "%s: %s", path, oe.msg);
}

/* Rewrites the keystore under the KEK in hand (same KEK: nothing is
 * destroyed, so replacing the file by rename is enough). */
static int
save(struct keystore *ks, struct err *e)
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

/* Sanitizes crashed durable_write temporaries of dir/BASE (they may hold
 * a KEK or wrapped keys).  Only called under the state lock, so no writer
 * is using them. */
static int
sanitize_temps(const char *dir, const char *base, struct err *e)
{
	char prefix[300], *p;
	struct dirent *d;
	DIR *dp;
	int rc = 0, n;

	/* durable.c names its temporaries ".NAME.tmp.PID". */
	n = snprintf(prefix, sizeof(prefix), ".%s.tmp.", base);
	if (n < 0 || (size_t)n >= sizeof(prefix))
		return err_set(e, "%s: name too long", base);
	if ((dp = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : err_sys(e, "%s", dir);
	while ((d = readdir(dp)) != NULL) {
		if (strncmp(d->d_name, prefix, (size_t)n) != 0)
			continue;
		if (asprintf(&p, "%s/%s", dir, d->d_name) < 0) {
			rc = err_set(e, "out of memory");
			break;
		}
		if (sanitize(p, e) != 0)
			rc = -1;
		free(p);
	}
	closedir(dp);
	return rc;
}

struct paths {
	char *ks_new, *ks_old, *kek_new, *kek_old, *kek_dir, *kek_base;
	char *kek_new_base;
};

static void
paths_free(struct paths *p)
{
	free(p->ks_new);
	free(p->ks_old);
	free(p->kek_new);
	free(p->kek_old);
	free(p->kek_dir);
	free(p->kek_base);
	free(p->kek_new_base);
}

static int
paths_make(const struct keystore *ks, struct paths *p, struct err *e)
{
	const char *s = strrchr(ks->kek_path, '/');

	memset(p, 0, sizeof(*p));
	p->ks_new = join(ks->path, ".new");
	p->ks_old = join(ks->path, ".old");
	p->kek_new = join(ks->kek_path, ".new");
	p->kek_old = join(ks->kek_path, ".old");
	p->kek_dir = dir_of(ks->kek_path);
	p->kek_base = strdup(s ? s + 1 : ks->kek_path);
	p->kek_new_base = join(s ? s + 1 : ks->kek_path, ".new");
	if (!p->ks_new || !p->ks_old || !p->kek_new || !p->kek_old ||
	    !p->kek_dir || !p->kek_base || !p->kek_new_base) {
		paths_free(p);
		return err_set(e, "out of memory");
	}
	return 0;
}

/* Removes `extra` if it is a second name of `live`, else sanitizes it. */
static int
drop_old(const char *extra, const char *live, struct err *e)
{
	if (exists(extra) != 1)
		return 0;
	if (same_file(extra, live)) {
		if (unlink(extra) != 0 && errno != ENOENT)
			return err_sys(e, "%s: unlink", extra);
		return 0;
	}
	return sanitize(extra, e);
}

static int
rename_durable(const char *from, const char *to, const char *dir,
    struct err *e)
{
	if (rename(from, to) != 0)
		return err_sys(e, "%s: rename to %s", from, to);
	return fsync_dir(dir, e);
}

static int
link_durable(const char *from, const char *to, const char *dir,
    struct err *e)
{
	if (link(from, to) != 0)
		return err_sys(e, "%s: link to %s", from, to);
	return fsync_dir(dir, e);
}

/* Brings the files to a clean state after a crash (see keystore.h).
 * text/len is the keystore's content; on return ks->kek is the KEK it
 * verifies under and *body the length before its mac line. */
static int
recover(struct keystore *ks, const struct paths *p, const char *text,
    size_t len, size_t *body, struct err *e)
{
	unsigned char *knew = NULL;
	int missing, rc = -1, committed = 0;
	struct err ke;

	if (kek_read(ks->kek_path, ks->kek, &missing, &ke) != 0) {
		if (!missing || exists(p->kek_new) != 1) {
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
	if (exists(p->kek_new) != 1) {
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
	if (exists(ks->kek_path) == 1 && exists(p->kek_old) != 1 &&
	    link_durable(ks->kek_path, p->kek_old, p->kek_dir, e) != 0)
		goto out;
	if (rename_durable(p->kek_new, ks->kek_path, p->kek_dir, e) != 0)
		goto out;
	memcpy(ks->kek, knew, KEK_LEN);
clean:
	if (!committed) {
		/* An uncommitted destruction: its new files go. */
		if (sanitize(p->kek_new, e) != 0 || sanitize(p->ks_new, e) != 0)
			goto out;
	} else if (drop_old(p->ks_new, ks->path, e) != 0)
		goto out;
	if (drop_old(p->ks_old, ks->path, e) != 0 ||
	    drop_old(p->kek_old, ks->kek_path, e) != 0 ||
	    sanitize_temps(p->kek_dir, p->kek_base, e) != 0 ||
	    sanitize_temps(p->kek_dir, p->kek_new_base, e) != 0 ||
	    sanitize_temps(ks->keys_dir, "keystore", e) != 0 ||
	    sanitize_temps(ks->keys_dir, "keystore.new", e) != 0)
		goto out;
	rc = 0;
out:
	secmem_free(knew, KEK_LEN);
	return rc;
}

/* KS_READ: the KEK the keystore verifies under, trying KEK, KEK.new and
 * KEK again (a destruction may rename between our reads). */
static int
pick_kek(struct keystore *ks, const struct paths *p, const char *text,
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
create(struct keystore *ks, const struct paths *p, struct err *e)
{
	int missing;
	struct err ke;

	if (mkdirs(ks->keys_dir, 0700, e) != 0)
		return -1;
	/* A crashed first destruction cannot exist without a keystore. */
	if (sanitize(p->kek_new, e) != 0)
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
	return save(ks, e);
}

int
keystore_open(const char *state_dir, const char *kek_path, int flags,
    struct keystore *ks, struct err *e)
{
	struct paths p = { 0 };
	char *text = NULL;
	size_t len = 0, body = 0;
	int rc = -1, have;

	memset(ks, 0, sizeof(*ks));
	ks->writable = flags == KS_WRITE;
	if (state_dir[0] != '/' || (kek_path != NULL && kek_path[0] != '/'))
		return err_set(e, "%s: state_dir and the KEK must be absolute "
		    "paths", state_dir[0] != '/' ? state_dir : kek_path);
	if (asprintf(&ks->keys_dir, "%s/keys", state_dir) < 0 ||
	    (ks->path = join(ks->keys_dir, "/keystore")) == NULL ||
	    (ks->kek_path = kek_path ? strdup(kek_path) :
	    join(state_dir, "/kek")) == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	if ((ks->kek = secmem_alloc(KEK_LEN, e)) == NULL ||
	    paths_make(ks, &p, e) != 0)
		goto out;
	have = exists(ks->path);
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
	paths_free(&p);
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

/* Unwraps entry x's DEK into k. */
static int
unwrap(const struct keystore *ks, const struct ks_entry *x, struct dek *k,
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
	return unwrap(ks, x, k, e);
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
			return unwrap(ks, x, k, e);
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
	today(en.created);
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
	if (save(ks, e) != 0) {
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
		today(x->sealed_after);
	if (save(ks, e) != 0) {
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
	today(x->plain_kept);
	if (save(ks, e) != 0) {
		memcpy(x->plain_kept, old, sizeof(old));
		return -1;
	}
	return 0;
}

/* ---- destruction ---- */

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

	today(d);
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
		if (unwrap(ks, &ks->v[i], k, e) != 0)
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

static int destroy_sel(const char *state_dir, const char *kek_path,
    const struct sel *w, const char *disp_id, struct ks_entry **list,
    size_t *nlist, struct err *e);

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

static int
destroy_sel(const char *state_dir, const char *kek_path, const struct sel *w,
    const char *disp_id, struct ks_entry **list, size_t *nlist, struct err *e)
{
	struct keystore ks;
	struct paths p = { 0 };
	struct ks_entry *nv = NULL;
	char *b = NULL;
	size_t blen = 0, bcap = 0;
	unsigned char *knew = NULL;
	int rc = -1, ndead, committed = 0;

	if (!ksfile_valid_token(disp_id, KS_DISP_MAX))
		return err_set(e, "'%s' is not a disposition id", disp_id);
	if (keystore_open(state_dir, kek_path, KS_WRITE, &ks, e) != 0) {
		keystore_close(&ks);
		return -1;
	}
	if (paths_make(&ks, &p, e) != 0)
		goto out;
	ndead = 0;
	for (size_t i = 0; i < ks.n; i++)
		ndead += !ks.v[i].destroyed && matches(&ks.v[i], w);
	if (ndead == 0) {
		/* Nothing live: report this disposition's earlier work. */
		rc = collect(ks.v, ks.n, w, disp_id, list, nlist, e);
		goto out;
	}
	if ((nv = calloc(ks.n, sizeof(*nv))) == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	if ((knew = secmem_alloc(KEK_LEN, e)) == NULL)
		goto out;
	if (RAND_bytes(knew, KEK_LEN) != 1) {
		err_set(e, "no random bytes for the new KEK");
		goto out;
	}
	if (rewrap(&ks, knew, w, disp_id, nv, e) < 0)
		goto out;
	if (ksfile_format(nv, ks.n, knew, &b, &blen, &bcap, e) != 0)
		goto out;
	/* 1, 2: the new KEK and keystore beside the live ones. */
	if (durable_write(p.kek_new, knew, KEK_LEN, 0600, e) != 0 ||
	    durable_write(p.ks_new, b, blen, 0600, e) != 0)
		goto out;
	/* 3, 4: keep the old keystore's content reachable, then commit. */
	if (link_durable(ks.path, p.ks_old, ks.keys_dir, e) != 0)
		goto out;
	if (rename(p.ks_new, ks.path) != 0) {
		err_sys(e, "%s: rename to %s", p.ks_new, ks.path);
		goto out;
	}
	/* Committed from here even if what follows fails: KEK.new must
	 * survive until it is the KEK. */
	committed = 1;
	if (fsync_dir(ks.keys_dir, e) != 0)
		goto out;
	if (collect(nv, ks.n, w, disp_id, list, nlist, e) != 0)
		goto out;
	/* 5, 6: the new KEK in place, the old one kept for sanitizing. */
	if (link_durable(ks.kek_path, p.kek_old, p.kek_dir, e) != 0 ||
	    rename_durable(p.kek_new, ks.kek_path, p.kek_dir, e) != 0)
		goto out;
	/* 7 */
	if (sanitize(p.ks_old, e) != 0 || sanitize(p.kek_old, e) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && !committed && knew != NULL) {
		/* Undo steps 1-3; the live keystore and KEK are untouched. */
		struct err ue;
		if (exists(p.ks_old) == 1 && same_file(p.ks_old, ks.path))
			(void)unlink(p.ks_old);
		if (p.ks_new != NULL)
			(void)sanitize(p.ks_new, &ue);
		if (p.kek_new != NULL)
			(void)sanitize(p.kek_new, &ue);
	}
	if (rc != 0 && committed) {
		char m[sizeof(e->msg)];
		snprintf(m, sizeof(m), "%s", e->msg);
		err_set(e, "keys destroyed, but the destruction did not "
		    "finish (the next run completes it): %s", m);
	}
	if (nv != NULL)
		OPENSSL_clear_free(nv, ks.n * sizeof(*nv));
	if (b != NULL)
		OPENSSL_clear_free(b, bcap);
	secmem_free(knew, KEK_LEN);
	paths_free(&p);
	keystore_close(&ks);
	return rc;
}

/* ---- lethe check ---- */

static int
inside(const char *p, const char *root)
{
	size_t n = strlen(root);

	if (n == 1 && root[0] == '/')
		return p[0] == '/';
	return strncmp(p, root, n) == 0 && (p[n] == '/' || p[n] == '\0');
}

/* The directory part of a glob before its first wildcard component. */
static void
glob_root(const char *g, char *out, size_t len)
{
	size_t cut = 0;

	for (size_t i = 0; g[i] != '\0'; i++) {
		if (strchr("*?[{", g[i]) != NULL)
			break;
		if (g[i] == '/')
			cut = i;
	}
	if (cut == 0)
		cut = 1;
	if (cut >= len)
		cut = len - 1;
	memcpy(out, g, cut);
	out[cut] = '\0';
}

void
keystore_check_kek_location(const struct config *c,
    const struct policyset *ps, struct diags *d)
{
	char keys[4200], root[4200], why[128];
	const char *bad;
	struct stat st;
	int n;

	if (c->kek == NULL || c->state_dir == NULL)
		return;
	n = snprintf(keys, sizeof(keys), "%s/keys", c->state_dir);
	if (n > 0 && (size_t)n < sizeof(keys) && inside(c->kek, keys))
		diag_warn(d, c->path, 0, "the KEK %s is inside %s: a backup "
		    "of the keystore would carry its KEK, and crypto-shred "
		    "would not destroy anything", c->kek, keys);
	for (size_t i = 0; ps != NULL && i < ps->n; i++) {
		const struct agreement *a = &ps->a[i];
		for (size_t j = 0; j < a->nds; j++) {
			const char *g[2] = { a->ds[j].path, a->ds[j].archive };
			for (int k = 0; k < 2; k++) {
				if (g[k] == NULL)
					continue;
				glob_root(g[k], root, sizeof(root));
				if (inside(c->kek, root))
					diag_warn(d, a->file, a->ds[j].line,
					    "the KEK %s lies under %s, the "
					    "root of dataset %s: move it out "
					    "of dataset and backed-up paths",
					    c->kek, root, a->ds[j].name);
			}
		}
	}
	/* Mode problems are config_load's to report; the rest are ours. */
	if (lstat(c->kek, &st) != 0 || (S_ISREG(st.st_mode) &&
	    (st.st_mode & 077) != 0))
		return;
	if ((bad = kek_refusal(&st, why, sizeof(why))) != NULL)
		diag_add(d, c->path, 0, "the KEK %s %s; lethe refuses it",
		    c->kek, bad);
}
