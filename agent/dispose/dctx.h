/*
 * dctx.h: the context every file of one disposition shares: its work list
 * (struct item), the intents a killed run left (struct intent), the
 * disposition's own state (struct dctx), and the helpers of dctx.c that
 * each part calls.  Calls go one way: dispose.c -> its parts
 * (dispose_int.h) -> dctx.c, which calls none of them.  Not for other
 * modules: dispose.h is the contract.
 */
#ifndef LETHE_DCTX_H
#define LETHE_DCTX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/strmap.h"
#include "dispose/dispose.h"
#include "locate/locate.h"
#include "sanitize/overwrite.h"
#include "locate/resolve.h"
#include "plan/scope.h"
#include "keys/seal.h"

struct err;
struct jrec;

/* One object of the scope to destroy, worked on through its first name
 * (f.rel is the scope's, not owned here). */
struct item {
	struct found f;
	size_t ds;		/* the dataset whose settings apply */
	const struct scope_obj *obj;	/* all its names */
	int sealed;		/* lethe-sealed ciphertext: crypto-shred */
	char keyid[SEAL_KEYID_MAX + 1];	/* its key, from the header */
	int done;		/* enum item_state */
};

enum item_state {
	ITEM_TODO = 0,
	ITEM_DONE,		/* destroyed, every name removed */
	ITEM_SEALED,		/* ciphertext: its name goes after its key */
};

/* A file this disposition set out to destroy (work/ID/intents, or a
 * file-intent line of an older journal), and whether it is known done. */
struct intent {
	uint64_t n;
	dev_t dev;
	ino_t ino;
	uint64_t size;
	int done;
};

struct dctx {
	const struct dispose_req *rq;
	struct scope scope;	/* what this disposition destroys */
	struct scope_name *gone;	/* every name removed in this run */
	size_t ngone;
	struct dispose_out *out;
	struct diags *problems;	/* per-item messages naming paths, for the admin */
	struct rootdir *roots;	/* per allowed root, fd -1 until opened */
	int manfd;		/* work/ID/manifest, O_APPEND */
	uint64_t seq;		/* file counter for file-intent / -destroyed */
	struct intent *open;	/* this disposition's intents (resume) */
	size_t nopen;
	int namesfd;		/* work/ID/names: every destroyed file */
	int remfd;		/* work/ID/removed: what each name removed
				 * without overwrite was (dctx_remove_name) */
	int intentsfd;		/* work/ID/intents: each batch's files */
	struct batch *batch;	/* files waiting to be overwritten together */
	int stop;		/* the record cannot be written: stop */
	struct strmap keys_journaled;	/* ids of this disposition's keys
					 * with a key-destroyed line (resume:
					 * read from the journal) */
	struct strmap keys_counted;	/* ... and those counted in out */
	uint64_t nfiles, nbytes, dfiles, dbytes;
	char workdir[4096];
};

/* Sets x up for request rq, filling out: nothing open yet (work files
 * and roots -1), problems to rq's (or to scratch, freed by the caller).
 * Returns 0, or -1 with *e set (out of memory). */
int dctx_init(struct dctx *x, const struct dispose_req *rq,
    struct dispose_out *out, struct diags *scratch, struct err *e);
/* Closes and frees what x holds (the batch is dispose_batch.c's). */
void dctx_free(struct dctx *x);
/* The display name of a match (root + escaped path): for the admin's eyes
 * and the manifest only, never the journal or a certificate. */
void dctx_label(const struct dctx *x, const struct found *f, char *buf,
    size_t len);
/* The same for object o, by its first name. */
void dctx_obj_label(const struct dctx *x, const struct scope_obj *o,
    char *buf, size_t len);
