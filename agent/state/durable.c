/*
 * durable.c: crash-safe small-file writes (see durable.h).
 *
 * MUST rules:
 *  - the temporary file is created O_EXCL|O_NOFOLLOW in the target's own
 *    directory, so the rename is atomic and never lands through a link;
 *  - data is fsync'd before the rename, the directory after it;
 *  - on any failure the temporary file is removed and the old file stands.
 */
#include "state/durable.h"
#include "base/err.h"
#include "base/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The one way state files are written; noreplace: never over an existing
 * name (returns 1 then), atomically where the filesystem has
 * RENAME_NOREPLACE, else through link(2), which is exclusive too. */
static int
write_at(int dirfd, const char *name, const void *buf, size_t len,
    mode_t mode, int noreplace, struct err *e)
{
	char tmp[4096];
	const char *p = buf;
	int fd = -1, rc = -1, n;

	n = snprintf(tmp, sizeof(tmp), ".%s.tmp.%ld", name, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return err_set(e, "%s: name too long", name);
	(void)unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode);
	if (fd == -1)
		return err_sys(e, "%s: cannot create", name);
	if (fchmod(fd, mode) == -1) {
		err_sys(e, "%s: chmod", name);
		goto out;
	}
	if (fdio_write_all(fd, p, len) != 0) {
		err_sys(e, "%s: write", name);
		goto out;
	}
	if (fsync(fd) == -1) {
		err_sys(e, "%s: fsync", name);
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		err_sys(e, "%s: close", name);
		goto out;
	}
	fd = -1;
	if (!noreplace && renameat(dirfd, tmp, dirfd, name) == -1) {
		err_sys(e, "%s: rename into place", name);
		goto out;
	}
	if (noreplace && renameat2(dirfd, tmp, dirfd, name,
	    RENAME_NOREPLACE) == -1) {
		if (errno == EEXIST) {
			rc = 1;
			goto out;
		}
		if (errno != EINVAL && errno != ENOSYS) {
			err_sys(e, "%s: rename into place", name);
			goto out;
		}
		if (linkat(dirfd, tmp, dirfd, name, 0) == -1) {
			if (errno == EEXIST)
				rc = 1;
			else
				err_sys(e, "%s: link into place", name);
			goto out;
		}
		(void)unlinkat(dirfd, tmp, 0);
	}
	if (fsync(dirfd) == -1) {
		err_sys(e, "%s: fsync directory", name);
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (rc != 0)
		(void)unlinkat(dirfd, tmp, 0);
	return rc;
}

int
durable_write_at(int dirfd, const char *name, const void *buf, size_t len,
    mode_t mode, struct err *e)
{
	return write_at(dirfd, name, buf, len, mode, 0, e);
}

int
durable_create_at(int dirfd, const char *name, const void *buf, size_t len,
    mode_t mode, struct err *e)
{
	return write_at(dirfd, name, buf, len, mode, 1, e);
}

int
durable_write(const char *path, const void *buf, size_t len, mode_t mode,
    struct err *e)
{
	char dir[4096];
	const char *slash = strrchr(path, '/'), *base;
	int dfd, rc;

	if (slash == NULL) {
		strcpy(dir, ".");
		base = path;
	} else {
		size_t dl = (size_t)(slash - path);
		if (dl >= sizeof(dir))
			return err_set(e, "%s: path too long", path);
		if (dl == 0)
			dl = 1;
		memcpy(dir, path, dl);
		dir[dl] = '\0';
		base = slash + 1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1)
		return err_sys(e, "%s: cannot open directory", dir);
	rc = durable_write_at(dfd, base, buf, len, mode, e);
	if (rc != 0)
		err_prepend(e, "%s/", dir);
	close(dfd);
	return rc;
}

int
slurp(const char *path, size_t max, char **bufp, size_t *lenp, struct err *e)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1)
		return err_sys(e, "%s", path);
	if (fstat(fd, &st) == -1) {
		err_sys(e, "%s: stat", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, "%s: not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		err_set(e, "%s: larger than %zu bytes", path, max);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		err_set(e, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t r;
		if (len == (size_t)st.st_size) {
			char c;
			r = read(fd, &c, 1);
			if (r > 0) {
				err_set(e, "%s: changed while being read", path);
				goto out;
			}
			break;
		}
		r = read(fd, buf + len, (size_t)st.st_size - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err_sys(e, "%s: read", path);
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

int
mkdirs(const char *path, mode_t mode, struct err *e)
{
	char p[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(p))
		return err_set(e, "%s: bad directory path", path);
	memcpy(p, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		char c = p[i];
		p[i] = '\0';
		if (mkdir(p, mode) == -1 && errno != EEXIST)
			return err_sys(e, "%s: cannot create directory", p);
		p[i] = c;
	}
	struct stat st;
	if (lstat(path, &st) == -1)
		return err_sys(e, "%s", path);
	if (!S_ISDIR(st.st_mode))
		return err_set(e, "%s: not a directory", path);
	return 0;
}

int
fsync_dir(const char *path, struct err *e)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1)
		return err_sys(e, "%s: cannot open directory", path);
	if (fsync(fd) == -1) {
		err_sys(e, "%s: fsync", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
durable_trim_torn(const char *path, off_t *removed, struct err *e)
{
	char buf[4096];
	struct stat st;
	off_t end, keep = 0;
	int fd, rc = -1;

	if (removed != NULL)
		*removed = 0;
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? 0 : err_sys(e, "%s", path);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		err_set(e, "%s: not a regular file", path);
		goto out;
	}
	/* The last newline, looking back from the end. */
	for (end = st.st_size; end > 0 && keep == 0;) {
		size_t n = end > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)end;
		ssize_t got = pread(fd, buf, n, end - (off_t)n);
		if (got != (ssize_t)n) {
			err_sys(e, "%s: read", path);
			goto out;
		}
		for (size_t i = n; i-- > 0;)
			if (buf[i] == '\n') {
				keep = end - (off_t)n + (off_t)i + 1;
				break;
			}
		end -= (off_t)n;
	}
	if (keep < st.st_size) {
		if (ftruncate(fd, keep) == -1 || fsync(fd) == -1) {
			err_sys(e, "%s: cannot cut its torn last line", path);
			goto out;
		}
		if (removed != NULL)
			*removed = st.st_size - keep;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}
