/*
 * ow_name.c: removing a name so that its bytes go too (SPEC §6 step 5; see
 * overwrite.c for the MUST rules): extended attributes scrubbed, the entry
 * renamed to a random name of the same length (which overwrites the
 * directory entry's bytes), the directory synced, the name unlinked, the
 * directory synced again; emptied directories likewise.
 */
#include "sanitize/ow_int.h"

#include "base/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Overwrites the values of user-data xattrs with zeros, then removes every
 * xattr it can.  Only user.* and trusted.* hold data a person put there;
 * system.* and security.* (ACLs, labels) are removed where allowed. */
int
ow_strip_xattrs(int fd, const char *label, struct err *e)
{
	char *list = NULL, *zero = NULL;
	ssize_t len;
	int rc = -1, zeroed = 0;

	len = flistxattr(fd, NULL, 0);
	if (len <= 0) {
		rc = (len == 0 || errno == ENOTSUP) ? 0 :
		    err_sys(e, "%s: listing extended attributes", label);
		goto out;
	}
	list = malloc((size_t)len);
	if (list == NULL || (len = flistxattr(fd, list, (size_t)len)) < 0) {
		err_sys(e, "%s: listing extended attributes", label);
		goto out;
	}
	for (char *n = list; n < list + len; n += strlen(n) + 1) {
		int user = strncmp(n, "user.", 5) == 0 ||
		    strncmp(n, "trusted.", 8) == 0;
		ssize_t vlen = fgetxattr(fd, n, NULL, 0);

		if (user && vlen > 0) {
			char *z = realloc(zero, (size_t)vlen);
			if (z == NULL) {
				err_set(e, "%s: out of memory", label);
				goto out;
			}
			zero = z;
			memset(zero, 0, (size_t)vlen);
			if (fsetxattr(fd, n, zero, (size_t)vlen,
			    XATTR_REPLACE) == 0)
				zeroed = 1;
		}
	}
	/* The zeroed values must reach their home block before removal
	 * frees it, or the block would keep the values as they were. */
	if (zeroed && (fsync(fd) == -1 || media_checkpoint(fd) == -1)) {
		err_sys(e, "%s: fsync after scrubbing extended attributes",
		    label);
		goto out;
	}
	for (char *n = list; n < list + len; n += strlen(n) + 1) {
		int user = strncmp(n, "user.", 5) == 0 ||
		    strncmp(n, "trusted.", 8) == 0;
		if (fremovexattr(fd, n) == -1 && user && errno != ENODATA) {
			err_sys(e, "%s: removing extended attribute", label);
			goto out;
		}
	}
	rc = 0;
out:
	free(list);
	free(zero);
	return rc;
}

uint64_t
ow_rand_below(uint64_t n)
{
	uint64_t x = 0, lim = UINT64_MAX - UINT64_MAX % n;

	do {
		if (getrandom(&x, sizeof(x), 0) != (ssize_t)sizeof(x))
			x = (uint64_t)random() << 31 ^ (uint64_t)random();
	} while (x >= lim);
	return x % n;
}

/* A random name of exactly len bytes from [A-Za-z0-9]. */
static void
random_name(char *out, size_t len)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char r[NAME_MAX + 1];
	size_t got = 0;

	/* One getrandom for the name; 248 = 62 * 4, so bytes below it map
	 * onto the 62 letters evenly and the rest are drawn again. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c;
		do {
			if (got == 0 && (getrandom(r, sizeof(r), 0) !=
			    (ssize_t)sizeof(r)))
				for (size_t k = 0; k < sizeof(r); k++)
					r[k] = (unsigned char)ow_rand_below(256);
			c = r[got];
			got = (got + 1) % sizeof(r);
		} while (c >= 248);
		out[i] = abc[c % 62];
	}
	out[len] = '\0';
}

int
ow_same_inode(int dirfd, const char *name, const struct stat *want)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == want->st_dev && st.st_ino == want->st_ino;
}

/* Renames dirfd/name to a fresh random name of the same length (never
 * replacing anything), writing the new name to out.  Calls o's
 * before_rename first when given. */
