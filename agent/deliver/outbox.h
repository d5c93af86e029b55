/*
 * outbox.h: the outbox's storage, shared by queue.c (queueing), status.c
 * (where a message stands) and deliver.c (the flush).  Internal to
 * deliver/: everything else uses deliver.h.
 */
#ifndef LETHE_OUTBOX_H
#define LETHE_OUTBOX_H

#include <stddef.h>

#include "deliver/ids.h"

struct err;
struct msglog_rec;

#define OUTBOX_DIR	"outbox"	/* state_dir/outbox: to be sent */
#define SENT_DIR	"sent"		/* state_dir/sent: accepted */

/* Opens state_dir/name ("outbox", "sent") as a directory, created 0700
 * when create is set.  Returns the fd, or -1 with *e set (errno kept). */
int outbox_dir(const char *state_dir, const char *name, int create,
    struct err *e);
/* Closes the outbox's and sent/'s fds (each -1 when not open). */
void outbox_close(int out, int sent);
/* Whether dirfd/name exists (not following a symlink). */
int outbox_has(int dirfd, const char *name);
/* "STEM.eml" and "STEM.receipt" into eml and receipt (200 bytes each).
 * Returns 0, or -1 with *e set. */
int outbox_names(const char *stem, char *eml, char *receipt, struct err *e);
/* The sorted stems of the *.eml in dirfd that lethe could have made; free
 * with deliver_ids_free.  Returns 0, or -1 with *e set. */
int outbox_list(int dirfd, const char *what, char ***ids, size_t *n,
    struct err *e);
/* Frees n ids and the array (from outbox_list or deliver_list). */
void deliver_ids_free(char **ids, size_t n);
/* Removes outbox/STEM.eml (out: the outbox's fd), a damaged or withdrawn
 * message: a certificate's is overwritten first (it may carry the
 * manifest), a notice's unlinked.  Absent is fine.  Returns 0, or -1 with
 * *e set. */
int outbox_remove(int out, const char *stem, struct err *e);
/* Creates dirfd/name (0600) with buf, never replacing a file (durable.h).
 * Returns 0, 1 (with *e set) if name exists, or -1 with *e set. */
int outbox_write_new(int dirfd, const char *name, const char *buf,
    size_t len, struct err *e);
/* Whether outbox/STEM.eml (out: the outbox's fd) is the message the
 * journal recorded (rec; NULL when never journaled): 1 intact, 0 not (why
 * says how), -1 with *e set when it cannot be read. */
int outbox_check(int out, const char *stem, const struct msglog_rec *rec,
    char *why, size_t whysz, struct err *e);

#endif
