/*
 * sched.h: the scheduler of SPEC §5 as a pure function of policy, replayed
 * events and the clock.  `lethe plan`, `lethe run --dry-run` and `lethe run`
 * all select through sched_plan, so what plan shows is what run does.
 *
 * Dates are day numbers in each agreement's own time zone calendar
 * (STYLE §11): "today" is tz_date_at(agreement's timezone, now), and a
 * deadline of day D is met by anything done on or before D.
 */
#ifndef LETHE_SCHED_H
#define LETHE_SCHED_H

#include <stddef.h>
#include <time.h>

#include "base/date.h"

struct agreement;
struct events;
struct ev_directive;
struct ev_hold;
struct err;
struct policyset;

enum plan_state {
	PS_WAITING,		/* no trigger yet, or before due_from */
	PS_NOTICE_DUE,		/* termination: prior notice must be sent first */
	PS_DUE,
	PS_HELD,		/* every remaining dataset under a legal hold */
	PS_OVERDUE,		/* today > deadline, not done, not all held */
	PS_DONE,		/* every scope dataset destroyed */
	PS_CERTIFIED,		/* ... and certified */
	PS_DELIVERED,		/* ... and every certificate delivered */
	PS_DELIVERY_OVERDUE,	/* done, undelivered, today > certify_by */
};

enum trigger_kind { TRIG_TERMINATION, TRIG_DIRECTIVE, TRIG_REAPPEARED };

struct plan_row {
	size_t agreement;	/* index into ps->a */
	const struct agreement *a;
	int kind;		/* enum trigger_kind */
	char trigger[32];	/* "termination", "directive D-0001", "reappeared" */
	char trigger_id[32];	/* as in the journal: "termination", "D-0001",
				 * "reappeared" (disposition-start trigger=) */
	const struct ev_directive *dir;	/* TRIG_DIRECTIVE: the directive */
	day_t today;		/* today in the agreement's calendar */
	day_t start;		/* the trigger's date; DAY_NONE when waiting */
	day_t due_from;		/* DAY_NONE while notice is due or no trigger */
	day_t deadline;		/* DAY_NONE when no trigger */
	day_t certify_by;	/* latest certify_by of linked dispositions */
	int state;		/* enum plan_state */
	int notice_needed;	/* a prior notice must be sent before disposal */
	day_t notice_planned;	/* the disposal date to announce in it */
	size_t *scope;		/* indexes into a->ds that the trigger covers */
	size_t nscope;
	size_t *todo;		/* of scope: not yet destroyed, not held, and
				 * due now (state due or overdue) */
	size_t ntodo;
	size_t *held;		/* of scope: not destroyed, under a hold */
	size_t nheld;
	size_t *disp;		/* indexes into ev->disp linked to this row */
	size_t ndisp;
	size_t *waiting;	/* of scope: due, but an unfinished Exhibit D
				 * transfer of the same dataset comes first */
	size_t nwaiting;
	int blocked;		/* due, but refused before anything is done
				 * (a conflict, a failed preflight): why is in
				 * note; set by the caller (decide.c) */
	char note[512];
};

struct plan {
	struct plan_row *rows;
	size_t n;
};

/* Computes every agreement's rows at instant now (ordered by agreement as
 * in ps, then termination, directives by id, reappeared dispositions).
 * Never does I/O.  Returns 0, or -1 with *e set (out of memory). */
int sched_plan(const struct policyset *ps, const struct events *ev,
    time_t now, struct plan *out, struct err *e);
/* The same as if today were `today` in every agreement's calendar
 * (`--now DATE`); today == DAY_NONE is sched_plan itself. */
int sched_plan_on(const struct policyset *ps, const struct events *ev,
    time_t now, day_t today, struct plan *out, struct err *e);
void plan_free(struct plan *p);

/* 1 when any row is overdue or delivery-overdue (exit 3), else 0. */
int plan_overdue(const struct plan *p);
/* "waiting", "notice-due", "due", "held", "overdue", "done", "certified",
 * "delivered", "delivery-overdue". */
const char *plan_state_name(int state);
/* Which active hold (if any) freezes each dataset of a: by[i] for dataset
 * i (by has a->nds entries).  Holds fail closed: one naming a dataset or
 * categories the policy does not have freezes the whole agreement.  The
 * one rule for holds, used by the plan and by scope_guard.c. */
void sched_holds(const struct agreement *a, const struct events *ev,
    const struct ev_hold **by);
/* Whether dataset ds of agreement a is due now in p: in the todo of one
 * of a's rows that is due or overdue.  0 when p is NULL. */
int plan_dataset_due(const struct plan *p, const struct agreement *a,
    size_t ds);
/* The deadline of agreement a's termination on day term. */
day_t sched_termination_deadline(const struct agreement *a, day_t term);
/* The deadline of an Exhibit D directive of agreement a received on day
 * received: the agreement's limit (after_request), or the directive's
 * schedule when it is earlier (DAY_NONE: as soon as possible). */
day_t sched_directive_deadline(const struct agreement *a, day_t received,
    day_t schedule);
/* The first day disposal may go ahead after a prior notice of agreement
 * a's termination on day term that was (or will be) sent on day sent:
 * when its period (notice_before, counted from sent) ends, or on the
 * termination's deadline when that comes first, and never before term.
 * *period_end (when not NULL) gets the day the period itself ends, for
 * saying so when the deadline wins.  The date a notice announces, the
 * date it is journaled with, and when the plan lets disposal go ahead. */
day_t sched_notice_end(const struct agreement *a, day_t term, day_t sent,
    day_t *period_end);
/* Appends "; "-separated text to a row's note (cut, never overflowed). */
void plan_note(struct plan_row *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
