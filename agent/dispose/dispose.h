/*
 * dispose.h: carrying out one disposition (SPEC §5–§7): for each dataset
 * it is given, locate the matches, destroy them by the dataset's method,
 * build the manifest, re-scan for anything left, and record every step in
 * the journal (intent before, outcome after) so a killed run is finished by
 * the next.  It decides nothing about *when*: sched.c does.
 *
 * MUST rules:
 *  - nothing outside the allowed roots is opened for writing or removed;
 *  - a file is refused, never guessed at, when anything is ambiguous
 *    (hard links outside the disposition, a copy-on-write filesystem, an
 *    immutable flag, a changed inode); refusals are exceptions that fail
 *    the disposition, and a failed disposition is never certified;
 *  - no name or path below a dataset root reaches the journal; names go
 *    only to the manifest in state_dir/work/ID/ (0600).
 */
#ifndef LETHE_DISPOSE_H
#define LETHE_DISPOSE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "certify/outcome.h"

struct agreement;
struct config;
struct diags;
struct journal;
struct err;
struct scope;
struct scope_ctx;

struct dispose_req {
	const struct config *cfg;
	const struct scope_ctx *sx;	/* what the scope is judged against */
	const struct agreement *a;
	const char *id;			/* disposition id */
	const size_t *ds;		/* dataset indexes into a->ds */
	size_t nds;
	const char *transfer_to;	/* directive transfer: pack here first */
	int resume;			/* an earlier run started this id */
	struct journal *j;
	time_t started;			/* of the disposition; 0 = now */
	/* Per-item problems, naming paths (escaped), for the admin's eyes
	 * only: never journaled, never on a certificate.  May be NULL. */
	struct diags *problems;
	/* Progress (may be NULL): files and bytes done so far of the totals. */
	void (*progress)(uint64_t files, uint64_t nfiles, uint64_t bytes,
	    uint64_t nbytes, void *arg);
	void *arg;
	/* Learns of holds recorded since the run began (a `lethe hold`
	 * meanwhile) into sx's events; called before each destructive step,
	 * so such a hold wins before the next object of its scope (SPEC §5).
	 * Returns 0, or -1 with *e set: the disposition stops.  May be NULL. */
	int (*sync)(void *sync_arg, struct err *e);
	void *sync_arg;
};

/* Carries out the disposition: resolves its scope (plan/scope.h) and
 * destroys exactly the objects it gives, each once.  Returns 0 when every
 * one was destroyed and the re-scan found nothing left to destroy and
 * nothing refused; -1 with *e set otherwise (out->exceptions lists each
 * failure; out's counts say what was destroyed all the same, so that a
 * partial disposition can be certified as such).  Journals
 * file-intent/file-destroyed; the caller journals disposition-start,
 * -complete and -fail. */
int dispose_run(const struct dispose_req *rq, struct dispose_out *out,
    struct err *e);

/* Counts what a disposition of these datasets would touch now, through
 * the same scope as dispose_run, writing nothing (for plan and dry runs):
 * files, bytes, archives with members to remove, what is kept and what is
 * refused.  When keep is not NULL the scope is handed back in it (the
 * caller frees it with scope_free). */
struct dispose_preview {
	uint64_t files, bytes, links, specials, archives, sealed;
	uint64_t kept;		/* protected: exempt, held, own, others' */
	uint64_t refused;	/* conflicts, outside links, mount points */
	char first_refusal[512];
};
int dispose_preview(const struct scope_ctx *sx, const struct agreement *a,
    const size_t *ds, size_t nds, struct dispose_preview *p,
    struct scope *keep, struct err *e);
/* The objects a preview would destroy (files, links, special files,
 * archives with members to remove, sealed files). */
uint64_t dispose_preview_objects(const struct dispose_preview *p);

#endif
