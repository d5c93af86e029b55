/*
 * prior_notice.h: the prior notice of a termination disposal (NDPA IV.6;
 * SPEC §5), as the run carries it out.  Its protocol:
 *   1. the notice is queued (outbox, its SHA-256 journaled by deliver/);
 *   2. only when the mail system accepts it is `notice-sent` journaled:
 *      the notice period runs from that line, never from queueing, and its
 *      `planned` field is the disposal date the plan then counts from;
 *   3. a notice an earlier run had sent but not journaled (it was killed
 *      in between) is journaled when it is queued again.
 * When a notice is needed and how long it runs are the scheduler's rules
 * (plan/sched.c); this module only sends and records.
 */
#ifndef LETHE_PRIOR_NOTICE_H
#define LETHE_PRIOR_NOTICE_H

struct config;
struct deliver_report;
struct diags;
struct journal;
struct plan_row;
struct policyset;

/* Where the protocol's steps are said and counted (the run's report). */
struct notice_tally {
	struct diags *msgs;	/* what was done */
	struct diags *errors;	/* what failed, naming the agreement */
	unsigned *sent;		/* notices journaled as sent */
	unsigned *failed;	/* notices that could not be queued */
};

/* Queues the prior notice of row's termination disposal (or journals it
 * as sent, step 3), saying so in t.  A notice that cannot be queued is
 * said and counted as failed.  Returns -1 only when the journal failed. */
int prior_notice_send(const struct config *c, struct journal *j,
    const struct plan_row *row, const struct notice_tally *t);

/* Journals notice-sent for each prior notice the mail system accepted in
 * this delivery (step 2).  Returns -1 only when the journal failed. */
int prior_notice_accepted(const struct policyset *ps, struct journal *j,
    const struct deliver_report *dr, const struct notice_tally *t);

#endif
