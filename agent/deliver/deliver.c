/*
 * deliver.c: the flush of the outbox to sendmail, and what follows an
 * accepted certificate message (see deliver.h; queueing is in outbox.c).
 *
 * MUST rules:
 *  - a message is sent only as a checked copy whose size and SHA-256 are
 *    the journaled ones (msglog.h); a damaged, lost or unjournaled message
 *    is never sent, never marked delivered, and reported on every flush;
 *  - sendmail's FROM and TO are checked addr-specs read back from the
 *    checked copy itself (sendmail.c runs it through spawn.h, without a
 *    shell, killed with its process group at the time limit);
 *  - the acceptance is journaled (and fsync'd) before the message leaves
 *    the outbox, and a message whose Message-ID the journal already records
 *    as accepted is moved, never sent again;
 *  - nothing from a message body reaches the journal: only ids, the
 *    Message-ID and sendmail's exit status and first line of output.
 */
#include "deliver/deliver.h"
#include "deliver/outbox.h"
#include "conf/config.h"
#include "base/date.h"
#include "state/durable.h"
#include "base/err.h"
#include "state/journal.h"
#include "deliver/mime.h"
#include "deliver/msglog.h"
#include "deliver/sendmail.h"
#include "sanitize/overwrite.h"
#include "base/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


/* Receipt, then outbox/STEM.eml -> sent/STEM.eml, then both dirs fsync'd. */
static int
move_to_sent(int out, int sent, const char *stem, const char *msgid,
    const char *to, time_t at, off_t size, struct err *e)
{
	char eml[200], receipt[200], text[1024], ts[32];
	int n;

	if (outbox_names(stem, eml, receipt, e) != 0)
		return -1;
	n = snprintf(text, sizeof(text), "[delivery]\nid = %s\nmsgid = %s\n"
	    "to = %s\naccepted = %s\nbytes = %lld\n", stem, msgid, to,
	    time_format_utc(at, ts), (long long)size);
	if (n < 0 || (size_t)n >= sizeof(text))
		return err_set(e, "outbox: %s: receipt too long", stem);
	if (durable_write_at(sent, receipt, text, (size_t)n, 0600, e) != 0)
		return -1;
	if (renameat(out, eml, sent, eml) == -1)
		return err_sys(e, "outbox: %s: move to sent", stem);
	if (fsync(sent) == -1 || fsync(out) == -1)
		return err_sys(e, "outbox: %s: fsync", stem);
	return 0;
}


/* The advice that ends a damaged message's report. */
static void
damage_text(char *buf, size_t sz, const char *stem, const char *what,
    const char *why)
{
	char cert[160];
	int copy;

	if (outbox_stem(stem, cert, sizeof(cert), &copy) != 0)
		cert[0] = '\0';
	if (outbox_kind(cert) == DELIVER_NOTICE)
		strbuf_fit(buf, sz, "not sent: the queued message %s (%s); the "
		    "next run queues it again while the notice is due", what,
		    why);
	else
		strbuf_fit(buf, sz, "not sent: the queued message %s (%s); "
		    "`lethe cert resend %s` rebuilds it", what, why, cert);
}

/* The To of a message, read back from its first 64 KiB; "-" if none. */
static void
message_to(int fd, char *to, size_t tosz)
{
	char head[65537], from[300], msgid[600];
	ssize_t got = pread(fd, head, sizeof(head) - 1, 0);
	struct err e;

	if (got < 0 || mime_envelope(head, (size_t)got, from, sizeof(from), to,
	    tosz, msgid, sizeof(msgid), &e) != 0)
		strbuf_fit(to, tosz, "%s", "-");
}

/* One message in the outbox.  Returns 0 (attempted and journaled,
 * whatever the outcome: see it->ok and it->damaged), or -1 with *e set on
 * a journal or disk error. */
static int
deliver_one(const struct config *c, struct journal *j, int out, int sent,
    const struct msglog *lg, int timeout_s, struct deliver_item *it,
    struct err *e)
{
	char eml[200], receipt[200], from[300], to[300] = "-", msgid[600] = "";
	char head[65537], copy[16] = "", why[200];
	const struct msglog_rec *rec = msglog_find(lg, it->id);
	struct stat st;
	struct err why_e;
	time_t at;
	ssize_t got;
	int fd = -1, mfd = -1, rc = -1, copyn = 0, ok, oerr;

