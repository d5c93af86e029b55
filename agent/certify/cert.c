/*
 * cert.c: the certificate of sanitization (see cert.h, certs/FORMAT.md).
 *
 * MUST rules:
 *  - a certificate is written only after every check `lethe verify` makes
 *    passes on it: lethe never issues a certificate it would reject;
 *  - every line written is under 200 bytes (Debian's libinih limit); long
 *    values are wrapped losslessly into KEY_2, KEY_3 ... never truncated;
 *  - no value may carry what an INI reader would misread (control bytes,
 *    a blank before ';' or '#', edge blanks): such a value is refused;
 *  - a certificate is issued once: ID.cert is written last and never
 *    replaced; the manifest (it names students' files) is written 0600 and
 *    cleansed from memory.
 */
#include "certify/cert.h"
#include "state/durable.h"
#include "base/err.h"
#include "base/hex.h"
#include "base/num.h"
#include "certify/sign.h"
#include "certify/tsa.h"
#include "base/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define PIECE_MAX 160		/* bytes of value per line */
#define LINE_MAX_TEXT 198	/* bytes per line, newline excluded */
#define PIECES_MAX 99

enum ftype { F_STR, F_HEX, F_TIME, F_DATE, F_U64, F_BOOL };

struct field {
	const char *sec;
	const char *key;
	enum ftype type;
	size_t off;
	int optional;	/* absent in certificates issued before it existed */
};

#define C(s, k, t, m) { s, k, t, offsetof(struct cert, m), 0 }
#define CO(s, k, t, m) { s, k, t, offsetof(struct cert, m), 1 }
static const struct field fields[] = {
	C("certificate", "id", F_STR, id),
	C("certificate", "issued", F_TIME, issued),
	C("certificate", "standard", F_STR, standard),
	C("certificate", "tool", F_STR, tool),
	C("certificate", "host", F_STR, host),
	C("certificate", "journal_seq", F_U64, journal_seq),
	C("certificate", "journal_head", F_HEX, journal_head),
	CO("certificate", "journal_accepted", F_STR, journal_accepted),
	C("agreement", "id", F_STR, agreement),
	C("agreement", "lea", F_STR, lea),
	C("agreement", "vendor", F_STR, vendor),
	C("agreement", "trigger", F_STR, trigger),
	C("agreement", "trigger_date", F_DATE, trigger_date),
	C("agreement", "deadline", F_DATE, deadline),
	C("agreement", "deadline_met", F_BOOL, deadline_met),
	C("agreement", "timezone", F_STR, timezone),
	/* the [media] sections go here */
	C("sanitization", "performed_by", F_STR, performed_by),
	C("sanitization", "method_type", F_STR, method_type),
	C("sanitization", "technique", F_STR, technique),
	C("sanitization", "method_details", F_STR, method_details),
	C("sanitization", "verification", F_STR, verification),
	C("sanitization", "started", F_TIME, started),
	C("sanitization", "completed", F_TIME, completed),
	C("sanitization", "remaining_matches", F_U64, remaining_matches),
	C("sanitization", "post_sanitization_destination", F_STR, destination),
	C("sanitization", "exceptions", F_STR, exceptions),
	CO("sanitization", "result", F_STR, result),
	C("data", "categories", F_STR, categories),
	C("data", "files", F_U64, files),
	C("data", "bytes", F_U64, bytes),
	CO("data", "bytes_overwritten", F_U64, bytes_overwritten),
	C("data", "manifest_sha256", F_HEX, manifest_sha256),
	C("data", "retained", F_STR, retained),
	C("data", "holds", F_STR, holds),
	C("delivery", "certify_by", F_DATE, certify_by),
};
#undef C
#undef CO
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))
#define MEDIA_BEFORE 16		/* index of the first field after [media] */

