/*
 * journal.c: the journal's line format and its readers (see journal.h);
 * the appending handle is journal_write.c.
 *
 * MUST rules:
 *  - nothing is ever repaired by a reader: a line that does not parse, a
 *    sequence gap or a broken chain is an error that names the line;
 *  - the only line a reader skips is a torn last line (no newline), and
 *    it says so (journal_report.torn): an intent whose line never
 *    completed was never acted on;
 *  - values are percent-encoded, so a value can never forge a field, a
 *    line or the hash at the end of a line;
 *  - a journal that cannot be read is reported as unreadable (errno),
 *    never as broken.
 */
#include "state/journal.h"
#include "state/journal_int.h"
#include "base/date.h"
#include "base/err.h"
#include "base/hex.h"
#include "base/num.h"
#include "base/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

void
jr_encode(struct strbuf *b, const char *v)
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

/* Opens the journal for reading; *fp = NULL when it does not exist.  A
 * journal that cannot be opened sets *eno (and says "cannot read"). */
static int
open_read(const char *path, FILE **fp, int *eno, struct err *e)
{
	struct stat st;
	int fd;

	*fp = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		*eno = errno;
		return err_sys(e, "cannot read %s", path);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, "%s: not a regular file", path);
	}
	*fp = fdopen(fd, "r");
	if (*fp == NULL) {
		*eno = errno;
		close(fd);
		return err_sys(e, "cannot read %s", path);
	}
	return 0;
}

/*
 * Reads one line into *line (newline stripped).  Returns 1 for a line, 2
 * for a torn last line (*torn = its length), 0 at the end, -1 with *e set
 * for an over-long or NUL-holding line or a read error.
 */
static int
next_line(FILE *f, char **line, size_t *cap, const char *path,
    uint64_t lineno, uint64_t *torn, int *eno, struct err *e)
{
	ssize_t n;

	errno = 0;
	n = getline(line, cap, f);
	if (n < 0) {
		if (ferror(f)) {
			*eno = errno;
			return err_sys(e, "cannot read %s (line %" PRIu64 ")",
			    path, lineno);
		}
		return 0;
	}
	if ((size_t)n > JOURNAL_MAX_LINE || ((*line)[n - 1] != '\n' &&
	    (size_t)n >= JOURNAL_MAX_LINE))
		return err_set(e, "%s:%" PRIu64 ": line longer than %d bytes",
		    path, lineno, JOURNAL_MAX_LINE);
	if ((*line)[n - 1] != '\n') {
		*torn = (uint64_t)n;
		return 2;
	}
	(*line)[--n] = '\0';
	if (strlen(*line) != (size_t)n)
		return err_set(e, "%s:%" PRIu64 ": NUL byte in line", path,
		    lineno);
	return 1;
}

/*
 * Reads the journal from the start checking the chain, calling fn (if
 * any) for each good line, stopping after line stop (0 = read all).  With
 * shared, holds a shared journal lock while reading.
 */
static int
scan(const char *state_dir, uint64_t stop, int shared,
    int (*fn)(const struct jrec *r, void *arg), void *arg,
    struct journal_report *rep, struct err *e)
{
	char *path = NULL, *line = NULL, *work = NULL;
	size_t cap = 0, wcap = 0;
	FILE *f = NULL;
	struct jrec r;
	int rc = -1, got;

	memset(rep, 0, sizeof(*rep));
	memcpy(rep->head, JOURNAL_ZERO_HASH, 65);
	if (asprintf(&path, "%s/journal", state_dir) < 0) {
		path = NULL;
		err_set(e, "out of memory");
		goto out;
	}
	if (open_read(path, &f, &rep->read_errno, e) != 0)
		goto out;
	if (f == NULL) {
		rc = 0;
		goto out;
	}
	if (shared && jr_flock(fileno(f), LOCK_SH, path, e) != 0)
		goto out;
	for (;;) {
		uint64_t lineno = rep->lines + 1;
		char h[65];

		got = next_line(f, &line, &cap, path, lineno, &rep->torn,
		    &rep->read_errno, e);
		if (got == 0 || got == 2)
			break;
		if (got < 0) {
			if (rep->read_errno == 0)
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
		if (jr_parse_line(line, work, &r, path, lineno, e) != 0)
			goto out;
		if (r.seq != rep->seq + 1) {
			err_set(e, "%s:%" PRIu64 ": sequence number %" PRIu64
			    ", expected %" PRIu64 " (a line was removed, "
			    "inserted or reordered)", path, lineno, r.seq,
			    rep->seq + 1);
			goto out;
		}
		if (jr_chain_hash(rep->head, line,
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
			    hh != NULL && jr_is_hash(hh, strlen(hh)) ? hh : "");
		}
		if (fn != NULL && fn(&r, arg) != 0)
			goto out;
		if (stop != 0 && r.seq == stop)
			break;
	}
	rc = 0;
out:
	if (f != NULL)
		fclose(f);	/* and so unlocks */
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

	return scan(state_dir, 0, 0, fn, arg, &rep, e);
}

int
journal_scan(const char *state_dir,
    int (*fn)(const struct jrec *r, void *arg), void *arg,
    struct journal_report *r, struct err *e)
{
	return scan(state_dir, 0, 0, fn, arg, r, e);
}

int
journal_verify(const char *state_dir, struct journal_report *r,
    struct err *e)
{
	return scan(state_dir, 0, 1, NULL, NULL, r, e);
}

int
journal_hash_at(const char *state_dir, uint64_t seq, char head[65],
    struct err *e)
{
	struct journal_report rep;

	if (seq == 0)
		return err_set(e, "%s/journal: there is no line 0", state_dir);
	if (scan(state_dir, seq, 0, NULL, NULL, &rep, e) != 0)
		return -1;
	if (rep.seq != seq)
		return err_set(e, "%s/journal: has %" PRIu64 " lines, no line "
		    "with sequence number %" PRIu64, state_dir, rep.lines, seq);
	memcpy(head, rep.head, 65);
	return 0;
}

int
journal_share(const char *state_dir, int *fdp, struct err *e)
{
	char path[4096];
	int n, fd;

	*fdp = -1;
	n = snprintf(path, sizeof(path), "%s/journal", state_dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return err_set(e, "%s: path too long", state_dir);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		return err_sys(e, "cannot read %s", path);
	}
	if (jr_flock(fd, LOCK_SH, path, e) != 0) {
		close(fd);
		return -1;
	}
	*fdp = fd;
	return 0;
}

void
journal_unshare(int fd)
{
	if (fd != -1)
		close(fd);
}
