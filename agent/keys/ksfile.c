/*
 * ksfile.c: the keystore's text format (see ksfile.h, keystore.h).
 *
 * MUST rules:
 *  - nothing is parsed before the MAC has verified (the caller calls
 *    ksfile_verifies first); even so every field is checked again;
 *  - a record appears once: a duplicate key id is an error, never merged;
 *  - buffers that held wrapped keys are cleansed when freed.
 */
#include "keys/ksfile.h"
#include "conf/policy.h"
#include "base/hex.h"
#include "base/err.h"
#include "keys/kek.h"
#include "base/num.h"
#include "conf/category.h"

#include <openssl/crypto.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEN_MAX 9999999

int
ksfile_valid_date(const char *s)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int
ksfile_valid_agreement(const char *s)
{
	return policy_valid_id(s, 64);
}

int
ksfile_valid_token(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

int
ksfile_verifies(const unsigned char *kek, const char *text, size_t len,
    size_t *body)
{
	unsigned char want[32], got[32];
	size_t b;

	if (len < 4 + 64 + 1 || text[len - 1] != '\n')
		return 0;
	for (b = len - 1; b > 0 && text[b - 1] != '\n'; b--)
		;
	if (len - b != 4 + 64 + 1 || strncmp(text + b, "mac\t", 4) != 0 ||
	    hex_decode(text + b + 4, 64, want, 32) != 0 ||
	    kek_mac(kek, text, b, got) != 0)
		return 0;
	*body = b;
	return CRYPTO_memcmp(want, got, 32) == 0;
}

/* Splits a line at TABs into at most max fields (in place); returns the
 * count, max + 1 when there are more. */
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

/* One record line (fields f[0..nf)) into *en.  Returns 0 or -1. */
/* The SEALED_AFTER field: "-" or CLEARED, optionally followed by "!KEPT":
 * CLEARED the last day plaintext stored in the clear was sealed and then
 * overwritten (seal --replace), KEPT the last day plaintext was sealed
 * from a file lethe did not clear.  0, or -1 when malformed. */
static int
sealed_field(const char *f, struct ks_entry *en)
{
	const char *bang = strchr(f, '!');
	size_t n = bang ? (size_t)(bang - f) : strlen(f);
	char left[16];

	if (n >= sizeof(left))
		return -1;
	memcpy(left, f, n);
	left[n] = '\0';
	if (strcmp(left, "-") != 0 && !ksfile_valid_date(left))
		return -1;
	if (bang != NULL && !ksfile_valid_date(bang + 1))
		return -1;
	/* Both are valid dates now: exactly 10 bytes. */
	if (strcmp(left, "-") != 0)
		memcpy(en->sealed_after, left, sizeof(en->sealed_after));
	if (bang != NULL)
		memcpy(en->plain_kept, bang + 1, sizeof(en->plain_kept));
	return 0;
}

static int
record(char **f, size_t nf, struct ks_entry *en)
{
	int tomb = strcmp(f[0], "tomb") == 0;
	const char *cat;
	int64_t gen;

	memset(en, 0, sizeof(*en));
	if (!(tomb ? nf == 9 : strcmp(f[0], "key") == 0 && nf == 8))
		return -1;
	cat = category_of_key(f[3]);
	if (!ksfile_valid_token(f[1], SEAL_KEYID_MAX) ||
	    !ksfile_valid_agreement(f[2]) || cat == NULL ||
	    strcmp(cat, f[3]) != 0 || num_parse(f[4], 1, GEN_MAX, &gen) != 0 ||
	    !ksfile_valid_date(f[5]) || sealed_field(f[6], en) != 0)
		return -1;
	snprintf(en->id, sizeof(en->id), "%s", f[1]);
	snprintf(en->agreement, sizeof(en->agreement), "%s", f[2]);
	snprintf(en->category, sizeof(en->category), "%s", f[3]);
	en->gen = (unsigned)gen;
	snprintf(en->created, sizeof(en->created), "%s", f[5]);
	if (!tomb)
		return hex_decode(f[7], strlen(f[7]), en->wrapped, KS_WRAPPED_LEN);
	if (!ksfile_valid_date(f[7]) || !ksfile_valid_token(f[8], KS_DISP_MAX))
		return -1;
	en->destroyed = 1;
	snprintf(en->destroyed_on, sizeof(en->destroyed_on), "%s", f[7]);
	snprintf(en->disp_id, sizeof(en->disp_id), "%s", f[8]);
	return 0;
}

int
ksfile_parse(const char *label, char *text, size_t body, struct ks_entry **vp,
    size_t *np, struct err *e)
{
	struct ks_entry *v = NULL, *nv;
	char *line = text, *nl, *f[10];
	size_t lineno = 0, cap = 0, n = 0;
	int rc = -1;

	text[body] = '\0';
	for (; *line != '\0'; line = nl + 1) {
		size_t nf;

		lineno++;
		if ((nl = strchr(line, '\n')) == NULL) {
			err_set(e, "%s:%zu: unterminated line", label, lineno);
			goto out;
		}
		*nl = '\0';
		nf = fields(line, f, 10);
		if (lineno == 1) {
			if (nf != 2 || strcmp(f[0], "lethe-keystore") != 0 ||
			    strcmp(f[1], "1") != 0) {
				err_set(e, "%s:1: not a version 1 lethe "
				    "keystore", label);
				goto out;
			}
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				err_set(e, "out of memory");
				goto out;
			}
			v = nv;
		}
		if (record(f, nf, &v[n]) != 0) {
			err_set(e, "%s:%zu: bad record", label, lineno);
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			if (strcmp(v[i].id, v[n].id) == 0) {
				err_set(e, "%s:%zu: key %s appears twice",
				    label, lineno, v[n].id);
				goto out;
			}
		n++;
	}
	if (lineno == 0) {
		err_set(e, "%s: empty keystore", label);
		goto out;
	}
	*vp = v;
	*np = n;
	v = NULL;
	rc = 0;
out:
	if (v != NULL)
		OPENSSL_clear_free(v, cap * sizeof(*v));
	return rc;
}

struct sbuf {
	char *s;
	size_t len, cap;
};

/* Appends to a growing string.  Returns 0, or -1 on allocation failure. */
static int
sb_add(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	size_t cap;
	char *s;
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
		cap = b->cap ? b->cap * 2 : 1024;
		while (cap - b->len <= (size_t)n)
			cap *= 2;
		/* Grow by copy, so the old buffer can be cleansed. */
		if ((s = malloc(cap)) == NULL)
			return -1;
		if (b->s != NULL) {
			memcpy(s, b->s, b->len);
			OPENSSL_clear_free(b->s, b->cap);
		}
		b->s = s;
		b->cap = cap;
	}
}