#define M(k, m) { "media", k, F_STR, offsetof(struct cert_media, m), 0 }
static const struct field mfields[] = {
	M("type", type), M("uuid", uuid), M("device", device),
	M("model", model), M("serial", serial), M("rotational", rotational),
	M("source", source),
};
#undef M
#define NMFIELDS (sizeof(mfields) / sizeof(mfields[0]))

static const char *const techniques[] = {
	"overwrite", "crypto-erase", "archive-member-removal",
	"transfer-then-overwrite",
};

#define AT(base, f, type) (*(type *)((char *)(base) + (f)->off))
#define CAT(base, f, type) (*(const type *)((const char *)(base) + (f)->off))

void
cert_init(struct cert *c)
{
	memset(c, 0, sizeof(*c));
	c->issued = c->started = c->completed = (time_t)-1;
	c->journal_seq = c->remaining_matches = CERT_UNSET;
	c->files = c->bytes = c->bytes_overwritten = CERT_UNSET;
	c->trigger_date = c->deadline = c->certify_by = DAY_NONE;
	c->deadline_met = -1;
}

void
cert_free(struct cert *c)
{
	for (size_t i = 0; i < c->nowned_; i++)
		free(c->owned_[i]);
	free(c->owned_);
	cert_init(c);
}

void
cert_hex(const unsigned char md[32], char out[65])
{
	hex_encode(md, 32, out);
}

void
cert_sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char md[32];

	EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL);
	cert_hex(md, out);
}

/* ---- checks ---- */

/* 64 lowercase hex digits (a SHA-256). */
static int
is_hex64(const char *s)
{
	unsigned char md[32];

	return s != NULL && hex_decode(s, strlen(s), md, sizeof(md)) == 0;
}

/* [A-Za-z0-9][A-Za-z0-9._-]{0,63}: safe as a file name stem. */
static int
is_ident(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int alnum = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9');
		if (!alnum && (i == 0 || strchr("._-", ch) == NULL))
			return 0;
	}
	return 1;
}

static int
field_present(const void *base, const struct field *f)
{
	switch (f->type) {
	case F_STR:
	case F_HEX:
		return CAT(base, f, char *) != NULL &&
		    *CAT(base, f, char *) != '\0';
	case F_TIME:
		return CAT(base, f, time_t) != (time_t)-1;
	case F_DATE:
		return CAT(base, f, day_t) != DAY_NONE;
	case F_U64:
		return CAT(base, f, uint64_t) != CERT_UNSET;
	case F_BOOL:
		return CAT(base, f, int) == 0 || CAT(base, f, int) == 1;
	}
	return 0;
}

static int
technique_ok(const char *t)
{
	while (*t != '\0') {
		size_t n = strcspn(t, ","), k;
		int found = 0;

		for (k = 0; k < sizeof(techniques) / sizeof(techniques[0]); k++)
			if (strlen(techniques[k]) == n &&
			    strncmp(t, techniques[k], n) == 0)
				found = 1;
		if (!found)
			return 0;
		t += n;
		if (*t == ',') {
			t++;
			if (*t == ' ')
				t++;
			if (*t == '\0')
				return 0;
		}
	}
	return 1;
}

static int
trigger_ok(const char *t)
{
	if (strcmp(t, "termination") == 0 || strcmp(t, "reappeared") == 0)
		return 1;
	return strncmp(t, "directive ", 10) == 0 && is_ident(t + 10);
}