	if (outbox_names(it->id, eml, receipt, e) != 0 ||
	    outbox_stem(it->id, it->cert, sizeof(it->cert), &copyn) != 0)
		return -1;
	if (copyn > 0 && snprintf(copy, sizeof(copy), "r%d", copyn) < 0)
		return err_set(e, "outbox: %s: bad copy number", it->id);
	it->kind = outbox_kind(it->cert);
	if (rec != NULL)
		strbuf_fit(msgid, sizeof(msgid), "%s", rec->msgid);
	fd = openat(out, eml, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	oerr = errno;
	if (rec != NULL && msglog_accepted(lg, rec->msgid, &at)) {
		/* accepted by a run that died before moving it */
		if (fd != -1)
			message_to(fd, to, sizeof(to));
		if (fd == -1 || fstat(fd, &st) == -1)
			st.st_size = (off_t)rec->bytes;
		if (move_to_sent(out, sent, it->id, rec->msgid, to, at,
		    st.st_size, e) != 0)
			goto out;
		it->ok = it->recovered = 1;
		it->manifest = rec->manifest;
		strbuf_fit(it->detail, sizeof(it->detail), "%s",
		    "accepted earlier; moved to sent");
		rc = 0;
		goto out;
	}
	ok = 0;
	if (rec == NULL || fd == -1) {
		if (rec == NULL)
			strbuf_fit(why, sizeof(why), "%s", "its digest was never "
			    "journaled: queued by hand, or by an older lethe");
		else if (oerr == ELOOP || oerr == ENXIO)
			strbuf_fit(why, sizeof(why), "%s", "not a regular file");
		else
			strbuf_fit(why, sizeof(why), "cannot be opened: %s",
			    strerror(oerr));
		damage_text(it->detail, sizeof(it->detail), it->id,
		    "is damaged", why);
		it->damaged = 1;
	} else if ((ok = msglog_check(fd, rec, &mfd, why, sizeof(why),
	    &why_e)) == 0) {
		damage_text(it->detail, sizeof(it->detail), it->id,
		    "is damaged", why);
		it->damaged = 1;
	} else if (ok < 0)
		strbuf_fit(it->detail, sizeof(it->detail), "%s", why_e.msg);
	if (ok == 1) {
		/* the envelope from the checked copy, which is what goes */
		got = pread(mfd, head, sizeof(head) - 1, 0);
		head[got > 0 ? got : 0] = '\0';
		if (got < 0 || mime_envelope(head, (size_t)(got > 0 ? got : 0),
		    from, sizeof(from), to, sizeof(to), msgid, sizeof(msgid),
		    &why_e) != 0)
			strbuf_fit(it->detail, sizeof(it->detail), "malformed "
			    "message: %s", got < 0 ? strerror(errno) : why_e.msg);
		else
			it->ok = sendmail_run(c->sendmail, from, to, mfd,
			    timeout_s, it->detail, sizeof(it->detail));
	}
	if (journal_appendv(j, e, "delivery-attempt",
	    it->kind == DELIVER_NOTICE ? "notice" : "cert", it->cert,
	    "ok", it->ok ? "yes" : "no", "msgid", *msgid ? msgid : "-",
	    "detail", it->detail, copyn ? "copy" : NULL, copy, NULL) != 0)
		goto out;
	if (it->ok) {
		it->manifest = rec->manifest;
		if (move_to_sent(out, sent, it->id, msgid, to, time(NULL),
		    (off_t)rec->bytes, e) != 0)
			goto out;
	}
	rc = 0;
out:
	if (mfd != -1)
		close(mfd);
	if (fd != -1)
		close(fd);
	return rc;
}

/* A message the journal says was queued, never accepted nor withdrawn,
 * that is not in the outbox: reported, and the report journaled. */
static int
deliver_lost(struct journal *j, const struct msglog_rec *rec,
    struct deliver_item *it, struct err *e)
{
	char copy[16] = "", when[11];
	int copyn;

