/*
 * status.c: where a message stands, checked against the journal (see
 * deliver.h).  It never writes anything.
 */
#include "deliver/deliver.h"
#include "deliver/outbox.h"
#include "deliver/msglog.h"
#include "state/durable.h"
#include "base/date.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Reads sent/RECEIPT: when accepted and to whom. */
static void
read_receipt(const char *state_dir, const char *receipt,
    struct deliver_status *st)
{
	char path[4096], *text = NULL, *s;
	size_t len;
	struct err e;
	int n = snprintf(path, sizeof(path), "%s/%s/%s", state_dir, SENT_DIR,
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
	if ((sent = outbox_dir(state_dir, SENT_DIR, 0, e)) == -1 && errno != ENOENT)
		goto out;
	if (sent != -1 && outbox_has(sent, receipt)) {
		read_receipt(state_dir, receipt, st);
		rc = st->state = DELIVER_SENT;
		goto out;
	}
	if ((out = outbox_dir(state_dir, OUTBOX_DIR, 0, e)) == -1 && errno != ENOENT)
		goto out;
	if (msglog_load(state_dir, &lg, e) != 0)
		goto out;
	rec = msglog_find(&lg, id);
	if (rec != NULL)
		st->manifest = rec->manifest;
	if (rec != NULL && msglog_accepted(&lg, rec->msgid, &st->at)) {
		rc = st->state = DELIVER_SENT;	/* its move was interrupted */
	} else if (out != -1 && outbox_has(out, eml)) {
		if ((ok = outbox_check(out, id, rec, st->why, sizeof(st->why),
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
	outbox_close(out, sent);
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
	fd = outbox_dir(state_dir, which == DELIVER_SENT ? SENT_DIR : OUTBOX_DIR,
	    0, e);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	rc = outbox_list(fd, which == DELIVER_SENT ? "sent" : "outbox", ids, n,
	    e);
	close(fd);
	return rc;
}