int
cert_check_fields(const struct cert *c, struct err *e)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (!fields[i].optional && !field_present(c, &fields[i]))
			return err_set(e, "missing [%s] %s", fields[i].sec,
			    fields[i].key);
	if (c->bytes_overwritten != CERT_UNSET &&
	    c->bytes_overwritten > c->bytes)
		return err_set(e, "[data] bytes_overwritten %llu exceeds bytes "
		    "%llu", (unsigned long long)c->bytes_overwritten,
		    (unsigned long long)c->bytes);
	if (c->nmedia == 0)
		return err_set(e, "missing [media] section");
	if (c->nmedia > CERT_MAX_MEDIA)
		return err_set(e, "more than %d [media] sections",
		    CERT_MAX_MEDIA);
	for (size_t m = 0; m < c->nmedia; m++) {
		for (size_t i = 0; i < NMFIELDS; i++)
			if (!field_present(&c->media[m], &mfields[i]))
				return m == 0 ?
				    err_set(e, "missing [media] %s",
				    mfields[i].key) :
				    err_set(e, "missing [media %zu] %s", m + 1,
				    mfields[i].key);
		const char *r = c->media[m].rotational;
		char sec[32];
		if (m == 0)
			snprintf(sec, sizeof(sec), "media");
		else
			snprintf(sec, sizeof(sec), "media %zu", m + 1);
		if (strcmp(r, "yes") != 0 && strcmp(r, "no") != 0 &&
		    strcmp(r, "unknown") != 0)
			return err_set(e, "[%s] rotational is '%s'; expected yes, "
			    "no or unknown", sec, r);
	}
	if (!is_ident(c->id))
		return err_set(e, "[certificate] id '%s' is not a valid id "
		    "([A-Za-z0-9][A-Za-z0-9._-]*, at most 64 bytes)", c->id);
	if (strcmp(c->standard, CERT_STANDARD) != 0)
		return err_set(e, "[certificate] standard is '%s'; expected "
		    "'%s'", c->standard, CERT_STANDARD);
	if (!is_hex64(c->journal_head))
		return err_set(e, "[certificate] journal_head is not 64 "
		    "lowercase hex digits");
	if (!is_hex64(c->manifest_sha256))
		return err_set(e, "[data] manifest_sha256 is not 64 lowercase "
		    "hex digits");
	if (!trigger_ok(c->trigger))
		return err_set(e, "[agreement] trigger '%s' is not "
		    "termination, directive ID or reappeared", c->trigger);
	if (!tz_valid(c->timezone))
		return err_set(e, "[agreement] timezone '%s' is not a time zone "
		    "known here", c->timezone);
	if (!technique_ok(c->technique))
		return err_set(e, "[sanitization] technique '%s' is not one of "
		    "overwrite, crypto-erase, archive-member-removal, "
		    "transfer-then-overwrite", c->technique);
	if (c->result != NULL && strcmp(c->result, "complete") != 0 &&
	    strcmp(c->result, "partial") != 0)
		return err_set(e, "[sanitization] result is '%s'; expected "
		    "complete or partial", c->result);
	/* A partial certificate confirms what a failed disposition did
	 * destroy, and says what remains; a complete one leaves nothing. */
	if (!cert_partial(c) && c->remaining_matches != 0)
		return err_set(e, "[sanitization] remaining_matches is %llu: "
		    "data was left behind, the disposition did not complete",
		    (unsigned long long)c->remaining_matches);
	return 0;
}

int
cert_partial(const struct cert *c)
{
	return c->result != NULL && strcmp(c->result, "partial") == 0;
}

int
cert_check_dates(const struct cert *c, struct err *e)
{
	char a[32], b[32];
	day_t done = tz_date_at(c->timezone, c->completed);

	if (c->started > c->completed)
		return err_set(e, "[sanitization] started %s is after completed "
		    "%s", time_format_utc(c->started, a),
		    time_format_utc(c->completed, b));
	if (c->completed > c->issued)
		return err_set(e, "[sanitization] completed %s is after "
		    "[certificate] issued %s", time_format_utc(c->completed, a),
		    time_format_utc(c->issued, b));
	if (c->trigger_date > c->deadline)
		return err_set(e, "[agreement] trigger_date %s is after deadline "
		    "%s", date_format(c->trigger_date, a),
		    date_format(c->deadline, b));
	if (c->trigger_date > done)
		return err_set(e, "[agreement] trigger_date %s is after the "
		    "completion date %s (%s)", date_format(c->trigger_date, a),
		    date_format(done, b), c->timezone);
	if (c->certify_by < done)
		return err_set(e, "[delivery] certify_by %s is before the "
		    "completion date %s (%s)", date_format(c->certify_by, a),
		    date_format(done, b), c->timezone);
	return 0;
}

