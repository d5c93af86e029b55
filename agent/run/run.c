/*
 * run.c: the daily pass (see run.h): the trust gate, what a killed run
 * left (run_resume.c), each due row in pass order (its prior notice,
 * prior_notice.c; its disposition, run_exec.c), certificates, delivery,
 * and the closing checkpoint; or, for a dry run, the same decisions only
 * reported (run_report.c).
 *
 * MUST rules:
 *  - nothing is done on a journal that fails the trust gate, and the
 *    journal is sealed with a signed checkpoint before anything is done;
 *  - a disposition a killed run started is finished before anything new
 *    is begun (run_exec.c holds the rules of one disposition);
 *  - a dry run takes no lock, opens no journal and changes nothing: it asks
 *    the same scheduler and the same locator, and only counts.
 */
#include "run/run_int.h"

#include "base/secmem.h"
#include "base/strmap.h"
#include "certify/cert.h"
#include "certify/certify.h"
#include "certify/checkpoint.h"
#include "conf/config.h"
#include "conf/policy.h"
#include "deliver/deliver.h"
#include "dispose/dispose.h"
#include "plan/reappear.h"
#include "run/prior_notice.h"
#include "state/durable.h"
#include "state/lock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
reload(struct runner *rn, struct err *e)
{
	events_free(&rn->ev);
	return events_load(rn->c->state_dir, &rn->ev, e);
}

/* What a due row's scope holds now, just before it starts: 1 when there
 * is something to destroy (or an empty scope to certify), 0 when not
 * (said, when it is all refused), -1 when out of memory. */
static int
worth_starting(struct runner *rn, const struct plan_row *row)
{
	struct dispose_preview p;
	struct err e = { { 0 } };
	struct reappear rp;
	struct scope_ctx sx;
	uint64_t objs;
	int rc;

	if (row->ntodo == 0)
		return 1;	/* nothing in scope: certified as such */
	rc = decide_reappeared(&rn->d, row->a, decide_reappeared_of(&rn->d,
	    row), &sx, &rp, &e);
	if (rc == 0) {
		rc = dispose_preview(&sx, row->a, row->todo, row->ntodo, &p,
		    NULL, &e);
		reappear_free(&rp);
	}
	if (rc != 0) {
		diag_add(&rn->r->errors, row->a->id, 0, "%s: not started: %s",
		    row->trigger, e.msg);
		rn->r->failed++;
		return 0;
	}
	objs = dispose_preview_objects(&p);
	if (objs == 0 && p.refused > 0) {
		diag_add(&rn->r->errors, row->a->id, 0, "%s: not started: %s",
		    row->trigger, p.first_refusal);
		rn->r->failed++;
		return 0;
	}
	/* A failed supplementary disposition is retried only while its
	 * data is still there, never as an empty certificate. */
	if (objs == 0 && row->kind == TRIG_REAPPEARED)
		return 0;
	return 1;
}

/* Does what row calls for now: its prior notice, its disposition, or a
 * supplementary one for data that reappeared after it.  Returns -1 only
 * when the journal failed. */
static int
real_row(struct runner *rn, const struct plan_row *row)
{
	const struct agreement *a = row->a;
	struct run_disp dp = {
		.a = a, .trigger = row->trigger_id,
		.of = decide_reappeared_of(&rn->d, row),
		.trigger_date = row->start, .deadline = row->deadline,
		.ds = row->todo, .nds = row->ntodo,
		.transfer_to = decide_transfer_of(row),
	};
	size_t *scope, n;
	int64_t found;
	int rc = 0;

	/* A notice still unsent on the deadline day goes out with the
	 * disposal (sched.c: the deadline wins); before that day it is all
	 * the run does for the row. */
	if (decide_notice_now(row)) {
		if (prior_notice_send(rn->c, &rn->j, row, &rn->notices) != 0)
			return -1;
		if (row->state == PS_NOTICE_DUE)
			return 0;
	}
	if (run_report_waits(rn, row))
		return 0;
	if (decide_row_acts(row)) {
		if (!worth_starting(rn, row))
			return 0;
		if (row->kind == TRIG_REAPPEARED)
			rn->r->reappeared++;
		return run_begin(rn, &dp);
	}
	if (!decide_row_finished(row))
		return 0;
	found = run_reappeared(rn, row, &scope, &n);
	if (found < 0)
		return -1;
	if (found > 0) {
		struct run_disp re = {
			.a = a, .trigger = "reappeared",
			.of = row->trigger_id, .ds = scope, .nds = n,
		};
		re.trigger_date = re.deadline = tz_date_at(a->timezone,
		    rn->now);
		rn->r->reappeared++;
		rc = run_begin(rn, &re);
	}
	free(scope);
	return rc;
}

