/*
 * resolve.c: path resolution beneath an allowed root (see resolve.h).
 *
 * MUST rules:
 *  - below a root, a path is only ever looked up relative to a directory
 *    descriptor that lies beneath that root; never as a joined string
 *    handed to open(2);
 *  - no symlink below the root is followed, at any component: openat2
 *    with RESOLVE_NO_SYMLINKS, else O_NOFOLLOW at every step;
 *  - no lookup leaves the root: ".." components are refused outright and
 *    openat2 adds RESOLVE_BENEATH;
 *  - no lookup crosses a mount point: RESOLVE_NO_XDEV, else the st_dev of
 *    every directory opened is compared with the root's;
 *  - every descriptor is O_CLOEXEC and is closed on every error path.
 */
#include "locate/resolve.h"
#include "base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* openat2 refuses every symlink itself (ELOOP); with O_NOFOLLOW a final
 * symlink would be reported as ENOTDIR instead, hiding what it is. */
#define DIR_FLAGS2 (O_RDONLY | O_DIRECTORY | O_CLOEXEC)
#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Set once openat2 has answered ENOSYS (kernels before 5.6, or seccomp
 * filters that hide it), or EPERM where the component walk then worked (a
 * seccomp filter refusing calls it does not know: the kernel itself never
 * answers a read-only directory open with EPERM); from then on the
 * component walk is used. */
static int no_openat2;

static int
unavailable(int err)
{
	return err == ENOSYS || err == EPERM;
}

void
resolve_force_walk(int on)
{
	no_openat2 = on;
}

static int
sys_openat2(int dirfd, const char *path, int flags)
{
	struct open_how how;
	int fd, tries = 0;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)flags;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV |
	    RESOLVE_NO_MAGICLINKS;
	do {
		/* EAGAIN: a concurrent rename raced the lookup; retry a
		 * bounded number of times, as the kernel asks. */
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	} while (fd == -1 && errno == EAGAIN && ++tries < 16);
	return fd;
}

/* Whether a single component is acceptable as a name to look up. */
static int
bad_component(const char *c, size_t len)
{
	return len == 0 || (len == 1 && c[0] == '.') ||
	    (len == 2 && c[0] == '.' && c[1] == '.');
}

/* Checks that rel is relative, short enough and free of "..".  Empty
 * components and "." are tolerated (they go nowhere). */
static int
check_rel(const char *rel)
{
	const char *p = rel, *s;

	if (rel[0] == '/' || strlen(rel) >= PATH_MAX) {
		errno = EINVAL;
		return -1;
	}
	while (*p != '\0') {
		s = strchr(p, '/');
		size_t len = s ? (size_t)(s - p) : strlen(p);
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			errno = EINVAL;
			return -1;
		}
		p += len;
		while (*p == '/')
			p++;
	}
	return 0;
}

/* O_NOFOLLOW|O_DIRECTORY on a symlink fails with ENOTDIR; say ELOOP, as
 * openat2 does, so callers can tell a link from a file. */
static int
open_step(int dirfd, const char *name)
{
	struct stat st;
	int fd = openat(dirfd, name, DIR_FLAGS);

	if (fd == -1 && errno == ENOTDIR) {
		int link = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode);
		errno = link ? ELOOP : ENOTDIR;
	}
	return fd;
}

int
resolve_child_dir(const struct rootdir *r, int dirfd, const char *name)
{
	struct stat st;
	int fd;

	if (strchr(name, '/') != NULL || bad_component(name, strlen(name))) {
		errno = EINVAL;
		return -1;
	}
	if (!no_openat2) {
		fd = sys_openat2(dirfd, name, DIR_FLAGS2);
		if (fd != -1 || !unavailable(errno))
			return fd;
	}
	fd = open_step(dirfd, name);
	if (fd == -1)
		return -1;
	no_openat2 = 1;	/* the walk works where openat2 did not */
	if (fstat(fd, &st) == -1) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if (st.st_dev != r->dev) {
		close(fd);
		errno = EXDEV;
		return -1;
	}
	return fd;
}

/* The component walk used without openat2: one O_NOFOLLOW|O_DIRECTORY
 * open per component, each checked to be on the root's filesystem. */
