/*
 * journal.c: the journal's line format (see journal.h): values encoded
 * and decoded, a line parsed, the hash chain, the journal lock.  The
 * readers are journal_read.c, the appending handle journal_write.c.
 *
 * MUST rules:
 *  - values are percent-encoded, so a value can never forge a field, a
 *    line or the hash at the end of a line;
 *  - a line is parsed for its form only; whether it follows the line
 *    before it (sequence, chain) is the reader's check, never skipped.
 */
#include "state/journal.h"
#include "state/journal_int.h"
#include "base/date.h"
#include "base/err.h"
#include "base/hex.h"
#include "base/num.h"
#include "base/strbuf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>

#include <openssl/evp.h>

void
jr_encode(struct strbuf *b, const char *v)
{
	for (const unsigned char *s = (const unsigned char *)v; *s; s++) {
		if (*s < 0x21 || *s > 0x7e || *s == '%' || *s == '=') {
			char enc[3] = { '%', hex_digit(*s >> 4, 1),
			    hex_digit(*s, 1) };
			strbuf_add(b, enc, 3);
		} else {
			strbuf_add(b, (const char *)s, 1);
		}
	}
}

int
jr_is_word(const char *s, int allow_underscore)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-' || (allow_underscore && *s == '_'))
			continue;
		return 0;
	}
	return 1;
}

int
jr_is_hash(const char *s, size_t len)
{
	if (len != 64)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int
jr_chain_hash(const char *prev, const char *text, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok;

	if (c == NULL)
		return -1;
	ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, prev, 64) == 1 &&
	    EVP_DigestUpdate(c, " ", 1) == 1 &&
	    EVP_DigestUpdate(c, text, len) == 1 &&
	    EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen == 32;
	EVP_MD_CTX_free(c);
	if (!ok)
		return -1;
	hex_encode(md, 32, out);
	return 0;
}

int
jr_flock(int fd, int op, const char *path, struct err *e)
{
	const struct timespec nap = { 0, 20 * 1000 * 1000 };
	long waited_ms = 0;

	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return err_sys(e, "%s: lock", path);
		if (waited_ms >= JOURNAL_LOCK_WAIT * 1000L)
			return err_set(e, "%s: another lethe has held the "
			    "journal lock for %d s; try again", path,
			    JOURNAL_LOCK_WAIT);
		nanosleep(&nap, NULL);
		waited_ms += 20;
	}
}

/* Decodes %XX in place.  Returns 0, or -1 on a bad escape or a NUL. */
static int
decode(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r != '%') {
			*w++ = *r;
			continue;
		}
		int hi = hex_value(r[1]), lo = hi < 0 ? -1 : hex_value(r[2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -1;
		*w++ = (char)(hi << 4 | lo);
		r += 2;
	}
	*w = '\0';
	return 0;
}

int
jr_parse_line(const char *raw, char *work, struct jrec *r, const char *path,
    uint64_t lineno, struct err *e)
{
	size_t len = strlen(raw);
	const char *sp = strrchr(raw, ' ');
	char *tok, *save = NULL;
	int64_t seq;
	int i = 0;

	memset(r, 0, sizeof(*r));
	r->text = raw;
	if (sp == NULL || !jr_is_hash(sp + 1, len - (size_t)(sp + 1 - raw)))
		return err_set(e, "%s:%" PRIu64 ": no hash at the end of the "
		    "line", path, lineno);
	memcpy(r->hash, sp + 1, 64);
	r->hash[64] = '\0';
	memcpy(work, raw, (size_t)(sp - raw));
	work[sp - raw] = '\0';
	if (work[0] == ' ' || strstr(work, "  ") != NULL ||
	    (sp > raw && sp[-1] == ' '))
		return err_set(e, "%s:%" PRIu64 ": malformed line (empty field)",
		    path, lineno);
	for (tok = strtok_r(work, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save), i++) {
		if (i == 0) {
			if (num_parse(tok, 1, INT64_MAX, &seq) != 0)
				return err_set(e, "%s:%" PRIu64 ": bad sequence "
				    "number '%.32s'", path, lineno, tok);
			r->seq = (uint64_t)seq;
		} else if (i == 1) {
			if (time_parse_utc(tok, &r->time) != 0)
				return err_set(e, "%s:%" PRIu64 ": bad time "
				    "'%.32s'", path, lineno, tok);
		} else if (i == 2) {
			if (!jr_is_word(tok, 0))
				return err_set(e, "%s:%" PRIu64 ": bad event "
				    "name '%.32s'", path, lineno, tok);
			r->event = tok;
		} else {
			char *eq = strchr(tok, '=');
			if (r->nf == sizeof(r->f) / sizeof(r->f[0]))
				return err_set(e, "%s:%" PRIu64 ": more than %zu "
				    "fields", path, lineno,
				    sizeof(r->f) / sizeof(r->f[0]));
			if (eq == NULL)
				return err_set(e, "%s:%" PRIu64 ": field without "
				    "'=': '%.32s'", path, lineno, tok);
			*eq = '\0';
			if (!jr_is_word(tok, 1) || decode(eq + 1) != 0)
				return err_set(e, "%s:%" PRIu64 ": malformed "
				    "field '%.32s'", path, lineno, tok);
			r->f[r->nf].key = tok;
			r->f[r->nf].val = eq + 1;
			r->nf++;
		}
	}
	if (i < 3)
		return err_set(e, "%s:%" PRIu64 ": malformed line (needs "
		    "SEQ TIME EVENT ... HASH)", path, lineno);
	return 0;
}

const char *
jrec_get(const struct jrec *r, const char *key)
{
	for (size_t i = 0; i < r->nf; i++)
		if (strcmp(r->f[i].key, key) == 0)
			return r->f[i].val;
	return NULL;
}
