/*
 * cert_text.c: a certificate's INI text, written (cert_format) and read
 * back (cert_parse) from the one field table (cert_int.h; see cert.h).
 *
 * MUST rules:
 *  - a certificate is written only after every check `lethe verify` makes
 *    passes on it: lethe never issues a certificate it would reject;
 *  - every line written is under 200 bytes (Debian's libinih limit); long
 *    values are wrapped losslessly into KEY_2, KEY_3 ... never truncated,
 *    and read back joined with one space;
 *  - no value may carry what an INI reader would misread (control bytes,
 *    a blank before ';' or '#', edge blanks): such a value is refused;
 *  - reading is strict: unknown sections or keys, repeats, over-long
 *    lines and malformed values are errors.
 */
#include "certify/cert.h"
#include "certify/cert_int.h"
#include "base/date.h"
#include "base/err.h"
#include "base/num.h"
#include "base/strbuf.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIECE_MAX 160		/* bytes of value per line */
#define LINE_MAX_TEXT 198	/* bytes per line, newline excluded */
#define PIECES_MAX 99

/* Whether a value can be written as INI without being misread. */
static int
value_ok(const char *key, const char *v, struct err *e)
{
	size_t n = strlen(v), run = 0;

	if (n == 0)
		return err_set(e, "%s: empty value (write 'none')", key);
	if (v[0] == ' ' || v[n - 1] == ' ')
		return err_set(e, "%s: value has leading or trailing blanks",
		    key);
	if (v[0] == ';' || v[0] == '#')
		return err_set(e, "%s: value starts with a comment character",
		    key);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];
		if (ch < 0x20 || ch == 0x7f)
			return err_set(e, "%s: value has a control character",
			    key);
		if (ch == ' ' && (v[i + 1] == ';' || v[i + 1] == '#'))
			return err_set(e, "%s: value has a blank before '%c', "
			    "which INI readers take for a comment", key,
			    v[i + 1]);
		run = ch == ' ' ? 0 : run + 1;
		if (run > PIECE_MAX)
			return err_set(e, "%s: value has more than %d bytes "
			    "without a space and cannot be wrapped", key,
			    PIECE_MAX);
	}
	return 0;
}

/* A split point: a single space between two non-blanks, the next piece
 * not starting with a comment character. */
static int
split_ok(const char *v, size_t i)
{
	return v[i] == ' ' && i > 0 && v[i - 1] != ' ' && v[i + 1] != ' ' &&
	    v[i + 1] != '\0' && v[i + 1] != ';' && v[i + 1] != '#';
}

static int
emit(struct strbuf *b, const char *key, const char *v, struct err *e)
{
	size_t n = strlen(v), start = 0;
	char k[64];

	if (value_ok(key, v, e) != 0)
		return -1;
	for (int piece = 1; start < n; piece++) {
		size_t len = n - start;
		if (piece > PIECES_MAX)
			return err_set(e, "%s: value too long", key);
		if (len > PIECE_MAX) {
			size_t i = start + PIECE_MAX;
			while (i > start && !split_ok(v, i))
				i--;
			if (i == start)
				return err_set(e, "%s: value cannot be wrapped",
				    key);
			len = i - start;
		}
		int w = piece == 1 ? snprintf(k, sizeof(k), "%s", key) :
		    snprintf(k, sizeof(k), "%s_%d", key, piece);
		if (w < 0 || (size_t)w >= sizeof(k))
			return err_set(e, "%s: key too long", key);
		strbuf_puts(b, k);
		strbuf_puts(b, " = ");
		strbuf_add(b, v + start, len);
		strbuf_puts(b, "\n");
		start += len;
		if (start < n && v[start] == ' ')
			start++;
	}
	return 0;
}

static int
emit_field(struct strbuf *b, const void *base, const struct cert_field *f,
    struct err *e)
{
	char buf[32];
	const char *v = buf;

