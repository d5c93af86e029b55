/*
 * events_replay.c: replaying the journal (see events.h): each line, in
 * order, to the function of its event; events it does not know are
 * skipped (forward compatible).  Pure bookkeeping: the rules about what
 * is due live in the scheduler (sched.h).
 */
#include "plan/events.h"
#include "plan/events_int.h"

#include "base/err.h"
#include "base/num.h"
#include "state/journal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int
on_rec(const struct jrec *r, void *arg)
{
	static const struct {
		const char *event;
		int (*fn)(struct replay *, const struct jrec *);
	} table[] = {
		{ "terminate", ev_on_terminate },
		{ "directive-add", ev_on_directive_add },
		{ "directive-cancel", ev_on_directive_cancel },
		{ "hold", ev_on_hold },
		{ "release", ev_on_release },
		{ "notice-sent", ev_on_notice },
		{ "disposition-start", ev_on_disp_start },
		{ "disposition-complete", ev_on_disp_complete },
		{ "disposition-fail", ev_on_disp_fail },
		{ "certificate-issued", ev_on_cert },
		{ "delivery-attempt", ev_on_delivery },
		{ "journal-accept", ev_on_accept },
	};
	struct replay *rp = arg;
	int rc = 0;

	rp->ev->lines++;
	rp->ev->seq = r->seq;
	memcpy(rp->ev->head, r->hash, sizeof(rp->ev->head));
	if (strcmp(r->event, "file-intent") == 0)
		rc = ev_on_file(rp, r, 0);
	else if (strcmp(r->event, "file-destroyed") == 0)
		rc = ev_on_file(rp, r, 1);
	else
		for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
			if (strcmp(r->event, table[i].event) == 0) {
				rc = table[i].fn(rp, r);
				break;
			}
	if (rc == 0 && rp->oom)
		rc = err_set(rp->e, "%s:%" PRIu64 ": out of memory", rp->path,
		    r->seq);
	return rc;
}

int
events_load(const char *state_dir, struct events *ev, struct err *e)
{
	struct replay rp = { .ev = ev, .e = e };
	struct journal_report rep;
	char path[4096];
	int n;

	memset(ev, 0, sizeof(*ev));
	memset(ev->head, '0', 64);
	n = snprintf(path, sizeof(path), "%s/journal", state_dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return err_set(e, "%s: path too long", state_dir);
	rp.path = path;
	if (journal_scan(state_dir, on_rec, &rp, &rep, e) != 0)
		return -1;
	ev->torn = rep.torn;
	return 0;
}

int
events_apply(struct events *ev, const struct jrec *r, struct err *e)
{
	struct replay rp = { .ev = ev, .e = e, .path = "journal" };

	if (r->seq <= ev->seq)
		return 0;
	return on_rec(r, &rp);
}
