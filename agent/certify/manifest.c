/*
 * manifest.c: writing and reading a certificate's manifest (see
 * manifest.h).
 *
 * MUST rules:
 *  - the text names students: a buffer that held it is cleansed before it
 *    is freed, never realloc'd (which could leave a copy behind);
 *  - a row is read by one rule (row_read), whether the manifest is being
 *    checked against a certificate or counted for one.
 */
#include "certify/manifest.h"
#include "certify/cert.h"
#include "base/err.h"
#include "base/hex.h"
#include "base/num.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* A digest column: "-", "unavailable", or 64 lowercase hex digits. */
static int
digest_ok(const char *s, size_t n)
{
	unsigned char md[32];

	if (n == 1 && s[0] == '-')
		return 1;
	if (n == 11 && memcmp(s, "unavailable", 11) == 0)
		return 1;
	return hex_decode(s, n, md, sizeof(md)) == 0;
}

int
cert_manifest_init(struct cert_manifest *m, struct err *e)
{
	memset(m, 0, sizeof(*m));
	m->cap = 4096;
	if ((m->text = malloc(m->cap)) == NULL)
		return err_set(e, "manifest: out of memory");
	m->len = strlen(CERT_MANIFEST_HEADER);
	memcpy(m->text, CERT_MANIFEST_HEADER, m->len + 1);
	return 0;
}

static int
man_add(struct cert_manifest *m, const char *s, size_t n)
{
	if (m->len + n + 1 > m->cap) {
		size_t cap = m->cap * 2;
		char *p;
		while (cap < m->len + n + 1)
			cap *= 2;
		/* No realloc: the old buffer names students; cleanse it. */
		if ((p = malloc(cap)) == NULL)
			return -1;
		memcpy(p, m->text, m->len + 1);
		OPENSSL_clear_free(m->text, m->cap);
		m->text = p;
		m->cap = cap;
	}
	memcpy(m->text + m->len, s, n);
	m->len += n;
	m->text[m->len] = '\0';
	return 0;
}

int
cert_manifest_add(struct cert_manifest *m, const char *path, uint64_t size,
    const char *sha256, struct err *e)
{
	char tail[128], esc[5];
	int n;

	if (!digest_ok(sha256, strlen(sha256)))
		return err_set(e, "manifest: digest is not 64 lowercase hex "
		    "digits, \"-\" or \"unavailable\"");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		const char *s = esc;
		size_t k = 2;
		if (*p == '\\')
			s = "\\\\";
		else if (*p == '\t')
			s = "\\t";
		else if (*p == '\n')
			s = "\\n";
		else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
			k = 4;
		} else {
			s = (const char *)p;
			k = 1;
		}
		if (man_add(m, s, k) != 0)
			return err_set(e, "manifest: out of memory");
	}
	n = snprintf(tail, sizeof(tail), "\t%llu\t%s\n",
	    (unsigned long long)size, sha256);
	if (n < 0 || (size_t)n >= sizeof(tail) || man_add(m, tail,
	    (size_t)n) != 0)
		return err_set(e, "manifest: out of memory");
	m->files++;
	m->bytes += size;
	return 0;
}

void
cert_manifest_free(struct cert_manifest *m)
{
	if (m->text != NULL)
		OPENSSL_clear_free(m->text, m->cap);
	memset(m, 0, sizeof(*m));
}

/* Row `row` (1-based) starting at s, before end: its size into *size and
 * the offset just past its newline into *next.  Returns 0, or -1 with *e
 * set. */
static int
row_read(const char *s, const char *end, uint64_t row, uint64_t *size,
    const char **next, struct err *e)
{
	const char *nl = memchr(s, '\n', (size_t)(end - s)), *t1, *t2;
	char num[24];
	int64_t sz;

	if (nl == NULL)
		return err_set(e, "manifest: row %llu does not end in a "
		    "newline", (unsigned long long)row);
	t1 = memchr(s, '\t', (size_t)(nl - s));
	t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(nl - t1 - 1)) : NULL;
	if (t1 == NULL || t2 == NULL || t1 == s ||
	    (size_t)(t2 - t1 - 1) >= sizeof(num) ||
	    !digest_ok(t2 + 1, (size_t)(nl - t2 - 1)))
		return err_set(e, "manifest: row %llu is not "
		    "path<TAB>size<TAB>sha256", (unsigned long long)row);
	memcpy(num, t1 + 1, (size_t)(t2 - t1 - 1));
	num[t2 - t1 - 1] = '\0';
	if (num_parse(num, 0, INT64_MAX, &sz) != 0)
		return err_set(e, "manifest: row %llu has a bad size or "
		    "digest", (unsigned long long)row);
	*size = (uint64_t)sz;
	*next = nl + 1;
	return 0;
}

int
cert_manifest_totals(const char *text, size_t len, uint64_t *files,
    uint64_t *bytes, struct err *e)
{
	size_t hl = strlen(CERT_MANIFEST_HEADER);
	const char *p = text + hl, *end = text + len;
	uint64_t size = 0;

	*files = *bytes = 0;
	if (len < hl || memcmp(text, CERT_MANIFEST_HEADER, hl) != 0)
		return err_set(e, "manifest: first line is not the header "
		    "'path<TAB>size<TAB>sha256'");
	while (p < end) {
		if (row_read(p, end, *files + 1, &size, &p, e) != 0)
			return -1;
		if (*bytes + size < *bytes)
			return err_set(e, "manifest: sizes overflow");
		*bytes += size;
		(*files)++;
	}
	return 0;
}

int
cert_manifest_check(const struct cert *c, const char *text, size_t len,
    struct err *e)
{
	char hex[65];
	uint64_t rows, bytes;

	cert_sha256_hex(text, len, hex);
	if (c->manifest_sha256 == NULL || strcmp(hex, c->manifest_sha256) != 0)
		return err_set(e, "manifest SHA-256 %s differs from the "
		    "certificate's %s", hex, c->manifest_sha256 ?
		    c->manifest_sha256 : "(none)");
	if (cert_manifest_totals(text, len, &rows, &bytes, e) != 0)
		return -1;
	if (rows != c->files || bytes != c->bytes)
		return err_set(e, "manifest lists %llu files of %llu bytes; the "
		    "certificate says %llu files of %llu bytes",
		    (unsigned long long)rows, (unsigned long long)bytes,
		    (unsigned long long)c->files, (unsigned long long)c->bytes);
	return 0;
}
