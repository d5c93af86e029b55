/*
 * resolve.h: every path lethe acts on beneath an allowed root is resolved
 * here, and only here (SPEC §6.1, STYLE §5).
 *
 * A root is opened once (its own path is trusted configuration); below it
 * every lookup goes through directory descriptors: openat2() with
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV|RESOLVE_NO_MAGICLINKS
 * where the kernel has it, else one component at a time with
 * O_NOFOLLOW|O_DIRECTORY and an st_dev comparison against the root.
 * No function here ever follows a symlink below the root, leaves the root
 * ("..", absolute links) or crosses a mount point.
 */
#ifndef LETHE_RESOLVE_H
#define LETHE_RESOLVE_H

#include <stddef.h>
#include <sys/types.h>

struct err;

struct rootdir {
	int fd;			/* O_RDONLY|O_DIRECTORY, or -1 */
	dev_t dev;		/* the root's filesystem */
	ino_t ino;
	const char *path;	/* as configured, for messages (not owned) */
};

/* Opens the allowed root `path` (absolute) as a directory.  The root's own
 * path is configuration and may contain symlinks; nothing below it may.
 * Returns 0, or -1 with *e set (r->fd is then -1). */
int resolve_root(const char *path, struct rootdir *r, struct err *e);
void resolve_root_close(struct rootdir *r);

/* Opens the directory `rel` beneath r ("" or "." is the root itself) as an
 * O_RDONLY|O_DIRECTORY descriptor.  `rel` is relative, has no ".."
 * component and at most PATH_MAX bytes.  Returns the fd, or -1 with *e set
 * naming the path and errno kept: ENOENT/ENOTDIR (missing), ELOOP (a
 * symlink on the way), EXDEV (a mount point on the way), EACCES, EINVAL
 * (a bad rel). */
int resolve_dir(const struct rootdir *r, const char *rel, struct err *e);

/* Opens the directory holding the last component of `rel` beneath r and
 * sets *base to that component (a pointer into rel, never empty, never
 * "." or "..").  Same guarantees and errors as resolve_dir. */
int resolve_parent(const struct rootdir *r, const char *rel,
    const char **base, struct err *e);

/* One step of a walk: opens the subdirectory `name` (a single component)
 * of dirfd, which lies beneath r.  Returns the fd, or -1 with errno set
 * (ELOOP a symlink, EXDEV a mount point, ENOTDIR, ENOENT, EACCES) and no
 * message, so a walker can decide what each case means. */
int resolve_child_dir(const struct rootdir *r, int dirfd, const char *name);

/* Which of roots[] holds the absolute `path`: the longest root that is a
 * prefix of path at a component boundary (repeated and trailing slashes
 * ignored, compared literally: /srv/ab is not inside /srv/a, and a root
 * reached through a symlink holds only the paths written through it).
 * Sets *rel to the rest of path, without leading slashes ("" when path is
 * the root).  Returns the root's index, or -1 when no root holds it.  The
 * one containment rule: every "is this inside" in lethe is this function.
 * "." and ".." are not resolved: a rel holding ".." is refused by
 * resolve_dir and resolve_parent, and config_root_of refuses such a path
 * outright. */
int resolve_which_root(const char *const *roots, size_t nroots,
    const char *path, const char **rel);

/* Forces (1) or releases (0) the component walk used where openat2 is
 * missing, so tests can prove both paths keep the same guarantees. */
void resolve_force_walk(int on);

#endif