	switch (f->type) {
	case F_STR:
	case F_HEX:
		v = CAT(base, f, char *);
		break;
	case F_TIME:
		time_format_utc(CAT(base, f, time_t), buf);
		break;
	case F_DATE:
		date_format(CAT(base, f, day_t), buf);
		break;
	case F_U64:
		if (snprintf(buf, sizeof(buf), "%llu",
		    (unsigned long long)CAT(base, f, uint64_t)) >=
		    (int)sizeof(buf))
			return err_set(e, "%s: number too long", f->key);
		break;
	case F_BOOL:
		v = CAT(base, f, int) ? "yes" : "no";
		break;
	}
	if (emit(b, f->key, v, e) != 0) {
		char inner[sizeof(e->msg)];
		snprintf(inner, sizeof(inner), "%s", e->msg);
		return err_set(e, "[%s] %s", f->sec, inner);
	}
	return 0;
}

int
cert_format(const struct cert *c, char **text, size_t *len, struct err *e)
{
	struct strbuf b = { 0 };
	const char *sec = NULL;
	char hdr[32];

	if (cert_check(c, e) != 0)
		return err_prefix(e, "certificate %s", c->id ? c->id : "?");
	strbuf_puts(&b, "; Certificate of sanitization, written by lethe.  See "
	    "lethe-certificate(5).\n; Verify: lethe verify ID.cert, or "
	    "openssl cms -verify -binary -inform PEM\n;   -in ID.cert.p7s "
	    "-content ID.cert -CAfile ca.pem -out /dev/null\n");
	for (size_t i = 0; i < CERT_NFIELDS; i++) {
		if (i == CERT_MEDIA_BEFORE) {
			for (size_t m = 0; m < c->nmedia; m++) {
				if (m == 0)
					snprintf(hdr, sizeof(hdr), "\n[media]\n");
				else
					snprintf(hdr, sizeof(hdr),
					    "\n[media %zu]\n", m + 1);
				strbuf_puts(&b, hdr);
				for (size_t k = 0; k < CERT_NMFIELDS; k++)
					if (emit_field(&b, &c->media[m],
					    &cert_mfields[k], e) != 0)
						goto out;
			}
		}
		if (sec == NULL || strcmp(sec, cert_fields[i].sec) != 0) {
			sec = cert_fields[i].sec;
			strbuf_puts(&b, "\n[");
			strbuf_puts(&b, sec);
			strbuf_puts(&b, "]\n");
		}
		if (cert_fields[i].optional && !cert_field_present(c, &cert_fields[i]))
			continue;
		if (emit_field(&b, c, &cert_fields[i], e) != 0)
			goto out;
	}
	if (strbuf_take(&b, text, len) != 0)
		return err_set(e, "certificate: out of memory");
	return 0;
out:
	free(b.p);
	return -1;
}

#define NSLOTS (CERT_NFIELDS + CERT_MAX_MEDIA * CERT_NMFIELDS)

struct pstate {
	const char *name;
	char *val[NSLOTS];
	int line[NSLOTS];
	int pieces[NSLOTS];
	int seen_sec[6 + CERT_MAX_MEDIA];
	int sec;		/* -1 none; 0.. index into secnames; media: 100+m */
	int prev_slot;
	size_t nmedia;
};

static const char *const secnames[] = {
	"certificate", "agreement", "sanitization", "data", "delivery",
};

static int
find_slot(const struct pstate *ps, const char *key, size_t klen)
{
	if (ps->sec >= 100) {
		size_t m = (size_t)(ps->sec - 100);
		for (size_t i = 0; i < CERT_NMFIELDS; i++)
			if (strlen(cert_mfields[i].key) == klen &&
			    strncmp(cert_mfields[i].key, key, klen) == 0)
				return (int)(CERT_NFIELDS + m * CERT_NMFIELDS + i);
		return -1;
	}
	for (size_t i = 0; i < CERT_NFIELDS; i++)
		if (strcmp(cert_fields[i].sec, secnames[ps->sec]) == 0 &&
		    strlen(cert_fields[i].key) == klen &&
		    strncmp(cert_fields[i].key, key, klen) == 0)
			return (int)i;
	return -1;
}

static int
parse_section(struct pstate *ps, const char *s, size_t n, int ln,
    struct err *e)
{
	int idx = -1;

