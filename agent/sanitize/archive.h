/*
 * archive.h: removing one district's members from tar, cpio and zip
 * backups (SPEC §3 `archive =` / `members =` datasets), and sanitizing
 * the blocks that held them (SPEC §6).
 *
 * The archive is rewritten, never edited in place: a new file beside it
 * holds the old one's bytes with the removed members' bytes cut out (the
 * compression is redone with the same filter; a zip keeps its members'
 * compressed data as it is), so every kept member keeps its headers and
 * metadata exactly.  The new file is read back from the disk and must
 * hold every kept byte and member of the old one; it is swapped in, and
 * only then are the old file's blocks overwritten and verified through a
 * descriptor that never stopped pointing at them.  Anything of the old
 * file that is neither a kept nor a removed member's byte, nor a known
 * part of the format (end marker, padding, central directory, a
 * self-extractor stub), is refused, as are damaged archives: what is
 * supported and refused is listed in lethe-policy(5), "Archives".
 *
 * The reading runs in a child process under a watchdog (archive_int.h):
 * no archive can hang the caller.  Memory is constant in the size of the
 * archive and its members, but for the removed members' manifest rows
 * (held until the plan is complete, as the caller holds them until
 * on_commit) and 16 bytes per run of removed members.
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
	unsigned char sha256[32]; /* of the content ('f' only) */
	char kind;		/* 'f' content (a file, or a link entry that
				 * carries the data), 'h' hard link without
				 * content of its own, 'k' content that a kept
				 * hard link still holds, 'l' symlink, 'd' dir,
				 * 'o' other: all but 'f' have no digest */
};

struct archive_opts {
	int pattern;		/* OW_PATTERN_*, for the old blocks (overwrite.h) */
	int verify;		/* OW_VERIFY_*, for the old blocks */
	/* Called once per removed member, in archive order, once the archive
	 * has been read whole and before the new one is written (a member
	 * whose content a kept hard link holds has kind 'k').  Rows are
	 * provisional until on_commit is called:
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
	uint64_t materialized;	/* kept hard links to removed members, written
				 * as files holding that content (or linked
				 * to such a file): archive_plan.c */
	uint64_t old_size, new_size;	/* archive file sizes */
	unsigned char new_sha256[32];	/* of the new file, for a zip; zero
					 * for tar and cpio, which are read
					 * back by their decompressed stream */
	char format[96];	/* e.g. "pax + gzip", "zip", for method_details */
	int replaced;		/* the new archive is in place */
	int old_sanitized;	/* the old blocks were overwritten and verified */
	struct ow_result old;	/* what ow_fd did to the old blocks */
	struct media media;	/* filesystem of the archive */
	int stale_cleared;	/* leftovers of a killed run sanitized first */
};

/* Whether name (one path component) is what a member removal keeps beside
 * an archive while it works (.NAME.lethe-swap, .NAME.lethe-old): after a
 * killed run, the new archive not yet swapped in, or the old one, members
 * and all, not yet overwritten.  Sets archive (len bytes) to NAME.  The
 * next removal on NAME sanitizes it first, so while NAME is there an
 * archive glob does not take it as an archive of its own (which would
 * list its members twice); without NAME it is an archive like any other. */
int archive_is_leftover(const char *name, char *archive, size_t len);

/* Removes every member of the archive dirfd/name whose name matches
 * member_glob: the name as GNU tar extracts it (archive_member_matches).
 * `label` names the archive in errors.  Refuses, archive untouched: a
 * symlink, a non-regular file, more than one hard link, a filesystem
 * where overwrite is refused (media.h), a damaged, truncated, encrypted,
 * ambiguous or unsupported archive (lethe-policy(5)), one that breaks a
 * limit of archive_int.h, and any whose bytes are not all accounted for.
 * No matching member: nothing is written (r->members_removed = 0).
 * Returns 0, ARCHIVE_IS_SEALED (nothing done), or -1 with *e set.  A
 * failure after the swap (r->replaced set) leaves the old blocks not
 * sanitized: the caller records the failure, and the next call on the
 * same archive sanitizes the leftover first. */
int archive_remove_members(int dirfd, const char *name, const char *label,
    const char *member_glob, const struct archive_opts *o,
    struct archive_result *r, struct err *e);

/* Counts the members of dirfd/name that match member_glob, writing
 * nothing (for plan, dry runs and the re-check of SPEC §6.6).  Reads the
 * whole archive with the checks of archive_remove_members, so a dry run
 * refuses what the run would.  Also counts a leftover of a killed run as
 * a match, since it may hold removed data.  Returns 0 with *matches set,
 * ARCHIVE_IS_SEALED, or -1 with *e set. */
int archive_count_members(int dirfd, const char *name, const char *label,
    const char *member_glob, uint64_t *matches, struct err *e);

/* Whether member name `path` is removed by member_glob: the name is taken
 * as GNU tar extracts it (leading "/" and "./" dropped, everything up to a
 * ".." dropped), and a glob whose last component is "**", like "osde/" +
 * "**", also matches the directory "osde" itself.  A name whose ".."
 * escapes the root or is resolved differently by other readers matches
 * nothing here, and refuses the archive in the functions above. */
int archive_member_matches(const char *member_glob, const char *path);

#endif
