/*
 * outbox.h: the outbox's storage, shared by outbox.c (queueing, status)
 * and deliver.c (the flush).  Internal to deliver/: everything else uses
 * deliver.h.
 */
#ifndef LETHE_OUTBOX_H
#define LETHE_OUTBOX_H

#include <stddef.h>

struct err;

/* A file stem is ID or ID+rN (a re-send): ID into cert (sz bytes), N (or
 * 0) into *copy.  Returns 0, or -1 when stem is not one lethe makes. */
int outbox_stem(const char *stem, char *cert, size_t sz, int *copy);
/* DELIVER_NOTICE for a NOTICE-... id, else DELIVER_CERT. */
int outbox_kind(const char *id);
/* Opens state_dir/name ("outbox", "sent") as a directory, created 0700
 * when create is set.  Returns the fd, or -1 with *e set (errno kept). */
int outbox_dir(const char *state_dir, const char *name, int create,
    struct err *e);
/* Whether dirfd/name exists (not following a symlink). */
int outbox_has(int dirfd, const char *name);
/* "STEM.eml" and "STEM.receipt" into eml and receipt (200 bytes each).
 * Returns 0, or -1 with *e set. */
int outbox_names(const char *stem, char *eml, char *receipt, struct err *e);
/* The sorted stems of the *.eml in dirfd that lethe could have made; free
 * with deliver_ids_free.  Returns 0, or -1 with *e set. */
int outbox_list(int dirfd, const char *what, char ***ids, size_t *n,
    struct err *e);
/* Removes outbox/STEM.eml (out: the outbox's fd), a damaged or withdrawn
 * message: a certificate's is overwritten first (it may carry the
 * manifest), a notice's unlinked.  Absent is fine.  Returns 0, or -1 with
 * *e set. */
int outbox_remove(int out, const char *stem, struct err *e);

#endif
