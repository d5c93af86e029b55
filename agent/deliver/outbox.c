/*
 * outbox.c: queueing messages and telling where each stands (see
 * deliver.h; the flush is in deliver.c).
 *
 * MUST rules:
 *  - the journal, not the outbox, is the record of what was queued: a
 *    message's digest is journaled (msglog.h) before its file is written;
 *  - a queued message is never replaced except by a rebuilt one, once its
 *    digest is journaled; the damaged file is overwritten before it goes
 *    (it may carry the manifest); new files are created under a temporary
 *    name and renamed into place with RENAME_NOREPLACE (or link(2));
 *  - a notice withdrawn is journaled before its file goes;
 *  - nothing from a message body reaches the journal.
 */
#include "deliver/deliver.h"
#include "deliver/outbox.h"
#include "base/date.h"
#include "state/durable.h"
#include "base/err.h"
#include "state/journal.h"
#include "deliver/msglog.h"
#include "base/num.h"
#include "base/strbuf.h"
#include "sanitize/overwrite.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define OUTBOX		"outbox"
#define SENT		"sent"

int
deliver_id_ok(const char *id)
{
	size_t n;

	if (id == NULL || (n = strlen(id)) == 0 || n > 128 || id[0] == '.' ||
	    id[0] == '-')
		return 0;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
		    *p == '_'))
			return 0;
	return 1;
}

int
deliver_notice_id(const char *agreement, const char *date, char *buf,
    size_t sz, struct err *e)
{
	day_t d;
	int n;

	if (date == NULL || date_parse(date, &d) != 0)
		return err_set(e, "notice for %s: invalid date", agreement);
	n = snprintf(buf, sz, "NOTICE-%s-%s", agreement, date);
	if (n < 0 || (size_t)n >= sz || !deliver_id_ok(buf))
		return err_set(e, "notice for %s: not a valid message id",
		    agreement);
	return 0;
}

/* A file stem is ID or ID+rN (a re-send); cert gets ID, *copy N or 0. */
int
outbox_stem(const char *stem, char *cert, size_t sz, int *copy)
{
	const char *plus = strchr(stem, '+');
	size_t n = plus ? (size_t)(plus - stem) : strlen(stem);
	int64_t v = 0;

	if (n + 1 > sz || n > 128)
		return -1;
	memcpy(cert, stem, n);
	cert[n] = '\0';
	if (plus && (plus[1] != 'r' || num_parse(plus + 2, 1, 9999, &v) != 0))
		return -1;
	*copy = (int)v;
	return deliver_id_ok(cert) ? 0 : -1;
}

int
outbox_kind(const char *id)
{
	return strncmp(id, "NOTICE-", 7) == 0 ? DELIVER_NOTICE : DELIVER_CERT;
}

/* Opens state_dir/name as a directory (created 0700 when create is set).
 * Returns the fd, or -1 with *e set (errno kept). */
int
outbox_dir(const char *state_dir, const char *name, int create, struct err *e)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/%s", state_dir, name), fd;

	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return err_set(e, "%s: path too long", state_dir);
	}
	if (create && mkdirs(path, 0700, e) != 0)
		return -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return err_sys(e, "%s", path);
	return fd;
}

int
outbox_has(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Creates dirfd/name with buf, never replacing a file (durable.h).
 * Returns 0, 1 if name exists, or -1. */
static int
write_new_at(int dirfd, const char *name, const char *buf, size_t len,
    struct err *e)
{
	int rc = durable_create_at(dirfd, name, buf, len, 0600, e);

	if (rc == 1)
		err_set(e, "outbox: %s already exists", name);
	else if (rc < 0) {
		char inner[sizeof(e->msg)];
		snprintf(inner, sizeof(inner), "%s", e->msg);
		err_set(e, "outbox: %s", inner);
	}
	return rc;
}

int
outbox_names(const char *stem, char *eml, char *receipt, struct err *e)
{
	int n = snprintf(eml, 200, "%s.eml", stem);
	int m = snprintf(receipt, 200, "%s.receipt", stem);

	if (n < 0 || n >= 200 || m < 0 || m >= 200)
		return err_set(e, "outbox: id too long");
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted stems of *.eml in dirfd.  Returns 0, or -1 with *e set. */
int
outbox_list(int dirfd, const char *what, char ***ids, size_t *n, struct err *e)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;
	int fd = dup(dirfd), rc = -1;

	*ids = NULL;
	*n = 0;
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return err_sys(e, "%s: cannot list", what);
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		char cert[160], *s;
		int copy;
		if (de->d_name[0] == '.' || l <= 4 ||
		    strcmp(de->d_name + l - 4, ".eml") != 0)
			continue;
		if ((s = strndup(de->d_name, l - 4)) == NULL)
			goto oom;
		if (outbox_stem(s, cert, sizeof(cert), &copy) != 0) {
			free(s);	/* not ours: left alone */
			continue;
		}
		if (*n == cap) {
			char **nv = realloc(v, (cap ? cap * 2 : 16) * sizeof(*v));
			if (nv == NULL) {
				free(s);
				goto oom;
			}
			v = nv;
			cap = cap ? cap * 2 : 16;
		}
		v[(*n)++] = s;
	}
	if (errno != 0) {
		err_sys(e, "%s: cannot list", what);
		goto out;
	}
	if (*n > 0)
		qsort(v, *n, sizeof(*v), cmp_str);
	*ids = v;
	v = NULL;
	rc = 0;
	goto out;
oom:
	err_set(e, "%s: out of memory", what);
out:
	if (v)
		deliver_ids_free(v, *n);
	if (rc != 0)
		*n = 0;
	closedir(d);
	return rc;
}

