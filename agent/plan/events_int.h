/*
 * events_int.h: what the replay of the journal shares (events_replay.c
 * the loop and its table of events, events_field.c the fields of a line,
 * events_agree.c and events_disp.c the events, events.c the replayed
 * state).  Not for other modules: events.h is the contract.
 */
#ifndef LETHE_EVENTS_INT_H
#define LETHE_EVENTS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/date.h"

struct err;
struct events;
struct jrec;

/* One replay under way. */
struct replay {
	struct events *ev;
	struct err *e;
	const char *path;	/* state_dir/journal, for messages */
	int oom;
};

/* Grows the array *v (n elements of size sz) so one more fits: the
 * capacity doubles at powers of two, so it needs no field of its own.
 * Returns 0, or -1 when out of memory. */
int ev_grow(void *v, size_t n, size_t sz);
/* Appends a zeroed element of size sz to the array *v of *n (ev_grow's
 * capacity) and returns it; NULL when out of memory (rp->oom set). */
void *ev_append(struct replay *rp, void *v, size_t *n, size_t sz);
/* strdup(s), NULL for NULL; out of memory sets rp->oom. */
char *ev_xdup(struct replay *rp, const char *s);
/* Sets *rp->e to "PATH:SEQ: EVENT event: WHAT 'KEY'".  Returns -1. */
int ev_bad(struct replay *rp, const struct jrec *r, const char *what,
    const char *key);
/* The value of a required field; NULL with *rp->e set when missing. */
const char *ev_need(struct replay *rp, const struct jrec *r, const char *key);
/* A required date / non-negative number field.  Returns 0, or -1 with
 * *rp->e naming the line. */
int ev_need_date(struct replay *rp, const struct jrec *r, const char *key,
    day_t *out);
int ev_need_u64(struct replay *rp, const struct jrec *r, const char *key,
    uint64_t *out);
/* Splits "a,b,c" into a new array of names ("" and NULL give none).
 * Returns 0, or -1 (rp->oom set). */
int ev_split_list(struct replay *rp, const char *s, char ***out, size_t *n);
/* Frees an array of names (events.c). */
void ev_free_list(char **v, size_t n);
/* Whether s is an id "P-N" with prefix p and 1 <= N <= 999999999. */
int ev_is_id(const char *s, char prefix);

/* The events, one function each (events_agree.c, events_disp.c): each
 * applies record r to rp->ev.  Returns 0, or -1 with *rp->e naming the
 * line (or rp->oom set). */
int ev_on_terminate(struct replay *rp, const struct jrec *r);
int ev_on_directive_add(struct replay *rp, const struct jrec *r);
int ev_on_directive_cancel(struct replay *rp, const struct jrec *r);
int ev_on_hold(struct replay *rp, const struct jrec *r);
int ev_on_release(struct replay *rp, const struct jrec *r);
int ev_on_notice(struct replay *rp, const struct jrec *r);
int ev_on_disp_start(struct replay *rp, const struct jrec *r);
int ev_on_disp_complete(struct replay *rp, const struct jrec *r);
int ev_on_disp_fail(struct replay *rp, const struct jrec *r);
/* file-intent (destroyed 0) and file-destroyed (1) lines. */
int ev_on_file(struct replay *rp, const struct jrec *r, int destroyed);
int ev_on_cert(struct replay *rp, const struct jrec *r);
int ev_on_delivery(struct replay *rp, const struct jrec *r);
int ev_on_accept(struct replay *rp, const struct jrec *r);

#endif
