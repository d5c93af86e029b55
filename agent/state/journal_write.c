/*
 * journal_write.c: the appending handle of the journal (see journal.h).
 *
 * MUST rules:
 *  - one event is one write(2) of one whole line to an O_APPEND descriptor,
 *    followed by fsync before journal_append returns (SPEC §9: the intent
 *    is on disk before the destructive step it announces);
 *  - every append happens under the exclusive journal lock, after reading
 *    and checking (form, sequence, chain) every line others appended since
 *    this handle last looked, so concurrent appenders extend one chain;
 *  - after a failed or short write no further line is appended through the
 *    same handle, so a torn line is never followed by a good-looking one;
 *  - a torn last line is removed only under the exclusive lock (so it is
 *    never a line another process is still writing), only when it is
 *    shorter than a line can be, and never silently: a journal-repair
 *    event records how many bytes went and their SHA-256;
 *  - a journal that shrank or changed behind this handle is an error, never
 *    re-read from a guess.
 */
#include "state/journal.h"
#include "state/journal_int.h"
#include "base/date.h"
#include "base/err.h"
#include "base/hex.h"
#include "state/durable.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#define READ_CHUNK 65536

/* After a failed write: the handle is closed (and the lock with it). */
static void
drop(struct journal *j)
{
	if (j->fd != -1)
		close(j->fd);
	j->fd = -1;
	j->locked = 0;
}

/* Writes one event line; the caller holds the lock and has caught up. */
static int
write_line(struct journal *j, const char *event, const struct jfield *f,
    size_t nf, struct err *e)
{
	struct strbuf b = { 0 };
	char num[24], ts[32], h[65];
	int rc = -1, n;
	ssize_t w;

	if (!jr_is_word(event, 0))
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
		if (!jr_is_word(f[i].key, 1)) {
			err_set(e, "%s: %s: bad field name '%.32s'", j->path,
			    event, f[i].key ? f[i].key : "(null)");
			goto out;
		}
		strbuf_puts(&b, " ");
		strbuf_puts(&b, f[i].key);
		strbuf_puts(&b, "=");
		jr_encode(&b, f[i].val != NULL ? f[i].val : "");
	}
	if (b.oom) {
		err_set(e, "out of memory");
		goto out;
	}
	if (jr_chain_hash(j->head, b.p, b.len, h) != 0) {
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
			err_set(e, "%s: short write appending %s (%zd of %zu "
			    "bytes: the disk is full?): the last line is torn; "
			    "the next lethe command that records state repairs "
			    "it", j->path, event, w, b.len);
		/* Never append after a possibly torn line. */
		drop(j);
		goto out;
	}
	/* The line is in the file: the chain moves on even if fsync fails. */
	j->seq++;
	j->end += (off_t)b.len;
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

/* Checks one complete line (len bytes, no newline) found at j->end and
 * chains to it. */
