/*
 * dispose_int.h: the parts of one disposition, as dispose.c (the core)
 * calls them: dispose_scan.c (scope -> work list, re-scan), dispose_batch.c
 * (overwrite in batches), dispose_intents.c and dispose_names.c (the
 * per-file records that let a killed run finish), dispose_dirs.c (emptied
 * directories), dispose_crypto.c (crypto-shred), dispose_transfer.c
 * (Exhibit D transfer), dispose_archive.c (member removal).  Each part
 * calls only dctx.c and the parts listed after it in this header, never
 * dispose.c.  Not for other modules: dispose.h is the contract.
 */
#ifndef LETHE_DISPOSE_INT_H
#define LETHE_DISPOSE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dispose/dctx.h"

struct err;
struct jrec;
struct ow_result;
struct strbuf;

/* dispose_scan.c */
/* Builds the items to destroy from x->scope, and marks sealed ones.
 * Returns 0 or -1 (out of memory). */
int dispose_items(struct dctx *x, struct item **v, size_t *n);
/* SPEC §6.6: what a fresh scope still finds to destroy, plus what it
 * refuses; UINT64_MAX when the re-scan itself failed. */
uint64_t dispose_rescan(struct dctx *x);

/* dispose_batch.c */
/* Queues the regular file it to be overwritten in the current batch,
 * which is carried out when full.  0, or -1 with *e set when the record of
 * the disposition could not be written (the disposition must stop). */
int dispose_batch_add(struct dctx *x, struct item *it, struct err *e);
/* Carries out the batch.  0, or -1 as above. */
int dispose_batch_flush(struct dctx *x);
/* Frees the batch, closing its files and directories; a file still
 * queued is left as it is.  x->batch is NULL after. */
void dispose_batch_free(struct dctx *x);

/* dispose_crypto.c: destroys the keys the scope decided on, then the
 * sealed items' names.  Returns -1 only when the journal failed. */
int dispose_crypto_shred(struct dctx *x, struct item *v, size_t n);
/* dispose_archive.c: appends to rows the manifest rows of every archive
 * whose rewrite was committed (work/ID/archives: the last whole block of
 * each old archive, so a commit repeated by a resumed run counts once),
 * and sets out's archives, members and member_bytes from them.  Returns
 * 0, or -1 with *e set. */
int dispose_archive_rows(struct dctx *x, struct strbuf *rows, struct err *e);
/* Resume: journals the key-destroyed line of each key this disposition
 * destroyed (its keystore tombstone names the disposition) that a killed
 * run did not live to journal, and counts every such key for the
 * certificate.  Returns 0, or -1 with *e set. */
int dispose_keys_resume(struct dctx *x, struct err *e);

/* dispose_transfer.c: packs every file of v into transfer_to and checks
 * it.  0, or -1 with *e set and nothing destroyed. */
int dispose_transfer(struct dctx *x, struct item *v, size_t n,
    struct err *e);

/* dispose_archive.c: rewrites each archive of the scope without the
 * members its datasets match. */
void dispose_archives(struct dctx *x);

/* dispose_dirs.c */
/* Removes directories emptied by this disposition (names removed in this
 * run, and files overwritten in it or in a killed one before it), deepest
 * first, never at or above a dataset's fixed prefix. */
void dispose_dirs_remove(struct dctx *x);
/* Resume: directories a killed run renamed on their way out but did not
 * remove. */
void dispose_dirs_resume(struct dctx *x);

/* dispose_names.c: work/ID/names, one line per overwritten file. */
/* Appends the names line of one file to b (see dispose_names.c). */
void dispose_names_add(struct strbuf *b, const struct item *it, uint64_t n,
    uint64_t size, const char *sha, const struct ow_result *res,
    const char *newname, const char *label);
/* One line of work/ID/names, decoded. */
struct nameline {
	uint64_t n, size, verified, overwritten;
	size_t ds;
	int root;
	char *parent, *name, *sha, *orig, *label;
};
/* Reads work/ID/names; calls fn for each whole line.  Returns 0, or -1
 * when it cannot be read. */
int dispose_names_each(struct dctx *x,
    void (*fn)(struct dctx *, struct nameline *, void *), void *arg);
/* Resume: files a killed run left under their random names. */
void dispose_names_resume(struct dctx *x);
/* Totals of overwritten files over every run of the disposition, and the
 * final manifest.  Returns 0, or -1 with *e set. */
int dispose_names_totals(struct dctx *x, struct err *e);

/* dispose_intents.c: the files this disposition set out to destroy. */
/* journal_read callback: this disposition's file-intent and
 * file-destroyed lines in a journal written before they moved to
 * work/ID/intents (arg: the dctx). */
int dispose_intents_scan(const struct jrec *r, void *arg);
/* Reads work/ID/intents.  Returns 0, or -1 when out of memory. */
int dispose_intents_read(struct dctx *x);
/* The open intent for this inode (a file a killed run began on), or
 * NULL. */
struct intent *dispose_intents_find(struct dctx *x, dev_t dev, ino_t ino);
/* The open intent numbered n, or NULL. */
struct intent *dispose_intents_num(struct dctx *x, uint64_t n);

#endif
