/*
 * events.c: the journal replayed (see events.h): the state replay builds,
 * freed, and the questions asked of it.  Replay itself is
 * events_replay.c, which builds on this file.
 */
#include "plan/events.h"
#include "plan/events_int.h"
#include "base/num.h"
#include "conf/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ev_free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
events_free(struct events *ev)
{
	for (size_t i = 0; i < ev->nterm; i++) {
		free(ev->term[i].agreement);
		free(ev->term[i].by);
	}
	for (size_t i = 0; i < ev->ndir; i++) {
		struct ev_directive *d = &ev->dir[i];
		free(d->agreement);
		free(d->transfer_to);
		free(d->requested_by);
		free(d->by);
		free(d->cancel_reason);
		free(d->cancelled_by);
	}
	for (size_t i = 0; i < ev->nhold; i++) {
		struct ev_hold *h = &ev->hold[i];
		free(h->agreement);
		free(h->reason);
		ev_free_list(h->datasets, h->ndatasets);
		free(h->categories);
		free(h->by);
		free(h->released_by);
	}
	for (size_t i = 0; i < ev->nnotice; i++) {
		free(ev->notice[i].agreement);
		free(ev->notice[i].trigger);
		free(ev->notice[i].to);
	}
	for (size_t i = 0; i < ev->ndisp; i++) {
		struct ev_disposition *d = &ev->disp[i];
		free(d->id);
		free(d->agreement);
		free(d->trigger);
		free(d->of);
		ev_free_list(d->datasets, d->ndatasets);
		ev_free_list(d->done_datasets, d->ndone_datasets);
		free(d->fail_reason);
		free(d->cert);
		free(d->last_detail);
	}
	free(ev->term);
	free(ev->dir);
	free(ev->hold);
	free(ev->notice);
	for (size_t i = 0; i < ev->naccept; i++) {
		free(ev->accept[i].kind);
		free(ev->accept[i].reason);
		free(ev->accept[i].by);
	}
	free(ev->disp);
	free(ev->accept);
	strmap_free(&ev->by_term);
	strmap_free(&ev->by_disp);
	strmap_free(&ev->by_cert);
	memset(ev, 0, sizeof(*ev));
}

/* The key of element i of an array of events. */
typedef const char *keyof_fn(const void *arr, size_t i);

static const char *
term_agreement(const void *arr, size_t i)
{
	return ((const struct ev_termination *)arr)[i].agreement;
}

static const char *
disp_id(const void *arr, size_t i)
{
	return ((const struct ev_disposition *)arr)[i].id;
}

static const char *
dir_id(const void *arr, size_t i)
{
	return ((const struct ev_directive *)arr)[i].id;
}

static const char *
hold_id(const void *arr, size_t i)
{
	return ((const struct ev_hold *)arr)[i].id;
}

/* The index of the first of arr[0..n) whose key is key, or n: through map
 * when replay built it over all n (events built by hand have none), else
 * by a scan. */
static size_t
find(const void *arr, size_t n, keyof_fn *keyof, const struct strmap *map,
    const char *key)
{
	size_t i;

	if (map != NULL && map->n == n)
		return strmap_get(map, key, &i) == 0 && i < n &&
		    strcmp(keyof(arr, i), key) == 0 ? i : n;
	for (i = 0; i < n && strcmp(keyof(arr, i), key) != 0; i++)
		;
	return i;
}

const struct ev_termination *
events_termination(const struct events *ev, const char *agreement)
{
	size_t i = find(ev->term, ev->nterm, term_agreement, &ev->by_term,
	    agreement);

	return i < ev->nterm ? &ev->term[i] : NULL;
}

day_t
events_terminated(const struct events *ev, const struct agreement *a)
{
	const struct ev_termination *t = events_termination(ev, a->id);

	return t != NULL ? t->date : a->terminated;
}