static int
walk_dir(const struct rootdir *r, const char *rel)
{
	char comp[NAME_MAX + 1];
	const char *p = rel;
	int fd, next;

	fd = fcntl(r->fd, F_DUPFD_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	while (*p != '\0') {
		const char *s = strchr(p, '/');
		size_t len = s ? (size_t)(s - p) : strlen(p);
		if (len > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		if (!(len == 1 && p[0] == '.')) {
			memcpy(comp, p, len);
			comp[len] = '\0';
			next = open_step(fd, comp);
			if (next != -1) {
				struct stat st;
				if (fstat(next, &st) == -1 || st.st_dev != r->dev) {
					close(next);
					next = -1;
					errno = EXDEV;
				}
			}
			close(fd);
			if (next == -1)
				return -1;
			fd = next;
		}
		p += len;
		while (*p == '/')
			p++;
	}
	return fd;
}

static int
open_dir(const struct rootdir *r, const char *rel)
{
	int fd;

	if (check_rel(rel) == -1)
		return -1;
	while (*rel == '/')
		rel++;
	if (rel[0] == '\0')
		return fcntl(r->fd, F_DUPFD_CLOEXEC, 0);
	if (!no_openat2) {
		fd = sys_openat2(r->fd, rel, DIR_FLAGS2);
		if (fd != -1 || !unavailable(errno))
			return fd;
		if (errno == ENOSYS)
			no_openat2 = 1;
	}
	fd = walk_dir(r, rel);
	if (fd != -1)
		no_openat2 = 1;	/* the walk works where openat2 did not */
	return fd;
}

/* Fills *e for a failed lookup of rel beneath r, keeping errno. */
static int
lookup_error(const struct rootdir *r, const char *rel, struct err *e)
{
	int saved = errno;

	switch (saved) {
	case ELOOP:
		err_set(e, "%s/%s: a component is a symbolic link; lethe never "
		    "follows links below an allowed root", r->path, rel);
		break;
	case EXDEV:
		err_set(e, "%s/%s: the path crosses a mount point or leaves the "
		    "allowed root; lethe never does either (add the mount to "
		    "allowed_roots if it holds the data)", r->path, rel);
		break;
	case EINVAL:
		err_set(e, "%s/%s: not a plain relative path below the root "
		    "(\"..\" is refused)", r->path, rel);
		break;
	default:
		err_sys(e, "%s/%s", r->path, rel);
		break;
	}
	errno = saved;
	return -1;
}

int
resolve_root(const char *path, struct rootdir *r, struct err *e)
{
	struct stat st;

	r->fd = -1;
	r->path = path;
	if (path == NULL || path[0] != '/')
		return err_set(e, "%s: an allowed root must be an absolute path",
		    path ? path : "(null)");
	/* The root itself is configuration (checked by `lethe check`), so
	 * symlinks in it are the administrator's choice and are followed. */
	r->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->fd == -1)
		return err_sys(e, "%s: cannot open allowed root", path);
	if (fstat(r->fd, &st) == -1) {
		err_sys(e, "%s: fstat", path);
		close(r->fd);
		r->fd = -1;
		return -1;
	}
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	return 0;
}

void
resolve_root_close(struct rootdir *r)
{
	if (r->fd != -1)
		close(r->fd);
	r->fd = -1;
}

int
resolve_dir(const struct rootdir *r, const char *rel, struct err *e)
{
	int fd = open_dir(r, rel);

	if (fd == -1)
		return lookup_error(r, rel, e);
	return fd;
}

int
resolve_parent(const struct rootdir *r, const char *rel, const char **base,
    struct err *e)
{
	char dir[PATH_MAX];
	const char *slash, *b;
	size_t len = strlen(rel);
	int fd;

	if (len == 0 || len >= sizeof(dir) || rel[len - 1] == '/') {
		errno = EINVAL;
		return lookup_error(r, rel, e);
	}
	slash = strrchr(rel, '/');
	b = slash ? slash + 1 : rel;
	if (bad_component(b, strlen(b))) {
		errno = EINVAL;
		return lookup_error(r, rel, e);
	}
	len = slash ? (size_t)(slash - rel) : 0;
	memcpy(dir, rel, len);
	dir[len] = '\0';
	fd = open_dir(r, dir);
	if (fd == -1)
		return lookup_error(r, rel, e);
	*base = b;
	return fd;
}

/* Length of the next component at *p (skipping leading slashes). */
static size_t
next_comp(const char **p)
{
	while (**p == '/')
		(*p)++;
	const char *s = strchr(*p, '/');
	return s ? (size_t)(s - *p) : strlen(*p);
}

int
resolve_which_root(const char *const *roots, size_t nroots, const char *path,
    const char **rel)
{
	size_t best_depth = 0;
	int best = -1;

	if (path == NULL || path[0] != '/')
		return -1;
	for (size_t i = 0; i < nroots; i++) {
		const char *rp = roots[i], *pp = path;
		size_t depth = 0, rl, pl;

		if (rp == NULL || rp[0] != '/')
			continue;
		for (;;) {
			rl = next_comp(&rp);
			if (rl == 0)
				break;
			pl = next_comp(&pp);
			if (pl != rl || memcmp(rp, pp, rl) != 0)
				break;
			rp += rl;
			pp += pl;
			depth++;
		}
		if (rl != 0)
			continue;	/* the root is not a prefix */
		if (best == -1 || depth > best_depth) {
			best = (int)i;
			best_depth = depth;
			while (*pp == '/')
				pp++;
			*rel = pp;
		}
	}
	return best;
}