	if (outbox_stem(rec->stem, it->cert, sizeof(it->cert), &copyn) != 0 ||
	    strlen(rec->stem) >= sizeof(it->id))
		return 1;	/* not a stem lethe made: not reported */
	memcpy(it->id, rec->stem, strlen(rec->stem) + 1);
	if (copyn > 0)
		snprintf(copy, sizeof(copy), "r%d", copyn);
	it->kind = outbox_kind(it->cert);
	it->damaged = 1;
	date_format(tz_date_at("UTC", rec->queued), when);
	{
		char why[100];
		strbuf_fit(why, sizeof(why), "queued on %s", when);
		damage_text(it->detail, sizeof(it->detail), it->id,
		    "is missing from the outbox", why);
	}
	return journal_appendv(j, e, "delivery-attempt",
	    it->kind == DELIVER_NOTICE ? "notice" : "cert", it->cert, "ok",
	    "no", "msgid", rec->msgid, "detail", it->detail,
	    copyn ? "copy" : NULL, copy, NULL);
}

static int
in_list(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

int
deliver_flush(const struct config *c, struct journal *j,
    const struct deliver_opts *o, struct deliver_report *r, struct err *e)
{
	struct msglog lg = { 0 };
	char **ids = NULL;
	size_t n = 0;
	int out = -1, sent = -1, rc = -1;
	int timeout_s = o && o->timeout_s > 0 ? o->timeout_s :
	    c->sendmail_timeout > 0 ? c->sendmail_timeout : 60;

	memset(r, 0, sizeof(*r));
	if ((out = outbox_dir(c->state_dir, OUTBOX_DIR, 0, e)) == -1 &&
	    errno != ENOENT)
		goto out;
	if ((sent = outbox_dir(c->state_dir, SENT_DIR, 1, e)) == -1 ||
	    (out != -1 && outbox_list(out, "outbox", &ids, &n, e) != 0) ||
	    msglog_load(c->state_dir, &lg, e) != 0)
		goto out;
	if ((r->v = calloc(n + lg.nrec + 1, sizeof(*r->v))) == NULL) {
		err_set(e, "outbox: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct deliver_item *it = &r->v[r->n];
		const struct msglog_rec *rec = msglog_find(&lg, ids[i]);
		int copy;
		if (outbox_stem(ids[i], it->cert, sizeof(it->cert), &copy) != 0 ||
		    (o && o->only && strcmp(it->cert, o->only) != 0))
			continue;
		if (strlen(ids[i]) >= sizeof(it->id))
			continue;	/* outbox_stem bounds it: cannot happen */
		if (rec != NULL && rec->withdrawn &&
		    !msglog_accepted(&lg, rec->msgid, NULL)) {
			/* withdrawn by a run that died before removing it */
			if (outbox_remove(out, ids[i], e) != 0)
				goto out;
			continue;
		}
		memcpy(it->id, ids[i], strlen(ids[i]) + 1);
		r->n++;
		if (deliver_one(c, j, out, sent, &lg, timeout_s, it, e) != 0)
			goto out;
		if (it->ok)
			r->accepted++;
		else
			r->failed++;
	}
	/* What the journal says was queued and is gone from the outbox. */
	for (size_t i = 0; i < lg.nrec; i++) {
		const struct msglog_rec *rec = &lg.rec[i];
		struct deliver_item *it = &r->v[r->n];
		char eml[200], receipt[200], cert[160];
		int copy, k;
		if (rec->withdrawn || in_list(ids, n, rec->stem) ||
		    msglog_accepted(&lg, rec->msgid, NULL) ||
		    outbox_names(rec->stem, eml, receipt, e) != 0 ||
		    outbox_has(sent, receipt) ||
		    outbox_stem(rec->stem, cert, sizeof(cert), &copy) != 0 ||
		    (o && o->only && strcmp(cert, o->only) != 0))
			continue;
		if ((k = deliver_lost(j, rec, it, e)) < 0)
			goto out;
		if (k == 0) {
			r->n++;
			r->failed++;
		}
	}
	rc = 0;
out:
	msglog_free(&lg);
	deliver_ids_free(ids, n);
	outbox_close(out, sent);
	return rc;
}

void
deliver_report_free(struct deliver_report *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Sanitizes one vendor copy of a manifest, if it is still there.
 * Returns 0, or -1 after adding the problem to *errors. */
static int
sanitize_copy(const char *path, struct diags *errors)
{
	struct stat st;
	struct err e;

	if (lstat(path, &st) != 0)
		return 0;
	if (ow_path(path, &e) != 0) {
		diag_add(errors, path, 0, "sanitizing the vendor's copy of the "
		    "manifest: %s", e.msg);
		return -1;
	}
	return 0;
}

unsigned
deliver_sanitize(const struct config *c, const struct deliver_report *dr,
    struct journal *j, struct diags *errors)
{
	/* The vendor's copies of a certificate's manifest (STATE_DIR, ID). */
	static const char *const copies[] = {
		"%s/certificates/%s.manifest", "%s/work/%s/manifest",
		"%s/work/%s/names", "%s/work/%s/manifest.final",
		"%s/work/%s/archives",
	};
	unsigned n = 0;

	for (size_t i = 0; i < dr->n; i++) {
		const struct deliver_item *it = &dr->v[i];
		char path[4200];
		struct err e;
		int bad;

		if (!it->ok || it->kind != DELIVER_CERT)
			continue;
		n++;
		/* The sent message itself: it may carry the manifest. */
		snprintf(path, sizeof(path), "%s/sent/%s.eml", c->state_dir,
		    it->id);
		sanitize_copy(path, errors);
		/* The manifest names students: once a message whose digest
		 * was checked, and that carried it, is accepted, the LEA has
		 * it and the vendor's copies go (SPEC §8).  Never otherwise:
		 * the LEA would have no manifest at all. */
		if (!it->manifest)
			continue;
		bad = 0;
		for (size_t k = 0; k < sizeof(copies) / sizeof(copies[0]); k++) {
			snprintf(path, sizeof(path), copies[k], c->state_dir,
			    it->cert);
			bad |= sanitize_copy(path, errors);
		}
		if (!bad && journal_appendv(j, &e, "manifest-sanitized", "cert",
		    it->cert, "msg", it->id, NULL) != 0)
			diag_add(errors, "journal", 0, "%s", e.msg);
	}
	return n;
}