static int
config_event(struct runner *rn, struct err *e)
{
	char hex[65], np[32];
	char *buf = NULL;
	size_t len = 0;

	if (slurp(rn->c->path, 1 << 20, &buf, &len, e) != 0)
		return -1;
	cert_sha256_hex(buf, len, hex);
	free(buf);
	snprintf(np, sizeof(np), "%zu", rn->ps->n);
	return journal_appendv(&rn->j, e, "config-loaded", "conf_sha256", hex,
	    "policies", np, "host", rn->c->host, NULL);
}

static int
run_dry(struct runner *rn, struct err *e)
{
	if (events_load(rn->c->state_dir, &rn->ev, e) != 0)
		return -1;
	if (decide_open(&rn->d, rn->c, rn->ps, &rn->ev, rn->now, rn->o->today,
	    e) != 0 || decide_walk(&rn->d, rn->o->list, e) != 0)
		return -1;
	for (size_t i = 0; i < rn->ev.ndisp; i++) {
		const struct ev_disposition *dp = &rn->ev.disp[i];
		if (dp->completed == 0 && dp->failed == 0) {
			diag_add(&rn->r->msgs, dp->agreement, 0, "would resume "
			    "interrupted disposition %s", dp->id);
			rn->r->resumed++;
		} else if ((dp->completed != 0 || dp->partial) &&
		    dp->cert == NULL) {
			diag_add(&rn->r->msgs, dp->agreement, 0, "would issue "
			    "the %scertificate of %s", dp->partial ?
			    "partial " : "", dp->id);
		}
	}
	for (int pass = 0; pass < DECIDE_PASSES; pass++)
		for (size_t i = 0; i < rn->d.plan.n; i++)
			if (decide_pass(&rn->d.plan.rows[i]) == pass &&
			    run_report_dry_row(rn, i) != 0)
				return err_set(e, "out of memory");
	run_report_overdue(rn, &rn->d.plan);
	return 0;
}

/* Decides afresh from the journal as it is now. */
static int
redecide(struct runner *rn, time_t now, struct err *e)
{
	decide_close(&rn->d);
	if (reload(rn, e) != 0)
		return -1;
	return decide_open(&rn->d, rn->c, rn->ps, &rn->ev, now, DAY_NONE, e);
}

/* Trusted only as far as signed (SPEC §9): the journal must pass the trust
 * gate before anything is done, and is sealed at once, so that a run
 * killed at any instant leaves a journal whose runs are signed. */
static int
run_trust(struct runner *rn, struct err *e)
{
	int rc = -1;

	if (rn->j.repaired > 0)
		diag_add(&rn->r->msgs, "journal", 0, "removed a torn last line "
		    "(%llu bytes, an interrupted write) and journaled the repair",
		    (unsigned long long)rn->j.repaired);
	if (journal_lock(&rn->j, e) != 0)
		return -1;
	if (certify_gate_or_refuse(rn->c, &rn->j, e) != 0)
		;
	else if (certify_checkpoint(rn->c, &rn->j, e) != 0)
		err_wrap(e, "run not started: blocked: preflight: the journal "
		    "cannot be sealed with a signed checkpoint before the run (",
		    "); nothing was done");
	else
		rc = 0;
	journal_unlock(&rn->j);
	return rc;
}

/* Delivers what the outbox holds (certificates, notices), says what was
 * not sent, and journals the notices accepted.  Returns -1 only when the
 * journal failed. */
static int
deliver_all(struct runner *rn, struct err *e)
{
	struct deliver_report dr;
	int rc;

	memset(&dr, 0, sizeof(dr));
	if (deliver_flush(rn->c, &rn->j, NULL, &dr, e) != 0) {
		diag_add(&rn->r->errors, "delivery", 0, "%s", e->msg);
		rn->r->failed++;
	}
	rn->r->delivered += deliver_sanitize(rn->c, &dr, &rn->j, &rn->r->errors);
	for (size_t i = 0; i < dr.n; i++)
		if (dr.v[i].damaged) {
			/* Never sent: its detail says why and what to do. */
			diag_add(&rn->r->errors, dr.v[i].id, 0, "%s",
			    dr.v[i].detail);
			rn->r->failed++;
		} else if (!dr.v[i].ok) {
			/* Kept in the outbox and retried by the next run; said
			 * here so that cron mails it to the admin. */
			diag_add(&rn->r->errors, dr.v[i].id, 0, "not accepted "
			    "by %s: %s; kept in the outbox for the next run",
			    rn->c->sendmail, dr.v[i].detail);
			rn->r->failed++;
		}
	rc = prior_notice_accepted(rn->ps, &rn->j, &dr, &rn->notices);
	deliver_report_free(&dr);
	return rc;
}

