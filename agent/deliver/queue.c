/*
 * queue.c: queueing messages (see deliver.h).
 *
 * MUST rules:
 *  - the journal, not the outbox, is the record of what was queued: a
 *    message's digest is journaled (msglog.h) before its file is written;
 *  - a queued message is never replaced except by a rebuilt one, once its
 *    digest is journaled; the damaged file is overwritten before it goes
 *    (it may carry the manifest);
 *  - a message already sent is never queued again (a copy is a new stem);
 *  - a notice withdrawn is journaled before its file goes;
 *  - nothing from a message body reaches the journal.
 */
#include "deliver/deliver.h"
#include "deliver/outbox.h"
#include "deliver/msglog.h"
#include "base/date.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <stdio.h>
#include <string.h>

/* Checks id, names its files into eml and receipt, and opens outbox/
 * and sent/ (created 0700) into *out and *sent (-1 when not opened).
 * Returns 0, or -1 with *e set. */
static int
queue_open(const char *state_dir, const char *id, char *eml, char *receipt,
    int *out, int *sent, struct err *e)
{
	*out = *sent = -1;
	if (!deliver_id_ok(id))
		return err_set(e, "outbox: '%s' is not a valid message id", id);
	if (outbox_names(id, eml, receipt, e) != 0 ||
	    (*out = outbox_dir(state_dir, OUTBOX_DIR, 1, e)) == -1 ||
	    (*sent = outbox_dir(state_dir, SENT_DIR, 1, e)) == -1)
		return -1;
	return 0;
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

	if (queue_open(state_dir, id, eml, receipt, &out, &sent, e) != 0)
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
		if ((ok = outbox_check(out, id, rec, why, sizeof(why), e)) < 0)
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
	if ((rc = outbox_write_new(out, eml, msg, len, e)) != 0) {
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
	outbox_close(out, sent);
	return rc;
}

int
deliver_enqueue_copy(const char *state_dir, struct journal *j,
    const char *id, const char *msg, size_t len, int manifest, struct err *e)
{
	char stem[200], eml[200], receipt[200];
	int out = -1, sent = -1, rc = -1, n;

	if (queue_open(state_dir, id, eml, receipt, &out, &sent, e) != 0)
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
		rc = outbox_write_new(out, eml, msg, len, e);
		if (rc != 1)
			goto out;
	}
	err_set(e, "outbox: %s: too many copies", id);
	rc = -1;
out:
	outbox_close(out, sent);
	return rc;
}