void
deliver_ids_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}


/* Whether outbox/STEM.eml is the message the journal recorded: 1 intact,
 * 0 not (why says how), -1 with *e set when it cannot be read. */
static int
check_queued(int out, const char *stem, const struct msglog_rec *rec,
    char *why, size_t whysz, struct err *e)
{
	char eml[200], receipt[200];
	int fd, rc;

	if (rec == NULL) {
		strbuf_fit(why, whysz, "%s", "its digest was never journaled: "
		    "queued by hand, or by an older lethe");
		return 0;
	}
	if (outbox_names(stem, eml, receipt, e) != 0)
		return -1;
	fd = openat(out, eml, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ELOOP || errno == ENXIO) {
			strbuf_fit(why, whysz, "%s", "not a regular file");
			return 0;
		}
		return err_sys(e, "outbox: %s", eml);
	}
	rc = msglog_check(fd, rec, NULL, why, whysz, e);
	close(fd);
	return rc;
}

/* Removes outbox/STEM.eml, a damaged or withdrawn message: a certificate's
 * may carry the manifest, so it is overwritten first (SPEC §6); a notice
 * holds no student data and is unlinked. */
int
outbox_remove(int out, const char *stem, struct err *e)
{
	char eml[200], receipt[200], cert[160];
	struct stat st;
	int copy;

	if (outbox_names(stem, eml, receipt, e) != 0 ||
	    outbox_stem(stem, cert, sizeof(cert), &copy) != 0)
		return -1;
	if (fstatat(out, eml, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : err_sys(e, "outbox: %s", eml);
	if (outbox_kind(cert) == DELIVER_NOTICE || S_ISLNK(st.st_mode)) {
		if (unlinkat(out, eml, 0) == -1 || fsync(out) == -1)
			return err_sys(e, "outbox: remove %s", eml);
		return 0;
	}
	return ow_file(out, eml, eml, NULL, NULL, e);
}

/* Whether stem is another notice of the agreement of notice id (the
 * same "NOTICE-A-" and a date), and not yet accepted (no receipt). */
static int
other_notice(int sent, const char *id, const char *stem)
{
	size_t len = strlen(id);
	char eml[200], receipt[200];
	struct err e;
	day_t d;

	if (len < strlen("NOTICE-a-YYYY-MM-DD"))
		return 0;	/* not a notice id deliver_notice_id made */
	return strlen(stem) == len && strcmp(stem, id) != 0 &&
	    strncmp(stem, id, len - 10) == 0 &&
	    date_parse(stem + len - 10, &d) == 0 &&
	    outbox_names(stem, eml, receipt, &e) == 0 && !outbox_has(sent, receipt);
}

/* A prior notice announces one termination date: queueing NOTICE-A-DATE
 * withdraws every other notice of agreement A that is still queued or
 * lost and was never accepted (it announced a date no longer in effect):
 * journaled, then its file removed. */
static int
withdraw_notices(int out, int sent, struct journal *j, struct msglog *lg,
    const char *id, struct err *e)
{
	char **ids = NULL, reason[300];
	size_t n = 0;
	int rc = -1;

	strbuf_fit(reason, sizeof(reason), "superseded by %s: it announced a "
	    "termination date no longer in effect", id);
	for (size_t i = 0; i < lg->nrec; i++) {
		struct msglog_rec *r = &lg->rec[i];
		if (!other_notice(sent, id, r->stem) ||
		    msglog_accepted(lg, r->msgid, NULL))
			continue;
		if (!r->withdrawn && msglog_withdraw(j, r->stem, reason, e) != 0)
			return -1;
		r->withdrawn = 1;
		if (outbox_remove(out, r->stem, e) != 0)
			return -1;
	}
	if (outbox_list(out, "outbox", &ids, &n, e) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!other_notice(sent, id, ids[i]) ||
		    msglog_find(lg, ids[i]) != NULL)
			continue;
		if (msglog_withdraw(j, ids[i], reason, e) != 0 ||
		    outbox_remove(out, ids[i], e) != 0)
			goto out;
	}
	rc = 0;
out:
	deliver_ids_free(ids, n);
	return rc;
}

int
deliver_enqueue(const char *state_dir, struct journal *j, const char *id,
    const char *msg, size_t len, int manifest, struct err *e)
{
	char eml[200], receipt[200], why[256] = "", what[64] = "";
	struct msglog lg = { 0 };
	const struct msglog_rec *rec;
	int out = -1, sent = -1, rc = -1, ok;

	if (!deliver_id_ok(id))
		return err_set(e, "outbox: '%s' is not a valid message id", id);
	if (outbox_names(id, eml, receipt, e) != 0)
		return -1;
	if ((out = outbox_dir(state_dir, OUTBOX, 1, e)) == -1 ||
	    (sent = outbox_dir(state_dir, SENT, 1, e)) == -1)
		goto out;
	if (outbox_has(sent, receipt) || outbox_has(sent, eml)) {
		err_set(e, "outbox: %s was already sent", id);
		rc = 1;
		goto out;
	}
	if (msglog_load(state_dir, &lg, e) != 0)
		goto out;
	if (outbox_kind(id) == DELIVER_NOTICE &&
	    withdraw_notices(out, sent, j, &lg, id, e) != 0)
		goto out;
	rec = msglog_find(&lg, id);
	if (rec != NULL && msglog_accepted(&lg, rec->msgid, NULL)) {
		/* accepted, and a run died before its receipt: the next
		 * flush moves it (if it is still there); never queued again */
		err_set(e, "outbox: %s was already sent", id);
		rc = 1;
		goto out;
	}
	if (outbox_has(out, eml)) {
		if ((ok = check_queued(out, id, rec, why, sizeof(why), e)) < 0)
			goto out;
		if (ok) {
			err_set(e, "outbox: %s is already queued", id);
			rc = 1;
			goto out;
		}
		strbuf_fit(what, sizeof(what), "%s", "was damaged");
	} else if (rec != NULL && !rec->withdrawn) {
		strbuf_fit(what, sizeof(what), "%s", "was lost");
		strbuf_fit(why, sizeof(why), "%s", "missing from the outbox");
	}
	/* The digest first: a message on disk is never unrecorded. */
	if (msglog_record(j, id, msg, len, manifest, e) != 0 ||
	    outbox_remove(out, id, e) != 0)
		goto out;
	if ((rc = write_new_at(out, eml, msg, len, e)) != 0) {
		rc = -1;	/* cannot be 1: the name was just freed */
		goto out;
	}
	rc = 0;
	if (what[0] != '\0') {
		err_set(e, "the queued message %s %s (%s); rebuilt and queued "
		    "again", id, what, why);
		rc = 2;
	}
out:
	msglog_free(&lg);
	if (out != -1)
		close(out);
	if (sent != -1)
		close(sent);
	return rc;
}

int
deliver_enqueue_copy(const char *state_dir, struct journal *j,
    const char *id, const char *msg, size_t len, int manifest, struct err *e)
{
	char stem[200], eml[200], receipt[200];
	int out = -1, sent = -1, rc = -1, n;

	if (!deliver_id_ok(id))
		return err_set(e, "outbox: '%s' is not a valid message id", id);
	if (outbox_names(id, eml, receipt, e) != 0)
		return -1;
	if ((out = outbox_dir(state_dir, OUTBOX, 1, e)) == -1 ||
	    (sent = outbox_dir(state_dir, SENT, 1, e)) == -1)
		goto out;
	if (!outbox_has(sent, receipt)) {
		err_set(e, "%s: %s", id, outbox_has(out, eml) ?
		    "not sent yet; it is still in the outbox" :
		    "no such message was ever sent");
		goto out;
	}
	for (int k = 1; k <= 9999; k++) {
		n = snprintf(stem, sizeof(stem), "%s+r%d", id, k);
		if (n < 0 || (size_t)n >= sizeof(stem) ||
		    outbox_names(stem, eml, receipt, e) != 0) {
			err_set(e, "outbox: %s: id too long", id);
			goto out;
		}
		if (outbox_has(out, eml) || outbox_has(sent, receipt) ||
		    outbox_has(sent, eml))
			continue;
		if (msglog_record(j, stem, msg, len, manifest, e) != 0)
			goto out;
		rc = write_new_at(out, eml, msg, len, e);
		if (rc != 1)
			goto out;
	}
	err_set(e, "outbox: %s: too many copies", id);
	rc = -1;
out:
	if (out != -1)
		close(out);
	if (sent != -1)
		close(sent);
	return rc;
}

/* Reads sent/RECEIPT: when accepted and to whom. */
static void
read_receipt(const char *state_dir, const char *receipt,
    struct deliver_status *st)
{
	char path[4096], *text = NULL, *s;
	size_t len;
	struct err e;
	int n = snprintf(path, sizeof(path), "%s/%s/%s", state_dir, SENT,
	    receipt);

	st->at = (time_t)-1;
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    slurp(path, 65536, &text, &len, &e) != 0)
		return;
	if ((s = strstr(text, "\naccepted = ")) != NULL) {
		char v[64];
		strbuf_fit(v, sizeof(v), "%.*s", (int)strcspn(s + 12, "\n"),
		    s + 12);
		(void)time_parse_utc(v, &st->at);
	}
	if ((s = strstr(text, "\nto = ")) != NULL)
		strbuf_fit(st->to, sizeof(st->to), "%.*s",
		    (int)strcspn(s + 6, "\n"), s + 6);
	free(text);
}

