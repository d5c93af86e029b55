/*
 * durable.h: writing and reading small state files safely (STYLE §8).
 * New files are created under a temporary name with O_CREAT|O_EXCL|O_NOFOLLOW
 * in the same directory, written, fsync'd, renamed into place and the
 * directory fsync'd, so a crash leaves either the old file or the new one.
 */
#ifndef LETHE_DURABLE_H
#define LETHE_DURABLE_H

#include <stddef.h>
#include <sys/types.h>

struct err;

/* Atomically replaces dirfd/name with buf (mode applied exactly, umask
 * ignored).  Returns 0, or -1 with *e set.  Never follows a symlink at name. */
int durable_write_at(int dirfd, const char *name, const void *buf, size_t len,
    mode_t mode, struct err *e);
/* The same, but never replaces: returns 1 (nothing written, *e unset)
 * when name already exists, 0 when created, -1 with *e set. */
int durable_create_at(int dirfd, const char *name, const void *buf,
    size_t len, mode_t mode, struct err *e);
/* The same for a path (its directory is opened with O_DIRECTORY). */
int durable_write(const char *path, const void *buf, size_t len, mode_t mode,
    struct err *e);
/* Reads a whole regular file (at most max bytes, else error) into a
 * NUL-terminated malloc'd buffer.  Refuses symlinks and non-regular files.
 * Returns 0, or -1 with *e set. */
int slurp(const char *path, size_t max, char **buf, size_t *len, struct err *e);
/* mkdir -p with mode for each missing component (existing ones untouched).
 * Returns 0, or -1 with *e set. */
int mkdirs(const char *path, mode_t mode, struct err *e);
/* An append-only text file (one record a line) after a short write: cuts
 * a last line that has no newline (a torn record, never acted on), so the
 * next record is not glued to it, and fsyncs.  A missing file is fine.
 * *removed (may be NULL) gets the bytes cut.  Never follows a symlink.
 * Returns 0, or -1 with *e set. */
int durable_trim_torn(const char *path, off_t *removed, struct err *e);
/* fsync the directory at path.  Returns 0, or -1 with *e set. */
int fsync_dir(const char *path, struct err *e);

#endif