	for (size_t i = 0; i < sizeof(secnames) / sizeof(secnames[0]); i++)
		if (strlen(secnames[i]) == n && strncmp(s, secnames[i], n) == 0)
			idx = (int)i;
	if (idx < 0 && n >= 5 && strncmp(s, "media", 5) == 0) {
		int64_t m = 1;
		char num[8];
		if (n > 5) {
			if (s[5] != ' ' || n - 6 == 0 || n - 6 >= sizeof(num))
				goto bad;
			memcpy(num, s + 6, n - 6);
			num[n - 6] = '\0';
			if (num_parse(num, 2, CERT_MAX_MEDIA, &m) != 0)
				goto bad;
		}
		idx = 100 + (int)m - 1;
	}
	if (idx < 0)
		goto bad;
	int seen = idx >= 100 ? 5 + (idx - 100) : idx;
	if (ps->seen_sec[seen]++)
		return err_set(e, "%s:%d: section [%.*s] repeated", ps->name, ln,
		    (int)n, s);
	if (idx >= 100 && (size_t)(idx - 100) + 1 > ps->nmedia)
		ps->nmedia = (size_t)(idx - 100) + 1;
	ps->sec = idx;
	ps->prev_slot = -1;
	return 0;
bad:
	return err_set(e, "%s:%d: unknown section [%.*s]", ps->name, ln, (int)n,
	    s);
}

static int
parse_pair(struct pstate *ps, const char *s, size_t n, int ln, struct err *e)
{
	const char *eq = memchr(s, '=', n), *v;
	size_t klen, vlen, base;
	int slot, piece = 1;

	if (eq == NULL)
		return err_set(e, "%s:%d: expected 'key = value'", ps->name, ln);
	if (ps->sec < 0)
		return err_set(e, "%s:%d: key outside any section", ps->name,
		    ln);
	klen = (size_t)(eq - s);
	while (klen > 0 && (s[klen - 1] == ' ' || s[klen - 1] == '\t'))
		klen--;
	v = eq + 1;
	vlen = n - (size_t)(v - s);
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	for (size_t i = 0; i < klen; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '_'))
			return err_set(e, "%s:%d: bad key '%.*s'", ps->name, ln,
			    (int)klen, s);
	slot = find_slot(ps, s, klen);
	base = klen;
	if (slot < 0) {
		/* KEY_N, N >= 2: a continuation */
		size_t u = klen;
		while (u > 0 && s[u - 1] >= '0' && s[u - 1] <= '9')
			u--;
		if (u > 1 && u < klen && s[u - 1] == '_' && klen - u <= 2 &&
		    s[u] != '0') {
			char num[4];
			int64_t k;
			memcpy(num, s + u, klen - u);
			num[klen - u] = '\0';
			if (num_parse(num, 2, PIECES_MAX, &k) == 0) {
				base = u - 1;
				slot = find_slot(ps, s, base);
				piece = (int)k;
			}
		}
	}
	if (slot < 0)
		return err_set(e, "%s:%d: unknown key '%.*s' in this section",
		    ps->name, ln, (int)klen, s);
	if (vlen == 0)
		return err_set(e, "%s:%d: %.*s: empty value", ps->name, ln,
		    (int)klen, s);
	if (piece == 1) {
		if (ps->val[slot] != NULL)
			return err_set(e, "%s:%d: %.*s given twice", ps->name,
			    ln, (int)klen, s);
		if ((ps->val[slot] = strndup(v, vlen)) == NULL)
			return err_set(e, "%s: out of memory", ps->name);
		ps->line[slot] = ln;
		ps->pieces[slot] = 1;
	} else {
		if (ps->prev_slot != slot || ps->pieces[slot] != piece - 1)
			return err_set(e, "%s:%d: %.*s does not follow %.*s%s%d",
			    ps->name, ln, (int)klen, s, (int)base, s,
			    piece == 2 ? "" : "_", piece == 2 ? 1 : piece - 1);
		size_t old = strlen(ps->val[slot]);
		char *p = realloc(ps->val[slot], old + 1 + vlen + 1);
		if (p == NULL)
			return err_set(e, "%s: out of memory", ps->name);
		p[old] = ' ';
		memcpy(p + old + 1, v, vlen);
		p[old + 1 + vlen] = '\0';
		ps->val[slot] = p;
		ps->pieces[slot] = piece;
	}
	ps->prev_slot = slot;
	return 0;
}

