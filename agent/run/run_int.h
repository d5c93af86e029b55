/*
 * run_int.h: what the files of `lethe run` share: run.c, the pass, calls
 * run_resume.c (what a killed run left, and the certificates due), which
 * calls run_exec.c (one disposition, from its journaled start to its
 * outcome), and run_report.c (what the run says: the dry run, blocked,
 * waiting and overdue rows, data that reappeared).  None of them calls
 * run.c, nor one listed before it.  Not for other modules: run.h is the
 * contract.
 */
#ifndef LETHE_RUN_INT_H
#define LETHE_RUN_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "run/decide.h"
#include "plan/events.h"
#include "run/prior_notice.h"
#include "run/run.h"
#include "state/journal.h"

struct agreement;
struct plan;
struct plan_row;

struct runner {
	const struct config *c;
	const struct policyset *ps;
	const struct run_opts *o;
	struct run_report *r;
	struct journal j;
	struct events ev;
	time_t now;
	struct decide d;	/* the plan, and how each row is decided */
	struct notice_tally notices;	/* prior_notice.h's, into r */
};

/* One disposition to carry out. */
struct run_disp {
	const struct agreement *a;
	const char *id;		/* NULL until its start is journaled */
	const char *trigger;	/* "termination", "D-0001", "reappeared" */
	const char *of;		/* reappeared: the trigger whose data it is */
	day_t trigger_date, deadline;
	const size_t *ds;	/* dataset indexes into a->ds */
	size_t nds;
	const char *transfer_to;	/* a transfer directive's, or NULL */
	int resume;		/* a killed run started it */
	time_t started;
};

/* run_resume.c */
/* Finishes every disposition a killed run started.  Returns -1 only when
 * the journal failed (the run stops). */
int run_resume_all(struct runner *rn);
/* Certifies every disposition done (or partial) without a certificate.
 * Failures are reported; returns 0. */
int run_certify_all(struct runner *rn);

/* run_exec.c */
/* Journals the start of a new disposition (its id given here) and carries
 * it out.  A disposition that cannot start (no room on state_dir, too many
 * dataset names) is reported and counted as failed.  Returns -1 only when
 * the journal failed. */
int run_begin(struct runner *rn, struct run_disp *dp);
/* Carries out one disposition whose start is already journaled, writes
 * its record and journals its outcome (disposition-complete or -fail; a
 * disposition that destroyed data it could not record is left open for
 * the next run).  Returns -1 when the journal failed or the disposition
 * was left open (the run stops). */
int run_execute(struct runner *rn, const struct run_disp *dp);
/* Applies the holds recorded since the run began (by `lethe hold`, the
 * only writer the run's lock lets in) to rn->ev: dispose_req.sync before
 * each destructive step, and run.c before each row.  arg is the runner.
 * Returns 0, or -1 with *e set when the journal cannot be read. */
int run_sync_holds(void *arg, struct err *e);

/* run_report.c */
/* The dry run's report of row i: what run would do, through the same
 * decisions.  Returns 0, or -1 when out of memory. */
int run_report_dry_row(struct runner *rn, size_t i);
/* Says what a row waits for; a blocked row is said as a failure, on every
 * run, so that cron mails it until it is fixed.  Returns 1 when the row
 * is blocked. */
int run_report_waits(struct runner *rn, const struct plan_row *row);
/* What is still overdue after the run, one line each, so that a run which
 * exits 3 under cron says why; and r->overdue. */
void run_report_overdue(struct runner *rn, const struct plan *p);
/* Data that reappeared in a finished row's datasets (a restore, a late
 * sync), looked for in every scope dataset that is not held; reappeared
 * data that cannot be destroyed is reported as a failure.  Returns the
 * objects found (0: nothing, or nothing to look in) with those datasets in
 * *scope (malloc'd, *n of them; free it), or -1 when out of memory. */
int64_t run_reappeared(struct runner *rn, const struct plan_row *row,
    size_t **scope, size_t *n);

#endif
