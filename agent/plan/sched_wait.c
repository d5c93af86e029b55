/*
 * sched_wait.c: an Exhibit D transfer the LEA asked for and not yet done
 * comes before any destruction of the same data: a termination falling
 * due first must not destroy what is still to be handed over (see
 * sched_wait_for_transfers in sched_int.h).  A due row left with nothing
 * to do waits; an overdue one stays overdue.
 */
#include "plan/sched.h"
#include "plan/sched_int.h"
#include "plan/events.h"

#include <stddef.h>

/* The unfinished Exhibit D transfer among rows[0..n) whose scope holds
 * dataset ds, or NULL. */
static const struct plan_row *
transfer_of(const struct plan_row *rows, size_t n, size_t ds)
{
	for (size_t d = 0; d < n; d++) {
		const struct plan_row *x = &rows[d];
		if (x->kind != TRIG_DIRECTIVE || x->dir == NULL ||
		    !x->dir->transfer || sched_row_finished(x))
			continue;
		for (size_t j = 0; j < x->nscope; j++)
			if (x->scope[j] == ds)
				return x;
	}
	return NULL;
}

int
sched_wait_for_transfers(struct plan_row *rows, size_t n)
{
	for (size_t t = 0; t < n; t++) {
		struct plan_row *tr = &rows[t];
		size_t kept = 0;
		const char *by = NULL;

		if (tr->kind != TRIG_TERMINATION || tr->ntodo == 0)
			continue;
		for (size_t k = 0; k < tr->ntodo; k++) {
			const struct plan_row *dr = transfer_of(rows, n,
			    tr->todo[k]);
			if (dr == NULL) {
				tr->todo[kept++] = tr->todo[k];
				continue;
			}
			if (sched_push(&tr->waiting, &tr->nwaiting,
			    tr->todo[k]) != 0)
				return -1;
			by = dr->trigger;
		}
		tr->ntodo = kept;
		if (tr->nwaiting == 0)
			continue;
		plan_note(tr, "%zu dataset%s wait%s for the transfer of %s "
		    "first", tr->nwaiting, tr->nwaiting == 1 ? "" : "s",
		    tr->nwaiting == 1 ? "s" : "", by);
		if (tr->ntodo == 0 && tr->state == PS_DUE)
			tr->state = PS_WAITING;
	}
	return 0;
}
