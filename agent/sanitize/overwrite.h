/*
 * overwrite.h: NIST SP 800-88 "Clear" of single files by verified
 * overwrite, and removal of their names (SPEC §6 steps 2, 4, 5).
 *
 * Files are reached only through a directory descriptor and a single name
 * component (the caller resolves the parent with resolve.h), checked on the
 * fd, acted on through the fd, and re-checked (same st_dev/st_ino) before
 * the name is removed.
 */
#ifndef LETHE_OVERWRITE_H
#define LETHE_OVERWRITE_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"

/* The pattern and the read-back (their values are policy.h's). */
enum { OW_PATTERN_ZERO = 0, OW_PATTERN_RANDOM = 1 };
enum { OW_VERIFY_FULL = 0, OW_VERIFY_SAMPLE = 1 };

struct ow_opts {
	int pattern;		/* OW_PATTERN_ZERO or OW_PATTERN_RANDOM */
	int verify;		/* OW_VERIFY_FULL or OW_VERIFY_SAMPLE */
	nlink_t links_ok;	/* hard links allowed (all in this disposition); 1 = none */
	dev_t dev;		/* expected st_dev/st_ino from the locator; 0 = any */
	ino_t ino;
	/* Called with the same-length random name just before the rename, so
	 * the caller can journal it and a killed run can finish the job.
	 * Returns 0 to go on. */
	int (*before_rename)(const char *newname, void *arg);
	/* Called as bytes are written (may be NULL); for progress display. */
	void (*progress)(uint64_t done, void *arg);
	void *arg;
	/* Called (may be NULL) as each stage ends: OW_PHASE_WRITTEN once the
	 * pass is on the device (after fdatasync), OW_PHASE_VERIFIED after
	 * the read-back; for progress display and benchmarks. */
	void (*phase)(int phase, void *arg);
};

enum { OW_PHASE_WRITTEN = 1, OW_PHASE_VERIFIED };

struct ow_result {
	uint64_t size;			/* apparent size (st_size) */
	uint64_t overwritten;		/* bytes written: the allocated extents
					   and data ranges, never holes (span.h) */
	unsigned char sha256[32];	/* of the whole logical content before
					   (holes as zeros), same read pass */
	int sha_ok;			/* 0 if the file changed under us */
	uint64_t verified;		/* bytes read back and compared (of those
					   overwritten) */
	int renamed;			/* name overwritten by same-length rename */
};

/* Overwrites, verifies and removes the regular file `name` in directory
 * dirfd.  A sparse or preallocated file is overwritten where it has storage
 * or data (span.h), never in its holes.  Refuses (nothing written): a non-regular file, more links than
 * o->links_ok, a dev/ino other than expected, an immutable/append-only
 * file, a file on a filesystem where overwrite is refused (media.h).
 * Returns 0, or -1 with *e set naming `label` (a display name). */
int ow_file(int dirfd, const char *name, const char *label,
    const struct ow_opts *o, struct ow_result *r, struct err *e);
/* Overwrites and verifies an open regular file in place without removing
 * it (used for keystore and archive sanitization).  Returns 0 or -1. */
int ow_fd(int fd, const char *label, const struct ow_opts *o,
    struct ow_result *r, struct err *e);
/* Removes the name `name` in dirfd (a file already overwritten, a symlink,
 * or a special file): same-length random rename, fsync dir, unlink, fsync
 * dir.  Never opens the object it names.  Returns 0 or -1. */
int ow_unlink_name(int dirfd, const char *name, const char *label,
    const struct ow_opts *o, struct err *e);
/* Removes the directory `name` in dirfd if it is empty, the same way
 * (rename, fsync, rmdir, fsync).  Returns 1 removed, 0 not empty, -1 error. */
int ow_rmdir_if_empty(int dirfd, const char *name, const char *label,
    struct err *e);
/* The same, calling o->before_rename with the random name before renaming
 * (so a caller can record it, and a run killed before the rmdir can
 * finish it).  o may be NULL. */
int ow_rmdir_recorded(int dirfd, const char *name, const char *label,
    const struct ow_opts *o, struct err *e);
/*
 * Batches (SPEC §6 "Many small files"): many files overwritten, made
 * durable together (one syncfs per filesystem), read back, and their names
 * removed with one fsync per directory and step.  Every guarantee of
 * ow_file holds for each file: its overwrite is on the device and read
 * back before its name is touched, and between ow_batch_names and
 * ow_batch_remove the caller records each new name durably, so a run
 * killed at any instant can be finished.  A file that fails a step is
 * OWI_FAILED, with its error in e; the others go on.
 */
enum ow_item_state {
	OWI_NEW,		/* nothing done yet */
	OWI_WRITTEN,		/* overwritten, not yet known durable */
	OWI_VERIFIED,		/* durable and read back */
	OWI_NAMED,		/* scrubbed, truncated, newname picked */
	OWI_GONE,		/* renamed and unlinked */
	OWI_FAILED,
};

struct ow_work;

struct ow_item {
	int dirfd;		/* its directory (the caller's: not closed) */
	const char *name;	/* one component */
	const char *label;	/* for messages */
	struct ow_opts o;	/* before_rename is not used */
	int state;		/* enum ow_item_state */
	int renamed;		/* renamed to newname (maybe not yet unlinked) */
	struct ow_result r;
	struct err e;
	char newname[NAME_MAX + 1];
	struct ow_work *w_;	/* private */
};

/* OWI_NEW -> OWI_WRITTEN: opens and checks each file (ow_file's refusals),
 * overwrites it, hashing its content in the same read. */
void ow_batch_write(struct ow_item *v, size_t n);
/* OWI_WRITTEN -> OWI_VERIFIED: syncs each filesystem once, overwrites
 * what a file grew by, checks its blocks stayed, checkpoints each
 * filesystem's journal once, reads each file back. */
void ow_batch_verify(struct ow_item *v, size_t n);
/* OWI_VERIFIED -> OWI_NAMED: scrubs xattrs and truncates each (synced
 * once per filesystem), and picks each a free random name of the same
 * length (newname).  The caller makes the new names durable next. */
void ow_batch_names(struct ow_item *v, size_t n);
/* OWI_NAMED -> OWI_GONE: renames each to newname after re-checking the
 * inode, fsyncs each directory once, re-checks and unlinks, fsyncs each
 * directory once. */
void ow_batch_remove(struct ow_item *v, size_t n);
/* Closes the files and frees what the batch kept. */
void ow_batch_close(struct ow_item *v, size_t n);

/* Convenience for state files (old keystore, KEK, manifests): overwrite,
 * verify and remove the file at an absolute path whose directories are
 * trusted (state_dir).  Returns 0 or -1. */
int ow_path(const char *path, struct err *e);

#endif
