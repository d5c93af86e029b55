/*
 * sched_int.h: what the scheduler's files share (sched_plan.c the plan,
 * sched_trigger.c each trigger's row, sched_row.c a row's state,
 * sched_holds.c holds, sched_wait.c transfer waits, sched.c the rows).
 * Not for other modules: sched.h is the contract.
 */
#ifndef LETHE_SCHED_INT_H
#define LETHE_SCHED_INT_H

#include <stddef.h>

struct agreement;
struct events;
struct ev_directive;
struct ev_hold;
struct ev_termination;
struct plan_row;

/* The events of one agreement, as indexes into ev's arrays in journal
 * order: each row looks at its own agreement's events, never at all of
 * them (thousands of agreements stay linear). */
struct mine {
	const size_t *disp, *dir, *hold, *notice;
	size_t ndisp, ndir, nhold, nnotice;
	const struct ev_termination *term;	/* the latest, or NULL */
};

/* Per agreement: which hold (if any) freezes each dataset. */
struct holds {
	const struct ev_hold **by;	/* by[i]: a hold covering dataset i */
	char note[256];			/* fail-closed explanations */
};

/* Appends x to the array *v of *n.  Returns 0, or -1 out of memory. */
int sched_push(size_t **v, size_t *n, size_t x);
/* The index of a's dataset called name, or -1. */
int sched_find_dataset(const struct agreement *a, const char *name);
/* Whether row r is done (done, certified, delivered or delivery-overdue). */
int sched_row_finished(const struct plan_row *r);

/* Works out which datasets the active holds of a (its events m) freeze,
 * into h (h->by has a->nds entries, all NULL). */
void sched_holds_compute(const struct agreement *a, const struct events *ev,
    const struct mine *m, struct holds *h);

/* Decides the state of a row whose start, due_from, deadline and scope
 * are set, from its linked dispositions and the holds.  notice_pending:
 * a prior notice must still be sent before disposal.  Returns 0, or -1
 * out of memory. */
int sched_row_state(struct plan_row *r, const struct events *ev,
    const struct holds *h, int notice_pending);

/* Fills a fresh row for agreement r->a's termination / directive d /
 * reappeared disposition k, with its scope, dates and state.  Returns 0,
 * or -1 out of memory. */
int sched_termination_row(struct plan_row *r, const struct events *ev,
    const struct mine *m, const struct holds *h);
int sched_directive_row(struct plan_row *r, const struct events *ev,
    const struct mine *m, const struct holds *h,
    const struct ev_directive *d);
int sched_reappeared_row(struct plan_row *r, const struct events *ev,
    const struct holds *h, size_t k);
/* Whether failed reappeared disposition m->disp[q] was made good by a
 * later one of the agreement that completed over all its datasets. */
int sched_reappeared_superseded(const struct events *ev,
    const struct mine *m, size_t q);

/* Moves the datasets of the termination rows among rows[0..n) that an
 * unfinished Exhibit D transfer of the same data must come before from
 * their todo to their waiting list.  Returns 0, or -1 out of memory. */
int sched_wait_for_transfers(struct plan_row *rows, size_t n);

#endif
