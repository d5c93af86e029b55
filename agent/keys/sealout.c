/*
 * sealout.c: where a sealed stream is written (see seal.h, struct
 * seal_out): a temporary file beside the target, renamed over it only
 * when complete.
 *
 * MUST rules:
 *  - the temporary file is created O_EXCL|O_NOFOLLOW with the caller's
 *    mode, in the target's own directory (held by descriptor), so the
 *    rename is atomic and never lands through a link;
 *  - it is fsync'd before the rename and the directory after it; on any
 *    failure the temporary file is removed and the old file stands.
 */
#include "keys/seal.h"
#include "base/err.h"
#include "base/hex.h"

#include <openssl/rand.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 16 random hex digits for a temporary name (buf: 17 bytes). */
static int
rand_hex(char buf[17])
{
	unsigned char r[8];

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	hex_encode(r, sizeof(r), buf);
	return 0;
}

int
seal_out_openat(int dirfd, const char *name, const char *label, mode_t mode,
    struct seal_out *o, struct err *e)
{
	char hex[17];
	int n, rc = -1;

	memset(o, 0, sizeof(*o));
	o->dirfd = o->fd = -1;
	o->name = strdup(name);
	o->path = strdup(label);
	if (o->name == NULL || o->path == NULL) {
		err_set(e, "%s: out of memory", label);
		goto out;
	}
	if (name[0] == '\0' || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		err_set(e, "%s: not a file name", label);
		goto out;
	}
	o->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (o->dirfd == -1) {
		err_sys(e, "%s: dup", label);
		goto out;
	}
	n = rand_hex(hex);
	if (n == 0)
		n = snprintf(o->tmp, sizeof(o->tmp), ".lethe-tmp.%s", hex);
	if (n < 0 || (size_t)n >= sizeof(o->tmp)) {
		err_set(e, "%s: cannot make a temporary name", label);
		goto out;
	}
	o->fd = openat(o->dirfd, o->tmp, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, mode);
	if (o->fd == -1) {
		err_sys(e, "%s: cannot create a temporary file beside it",
		    label);
		goto out;
	}
	if (fchmod(o->fd, mode) != 0) {
		err_sys(e, "%s: chmod", label);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		seal_out_abort(o);
	return rc;
}

int
seal_out_open(const char *path, mode_t mode, struct seal_out *o,
    struct err *e)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int dfd, rc;

	memset(o, 0, sizeof(*o));
	o->dirfd = o->fd = -1;
	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return err_set(e, "%s: out of memory", path);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1) {
		err_sys(e, "%s: cannot open directory", dir);
		free(dir);
		return -1;
	}
	rc = seal_out_openat(dfd, slash ? slash + 1 : path, path, mode, o, e);
	close(dfd);
	free(dir);
	return rc;
}

static void
out_close(struct seal_out *o)
{
	if (o->fd != -1)
		close(o->fd);
	if (o->dirfd != -1)
		close(o->dirfd);
	free(o->name);
	free(o->path);
	o->fd = o->dirfd = -1;
	o->name = o->path = NULL;
}

int
seal_out_commit(struct seal_out *o, struct err *e)
{
	int fd = o->fd;

	o->fd = -1;
	if (fsync(fd) != 0) {
		err_sys(e, "%s: fsync", o->path);
		close(fd);
		goto fail;
	}
	if (close(fd) != 0) {
		err_sys(e, "%s: close", o->path);
		goto fail;
	}
	if (renameat(o->dirfd, o->tmp, o->dirfd, o->name) != 0) {
		err_sys(e, "%s: rename into place", o->path);
		goto fail;
	}
	if (fsync(o->dirfd) != 0) {
		/* In place already; only its durability is in doubt. */
		err_sys(e, "%s: fsync directory", o->path);
		out_close(o);
		return -1;
	}
	out_close(o);
	return 0;
fail:
	seal_out_abort(o);
	return -1;
}

void
seal_out_abort(struct seal_out *o)
{
	if (o->dirfd != -1 && o->tmp[0] != '\0')
		(void)unlinkat(o->dirfd, o->tmp, 0);
	out_close(o);
}