int
cert_deadline_met(const char *tz, time_t completed, day_t deadline)
{
	return tz_date_at(tz, completed) <= deadline;
}

int
cert_check_deadline(const struct cert *c, struct err *e)
{
	char a[32], b[32];
	/* A partial disposition did not meet the obligation, whatever day
	 * it ended on. */
	int met = !cert_partial(c) &&
	    cert_deadline_met(c->timezone, c->completed, c->deadline);

	if (met != c->deadline_met)
		return err_set(e, "[agreement] deadline_met says %s, but "
		    "completion on %s (%s) is %s the deadline %s",
		    c->deadline_met ? "yes" : "no",
		    date_format(tz_date_at(c->timezone, c->completed), a),
		    c->timezone, met ? "on or before" : "after",
		    date_format(c->deadline, b));
	return 0;
}

int
cert_check(const struct cert *c, struct err *e)
{
	if (cert_check_fields(c, e) != 0 || cert_check_dates(c, e) != 0 ||
	    cert_check_deadline(c, e) != 0)
		return -1;
	return 0;
}

/* ---- formatting ---- */




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
emit_field(struct strbuf *b, const void *base, const struct field *f,
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
	int rc = -1;

	if (cert_check(c, e) != 0) {
		char inner[sizeof(e->msg)];
		snprintf(inner, sizeof(inner), "%s", e->msg);
		return err_set(e, "certificate %s: %s", c->id ? c->id : "?",
		    inner);
	}
	strbuf_puts(&b, "; Certificate of sanitization, written by lethe.  See "
	    "lethe-certificate(5).\n; Verify: lethe verify ID.cert, or "
	    "openssl cms -verify -binary -inform PEM\n;   -in ID.cert.p7s "
	    "-content ID.cert -CAfile ca.pem -out /dev/null\n");
	for (size_t i = 0; i < NFIELDS; i++) {
		if (i == MEDIA_BEFORE) {
			for (size_t m = 0; m < c->nmedia; m++) {
				if (m == 0)
					snprintf(hdr, sizeof(hdr), "\n[media]\n");
				else
					snprintf(hdr, sizeof(hdr),
					    "\n[media %zu]\n", m + 1);
				strbuf_puts(&b, hdr);
				for (size_t k = 0; k < NMFIELDS; k++)
					if (emit_field(&b, &c->media[m],
					    &mfields[k], e) != 0)
						goto out;
			}
		}
		if (sec == NULL || strcmp(sec, fields[i].sec) != 0) {
			sec = fields[i].sec;
			strbuf_puts(&b, "\n[");
			strbuf_puts(&b, sec);
			strbuf_puts(&b, "]\n");
		}
		if (fields[i].optional && !field_present(c, &fields[i]))
			continue;
		if (emit_field(&b, c, &fields[i], e) != 0)
			goto out;
	}
	if (b.oom) {
		err_set(e, "certificate: out of memory");
		goto out;
	}
	*text = b.p;
	*len = b.len;
	b.p = NULL;
	rc = 0;
out:
	free(b.p);
	return rc;
}

/* ---- parsing ---- */