/* Whether row is one act_all has already acted on in this run. */
static int
acted_on(const struct strmap *acted, const struct plan_row *row, char *key,
    size_t len)
{
	size_t v;

	snprintf(key, len, "%s\t%s", row->a->id, row->trigger_id);
	return strmap_get(acted, key, &v) == 0;
}

/* Acts on every row, pass by pass.  A hold recorded while the run goes on
 * is decided before the next row begins (SPEC §5): the plan is decided
 * afresh and the passes start over, each row acted on at most once.
 * Returns 0, or -1 with *e set when the run cannot be recorded. */
static int
act_all(struct runner *rn, struct err *e)
{
	struct strmap acted = { 0 };
	char key[200];
	size_t holds;
	int rc = -1;

again:
	holds = rn->ev.nhold;
	for (int pass = 0; pass < DECIDE_PASSES; pass++)
		for (size_t i = 0; i < rn->d.plan.n; i++) {
			const struct plan_row *row = &rn->d.plan.rows[i];
			if (decide_pass(row) != pass ||
			    acted_on(&acted, row, key, sizeof(key)))
				continue;
			if (run_sync_holds(rn, e) != 0)
				goto out;
			if (rn->ev.nhold != holds) {
				if (redecide(rn, rn->now, e) != 0)
					goto out;
				goto again;
			}
			if (strmap_put(&acted, key, 1) != 0) {
				err_set(e, "out of memory");
				goto out;
			}
			if (real_row(rn, row) != 0) {
				err_set(e, "journal: cannot record the run; "
				    "stopped");
				goto out;
			}
		}
	rc = 0;
out:
	strmap_free(&acted);
	return rc;
}

static int
run_real(struct runner *rn, struct err *e)
{
	int rc = -1;

	if (journal_open(rn->c->state_dir, &rn->j, e) != 0)
		return -1;
	if (run_trust(rn, e) != 0)
		goto out;
	if (config_event(rn, e) != 0)
		goto out;
	if (events_load(rn->c->state_dir, &rn->ev, e) != 0 ||
	    decide_open(&rn->d, rn->c, rn->ps, &rn->ev, rn->now, DAY_NONE,
	    e) != 0)
		goto out;
	/* A killed run's work first: each file destroyed once, each
	 * certificate issued once. */
	if (run_resume_all(rn) != 0 || reload(rn, e) != 0)
		goto out;
	if (run_certify_all(rn) != 0 || redecide(rn, rn->now, e) != 0)
		goto out;
	if (act_all(rn, e) != 0)
		goto out;
	if (reload(rn, e) != 0 || run_certify_all(rn) != 0)
		goto out;
	if (deliver_all(rn, e) != 0)
		goto out;
	if (certify_checkpoint(rn->c, &rn->j, e) != 0) {
		diag_add(&rn->r->errors, "journal", 0, "checkpoint: %s", e->msg);
		rn->r->failed++;
	}
	if (redecide(rn, time(NULL), e) != 0)
		goto out;
	run_report_overdue(rn, &rn->d.plan);
	rc = 0;
out:
	decide_close(&rn->d);
	journal_close(&rn->j);
	return rc;
}

int
run_all(const struct config *c, const struct policyset *ps,
    const struct run_opts *o, struct run_report *r, struct err *e)
{
	struct runner rn;
	int lockfd = -1, rc;

	memset(&rn, 0, sizeof(rn));
	rn.c = c;
	rn.ps = ps;
	rn.o = o;
	rn.r = r;
	rn.j.fd = -1;
	rn.now = time(NULL);
	rn.notices = (struct notice_tally){ &r->msgs, &r->errors, &r->notices,
	    &r->failed };
	if (o->dry_run) {
		rc = run_dry(&rn, e);
		decide_close(&rn.d);
		events_free(&rn.ev);
		return rc;
	}
	if (o->today != DAY_NONE)
		return err_set(e, "--now is only for --dry-run: what is "
		    "destroyed is dated by the clock");
	/* A run may load the KEK and rotate it (crypto-shred): no core dump
	 * may ever hold key material. */
	if (secmem_no_core(e) != 0)
		return -1;
	if (lock_acquire(c->state_dir, 0, &lockfd, e) != 0)
		return -1;
	rc = run_real(&rn, e);
	events_free(&rn.ev);
	lock_release(lockfd);
	return rc;
}