static int
own(struct cert *c, char *s)
{
	char **v = realloc(c->owned_, (c->nowned_ + 1) * sizeof(*v));

	if (v == NULL)
		return -1;
	c->owned_ = v;
	c->owned_[c->nowned_++] = s;
	return 0;
}

static int
convert(struct pstate *ps, struct cert *c, void *base, const struct cert_field *f,
    int slot, const char *secname, struct err *e)
{
	char *v = ps->val[slot];
	int64_t n;

	if (v == NULL)
		return 0;	/* missing: cert_check_fields says so */
	switch (f->type) {
	case F_STR:
	case F_HEX:
		if (own(c, v) != 0)
			return err_set(e, "%s: out of memory", ps->name);
		ps->val[slot] = NULL;
		AT(base, f, const char *) = v;
		return 0;
	case F_TIME:
		if (time_parse_utc(v, &AT(base, f, time_t)) == 0)
			return 0;
		break;
	case F_DATE:
		if (date_parse(v, &AT(base, f, day_t)) == 0)
			return 0;
		break;
	case F_U64:
		if (num_parse(v, 0, INT64_MAX, &n) == 0) {
			AT(base, f, uint64_t) = (uint64_t)n;
			return 0;
		}
		break;
	case F_BOOL:
		if (strcmp(v, "yes") == 0 || strcmp(v, "no") == 0) {
			AT(base, f, int) = strcmp(v, "yes") == 0;
			return 0;
		}
		break;
	}
	return err_set(e, "%s:%d: [%s] %s: bad value '%.40s'", ps->name,
	    ps->line[slot], secname, f->key, v);
}

int
cert_parse(const char *name, const char *text, size_t len, struct cert *c,
    struct err *e)
{
	struct pstate ps;
	size_t pos = 0;
	int ln = 0, rc = -1;

	cert_init(c);
	memset(&ps, 0, sizeof(ps));
	ps.name = name;
	ps.sec = -1;
	ps.prev_slot = -1;
	if (memchr(text, '\0', len) != NULL) {
		err_set(e, "%s: contains a NUL byte", name);
		goto out;
	}
	while (pos < len) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;

		pos += n + (nl != NULL);
		ln++;
		if (nl == NULL) {
			err_set(e, "%s:%d: last line does not end in a newline",
			    name, ln);
			goto out;
		}
		if (n > LINE_MAX_TEXT) {
			err_set(e, "%s:%d: line longer than %d bytes", name, ln,
			    LINE_MAX_TEXT);
			goto out;
		}
		if (memchr(s, '\r', n) != NULL) {
			err_set(e, "%s:%d: carriage return in line", name, ln);
			goto out;
		}
		if (n == 0 || s[0] == ';' || s[0] == '#')
			continue;
		if (s[0] == '[') {
			if (s[n - 1] != ']') {
				err_set(e, "%s:%d: bad section line", name, ln);
				goto out;
			}
			if (parse_section(&ps, s + 1, n - 2, ln, e) != 0)
				goto out;
			continue;
		}
		if (parse_pair(&ps, s, n, ln, e) != 0)
			goto out;
	}
	for (size_t m = 0; m < ps.nmedia; m++)
		if (!ps.seen_sec[5 + m]) {
			err_set(e, "%s: [media %zu] missing (media sections are "
			    "numbered without gaps)", name, m + 1);
			goto out;
		}
	c->nmedia = ps.nmedia;
	for (size_t i = 0; i < CERT_NFIELDS; i++)
		if (convert(&ps, c, c, &cert_fields[i], (int)i, cert_fields[i].sec,
		    e) != 0)
			goto out;
	for (size_t m = 0; m < ps.nmedia; m++)
		for (size_t i = 0; i < CERT_NMFIELDS; i++)
			if (convert(&ps, c, &c->media[m], &cert_mfields[i],
			    (int)(CERT_NFIELDS + m * CERT_NMFIELDS + i), "media", e) != 0)
				goto out;
	rc = 0;
out:
	for (size_t i = 0; i < NSLOTS; i++)
		free(ps.val[i]);
	return rc;
}
