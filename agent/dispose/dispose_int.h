/*
 * dispose_int.h: what the files of one disposition share (dispose.c, the
 * core; dispose_names.c, the per-file record that lets a killed run
 * finish; dispose_crypto.c, crypto-shred; dispose_transfer.c, Exhibit D
 * transfer; dispose_archive.c, member removal).  Not for other modules:
 * dispose.h is the contract.
 */
#ifndef LETHE_DISPOSE_INT_H
#define LETHE_DISPOSE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "certify/cert.h"
#include "certify/manifest.h"
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
	const char *archive;	/* label of the archive being rewritten */
	struct cert_manifest pend;	/* its removed members, until committed */
	struct rootdir *roots;	/* per allowed root, fd -1 until opened */
	int manfd;		/* work/ID/manifest, O_APPEND */
	uint64_t seq;		/* file counter for file-intent / -destroyed */
	struct intent *open;	/* this disposition's intents (resume) */
	size_t nopen;
	int namesfd;		/* work/ID/names: every destroyed file */
	int intentsfd;		/* work/ID/intents: each batch's files */
	struct batch *batch;	/* files waiting to be overwritten together */
	int stop;		/* the record cannot be written: stop */
	uint64_t nfiles, nbytes, dfiles, dbytes;
	char workdir[4096];
};

/* dispose.c */
/* The display name of a match (root + escaped path): for the admin's eyes
 * and the manifest only, never the journal or a certificate. */
void dispose_label(const struct dctx *x, const struct found *f, char *buf,
    size_t len);
/* Adds a name-free exception (certificate, journal) and counts it. */
void dispose_exception(struct dctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Opens the directory holding rel beneath allowed root `root`; returns
 * the fd, or -1 with *e set. */
int dispose_open_parent(struct dctx *x, int root, const char *rel,
    const char **base, struct err *e);
/* The [media] entry for fd's filesystem (added on first sight). */
struct dispose_media *dispose_media_for(struct dctx *x, int fd,
    const char *dsname, struct err *e);
/* Appends one manifest row durably.  Returns 0 or -1. */
int dispose_manifest_row(struct dctx *x, const char *path, uint64_t size,
    const char *sha, struct err *e);
/* Removes the name n of object it (never opening what it names); row
 * "-" with size, and n is added to x->gone.  0 or -1. */
int dispose_remove_name(struct dctx *x, const struct item *it,
    const struct scope_name *n, uint64_t size, struct err *e);
/* Builds the items to destroy from x->scope, and marks sealed ones.
 * Returns 0 or -1 (out of memory). */
int dispose_items(struct dctx *x, struct item **v, size_t *n);
/* Learns of holds recorded meanwhile (rq->sync).  Returns 0, or -1 having
 * set x->stop and said why (the disposition stops). */
int dispose_sync(struct dctx *x);
/* Whether a hold recorded while this run goes on covers it now: then it
 * is kept, said to the admin and listed in the exceptions. */
int dispose_held(struct dctx *x, const struct scope_obj *o, size_t ds);
/* SPEC §6.6: what a fresh scope still finds to destroy, plus what it
 * refuses; UINT64_MAX when the re-scan itself failed. */
uint64_t dispose_rescan(struct dctx *x);
/* Adds the categories of o's datasets to out->categories. */
void dispose_categories(struct dctx *x, const struct scope_obj *o);
/* Whether the disposition covers every non-exempt dataset. */
int dispose_covers_agreement(const struct dispose_req *rq);

/* dispose_batch.c */
/* Queues the regular file it to be overwritten in the current batch,
 * which is carried out when full.  0, or -1 with *e set when the record of
 * the disposition could not be written (the disposition must stop). */
int dispose_batch_add(struct dctx *x, struct item *it, struct err *e);
/* Carries out the batch.  0, or -1 as above. */
int dispose_batch_flush(struct dctx *x);
void dispose_batch_free(struct dctx *x);

/* dispose_names.c */
struct strbuf;
struct ow_result;
int dispose_names_scan(const struct jrec *r, void *arg);
int dispose_names_intents(struct dctx *x);
struct intent *dispose_names_intent(struct dctx *x, dev_t dev, ino_t ino);
void dispose_names_add(struct strbuf *b, const struct item *it, uint64_t n,
    uint64_t size, const char *sha, const struct ow_result *res,
    const char *newname, const char *label);
void dispose_names_resume(struct dctx *x);
int dispose_names_totals(struct dctx *x, struct err *e);
void dispose_names_remove_dirs(struct dctx *x);

/* dispose_crypto.c: returns -1 only when the journal failed. */
int dispose_crypto_shred(struct dctx *x, struct item *v, size_t n);
/* dispose_transfer.c: 0, or -1 with *e set and nothing destroyed. */
int dispose_transfer(struct dctx *x, struct item *v, size_t n,
    struct err *e);
/* dispose_archive.c */
void dispose_archives(struct dctx *x);

#endif
