/*
 * sched.c: the scheduler's rows (see sched.h): their states by name,
 * their notes, and the questions asked of a plan.  The plan itself is
 * sched_plan.c; each trigger's row sched_trigger.c, its state
 * sched_row.c, holds sched_holds.c and transfer waits sched_wait.c, all
 * building on this file, which calls none of them.
 */
#include "plan/sched.h"
#include "plan/sched_int.h"
#include "conf/policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {
	[PS_WAITING] = "waiting",
	[PS_NOTICE_DUE] = "notice-due",
	[PS_DUE] = "due",
	[PS_HELD] = "held",
	[PS_OVERDUE] = "overdue",
	[PS_DONE] = "done",
	[PS_CERTIFIED] = "certified",
	[PS_DELIVERED] = "delivered",
	[PS_DELIVERY_OVERDUE] = "delivery-overdue",
};

const char *
plan_state_name(int s)
{
	if (s < 0 || (size_t)s >= sizeof(state_names) / sizeof(state_names[0]))
		return "?";
	return state_names[s];
}

void
plan_note(struct plan_row *r, const char *fmt, ...)
{
	size_t len = strlen(r->note);
	va_list ap;

	if (len > 0 && len + 2 < sizeof(r->note)) {
		memcpy(r->note + len, "; ", 3);
		len += 2;
	}
	if (len + 1 >= sizeof(r->note))
		return;
	va_start(ap, fmt);
	/* A note is for people; a long one is cut, never overflowed. */
	(void)vsnprintf(r->note + len, sizeof(r->note) - len, fmt, ap);
	va_end(ap);
}

int
sched_push(size_t **v, size_t *n, size_t x)
{
	size_t *p = realloc(*v, (*n + 1) * sizeof(**v));

	if (p == NULL)
		return -1;
	p[(*n)++] = x;
	*v = p;
	return 0;
}

int
sched_find_dataset(const struct agreement *a, const char *name)
{
	for (size_t i = 0; i < a->nds; i++)
		if (strcmp(a->ds[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
plan_dataset_due(const struct plan *p, const struct agreement *a, size_t ds)
{
	for (size_t i = 0; p != NULL && i < p->n; i++) {
		const struct plan_row *r = &p->rows[i];
		if (r->a != a || (r->state != PS_DUE && r->state != PS_OVERDUE))
			continue;
		for (size_t k = 0; k < r->ntodo; k++)
			if (r->todo[k] == ds)
				return 1;
	}
	return 0;
}

int
sched_row_finished(const struct plan_row *r)
{
	return r->state == PS_DONE || r->state == PS_CERTIFIED ||
	    r->state == PS_DELIVERED || r->state == PS_DELIVERY_OVERDUE;
}

void
plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->rows[i].scope);
		free(p->rows[i].todo);
		free(p->rows[i].held);
		free(p->rows[i].disp);
		free(p->rows[i].waiting);
	}
	free(p->rows);
	p->rows = NULL;
	p->n = 0;
}

int
plan_overdue(const struct plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->rows[i].state == PS_OVERDUE ||
		    p->rows[i].state == PS_DELIVERY_OVERDUE)
			return 1;
	return 0;
}