/* Adds a name-free exception (certificate, journal) and counts it. */
void dctx_exception(struct dctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A file of dataset ds that could not be destroyed: why, to the admin
 * under its label; a name-free exception for the certificate. */
void dctx_failed(struct dctx *x, const char *label, size_t ds,
    const char *why);
/* Opens the directory holding rel beneath allowed root `root` (the root
 * itself opened once per disposition) and points *base at the last
 * component.  Returns the fd, or -1 with *e set. */
int dctx_open_parent(struct dctx *x, int root, const char *rel,
    const char **base, struct err *e);
/* The allowed root `root`, opened once per disposition.  Returns its fd
 * (the disposition's: never closed by the caller), or -1 with *e set. */
int dctx_root(struct dctx *x, int root, struct err *e);
/* The [media] entry for fd's filesystem (added on first sight), with
 * dataset dsname among its sources.  NULL with *e set when it cannot be
 * probed or there are more than DISPOSE_MAX_MEDIA. */
struct dispose_media *dctx_media_for(struct dctx *x, int fd,
    const char *dsname, struct err *e);
/* Appends one manifest row to work/ID/manifest durably.  Returns 0, or -1
 * with *e set. */
int dctx_manifest_row(struct dctx *x, const char *path, uint64_t size,
    const char *sha, struct err *e);
/* Notes that name n was removed in this run (its directory may now be
 * empty: dispose_dirs.c).  Out of memory only leaves a directory. */
void dctx_gone(struct dctx *x, const struct scope_name *n);
/* Counts one name removed without overwrite in o, by its kind ("link",
 * "special", "sealed clean", "sealed cleared DATE", "sealed kept DATE"):
 * the one rule for a live run (dctx_remove_name) and for the recount of
 * work/ID/removed over every run of the disposition (dispose_names.c). */
void dctx_kind_count(struct dispose_out *o, const char *kind);
/* Removes the name n of object it (never opening what it names); row
 * "-" with size, then `kind` (what the certificate counts it as: "link",
 * "special", "sealed clean", "sealed cleared DATE", "sealed kept DATE")
 * as a line of work/ID/removed, so a resumed run counts what a killed
 * one removed; counts it (dctx_kind_count) and adds n to x->gone.  0, or
 * -1 with *e set. */
int dctx_remove_name(struct dctx *x, const struct item *it,
    const struct scope_name *n, uint64_t size, const char *kind,
    struct err *e);
/* Learns of holds recorded meanwhile (rq->sync).  Returns 0, or -1 having
 * set x->stop and said why (the disposition stops). */
int dctx_sync(struct dctx *x);
/* Whether a hold recorded while this run goes on covers object o (of
 * dataset ds) now: then it is kept, said to the admin and listed in the
 * exceptions. */
int dctx_held(struct dctx *x, const struct scope_obj *o, size_t ds);
/* Adds the categories of every dataset that matched o to
 * out->categories: what the certificate says was destroyed (never a
 * category whose data was not there). */
void dctx_categories(struct dctx *x, const struct scope_obj *o);
/* Whether the disposition covers every non-exempt dataset of its
 * agreement (a termination or a complete directive, nothing held). */
int dctx_covers_agreement(const struct dispose_req *rq);

/* The work files' fields (work/ID/names, dirs): */
/* A bounded decimal number (base/num.h).  0, or -1 when s is not one. */
int dctx_u64(const char *s, uint64_t *out);
/* Percent-encodes s into out (tab-, newline- and blank-free). */
void dctx_enc(const char *s, char *out, size_t len);
/* The encoded directory holding rel ("%2E", ".", for one at the root). */
void dctx_enc_parent(const char *rel, char *out, size_t len);
/* Decodes what dctx_enc wrote, in place (a '%' not followed by two hex
 * digits stays as it is). */
void dctx_dec(char *s);
/* Calls fn for each whole line of work/ID/name (at most max bytes; a
 * torn last line was never acted on, and is skipped), until fn returns
 * non-zero.  Returns that, or 0 (also when there is no such file). */
int dctx_work_lines(struct dctx *x, const char *name, size_t max,
    int (*fn)(struct dctx *, char *line, void *arg), void *arg);

#endif
