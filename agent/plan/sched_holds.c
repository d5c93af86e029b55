/*
 * sched_holds.c: which datasets legal holds freeze (see sched_holds in
 * sched.h): the one rule for holds, used by the plan and by scope.
 *
 * MUST rules:
 *  - holds fail closed: a hold whose datasets or categories match nothing
 *    in the policy freezes the whole agreement, and says so;
 *  - a released hold freezes nothing.
 */
#include "plan/sched.h"
#include "plan/sched_int.h"
#include "conf/policy.h"
#include "plan/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
sched_holds_compute(const struct agreement *a, const struct events *ev,
    const struct mine *m, struct holds *h)
{
	h->note[0] = '\0';
	for (size_t q = 0; q < m->nhold; q++) {
		const struct ev_hold *x = &ev->hold[m->hold[q]];
		int whole = 0, matched = 0;
		size_t n;

		if (x->released)
			continue;
		whole = x->ndatasets == 0 && x->categories == NULL;
		for (size_t j = 0; j < x->ndatasets; j++) {
			int i = sched_find_dataset(a, x->datasets[j]);
			if (i < 0) {
				whole = 1;
				n = strlen(h->note);
				(void)snprintf(h->note + n, sizeof(h->note) - n,
				    "%shold %s names dataset '%s', which is not "
				    "in the policy: whole agreement held",
				    n ? "; " : "", x->id, x->datasets[j]);
			} else if (h->by[i] == NULL) {
				h->by[i] = x;
			}
		}
		if (x->categories != NULL) {
			for (size_t i = 0; i < a->nds && !x->cat_unknown; i++)
				if (a->ds[i].categories & x->catset) {
					matched = 1;
					if (h->by[i] == NULL)
						h->by[i] = x;
				}
			if (!matched) {
				whole = 1;
				n = strlen(h->note);
				(void)snprintf(h->note + n, sizeof(h->note) - n,
				    "%shold %s categories '%s' match no dataset: "
				    "whole agreement held", n ? "; " : "", x->id,
				    x->categories);
			}
		}
		if (whole)
			for (size_t i = 0; i < a->nds; i++)
				if (h->by[i] == NULL)
					h->by[i] = x;
	}
}

void
sched_holds(const struct agreement *a, const struct events *ev,
    const struct ev_hold **by)
{
	struct holds h;
	struct mine m;
	size_t *v = calloc(ev->nhold + 1, sizeof(*v)), n = 0;

	memset(by, 0, a->nds * sizeof(*by));
	memset(&m, 0, sizeof(m));
	if (v == NULL) {
		/* Fail closed: everything held. */
		for (size_t i = 0; i < a->nds; i++)
			by[i] = ev->nhold > 0 ? &ev->hold[0] : NULL;
		return;
	}
	for (size_t k = 0; k < ev->nhold; k++)
		if (strcmp(ev->hold[k].agreement, a->id) == 0)
			v[n++] = k;
	m.hold = v;
	m.nhold = n;
	h.by = by;
	sched_holds_compute(a, ev, &m, &h);
	free(v);
}
