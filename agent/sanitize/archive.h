/*
 * archive.h: removing one district's members from tar, cpio and zip
 * backups (SPEC §3 `archive =` / `members =` datasets), and sanitizing
 * the blocks that held them (SPEC §6).
 *
 * The archive is rewritten, never edited in place: every member that does
 * not match the glob is streamed into a new file beside it in the same
 * format with the same compression, the new file is read back and checked
 * member by member, swapped in, and only then are the old file's blocks
 * overwritten and verified through a descriptor that never stopped
 * pointing at them.  Memory is constant in the size of the archive and its
 * members.
 *
 * Member names are student data: they reach the caller only through
 * on_member (for the manifest), never an error message.  Errors name the
 * archive's label and members by their ordinal ("member #12").
 */
#ifndef LETHE_ARCHIVE_H
#define LETHE_ARCHIVE_H

#include <stdint.h>
#include <sys/types.h>

#include "locate/media.h"
#include "sanitize/overwrite.h"

struct err;

/* Return values besides 0 and -1. */
enum {
	ARCHIVE_IS_SEALED = 1,	/* a lethe-sealed file ("LETHESL1"): use crypto-shred */
};

/* One removed member, for the manifest (SPEC §8: path, size, SHA-256). */
struct archive_member {
	const char *path;	/* as stored in the archive; untrusted bytes */
	uint64_t size;		/* content bytes (holes of sparse members count) */
	unsigned char sha256[32]; /* of the content; of "" for non-files */
	char kind;		/* 'f' file, 'h' hard link, 'l' symlink, 'd' dir, 'o' other */
};

struct archive_opts {
	int pattern;		/* enum pattern, for the old blocks (overwrite.h) */
	int verify;		/* enum verify_mode, for the old blocks */
	/* Called once per removed member, in archive order, while the new
	 * archive is written.  Rows are provisional until on_commit is called:
	 * if the function fails before that, discard them.  Return 0 to go
	 * on, anything else aborts with the archive untouched. */
	int (*on_member)(const struct archive_member *m, void *arg);
	/* Called after the new archive is written, read back, checked and
	 * fsync'd, just before it replaces the old one: make the manifest rows
	 * and the journal's intent durable here.  Return 0 to go on, anything
	 * else aborts with the archive untouched.  May be NULL. */
	int (*on_commit)(void *arg);
	/* Progress over the bytes of the old archive read (may be NULL). */
	void (*progress)(uint64_t done, uint64_t total, void *arg);
	void *arg;
};

struct archive_result {
	uint64_t members_removed, bytes_removed;
	uint64_t members_kept, bytes_kept;
	uint64_t materialized;	/* kept hard links turned into files (see archive.c) */
	uint64_t old_size, new_size;	/* archive file sizes */
	unsigned char new_sha256[32];	/* of the new archive file */
	char format[64];	/* e.g. "pax + gzip", "zip", for method_details */
	int replaced;		/* the new archive is in place */
	int old_sanitized;	/* the old blocks were overwritten and verified */
	struct ow_result old;	/* what ow_fd did to the old blocks */
	struct media media;	/* filesystem of the archive */
	int stale_cleared;	/* leftovers of a killed run sanitized first */
};

/* Removes every member of the archive dirfd/name whose path matches
 * member_glob (locate.h glob_match_path on the path without a leading
 * "./" or "/"; a pattern whose last component is "**", like "osde/" + "**",
 * also matches the directory entry "osde/" itself).  `label` names the archive in errors.  Refuses, archive
 * untouched: a symlink, a non-regular file, more than one hard link, a
 * filesystem where overwrite is refused (media.h), an archive libarchive
 * cannot read to the end (corrupt, truncated, encrypted entries), a format
 * it cannot write back.  No matching member: nothing is written (r->removed
 * = 0).  Returns 0, ARCHIVE_IS_SEALED (nothing done), or -1 with *e set.
 * A failure after the swap (r->replaced set) leaves the old blocks not
 * sanitized: the caller records the failure, and the next call on the
 * same archive sanitizes the leftover first. */
int archive_remove_members(int dirfd, const char *name, const char *label,
    const char *member_glob, const struct archive_opts *o,
    struct archive_result *r, struct err *e);

/* Counts the members of dirfd/name that match member_glob, reading headers
 * only and writing nothing (for plan, dry runs and the re-check of SPEC
 * §6.6).  Also counts a leftover of a killed run as a match, since it may
 * hold removed data.  Returns 0 with *matches set, ARCHIVE_IS_SEALED, or
 * -1 with *e set. */
int archive_count_members(int dirfd, const char *name, const char *label,
    const char *member_glob, uint64_t *matches, struct err *e);

/* Whether member path `path` is removed by member_glob under the rules
 * above.  Exposed for the transfer of archive datasets and for tests. */
int archive_member_matches(const char *member_glob, const char *path);

#endif
