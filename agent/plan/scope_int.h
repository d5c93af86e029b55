/*
 * scope_int.h: what the files that decide a scope share (scope_resolve.c
 * the objects and their verdicts, scope_guard.c the guards, scope.c the
 * scope as a value).  Not for other modules: scope.h is the contract.
 */
#ifndef LETHE_SCOPE_INT_H
#define LETHE_SCOPE_INT_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

struct agreement;
struct err;
struct scope;
struct scope_ctx;
struct scope_obj;

/* A glob that protects what it matches, from a dataset not being
 * destroyed by this disposition. */
struct guard {
	const char *glob;
	int verdict;		/* SV_EXEMPT .. SV_CONFLICT */
	int from_archive;	/* the dataset's `archive` glob */
	int same;		/* a dataset of the disposition's agreement */
	const char *agreement, *dataset, *hold;
};

struct guards {
	struct guard *v;
	size_t n;
};

/* (dev, ino) -> object index, open addressing. */
struct index {
	size_t *slot;		/* object index + 1; 0 empty */
	size_t cap;
};

/* One scope being resolved. */
struct build {
	const struct scope_ctx *x;
	const struct agreement *a;
	struct scope *s;
	size_t cap;
	struct index ix;
	struct guards g;
	char (*prefix)[PATH_MAX];	/* the disposition's literal prefixes */
	size_t nprefix;
	dev_t *owndev;		/* lethe's own files, by object */
	ino_t *ownino;
	const char **ownwhat;
	size_t nown;
	struct err *e;
};

/* The hash of an object's (dev, ino), for open addressing. */
size_t scope_hash(dev_t d, ino_t i);
/* Frees what object o holds (its names and datasets). */
void scope_obj_free(struct scope_obj *o);
/* Fills b->prefix with the disposition's datasets ds[0..nds) literal
 * prefixes and b->g with every guard that can meet them (scope_guard.c).
 * Returns 0, or -1 when out of memory. */
int scope_guards_build(struct build *b, const size_t *ds, size_t nds);

#endif