int
deliver_status(const char *state_dir, const char *id,
    struct deliver_status *st, struct err *e)
{
	char eml[200], receipt[200], cert[160];
	struct msglog lg = { 0 };
	const struct msglog_rec *rec;
	int out = -1, sent = -1, rc = -1, copy, ok;

	memset(st, 0, sizeof(*st));
	if (outbox_stem(id, cert, sizeof(cert), &copy) != 0)
		return err_set(e, "'%s' is not a valid message id", id);
	if (outbox_names(id, eml, receipt, e) != 0)
		return -1;
	if ((sent = outbox_dir(state_dir, SENT, 0, e)) == -1 && errno != ENOENT)
		goto out;
	if (sent != -1 && outbox_has(sent, receipt)) {
		read_receipt(state_dir, receipt, st);
		rc = st->state = DELIVER_SENT;
		goto out;
	}
	if ((out = outbox_dir(state_dir, OUTBOX, 0, e)) == -1 && errno != ENOENT)
		goto out;
	if (msglog_load(state_dir, &lg, e) != 0)
		goto out;
	rec = msglog_find(&lg, id);
	if (rec != NULL)
		st->manifest = rec->manifest;
	if (rec != NULL && msglog_accepted(&lg, rec->msgid, &st->at)) {
		rc = st->state = DELIVER_SENT;	/* its move was interrupted */
	} else if (out != -1 && outbox_has(out, eml)) {
		if ((ok = check_queued(out, id, rec, st->why, sizeof(st->why),
		    e)) < 0)
			goto out;
		rc = st->state = ok ? DELIVER_PENDING : DELIVER_DAMAGED;
	} else if (rec != NULL && !rec->withdrawn) {
		char when[11];
		date_format(tz_date_at("UTC", rec->queued), when);
		strbuf_fit(st->why, sizeof(st->why), "queued on %s, missing "
		    "from the outbox", when);
		rc = st->state = DELIVER_MISSING;
	} else
		rc = st->state = DELIVER_NONE;
out:
	msglog_free(&lg);
	if (out != -1)
		close(out);
	if (sent != -1)
		close(sent);
	return rc;
}

int
deliver_state(const char *state_dir, const char *id, time_t *at,
    struct err *e)
{
	struct deliver_status st;
	int rc = deliver_status(state_dir, id, &st, e);

	if (rc == DELIVER_SENT && at != NULL)
		*at = st.at;
	return rc;
}

int
deliver_list(const char *state_dir, int which, char ***ids, size_t *n,
    struct err *e)
{
	int fd, rc;

	*ids = NULL;
	*n = 0;
	fd = outbox_dir(state_dir, which == DELIVER_SENT ? SENT : OUTBOX, 0, e);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	rc = outbox_list(fd, which == DELIVER_SENT ? "sent" : "outbox", ids, n,
	    e);
	close(fd);
	return rc;
}
