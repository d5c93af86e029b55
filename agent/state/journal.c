/*
 * journal.c: the append-only, hash-chained audit journal (see journal.h).
 *
 * MUST rules:
 *  - one event is one write(2) of one whole line to an O_APPEND descriptor,
 *    followed by fsync before journal_append returns (SPEC §9: the intent
 *    is on disk before the destructive step it announces);
 *  - nothing is ever repaired silently: a torn last line, a line that does
 *    not parse or a broken chain is an error that names the line;
 *  - after a failed or short write no further line is appended through the
 *    same handle, so a torn line is never followed by a good-looking one;
 *  - values are percent-encoded, so a value can never forge a field, a
 *    line or the hash at the end of a line.
 */
#include "state/journal.h"
#include "base/date.h"
#include "state/durable.h"
#include "base/err.h"
#include "base/num.h"
#include "base/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#define JOURNAL_MAX_LINE 65536	/* bytes of one line, newline included */
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* A growing string; on allocation failure `bad` is set and appends stop. */



/* Appends v percent-encoded: '%', '=', and bytes outside 0x21..0x7e. */
static void
sb_encoded(struct strbuf *b, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *s = (const unsigned char *)v; *s; s++) {
		if (*s < 0x21 || *s > 0x7e || *s == '%' || *s == '=') {
			char enc[3] = { '%', hex[*s >> 4], hex[*s & 15] };
			strbuf_add(b, enc, 3);
		} else {
			strbuf_add(b, (const char *)s, 1);
		}
	}
}

static int
is_word(const char *s, int allow_underscore)
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