int
events_notice_announces(const struct ev_notice *n, const struct agreement *a,
    const char *trigger, day_t term)
{
	day_t said = n->terminated != DAY_NONE ? n->terminated :
	    a->terminated;

	return strcmp(n->agreement, a->id) == 0 &&
	    strcmp(n->trigger, trigger) == 0 && said == term;
}

const struct ev_notice *
events_notice(const struct events *ev, const struct agreement *a,
    const char *trigger, day_t term)
{
	const struct ev_notice *n = NULL;

	for (size_t i = 0; i < ev->nnotice; i++)
		if (events_notice_announces(&ev->notice[i], a, trigger, term))
			n = &ev->notice[i];
	return n;
}

const struct ev_directive *
events_directive(const struct events *ev, const char *id)
{
	size_t i = find(ev->dir, ev->ndir, dir_id, NULL, id);

	return i < ev->ndir ? &ev->dir[i] : NULL;
}

const struct ev_hold *
events_hold(const struct events *ev, const char *id)
{
	size_t i = find(ev->hold, ev->nhold, hold_id, NULL, id);

	return i < ev->nhold ? &ev->hold[i] : NULL;
}

const struct ev_disposition *
events_disposition(const struct events *ev, const char *id)
{
	size_t i = find(ev->disp, ev->ndisp, disp_id, &ev->by_disp, id);

	return i < ev->ndisp ? &ev->disp[i] : NULL;
}

/* Whether failed disposition k was finished by a later disposition of the
 * same agreement and trigger that completed and was certified. */
static int
finished_later(const struct events *ev, size_t k)
{
	const struct ev_disposition *d = &ev->disp[k];

	for (size_t j = k + 1; j < ev->ndisp; j++) {
		const struct ev_disposition *l = &ev->disp[j];
		if (l->completed != 0 && l->cert != NULL &&
		    strcmp(l->trigger, d->trigger) == 0 &&
		    strcmp(l->agreement, d->agreement) == 0)
			return 1;
	}
	return 0;
}

const struct ev_disposition *
events_uncertified(const struct events *ev, const char *trigger)
{
	for (size_t k = 0; k < ev->ndisp; k++) {
		const struct ev_disposition *d = &ev->disp[k];
		if (strcmp(d->trigger, trigger) != 0 || d->cert != NULL)
			continue;
		/* Interrupted: its files are recorded in work/ID, not here,
		 * and the next run finishes and certifies it. */
		if (d->completed == 0 && d->failed == 0)
			return d;
		if (d->ndestroyed == 0 && d->files == 0)
			continue;
		/* A failure from before partial certificates: a later
		 * certified disposition of the trigger is all that finishes it.
		 * (A partial one is finished by its own certificate.) */
		if (d->failed != 0 && d->completed == 0 && !d->partial &&
		    finished_later(ev, k))
			continue;
		return d;
	}
	return NULL;
}

static char *
next_id(const char *prefix, size_t count, keyof_fn *idof, const void *arr,
    char *buf)
{
	int64_t max = 0, n;

	for (size_t i = 0; i < count; i++) {
		const char *id = idof(arr, i);
		if (num_parse(id + 2, 1, 999999999, &n) == 0 && n > max)
			max = n;
	}
	/* max <= 999999999, so "X-" and ten digits always fit in 16. */
	if (snprintf(buf, 16, "%s-%04lld", prefix, (long long)(max + 1)) >= 16)
		buf[0] = '\0';
	return buf;
}

char *
events_next_directive_id(const struct events *ev, char *buf)
{
	return next_id("D", ev->ndir, dir_id, ev->dir, buf);
}

char *
events_next_hold_id(const struct events *ev, char *buf)
{
	return next_id("H", ev->nhold, hold_id, ev->hold, buf);
}

const struct ev_directive *
events_directive_by_sha(const struct events *ev, const char *sha256)
{
	for (size_t i = 0; i < ev->ndir; i++)
		if (ev->dir[i].sha256[0] != '\0' &&
		    strcmp(ev->dir[i].sha256, sha256) == 0)
			return &ev->dir[i];
	return NULL;
}
