/*
 * prior_notice.c: the prior notice's protocol (see prior_notice.h).
 *
 * MUST rules:
 *  - notice-sent is journaled only for a notice the mail system accepted
 *    (in this run, or in a killed one whose receipt is in sent/);
 *  - a notice is for one termination date: its id names it
 *    (NOTICE-AGREEMENT-YYYY-MM-DD) and its notice-sent line says it, so
 *    that a changed date needs a new notice.
 */
#include "run/prior_notice.h"

#include "conf/category.h"
#include "conf/config.h"
#include "conf/policy.h"
#include "deliver/deliver.h"
#include "deliver/letters.h"
#include "plan/sched.h"
#include "base/err.h"
#include "state/journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Journals notice-sent for the prior notice of agreement a, which the mail
 * system has accepted.  terminated: the termination date the notice
 * announced (YYYY-MM-DD); the scheduler counts the notice only for that
 * date. */
static int
notice_sent(struct journal *j, const struct agreement *a,
    const char *terminated, const struct notice_tally *t)
{
	day_t term;
	char planned[11];
	struct err e;

	if (date_parse(terminated, &term) != 0)
		return 0;	/* not a notice id lethe made */
	date_format(sched_notice_end(a, term, tz_date_at(a->timezone,
	    time(NULL)), NULL), planned);
	if (journal_appendv(j, &e, "notice-sent", "agreement", a->id,
	    "trigger", "termination", "terminated", terminated, "planned",
	    planned, "to", a->contact, NULL) != 0) {
		diag_add(t->errors, a->id, 0, "%s", e.msg);
		return -1;
	}
	(*t->sent)++;
	diag_add(t->msgs, a->id, 0, "prior notice accepted for delivery to %s; "
	    "disposal no earlier than %s", a->contact, planned);
	return 0;
}

/* The exempt datasets the notice says are retained ("a, b"), cut at a
 * whole name. */
static void
retained(const struct agreement *a, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < a->nds; i++) {
		int w;
		if (!dataset_exempt(a, i))
			continue;
		w = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
		    a->ds[i].name);
		if (w < 0 || (size_t)w >= len - off)
			break;
		off += (size_t)w;
	}
}

/* The notice's message for row.  Returns 0, or -1 with *e set. */
static int
message(const struct config *c, const struct plan_row *row, char term[11],
    char disp[11], char **msg, size_t *len, struct err *e)
{
	const struct agreement *a = row->a;
	char dl[11], cats[512], kept[512];
	catset_t all = 0;
	struct notice n;

	for (size_t i = 0; i < row->nscope; i++)
		all |= a->ds[row->scope[i]].categories;
	retained(a, kept, sizeof(kept));
	category_format(all, cats, sizeof(cats));
	date_format(row->start, term);
	date_format(row->notice_planned, disp);
	date_format(row->deadline, dl);
	memset(&n, 0, sizeof(n));
	n.agreement = a->id;
	n.lea = a->lea;
	n.to = a->contact;
	n.terminated = term;
	n.disposal = disp;
	n.deadline = dl;
	n.categories = cats;
	n.ndatasets = row->nscope;
	n.retained = kept;
	return mime_notice_message(c, &n, msg, len, e);
}

int
prior_notice_send(const struct config *c, struct journal *j,
    const struct plan_row *row, const struct notice_tally *t)
{
	const struct agreement *a = row->a;
	char term[11], disp[11], id[160], *msg = NULL;
	size_t len;
	struct err e = { { 0 } };
	int q;

	/* The id is made from the termination date: formatted first. */
	date_format(row->start, term);
	if (snprintf(id, sizeof(id), "NOTICE-%s-%s", a->id, term) >=
	    (int)sizeof(id))
		return -1;
	if (message(c, row, term, disp, &msg, &len, &e) != 0 ||
	    (q = deliver_enqueue(c->state_dir, j, id, msg, len, 0, &e)) < 0) {
		free(msg);
		diag_add(t->errors, a->id, 0, "notice not queued: %s", e.msg);
		(*t->failed)++;
		return 0;
	}
	free(msg);
	/* Already accepted by an earlier run that was killed before it could
	 * journal notice-sent: journal it now (the period then runs from
	 * today, later than the mail said, never earlier), or the row would
	 * wait for a notice that is never sent again. */
	if (q == 1 && deliver_state(c->state_dir, id, NULL, &e) ==
	    DELIVER_SENT)
		return notice_sent(j, a, term, t);
	if (q == 2)	/* a damaged or lost notice, rebuilt */
		diag_add(t->msgs, a->id, 0, "%s", e.msg);
	/* The notice counts as sent (and its period starts) only when the
	 * mail system accepted it: see prior_notice_accepted(). */
	diag_add(t->msgs, a->id, 0, "prior notice of disposal on %s queued "
	    "for %s", disp, a->contact);
	return 0;
}

int
prior_notice_accepted(const struct policyset *ps, struct journal *j,
    const struct deliver_report *dr, const struct notice_tally *t)
{
	for (size_t i = 0; i < dr->n; i++) {
		const struct deliver_item *it = &dr->v[i];
		const struct agreement *a;
		char agr[160];
		size_t len;

		if (!it->ok || it->kind != DELIVER_NOTICE)
			continue;
		/* NOTICE-AGREEMENT-YYYY-MM-DD */
		len = strlen(it->cert);
		if (len < 7 + 1 + 11 || strncmp(it->cert, "NOTICE-", 7) != 0)
			continue;
		snprintf(agr, sizeof(agr), "%.*s", (int)(len - 7 - 11),
		    it->cert + 7);
		a = policy_find(ps, agr);
		if (a == NULL)
			continue;
		if (notice_sent(j, a, it->cert + len - 10, t) != 0)
			return -1;
	}
	return 0;
}
