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
#include "keystore.h"
#include "category.h"
#include "config.h"
#include "durable.h"
#include "err.h"
#include "num.h"
#include "overwrite.h"
#include "policy.h"
#include "secmem.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <ctype.h>
#include <stdarg.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEK_LEN 32
#define MAX_FILE (16u << 20)
#define GEN_MAX 9999999
static const char mac_label[] = "lethe keystore mac v1";

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

static int
valid_date(const char *s)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
valid_agreement(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) ||
		    isdigit((unsigned char)s[i]) || s[i] == '-'))
			return 0;
	return 1;
}

/* Printable, no blanks, at most KS_DISP_MAX bytes. */
static int
valid_token(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

const char *
keystore_category(const char *category)
{
	int i;

	if (category == NULL || strcasecmp(category, "all") == 0)
		return "all";
	i = category_find(category);
	return i < 0 ? NULL : category_name(i);
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

/* ---- key wrap (RFC 5649) and MAC ---- */

/* Wraps (enc) or unwraps a key under kek.  out has room for inlen + 16.
 * Returns the output length, or -1. */
static int
keywrap(const unsigned char *kek, int enc, const unsigned char *in,
    size_t inlen, unsigned char *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l = 0, l2 = 0, rc = -1;

	if (c == NULL)
		return -1;
	EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (EVP_CipherInit_ex(c, EVP_aes_256_wrap_pad(), NULL, kek, NULL,
	    enc) == 1 &&
	    EVP_CipherUpdate(c, out, &l, in, (int)inlen) == 1 &&
	    EVP_CipherFinal_ex(c, out + l, &l2) == 1)
		rc = l + l2;
	EVP_CIPHER_CTX_free(c);
	return rc;
}

/* HMAC-SHA256 of buf under the MAC key derived from kek. */
static int
mac(const unsigned char *kek, const char *buf, size_t len,
    unsigned char out[32])
{
	unsigned char *mk;
	unsigned int ml = 32, ol = 32;
	int rc = -1;

	if ((mk = secmem_alloc(32, NULL)) == NULL)
		return -1;
	if (HMAC(EVP_sha256(), kek, KEK_LEN, (const unsigned char *)mac_label,
	    sizeof(mac_label) - 1, mk, &ml) != NULL && ml == 32 &&
	    HMAC(EVP_sha256(), mk, 32, (const unsigned char *)buf, len, out,
	    &ol) != NULL && ol == 32)
		rc = 0;
	secmem_free(mk, 32);
	return rc;
}

static void
tohex(const unsigned char *b, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
fromhex(const char *s, unsigned char *b, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < 2 * n; i++) {
		int v = isdigit((unsigned char)s[i]) ? s[i] - '0' :
		    (s[i] >= 'a' && s[i] <= 'f') ? s[i] - 'a' + 10 : -1;
		if (v < 0)
			return -1;
		if (i % 2 == 0)
			b[i / 2] = (unsigned char)(v << 4);
		else
			b[i / 2] |= (unsigned char)v;
	}
	return 0;
}

/* Whether text (len bytes) ends in a mac line that verifies under kek;
 * *body is set to the length before the mac line. */
static int
verifies(const unsigned char *kek, const char *text, size_t len,
    size_t *body)
{
	unsigned char want[32], got[32];
	const char *p;
	size_t b;

	if (len < 70 || text[len - 1] != '\n')
		return 0;
	for (b = len - 1; b > 0 && text[b - 1] != '\n'; b--)
		;
	p = text + b;
	if (strncmp(p, "mac\t", 4) != 0 || len - b != 4 + 64 + 1)
		return 0;
	{
		char hx[65];
		memcpy(hx, p + 4, 64);
		hx[64] = '\0';
		if (fromhex(hx, want, 32) != 0)
			return 0;
	}
	if (mac(kek, text, b, got) != 0)
		return 0;
	*body = b;
	return CRYPTO_memcmp(want, got, 32) == 0;
}

/* ---- files ---- */

/* Reads a KEK file into kek (secure).  *missing set when it does not
 * exist (then -1 without *e being meaningful for the caller). */
static int
read_kek(const char *path, unsigned char *kek, int *missing, struct err *e)
{
	struct stat st;
	size_t got = 0;
	int fd, rc = -1;

	*missing = 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1) {
		if (errno == ENOENT)
			*missing = 1;
		if (errno == ELOOP)
			return err_set(e, "%s: the KEK is a symbolic link; "
			    "refused", path);
		return err_sys(e, "%s: cannot open the KEK", path);
	}
	if (fstat(fd, &st) != 0) {
		err_sys(e, "%s: stat", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, "%s: the KEK is not a regular file; refused", path);
		goto out;
	}
	if (st.st_mode & 077) {
		err_set(e, "%s: the KEK is mode %04o; it must be 0600 or "
		    "stricter; refused", path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_uid != geteuid()) {
		err_set(e, "%s: the KEK is owned by uid %u, not by us (uid "
		    "%u); refused", path, (unsigned)st.st_uid,
		    (unsigned)geteuid());
		goto out;
	}
	if (st.st_size != KEK_LEN) {
		err_set(e, "%s: the KEK must be exactly %d bytes (it is %lld)",
		    path, KEK_LEN, (long long)st.st_size);
		goto out;
	}
	while (got < KEK_LEN) {
		ssize_t r = read(fd, kek + got, KEK_LEN - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err_sys(e, "%s: read", path);
			goto out;
		}
		got += (size_t)r;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* Splits a line at TABs into at most max fields (in place). */
static size_t
fields(char *line, char **f, size_t max)
{
	size_t n = 0;

	f[n++] = line;
	for (char *p = line; *p != '\0'; p++)
		if (*p == '\t') {
			*p = '\0';
			if (n == max)
				return max + 1;
			f[n++] = p + 1;
		}
	return n;
}

static int
parse(struct keystore *ks, char *text, size_t body, struct err *e)
{
	char *line = text, *nl, *f[10];
	size_t lineno = 0, cap = 0;

	text[body] = '\0';
	while (*line != '\0') {
		struct ks_entry en;
		struct ks_entry *v;
		int64_t gen;
		size_t nf;
		int tomb;

		lineno++;
		if ((nl = strchr(line, '\n')) == NULL)
			return err_set(e, "%s:%zu: unterminated line", ks->path,
			    lineno);
		*nl = '\0';
		nf = fields(line, f, 10);
		if (lineno == 1) {
			if (nf != 2 || strcmp(f[0], "lethe-keystore") != 0 ||
			    strcmp(f[1], "1") != 0)
				return err_set(e, "%s:1: not a version 1 lethe "
				    "keystore", ks->path);
			line = nl + 1;
			continue;
		}
		tomb = strcmp(f[0], "tomb") == 0;
		if (!(tomb ? nf == 9 : strcmp(f[0], "key") == 0 && nf == 8))
			return err_set(e, "%s:%zu: bad record", ks->path,
			    lineno);
		memset(&en, 0, sizeof(en));
		if (!valid_token(f[1], SEAL_KEYID_MAX) ||
		    !valid_agreement(f[2]) || keystore_category(f[3]) == NULL ||
		    strcmp(keystore_category(f[3]), f[3]) != 0 ||
		    num_parse(f[4], 1, GEN_MAX, &gen) != 0 ||
		    !valid_date(f[5]) ||
		    (strcmp(f[6], "-") != 0 && !valid_date(f[6])))
			return err_set(e, "%s:%zu: bad record", ks->path,
			    lineno);
		snprintf(en.id, sizeof(en.id), "%s", f[1]);
		snprintf(en.agreement, sizeof(en.agreement), "%s", f[2]);
		snprintf(en.category, sizeof(en.category), "%s", f[3]);
		en.gen = (unsigned)gen;
		snprintf(en.created, sizeof(en.created), "%s", f[5]);
		if (strcmp(f[6], "-") != 0)
			snprintf(en.sealed_after, sizeof(en.sealed_after),
			    "%s", f[6]);
		if (tomb) {
			if (!valid_date(f[7]) || !valid_token(f[8], KS_DISP_MAX))
				return err_set(e, "%s:%zu: bad tombstone",
				    ks->path, lineno);
			en.destroyed = 1;
			snprintf(en.destroyed_on, sizeof(en.destroyed_on),
			    "%s", f[7]);
			snprintf(en.disp_id, sizeof(en.disp_id), "%s", f[8]);
		} else if (fromhex(f[7], en.wrapped, KS_WRAPPED_LEN) != 0)
			return err_set(e, "%s:%zu: bad wrapped key", ks->path,
			    lineno);
		if (keystore_find(ks, en.id) != NULL)
			return err_set(e, "%s:%zu: key %s appears twice",
			    ks->path, lineno, en.id);
		if (ks->n == cap) {
			cap = cap ? cap * 2 : 16;
			v = realloc(ks->v, cap * sizeof(*v));
			if (v == NULL)
				return err_set(e, "out of memory");
			ks->v = v;
		}
		ks->v[ks->n++] = en;
		line = nl + 1;
	}
	if (lineno == 0)
		return err_set(e, "%s: empty keystore", ks->path);
	return 0;
}

/* Appends to a growing string; returns -1 on allocation failure. */
struct sbuf {
	char *s;
	size_t len, cap;
};

static int
sb_add(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return 0;
		}
		size_t cap = b->cap ? b->cap * 2 : 1024;
		while (cap - b->len <= (size_t)n)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (s == NULL)
			return -1;
		b->s = s;
		b->cap = cap;
	}
}

/* The keystore text for entries v[0..n) under kek, MAC line included. */
static int
serialize(const struct ks_entry *v, size_t n, const unsigned char *kek,
    struct sbuf *b, struct err *e)
{
	unsigned char m[32];
	char hx[2 * KS_WRAPPED_LEN + 1];

	if (sb_add(b, "lethe-keystore\t1\n") != 0)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct ks_entry *x = &v[i];
		const char *sa = x->sealed_after[0] ? x->sealed_after : "-";
		int r;
		if (x->destroyed)
			r = sb_add(b, "tomb\t%s\t%s\t%s\t%u\t%s\t%s\t%s\t%s\n",
			    x->id, x->agreement, x->category, x->gen,
			    x->created, sa, x->destroyed_on, x->disp_id);
		else {
			tohex(x->wrapped, KS_WRAPPED_LEN, hx);
			r = sb_add(b, "key\t%s\t%s\t%s\t%u\t%s\t%s\t%s\n",
			    x->id, x->agreement, x->category, x->gen,
			    x->created, sa, hx);
		}
		if (r != 0)
			return err_set(e, "out of memory");
	}
	if (mac(kek, b->s, b->len, m) != 0)
		return err_set(e, "cannot compute the keystore MAC");
	tohex(m, 32, hx);
	if (sb_add(b, "mac\t%s\n", hx) != 0)
		return err_set(e, "out of memory");
	return 0;
}

/* Rewrites the keystore under the KEK in hand (same KEK: nothing is
 * destroyed, so replacing the file by rename is enough). */
static int
save(struct keystore *ks, struct err *e)
{
	struct sbuf b = { 0 };
	int rc = -1;

	if (!ks->writable)
		return err_set(e, "%s: opened read-only", ks->path);
	if (serialize(ks->v, ks->n, ks->kek, &b, e) == 0 &&
	    durable_write(ks->path, b.s, b.len, 0600, e) == 0)
		rc = 0;
	free(b.s);
	return rc;
}

/* Sanitizes crashed durable_write temporaries named ".BASE*.tmp.*" in dir
 * (they may hold a KEK or wrapped keys). */
static int
sanitize_temps(const char *dir, const char *base, struct err *e)
{
	char prefix[300], *p;
	struct dirent *d;
	DIR *dp;
	int rc = 0, n;

	n = snprintf(prefix, sizeof(prefix), ".%s", base);
	if (n < 0 || (size_t)n >= sizeof(prefix))
		return err_set(e, "%s: name too long", base);
	if ((dp = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : err_sys(e, "%s", dir);
	while ((d = readdir(dp)) != NULL) {
		if (strncmp(d->d_name, prefix, (size_t)n) != 0 ||
		    strstr(d->d_name, ".tmp.") == NULL)
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
	if (!p->ks_new || !p->ks_old || !p->kek_new || !p->kek_old ||
	    !p->kek_dir || !p->kek_base) {
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

	if (read_kek(ks->kek_path, ks->kek, &missing, &ke) != 0) {
		if (!missing || exists(p->kek_new) != 1) {
			err_set(e, "%s", ke.msg);
			goto out;
		}
	} else if (verifies(ks->kek, text, len, body)) {
		committed = 0;
		goto clean;
	}
	/* Not under KEK: a committed destruction whose KEK is still .new? */
	if ((knew = secmem_alloc(KEK_LEN, e)) == NULL)
		goto out;
	if (exists(p->kek_new) != 1 ||
	    read_kek(p->kek_new, knew, &missing, e) != 0 ||
	    !verifies(knew, text, len, body)) {
		if (exists(p->kek_new) != 1)
			err_set(e, "%s does not verify under the KEK %s: a "
			    "keystore restored from before a key destruction "
			    "stays unreadable by design; otherwise the KEK "
			    "or keystore was replaced", ks->path, ks->kek_path);
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
	    sanitize_temps(ks->keys_dir, "keystore", e) != 0)
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
		if (read_kek(cand[i], ks->kek, &missing, &ke) == 0) {
			if (verifies(ks->kek, text, len, body))
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
	if (read_kek(ks->kek_path, ks->kek, &missing, &ke) != 0) {
		if (!missing)
			return err_set(e, "%s", ke.msg);
		if (mkdirs(p->kek_dir, 0700, e) != 0)
			return -1;
		if (RAND_bytes(ks->kek, KEK_LEN) != 1)
			return err_set(e, "no random bytes for the KEK");
		if (durable_write(ks->kek_path, ks->kek, KEK_LEN, 0600, e) != 0)
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
	rc = parse(ks, text, body, e);
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
	n = keywrap(ks->kek, 0, x->wrapped, KS_WRAPPED_LEN, buf);
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
	if (!valid_agreement(agreement))
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
	if (keywrap(ks->kek, 1, k->key, DEK_LEN, en.wrapped) !=
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
	if (date != NULL && !valid_date(date))
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

/* ---- destruction ---- */

static int
matches(const struct ks_entry *x, const char *agreement, const char *cat)
{
	return strcmp(x->agreement, agreement) == 0 &&
	    (cat == NULL || strcmp(x->category, cat) == 0);
}

/* The new entries: matching live keys tombstoned, the others re-wrapped
 * under knew.  Returns the number tombstoned, or -1. */
static int
rewrap(const struct keystore *ks, const unsigned char *knew,
    const char *agreement, const char *cat, const char *disp_id,
    struct ks_entry *nv, struct err *e)
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
		if (matches(&nv[i], agreement, cat)) {
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
		if (keywrap(knew, 1, k->key, DEK_LEN, nv[i].wrapped) !=
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
collect(const struct ks_entry *v, size_t n, const char *agreement,
    const char *cat, const char *disp_id, struct ks_entry **list,
    size_t *nl, struct err *e)
{
	size_t c = 0;

	*list = NULL;
	*nl = 0;
	for (size_t i = 0; i < n; i++)
		c += v[i].destroyed && matches(&v[i], agreement, cat) &&
		    strcmp(v[i].disp_id, disp_id) == 0;
	if (c == 0)
		return 0;
	if ((*list = calloc(c, sizeof(**list))) == NULL)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (v[i].destroyed && matches(&v[i], agreement, cat) &&
		    strcmp(v[i].disp_id, disp_id) == 0)
			(*list)[(*nl)++] = v[i];
	return 0;
}

int
keystore_destroy(const char *state_dir, const char *kek_path,
    const char *agreement, const char *category, const char *disp_id,
    struct ks_entry **list, size_t *nlist, struct err *e)
{
	struct keystore ks;
	struct paths p = { 0 };
	struct ks_entry *nv = NULL;
	struct sbuf b = { 0 };
	unsigned char *knew = NULL;
	const char *cat = NULL;
	int rc = -1, ndead, committed = 0;

	*list = NULL;
	*nlist = 0;
	if (category != NULL && (cat = keystore_category(category)) == NULL)
		return err_set(e, "unknown category '%s'", category);
	if (!valid_token(disp_id, KS_DISP_MAX))
		return err_set(e, "'%s' is not a disposition id", disp_id);
	if (keystore_open(state_dir, kek_path, KS_WRITE, &ks, e) != 0) {
		keystore_close(&ks);
		return -1;
	}
	if (paths_make(&ks, &p, e) != 0)
		goto out;
	if (ks.n > 0 && (nv = calloc(ks.n, sizeof(*nv))) == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	if ((knew = secmem_alloc(KEK_LEN, e)) == NULL)
		goto out;
	if (RAND_bytes(knew, KEK_LEN) != 1) {
		err_set(e, "no random bytes for the new KEK");
		goto out;
	}
	if ((ndead = rewrap(&ks, knew, agreement, cat, disp_id, nv, e)) < 0)
		goto out;
	if (ndead == 0) {
		rc = collect(ks.v, ks.n, agreement, cat, disp_id, list, nlist,
		    e);
		goto out;
	}
	if (serialize(nv, ks.n, knew, &b, e) != 0)
		goto out;
	/* 1, 2: the new KEK and keystore beside the live ones. */
	if (durable_write(p.kek_new, knew, KEK_LEN, 0600, e) != 0 ||
	    durable_write(p.ks_new, b.s, b.len, 0600, e) != 0)
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
	if (collect(nv, ks.n, agreement, cat, disp_id, list, nlist, e) != 0)
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
	if (b.s != NULL)
		OPENSSL_clear_free(b.s, b.cap);
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
	char keys[4200], root[4200];
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
	if (lstat(c->kek, &st) != 0)
		return;	/* created by the first seal */
	if (S_ISLNK(st.st_mode))
		diag_add(d, c->path, 0, "the KEK %s is a symbolic link; lethe "
		    "refuses it", c->kek);
	else if (!S_ISREG(st.st_mode))
		diag_add(d, c->path, 0, "the KEK %s is not a regular file",
		    c->kek);
	else if (st.st_size != KEK_LEN)
		diag_add(d, c->path, 0, "the KEK %s is %lld bytes; it must be "
		    "exactly %d", c->kek, (long long)st.st_size, KEK_LEN);
	else if (st.st_uid != geteuid())
		diag_add(d, c->path, 0, "the KEK %s is owned by uid %u; lethe "
		    "(uid %u) refuses it", c->kek, (unsigned)st.st_uid,
		    (unsigned)geteuid());
}