static int
is_hash(const char *s, size_t len)
{
	if (len != 64)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* out = hex SHA-256 of prev + " " + text[0..len). */
static int
chain_hash(const char *prev, const char *text, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
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
	for (unsigned int i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
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
		int hi = hexval(r[1]), lo = hi < 0 ? -1 : hexval(r[2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -1;
		*w++ = (char)(hi << 4 | lo);
		r += 2;
	}
	*w = '\0';
	return 0;
}

/*
 * Parses raw (one line without its newline) into *r, using work (a buffer
 * of at least strlen(raw) + 1 bytes) for the decoded tokens.  Checks the
 * form only, not the chain.  Returns 0, or -1 with *e naming path:lineno.
 */
static int
parse_line(const char *raw, char *work, struct jrec *r, const char *path,
    uint64_t lineno, struct err *e)
{
	size_t len = strlen(raw);
	const char *sp = strrchr(raw, ' ');
	char *tok, *save = NULL;
	int64_t seq;
	int i = 0;

	memset(r, 0, sizeof(*r));
	r->text = raw;
	if (sp == NULL || !is_hash(sp + 1, len - (size_t)(sp + 1 - raw)))
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
			if (!is_word(tok, 0))
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
			if (!is_word(tok, 1) || decode(eq + 1) != 0)
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

/* Opens state_dir/journal for reading; *fp = NULL when it does not exist. */
static int
open_read(const char *path, FILE **fp, struct err *e)
{
	struct stat st;
	int fd;

	*fp = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		return err_sys(e, "%s", path);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, "%s: not a regular file", path);
	}
	*fp = fdopen(fd, "r");
	if (*fp == NULL) {
		close(fd);
		return err_sys(e, "%s", path);
	}
	return 0;
}

/*
 * Reads one line into *line (newline stripped).  Returns 1 for a line, 0 at
 * the end, -1 with *e set for a torn, over-long or NUL-holding line.
 */
static int
next_line(FILE *f, char **line, size_t *cap, const char *path,
    uint64_t lineno, struct err *e)
{
	ssize_t n;

	errno = 0;
	n = getline(line, cap, f);
	if (n < 0) {
		if (ferror(f))
			return err_sys(e, "%s:%" PRIu64 ": read", path, lineno);
		return 0;
	}
	if ((*line)[n - 1] != '\n')
		return err_set(e, "%s:%" PRIu64 ": torn last line (no newline "
		    "at its end: an interrupted write?); nothing was repaired",
		    path, lineno);
	(*line)[--n] = '\0';
	if (strlen(*line) != (size_t)n)
		return err_set(e, "%s:%" PRIu64 ": NUL byte in line", path,
		    lineno);
	if ((size_t)n + 1 > JOURNAL_MAX_LINE)
		return err_set(e, "%s:%" PRIu64 ": line longer than %d bytes",
		    path, lineno, JOURNAL_MAX_LINE);
	return 1;
}

/*
 * Reads the journal from the start checking the chain, calling fn (if
 * any) for each good line, stopping after line stop (0 = read all).
 */
static int
scan(const char *state_dir, uint64_t stop,
    int (*fn)(const struct jrec *r, void *arg), void *arg,
    struct journal_report *rep, struct err *e)
{
	char *path = NULL, *line = NULL, *work = NULL;
	size_t cap = 0, wcap = 0;
	FILE *f = NULL;
	struct jrec r;
	int rc = -1, got;

	memset(rep, 0, sizeof(*rep));
	memcpy(rep->head, ZERO_HASH, 65);
	if (asprintf(&path, "%s/journal", state_dir) < 0) {
		path = NULL;
		err_set(e, "out of memory");
		goto out;
	}
	if (open_read(path, &f, e) != 0)
		goto out;
	if (f == NULL) {
		rc = 0;
		goto out;
	}
	for (;;) {
		uint64_t lineno = rep->lines + 1;
		char h[65];

		got = next_line(f, &line, &cap, path, lineno, e);
		if (got == 0)
			break;
		if (got < 0) {
			rep->bad_line = lineno;
			goto out;
		}
		if (wcap < cap) {
			char *w = realloc(work, cap);
			if (w == NULL) {
				err_set(e, "out of memory");
				goto out;
			}
			work = w;
			wcap = cap;
		}
		rep->bad_line = lineno;
		if (parse_line(line, work, &r, path, lineno, e) != 0)
			goto out;
		if (r.seq != rep->seq + 1) {
			err_set(e, "%s:%" PRIu64 ": sequence number %" PRIu64
			    ", expected %" PRIu64 " (a line was removed, "
			    "inserted or reordered)", path, lineno, r.seq,
			    rep->seq + 1);
			goto out;
		}
		if (chain_hash(rep->head, line,
		    strlen(line) - 65, h) != 0) {
			err_set(e, "%s: SHA-256 unavailable", path);
			goto out;
		}
		if (strcmp(h, r.hash) != 0) {
			err_set(e, "%s:%" PRIu64 ": hash chain broken (this "
			    "line, or the one before it, was edited, removed, "
			    "reordered or inserted)", path, lineno);
			goto out;
		}
		rep->bad_line = 0;
		rep->lines = lineno;
		rep->seq = r.seq;
		memcpy(rep->head, r.hash, 65);
		if (strcmp(r.event, "checkpoint") == 0) {
			const char *s = jrec_get(&r, "seq");
			const char *hh = jrec_get(&r, "head");
			int64_t v = 0;
			rep->ckpt_line = lineno;
			rep->ckpt_seq = s != NULL &&
			    num_parse(s, 0, INT64_MAX, &v) == 0 ? (uint64_t)v : 0;
			snprintf(rep->ckpt_head, sizeof(rep->ckpt_head), "%s",
			    hh != NULL && is_hash(hh, strlen(hh)) ? hh : "");
		}
		if (fn != NULL && fn(&r, arg) != 0)
			goto out;
		if (stop != 0 && r.seq == stop)
			break;
	}
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	free(line);
	free(work);
	free(path);
	return rc;
}

int
journal_read(const char *state_dir,
    int (*fn)(const struct jrec *r, void *arg), void *arg, struct err *e)
{
	struct journal_report rep;

	return scan(state_dir, 0, fn, arg, &rep, e);
}

int
journal_verify(const char *state_dir, struct journal_report *r,
    struct err *e)
{
	return scan(state_dir, 0, NULL, NULL, r, e);
}

int
journal_hash_at(const char *state_dir, uint64_t seq, char head[65],
    struct err *e)
{
	struct journal_report rep;

	if (seq == 0)
		return err_set(e, "%s/journal: there is no line 0", state_dir);
	if (scan(state_dir, seq, NULL, NULL, &rep, e) != 0)
		return -1;
	if (rep.seq != seq)
		return err_set(e, "%s/journal: has %" PRIu64 " lines, no line "
		    "with sequence number %" PRIu64, state_dir, rep.lines, seq);
	memcpy(head, rep.head, 65);
	return 0;
}

/*
 * Learns seq and head from the last line.  Every line is read (cheaply,
 * without hashing) so a torn line is found and named by its number; the
 * last line is parsed and its hash checked against the line before it.
 */
static int
read_tail(struct journal *j, struct err *e)
{
	char *line = NULL, *work = NULL;
	char prev[65], last_prev[65];
	size_t cap = 0;
	uint64_t lineno = 0;
	int64_t prev_seq = 0, last_prev_seq = 0;
	FILE *f = NULL;
	struct jrec r;
	int rc = -1, got, fd;

	memcpy(prev, ZERO_HASH, 65);
	memcpy(last_prev, ZERO_HASH, 65);
	fd = dup(j->fd);
	if (fd == -1 || (f = fdopen(fd, "r")) == NULL) {
		if (fd != -1)
			close(fd);
		return err_sys(e, "%s", j->path);
	}
	if (fseeko(f, 0, SEEK_SET) != 0) {
		err_sys(e, "%s: seek", j->path);
		goto out;
	}
	while ((got = next_line(f, &line, &cap, j->path, lineno + 1, e)) > 0) {
		size_t len = strlen(line);
		const char *sp = strchr(line, ' ');
		int64_t s = 0;

		lineno++;
		memcpy(last_prev, prev, 65);
		last_prev_seq = prev_seq;
		if (sp == NULL || len < 65 || !is_hash(line + len - 64, 64)) {
			err_set(e, "%s:%" PRIu64 ": no hash at the end of the "
			    "line", j->path, lineno);
			goto out;
		}
		memcpy(prev, line + len - 64, 65);
		char num[24];
		size_t nl = (size_t)(sp - line);
		if (nl >= sizeof(num)) {
			err_set(e, "%s:%" PRIu64 ": bad sequence number",
			    j->path, lineno);
			goto out;
		}
		memcpy(num, line, nl);
		num[nl] = '\0';
		if (num_parse(num, 1, INT64_MAX, &s) != 0) {
			err_set(e, "%s:%" PRIu64 ": bad sequence number",
			    j->path, lineno);
			goto out;
		}
		prev_seq = s;
	}
	if (got < 0)
		goto out;
	j->seq = 0;
	memcpy(j->head, ZERO_HASH, 65);
	if (lineno > 0) {
		char h[65];
		work = malloc(strlen(line) + 1);
		if (work == NULL) {
			err_set(e, "out of memory");
			goto out;
		}
		if (parse_line(line, work, &r, j->path, lineno, e) != 0)
			goto out;
		if ((int64_t)r.seq != last_prev_seq + 1) {
			err_set(e, "%s:%" PRIu64 ": last line has sequence "
			    "number %" PRIu64 ", expected %" PRId64, j->path,
			    lineno, r.seq, last_prev_seq + 1);
			goto out;
		}
		if (chain_hash(last_prev, line, strlen(line) - 65, h) != 0 ||
		    strcmp(h, r.hash) != 0) {
			err_set(e, "%s:%" PRIu64 ": hash chain broken at the "
			    "last line; run `lethe journal verify`", j->path,
			    lineno);
			goto out;
		}
		j->seq = r.seq;
		memcpy(j->head, r.hash, 65);
	}
	rc = 0;
out:
	fclose(f);
	free(line);
	free(work);
	return rc;
}

int
journal_open(const char *state_dir, struct journal *j, struct err *e)
{
	struct stat st;
	int rc = -1;

	j->fd = -1;
	j->seq = 0;
	memcpy(j->head, ZERO_HASH, 65);
	j->path = NULL;
	if (mkdirs(state_dir, 0700, e) != 0)
		return -1;
	if (asprintf(&j->path, "%s/journal", state_dir) < 0) {
		j->path = NULL;
		return err_set(e, "out of memory");
	}
	j->fd = open(j->path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (j->fd == -1) {
		err_sys(e, "%s: cannot open", j->path);
		goto out;
	}
	if (fstat(j->fd, &st) == -1) {
		err_sys(e, "%s: stat", j->path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, "%s: not a regular file", j->path);
		goto out;
	}
	if (st.st_size == 0 && fchmod(j->fd, 0600) == -1) {
		err_sys(e, "%s: chmod", j->path);
		goto out;
	}
	if (read_tail(j, e) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		journal_close(j);
	return rc;
}

int
journal_append(struct journal *j, const char *event, const struct jfield *f,
    size_t nf, struct err *e)
{
	struct strbuf b = { 0 };
	char num[24], ts[32], h[65];
	int rc = -1, n;
	ssize_t w;

	if (j->fd == -1)
		return err_set(e, "%s: journal is not open (an earlier write "
		    "failed?)", j->path != NULL ? j->path : "journal");
	if (!is_word(event, 0))
		return err_set(e, "%s: bad event name '%.32s'", j->path, event);
	n = snprintf(num, sizeof(num), "%" PRIu64, j->seq + 1);
	if (n < 0 || (size_t)n >= sizeof(num))
		return err_set(e, "%s: sequence number overflow", j->path);
	strbuf_puts(&b, num);
	strbuf_puts(&b, " ");
	strbuf_puts(&b, time_format_utc(time(NULL), ts));
	strbuf_puts(&b, " ");
	strbuf_puts(&b, event);
	for (size_t i = 0; i < nf; i++) {
		if (!is_word(f[i].key, 1)) {
			err_set(e, "%s: %s: bad field name '%.32s'", j->path,
			    event, f[i].key ? f[i].key : "(null)");
			goto out;
		}
		strbuf_puts(&b, " ");
		strbuf_puts(&b, f[i].key);
		strbuf_puts(&b, "=");
		sb_encoded(&b, f[i].val != NULL ? f[i].val : "");
	}
	if (b.oom) {
		err_set(e, "out of memory");
		goto out;
	}
	if (chain_hash(j->head, b.p, b.len, h) != 0) {
		err_set(e, "%s: SHA-256 unavailable", j->path);
		goto out;
	}
	strbuf_puts(&b, " ");
	strbuf_puts(&b, h);
	strbuf_puts(&b, "\n");
	if (b.oom) {
		err_set(e, "out of memory");
		goto out;
	}
	if (b.len > JOURNAL_MAX_LINE) {
		err_set(e, "%s: %s event longer than %d bytes", j->path, event,
		    JOURNAL_MAX_LINE);
		goto out;
	}
	do
		w = write(j->fd, b.p, b.len);
	while (w < 0 && errno == EINTR);
	if (w < 0 || (size_t)w != b.len) {
		if (w < 0)
			err_sys(e, "%s: append %s", j->path, event);
		else
			err_set(e, "%s: short write appending %s: the last "
			    "line is torn", j->path, event);
		/* Never append after a possibly torn line. */
		close(j->fd);
		j->fd = -1;
		goto out;
	}
	/* The line is in the file: the chain moves on even if fsync fails. */
	j->seq++;
	memcpy(j->head, h, 65);
	if (fsync(j->fd) == -1) {
		err_sys(e, "%s: fsync after %s", j->path, event);
		goto out;
	}
	rc = 0;
out:
	free(b.p);
	return rc;
}

int
journal_appendv(struct journal *j, struct err *e, const char *event, ...)
{
	struct jfield f[32];
	size_t nf = 0;
	const char *k;
	va_list ap;

	va_start(ap, event);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		if (nf == sizeof(f) / sizeof(f[0])) {
			va_end(ap);
			return err_set(e, "%s: too many fields", event);
		}
		f[nf].key = k;
		f[nf].val = v;
		nf++;
	}
	va_end(ap);
	return journal_append(j, event, f, nf, e);
}

void
journal_close(struct journal *j)
{
	if (j->fd != -1)
		close(j->fd);
	j->fd = -1;
	free(j->path);
	j->path = NULL;
}