static int
take_line(struct journal *j, const char *line, size_t len, struct err *e)
{
	uint64_t lineno = j->seq + 1;
	char *raw = NULL, *work = NULL, h[65];
	struct jrec r;
	int rc = -1;

	if (len + 1 > JOURNAL_MAX_LINE)
		return err_set(e, "%s:%" PRIu64 ": line longer than %d bytes",
		    j->path, lineno, JOURNAL_MAX_LINE);
	if (memchr(line, '\0', len) != NULL)
		return err_set(e, "%s:%" PRIu64 ": NUL byte in line", j->path,
		    lineno);
	raw = strndup(line, len);
	work = malloc(len + 1);
	if (raw == NULL || work == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	if (jr_parse_line(raw, work, &r, j->path, lineno, e) != 0)
		goto out;
	if (r.seq != j->seq + 1) {
		err_set(e, "%s:%" PRIu64 ": sequence number %" PRIu64 ", "
		    "expected %" PRIu64 " (a line was removed, inserted or "
		    "reordered)", j->path, lineno, r.seq, j->seq + 1);
		goto out;
	}
	if (jr_chain_hash(j->head, raw, len - 65, h) != 0) {
		err_set(e, "%s: SHA-256 unavailable", j->path);
		goto out;
	}
	if (strcmp(h, r.hash) != 0) {
		err_set(e, "%s:%" PRIu64 ": hash chain broken (this line, or "
		    "the one before it, was edited, removed, reordered or "
		    "inserted); run `lethe journal verify`", j->path, lineno);
		goto out;
	}
	if (j->collect) {
		strbuf_add(&j->pending, line, len);
		strbuf_add(&j->pending, "\n", 1);
		if (j->pending.oom) {
			err_set(e, "out of memory");
			goto out;
		}
	}
	j->seq = r.seq;
	memcpy(j->head, r.hash, 65);
	j->end += (off_t)len + 1;
	rc = 0;
out:
	free(raw);
	free(work);
	return rc;
}

/* Removes a torn last line of len bytes (at j->end) and journals it. */
static int
repair(struct journal *j, const char *frag, size_t len, struct err *e)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char sha[65], bytes[24], line[24];

	if (EVP_Digest(frag, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return err_set(e, "%s: SHA-256 unavailable", j->path);
	hex_encode(md, 32, sha);
	if (ftruncate(j->fd, j->end) == -1 || fsync(j->fd) == -1)
		return err_sys(e, "%s: cannot remove the torn last line "
		    "(%zu bytes at line %" PRIu64 ")", j->path, len, j->seq + 1);
	j->repaired += len;
	snprintf(bytes, sizeof(bytes), "%zu", len);
	snprintf(line, sizeof(line), "%" PRIu64, j->seq + 1);
	const struct jfield f[] = {
		{ "line", line }, { "bytes", bytes }, { "sha256", sha },
	};
	return write_line(j, "journal-repair", f, 3, e);
}

/*
 * Reads every line others appended after j->end, checking and chaining to
 * each; a torn last line is repaired.  The caller holds the lock.
 */
static int
catch_up(struct journal *j, struct err *e)
{
	struct stat st;
	char *buf = NULL;
	size_t cap = 2 * READ_CHUNK + JOURNAL_MAX_LINE, have = 0;
	off_t pos = j->end;
	int rc = -1;

	if (fstat(j->fd, &st) == -1)
		return err_sys(e, "%s: stat", j->path);
	if (st.st_size < j->end)
		return err_set(e, "%s: the journal shrank from %lld to %lld "
		    "bytes while lethe had it open (truncated or replaced?); "
		    "run `lethe journal verify`", j->path, (long long)j->end,
		    (long long)st.st_size);
	if (st.st_size == j->end)
		return 0;
	if ((buf = malloc(cap)) == NULL)
		return err_set(e, "out of memory");
	while (pos + (off_t)have < st.st_size) {
		size_t want = cap - have, start = 0;
		ssize_t n;

		if ((off_t)want > st.st_size - pos - (off_t)have)
			want = (size_t)(st.st_size - pos - (off_t)have);
		do
			n = pread(j->fd, buf + have, want, pos + (off_t)have);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			err_sys(e, "%s: read", j->path);
			goto out;
		}
		if (n == 0) {
			err_set(e, "%s: the journal shrank while it was read "
			    "(truncated behind lethe's back?)", j->path);
			goto out;
		}
		have += (size_t)n;
		for (;;) {
			char *nl = memchr(buf + start, '\n', have - start);
			size_t len;
			if (nl == NULL)
				break;
			len = (size_t)(nl - (buf + start));
			if (take_line(j, buf + start, len, e) != 0)
				goto out;
			start += len + 1;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		pos += (off_t)start;
		if (have >= JOURNAL_MAX_LINE) {
			err_set(e, "%s:%" PRIu64 ": line longer than %d bytes",
			    j->path, j->seq + 1, JOURNAL_MAX_LINE);
			goto out;
		}
	}
	/* What is left has no newline: a torn last line.  Nobody is writing
	 * it (we hold the lock), so it is an interrupted write's remains. */
	if (have > 0 && repair(j, buf, have, e) != 0)
		goto out;
	rc = 0;
out:
	free(buf);
	return rc;
}

int
journal_lock(struct journal *j, struct err *e)
{
	if (j->fd == -1)
		return err_set(e, "%s: journal is not open (an earlier write "
		    "failed?)", j->path != NULL ? j->path : "journal");
	if (j->locked > 0) {
		j->locked++;
		return 0;
	}
	if (jr_flock(j->fd, LOCK_EX, j->path, e) != 0)
		return -1;
	j->locked = 1;
	if (catch_up(j, e) != 0) {
		if (j->fd != -1)
			(void)flock(j->fd, LOCK_UN);
		j->locked = 0;
		return -1;
	}
	return 0;
}

void
journal_unlock(struct journal *j)
{
	if (j->locked == 0)
		return;
	if (--j->locked == 0 && j->fd != -1)
		(void)flock(j->fd, LOCK_UN);
}

int
journal_open(const char *state_dir, struct journal *j, struct err *e)
{
	struct stat st;
	int rc = -1;

	memset(j, 0, sizeof(*j));
	j->fd = -1;
	memcpy(j->head, JOURNAL_ZERO_HASH, 65);
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
	/* Every line from the first, checked; a torn tail repaired. */
	if (journal_lock(j, e) != 0)
		goto out;
	journal_unlock(j);
	j->collect = 1;
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
	int rc;

	if (journal_lock(j, e) != 0)
		return -1;
	rc = write_line(j, event, f, nf, e);
	journal_unlock(j);
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

int
journal_sync(struct journal *j, int (*fn)(const struct jrec *r, void *arg),
    void *arg, struct err *e)
{
	struct strbuf got;
	char *work = NULL;
	int rc = -1;

	if (journal_lock(j, e) != 0)
		return -1;
	/* Handed over, then called back outside the lock: a hold waits on
	 * it, and fn may do as it likes (append, read). */
	got = j->pending;
	memset(&j->pending, 0, sizeof(j->pending));
	journal_unlock(j);
	if (got.len > 0 && (work = malloc(got.len + 1)) == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	for (char *p = got.p, *nl; p != NULL && p < got.p + got.len;
	    p = nl + 1) {
		struct jrec r;
		nl = strchr(p, '\n');
		*nl = '\0';
		/* Checked when read: this cannot fail but for a bug. */
		if (jr_parse_line(p, work, &r, j->path, 0, e) != 0 ||
		    fn(&r, arg) != 0)
			goto out;
	}
	rc = 0;
out:
	free(work);
	strbuf_free(&got);
	return rc;
}

void
journal_close(struct journal *j)
{
	if (j->fd != -1)
		close(j->fd);
	j->fd = -1;
	j->locked = 0;
	free(j->path);
	j->path = NULL;
	strbuf_free(&j->pending);
}