static int
rename_same_length(int dirfd, const char *name, const char *label,
    const struct ow_opts *o, char *out, struct err *e)
{
	size_t len = strlen(name);

	if (len > NAME_MAX)
		return err_set(e, "%s: name too long", label);
	for (int tries = 0; tries < 64; tries++) {
		random_name(out, len);
		if (strcmp(out, name) == 0)
			continue;
		if (o != NULL && o->before_rename != NULL &&
		    o->before_rename(out, o->arg) != 0)
			return err_set(e, "%s: not renamed: the caller could not "
			    "record the new name", label);
		if (renameat2(dirfd, name, dirfd, out, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == EEXIST)
			continue;
		if (errno != EINVAL && errno != ENOSYS)
			return err_sys(e, "%s: rename", label);
		/* No RENAME_NOREPLACE here: check, then plain rename.  The
		 * name is random, so a race needs a guess of it. */
		if (faccessat(dirfd, out, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (renameat(dirfd, name, dirfd, out) == 0)
			return 0;
		return err_sys(e, "%s: rename", label);
	}
	return err_set(e, "%s: no free random name of the same length", label);
}

int
ow_pick_name(int dirfd, const char *name, const char *label, char *out,
    struct err *e)
{
	size_t len = strlen(name);

	if (len > NAME_MAX)
		return err_set(e, "%s: name too long", label);
	for (int tries = 0; tries < 64; tries++) {
		random_name(out, len);
		if (strcmp(out, name) != 0 &&
		    faccessat(dirfd, out, F_OK, AT_SYMLINK_NOFOLLOW) != 0 &&
		    errno == ENOENT)
			return 0;
	}
	return err_set(e, "%s: no free random name of the same length", label);
}

int
ow_rename_to(int dirfd, const char *name, const char *out, const char *label,
    struct err *e)
{
	if (renameat2(dirfd, name, dirfd, out, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno == EEXIST)
		return 1;
	if (errno != EINVAL && errno != ENOSYS)
		return err_sys(e, "%s: rename", label);
	/* No RENAME_NOREPLACE here: check, then plain rename.  The name is
	 * random, so a race needs a guess of it. */
	if (faccessat(dirfd, out, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	if (renameat(dirfd, name, dirfd, out) == 0)
		return 0;
	return err_sys(e, "%s: rename", label);
}

/* Same-length rename, fsync, re-check, unlink, fsync (SPEC §6.5). */
int
ow_remove_name(int dirfd, const char *name, const char *label,
    const struct stat *want, const struct ow_opts *o, int *renamed,
    struct err *e)
{
	char tmp[NAME_MAX + 1];

	if (!ow_same_inode(dirfd, name, want))
		return err_set(e, "%s: the name no longer refers to the file "
		    "that was checked; left in place", label);
	if (rename_same_length(dirfd, name, label, o, tmp, e) == -1)
		return -1;
	if (renamed != NULL)
		*renamed = 1;
	if (fsync(dirfd) == -1)
		return err_sys(e, "%s (renamed %s): fsync directory", label, tmp);
	if (!ow_same_inode(dirfd, tmp, want))
		return err_set(e, "%s (renamed %s): replaced after the rename; "
		    "left in place", label, tmp);
	if (unlinkat(dirfd, tmp, 0) == -1)
		return err_sys(e, "%s (renamed %s): unlink", label, tmp);
	if (fsync(dirfd) == -1)
		return err_sys(e, "%s: fsync directory after unlink", label);
	return 0;
}

int
ow_unlink_name(int dirfd, const char *name, const char *label,
    const struct ow_opts *o, struct err *e)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return err_sys(e, "%s", label);
	if (S_ISDIR(st.st_mode))
		return err_set(e, "%s: is a directory", label);
	if (o != NULL && (o->dev != 0 || o->ino != 0) &&
	    (st.st_dev != o->dev || st.st_ino != o->ino))
		return err_set(e, "%s: replaced since it was located; refused",
		    label);
	return ow_remove_name(dirfd, name, label, &st, o, NULL, e);
}

int
ow_rmdir_if_empty(int dirfd, const char *name, const char *label,
    struct err *e)
{
	return ow_rmdir_recorded(dirfd, name, label, NULL, e);
}

int
ow_rmdir_recorded(int dirfd, const char *name, const char *label,
    const struct ow_opts *o, struct err *e)
{
	char tmp[NAME_MAX + 1];
	struct stat st, pst;
	struct dirent *de;
	DIR *d = NULL;
	int fd, rc = -1, empty = 1;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return err_sys(e, "%s", label);
	if (!S_ISDIR(st.st_mode))
		return err_set(e, "%s: not a directory", label);
	if (fstat(dirfd, &pst) == -1)
		return err_sys(e, "%s: fstat parent", label);
	if (st.st_dev != pst.st_dev)
		return 0;	/* a mount point is never removed */
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return err_sys(e, "%s", label);
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return err_sys(e, "%s: cannot read directory", label);
	}
	while ((de = readdir(d)) != NULL)
		if (!(de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    (de->d_name[1] == '.' && de->d_name[2] == '\0'))))
			empty = 0;
	closedir(d);
	if (!empty)
		return 0;
	if (!ow_same_inode(dirfd, name, &st))
		return err_set(e, "%s: replaced while being checked", label);
	if (rename_same_length(dirfd, name, label, o, tmp, e) == -1)
		return -1;
	if (fsync(dirfd) == -1) {
		err_sys(e, "%s: fsync parent directory", label);
		goto out;
	}
	if (!ow_same_inode(dirfd, tmp, &st)) {
		err_set(e, "%s (renamed %s): replaced after the rename; left in "
		    "place", label, tmp);
		goto out;
	}
	/* Its entries were removed (and fsync'd) before; write that home
	 * now, since rmdir frees the block and a journaling filesystem would
	 * then never write the scrubbed version over the old names. */
	(void)media_checkpoint(dirfd);
	if (unlinkat(dirfd, tmp, AT_REMOVEDIR) == -1) {
		if (errno == ENOTEMPTY || errno == EEXIST) {
			/* Filled again since we looked: put the name back. */
			if (renameat2(dirfd, tmp, dirfd, name,
			    RENAME_NOREPLACE) == -1) {
				err_sys(e, "%s: refilled while being removed and "
				    "left as %s", label, tmp);
				goto out;
			}
			rc = 0;
			goto out;
		}
		err_sys(e, "%s (renamed %s): rmdir", label, tmp);
		goto out;
	}
	rc = 1;
out:
	if (fsync(dirfd) == -1 && rc != -1)
		rc = err_sys(e, "%s: fsync parent directory", label);
	return rc;
}