int
ksfile_format(const struct ks_entry *v, size_t n, const unsigned char *kek,
    char **buf, size_t *len, size_t *capp, struct err *e)
{
	struct sbuf b = { 0 };
	unsigned char m[32];
	char hx[2 * KS_WRAPPED_LEN + 1];
	int rc = -1;

	if (sb_add(&b, "lethe-keystore\t1\n") != 0)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		const struct ks_entry *x = &v[i];
		char sa[32];
		int r;
		snprintf(sa, sizeof(sa), "%s%s%s", x->sealed_after[0] ?
		    x->sealed_after : "-", x->plain_kept[0] ? "!" : "",
		    x->plain_kept);
		if (x->destroyed)
			r = sb_add(&b, "tomb\t%s\t%s\t%s\t%u\t%s\t%s\t%s\t%s\n",
			    x->id, x->agreement, x->category, x->gen,
			    x->created, sa, x->destroyed_on, x->disp_id);
		else {
			hex_encode(x->wrapped, KS_WRAPPED_LEN, hx);
			r = sb_add(&b, "key\t%s\t%s\t%s\t%u\t%s\t%s\t%s\n",
			    x->id, x->agreement, x->category, x->gen,
			    x->created, sa, hx);
		}
		if (r != 0)
			goto oom;
	}
	if (kek_mac(kek, b.s, b.len, m) != 0) {
		err_set(e, "cannot compute the keystore MAC");
		goto out;
	}
	hex_encode(m, 32, hx);
	if (sb_add(&b, "mac\t%s\n", hx) != 0)
		goto oom;
	*buf = b.s;
	*len = b.len;
	*capp = b.cap;
	b.s = NULL;
	rc = 0;
	goto out;
oom:
	err_set(e, "out of memory");
out:
	if (b.s != NULL)
		OPENSSL_clear_free(b.s, b.cap);
	return rc;
}
