/*
 * transfer.h: packing data for an Exhibit D "transfer" directive (SPEC §3):
 * the files go into a pax tar.gz at transfer_to with a SHA-256 manifest,
 * which is read back and checked before the caller destroys anything.
 *
 * The archive holds member paths (student data) by design, as it goes to
 * the LEA; error messages never do: files are named by ordinal.
 */
#ifndef LETHE_TRANSFER_H
#define LETHE_TRANSFER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct err;

/* The member holding "HEX  path" lines (sha256sum format, `sha256sum -c`
 * checks an extracted transfer), written last. */
#define TRANSFER_MANIFEST "MANIFEST.sha256"

/* One file to pack, as the locator found it. */
struct transfer_file {
	int dirfd;		/* its directory */
	const char *name;	/* one component in dirfd */
	const char *path;	/* member path: relative to the dataset root */
	dev_t dev;		/* expected st_dev/st_ino; 0 = any */
	ino_t ino;
};

struct transfer_result {
	uint64_t files, bytes;		/* packed (the manifest not counted) */
	uint64_t size;			/* of the archive file */
	unsigned char sha256[32];	/* of the archive file, read back */
};

/* Writes todir/name (a new file; refused if it exists) as a gzip'd pax tar
 * of files[] in order followed by TRANSFER_MANIFEST, through a temporary
 * in todir that is fsync'd, read back from the disk and checked member by
 * member against the manifest and the digests taken while packing, then
 * renamed into place (0600) and the directory fsync'd.  A leftover
 * temporary of a killed run is overwritten and removed first.  Member
 * paths must be relative, without "." or ".." components.  Refuses
 * symlinks, non-regular files, unexpected dev/ino, files that change while
 * read.  `label` names the archive in errors.  Returns 0 with *r set, or
 * -1 with *e set and no archive left at name. */
int transfer_pack(int todir, const char *name, const char *label,
    const struct transfer_file *files, size_t n, struct transfer_result *r,
    struct err *e);

/* Reads todir/name back and checks every member against its manifest:
 * same members in the same order, same SHA-256 each, nothing else.  For
 * resuming after a killed run, and for tests.  Returns 0 with r->files,
 * r->bytes, r->size, r->sha256 set, or -1 with *e set. */
int transfer_check(int todir, const char *name, const char *label,
    struct transfer_result *r, struct err *e);

#endif
