/*
 * run_resume.c: what a killed run left, finished first (see run_int.h):
 * each disposition journaled as started and never closed is carried out
 * again from its own records (work/ID), so each file is destroyed once;
 * then every disposition done (or partial) without a certificate is
 * certified, so each certificate is issued once.
 */
#include "run/run_int.h"

#include "certify/certify.h"
#include "conf/config.h"
#include "conf/policy.h"
#include "deliver/letters.h"
#include "state/space.h"

#include <stdlib.h>
#include <string.h>

static size_t
ds_index(const struct agreement *a, const char *name)
{
	for (size_t i = 0; i < a->nds; i++)
		if (strcmp(a->ds[i].name, name) == 0)
			return i;
	return (size_t)-1;
}

/* An interrupted disposition whose agreement is gone from the policies:
 * journaled as failed.  Returns -1 only when the journal failed. */
static int
orphaned(struct runner *rn, const struct ev_disposition *dp)
{
	struct err e;

	diag_add(&rn->r->errors, dp->agreement, 0, "disposition %s was "
	    "interrupted, and its agreement is no longer in the policies",
	    dp->id);
	rn->r->failed++;
	return journal_appendv(&rn->j, &e, "disposition-fail", "id", dp->id,
	    "reason", "agreement no longer in policies", NULL) != 0 ? -1 : 0;
}

/* Carries out again the disposition dp a killed run started, as it was
 * journaled. */
static int
resume_one(struct runner *rn, const struct ev_disposition *dp,
    const struct agreement *a)
{
	struct run_disp rd = {
		.a = a, .id = dp->id, .trigger = dp->trigger, .of = dp->of,
		.trigger_date = DAY_NONE, .deadline = dp->deadline,
		.resume = 1, .started = dp->started,
	};
	size_t *ds, n = 0;
	int rc;

	ds = calloc(dp->ndatasets + 1, sizeof(*ds));
	if (ds == NULL)
		return -1;
	for (size_t k = 0; k < dp->ndatasets; k++) {
		size_t x = ds_index(a, dp->datasets[k]);
		if (x != (size_t)-1)
			ds[n++] = x;
	}
	if (strncmp(dp->trigger, "D-", 2) == 0) {
		const struct ev_directive *dv =
		    events_directive(&rn->ev, dp->trigger);
		if (dv != NULL) {
			rd.trigger_date = dv->received;
			if (dv->transfer)
				rd.transfer_to = dv->transfer_to;
		}
	} else if (strcmp(dp->trigger, "termination") == 0) {
		rd.trigger_date = events_terminated(&rn->ev, a);
	} else {
		rd.trigger_date = tz_date_at(a->timezone, dp->started);
	}
	rd.ds = ds;
	rd.nds = n;
	rn->r->resumed++;
	rc = run_execute(rn, &rd);
	free(ds);
	return rc;
}

int
run_resume_all(struct runner *rn)
{
	for (size_t i = 0; i < rn->ev.ndisp; i++) {
		const struct ev_disposition *dp = &rn->ev.disp[i];
		const struct agreement *a;
		struct err e;

		if (dp->completed != 0 || dp->failed != 0)
			continue;
		if (state_space_ok(rn->c->state_dir, state_space_need(0),
		    &e) != 0) {
			diag_add(&rn->r->errors, dp->agreement, 0, "disposition "
			    "%s not resumed: %s", dp->id, e.msg);
			rn->r->failed++;
			continue;
		}
		a = policy_find(rn->ps, dp->agreement);
		if (a == NULL ? orphaned(rn, dp) != 0 :
		    resume_one(rn, dp, a) != 0)
			return -1;
	}
	return 0;
}

int
run_certify_all(struct runner *rn)
{
	for (size_t i = 0; i < rn->ev.ndisp; i++) {
		const struct ev_disposition *dp = &rn->ev.disp[i];
		struct err e = { { 0 } };
		struct certified ci;

		if ((dp->completed == 0 && !dp->partial) || dp->cert != NULL)
			continue;
		/* The files, then the message queued, then the journal. */
		if (certify(rn->c, rn->ps, &rn->ev, dp, &rn->j, &ci, &e) != 0 ||
		    deliver_cert(rn->c, &rn->j, ci.id, ci.to, &e) != 0 ||
		    certify_issued(&rn->j, dp, &ci, &e) != 0) {
			diag_add(&rn->r->errors, dp->agreement, 0,
			    "certificate for %s not issued: %s", dp->id, e.msg);
			rn->r->failed++;
			continue;
		}
		rn->r->certified++;
		diag_add(&rn->r->msgs, dp->agreement, 0,
		    "%scertificate %s issued and queued for the LEA",
		    dp->partial ? "partial " : "", ci.id);
	}
	return 0;
}
