/*
 * journal_read.c: the journal's readers (see journal.h): every line read
 * from the start, its sequence and hash chain checked; the line format is
 * journal.c's, the appending handle journal_write.c's.
 *
 * MUST rules (journal.c's, for readers):
 *  - nothing is ever repaired by a reader: a line that does not parse, a
 *    sequence gap or a broken chain is an error that names the line;
 *  - the only line a reader skips is a torn last line (no newline), and
 *    it says so (journal_report.torn);
 *  - a journal that cannot be read is reported as unreadable (errno),
 *    never as broken.
 */
#include "state/journal.h"
#include "state/journal_int.h"
#include "base/err.h"
#include "base/num.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

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
 * Parses line lineno (work: room for its tokens) into *r and checks it
 * follows the lines before it in rep (sequence and chain), then counts it
 * in rep.  Returns 0, or -1 with *e naming the line (rep->bad_line set).
 */
static int
take_line(const char *path, uint64_t lineno, const char *line, char *work,
    struct jrec *r, struct journal_report *rep, struct err *e)
{
	char h[65];

	rep->bad_line = lineno;
	if (jr_parse_line(line, work, r, path, lineno, e) != 0)
		return -1;
	if (r->seq != rep->seq + 1)
		return err_set(e, "%s:%" PRIu64 ": sequence number %" PRIu64
		    ", expected %" PRIu64 " (a line was removed, inserted or "
		    "reordered)", path, lineno, r->seq, rep->seq + 1);
	if (jr_chain_hash(rep->head, line, strlen(line) - 65, h) != 0)
		return err_set(e, "%s: SHA-256 unavailable", path);
	if (strcmp(h, r->hash) != 0)
		return err_set(e, "%s:%" PRIu64 ": hash chain broken (this "
		    "line, or the one before it, was edited, removed, "
		    "reordered or inserted)", path, lineno);
	rep->bad_line = 0;
	rep->lines = lineno;
	rep->seq = r->seq;
	memcpy(rep->head, r->hash, 65);
	if (strcmp(r->event, "checkpoint") == 0) {
		const char *s = jrec_get(r, "seq");
		const char *hh = jrec_get(r, "head");
		int64_t v = 0;
		rep->ckpt_line = lineno;
		rep->ckpt_seq = s != NULL &&
		    num_parse(s, 0, INT64_MAX, &v) == 0 ? (uint64_t)v : 0;
		snprintf(rep->ckpt_head, sizeof(rep->ckpt_head), "%s",
		    hh != NULL && jr_is_hash(hh, strlen(hh)) ? hh : "");
	}
	return 0;
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
		if (take_line(path, lineno, line, work, &r, rep, e) != 0)
			goto out;
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