#define NSLOTS (NFIELDS + CERT_MAX_MEDIA * NMFIELDS)

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
		for (size_t i = 0; i < NMFIELDS; i++)
			if (strlen(mfields[i].key) == klen &&
			    strncmp(mfields[i].key, key, klen) == 0)
				return (int)(NFIELDS + m * NMFIELDS + i);
		return -1;
	}
	for (size_t i = 0; i < NFIELDS; i++)
		if (strcmp(fields[i].sec, secnames[ps->sec]) == 0 &&
		    strlen(fields[i].key) == klen &&
		    strncmp(fields[i].key, key, klen) == 0)
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
convert(struct pstate *ps, struct cert *c, void *base, const struct field *f,
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
	for (size_t i = 0; i < NFIELDS; i++)
		if (convert(&ps, c, c, &fields[i], (int)i, fields[i].sec,
		    e) != 0)
			goto out;
	for (size_t m = 0; m < ps.nmedia; m++)
		for (size_t i = 0; i < NMFIELDS; i++)
			if (convert(&ps, c, &c->media[m], &mfields[i],
			    (int)(NFIELDS + m * NMFIELDS + i), "media", e) != 0)
				goto out;
	rc = 0;
out:
	for (size_t i = 0; i < NSLOTS; i++)
		free(ps.val[i]);
	return rc;
}

/* ---- issuing ---- */

int
cert_write_files(const char *state_dir, const struct cert *c,
    const char *manifest, size_t mlen, const struct signer *s, struct err *e)
{
	char dir[4096], name[128], hex[65], *text = NULL, *pem = NULL;
	unsigned char *tsr = NULL;
	size_t tlen = 0, plen = 0, tsrlen = 0;
	struct stat st;
	int dfd = -1, rc = -1, n;

	if (c->id == NULL || !is_ident(c->id))
		return err_set(e, "certificate id '%s' is not a valid id",
		    c->id ? c->id : "");
	n = snprintf(dir, sizeof(dir), "%s/certificates", state_dir);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return err_set(e, "%s: path too long", state_dir);
	if (mkdirs(dir, 0700, e) != 0)
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd == -1)
		return err_sys(e, "%s", dir);
	snprintf(name, sizeof(name), "%s.cert", c->id);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		err_set(e, "%s/%s: certificate %s was already issued; it is "
		    "never issued twice", dir, name, c->id);
		goto out;
	}
	if (errno != ENOENT) {
		err_sys(e, "%s/%s", dir, name);
		goto out;
	}
	cert_sha256_hex(manifest, mlen, hex);
	if (c->manifest_sha256 == NULL || strcmp(hex, c->manifest_sha256) != 0) {
		err_set(e, "certificate %s: manifest_sha256 does not match the "
		    "manifest given", c->id);
		goto out;
	}
	if (cert_manifest_check(c, manifest, mlen, e) != 0)
		goto out;
	if (cert_format(c, &text, &tlen, e) != 0)
		goto out;
	if (sign_detached(s, text, tlen, &pem, &plen, e) != 0)
		goto out;
	if (s->tsa_command != NULL && *s->tsa_command != '\0' &&
	    tsa_stamp(s->tsa_command, s->tsa_timeout, pem, plen, &tsr, &tsrlen,
	    e) != 0)
		goto out;
	/* The manifest, the signature, the token, and the certificate last:
	 * its presence means everything else is in place. */
	snprintf(name, sizeof(name), "%s.manifest", c->id);
	if (durable_write_at(dfd, name, manifest, mlen, 0600, e) != 0)
		goto fail;
	snprintf(name, sizeof(name), "%s.cert.p7s", c->id);
	if (durable_write_at(dfd, name, pem, plen, 0644, e) != 0)
		goto fail;
	if (tsr != NULL) {
		snprintf(name, sizeof(name), "%s.cert.tsr", c->id);
		if (durable_write_at(dfd, name, tsr, tsrlen, 0644, e) != 0)
			goto fail;
	}
	snprintf(name, sizeof(name), "%s.cert", c->id);
	if (durable_write_at(dfd, name, text, tlen, 0644, e) != 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	{
		char inner[sizeof(e->msg)];
		snprintf(inner, sizeof(inner), "%s", e->msg);
		err_set(e, "%s/%s", dir, inner);
	}
out:
	if (dfd != -1)
		close(dfd);
	free(text);
	free(pem);
	free(tsr);
	return rc;
}
