/*
 * overwrite.c: verified overwrite of files and removal of their names
 * (SPEC §6 steps 2, 4, 5; see overwrite.h): one file at a time, or many in
 * a batch whose durable steps are taken together (ow_batch.c).  The data
 * pass is ow_pass.c's, its read-back ow_verify.c's, name removal
 * ow_name.c's; this file holds the rules and the checks before the first
 * write.
 *
 * MUST rules:
 *  - a name is only ever looked up relative to its directory descriptor,
 *    with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW: a symlink is never followed;
 *  - only regular files are opened, and then with O_NONBLOCK|O_NOCTTY, so
 *    a FIFO or terminal swapped in after the type check never hangs or
 *    becomes a controlling tty; fstat on the fd must then show a regular
 *    file with the expected st_dev/st_ino and no more links than allowed;
 *  - nothing is written to an immutable or append-only file, to a file on
 *    a filesystem media.c refuses, or to a file sharing blocks with another
 *    (reflink); every refusal happens before the first write;
 *  - only the file's allocated extents and data ranges are written
 *    (span.h): a hole is never written, so a sparse file never fills the
 *    filesystem; the digest is still of the whole logical content, holes
 *    read as zeros, as any reader of the file sees it;
 *  - the content is read (and hashed) and overwritten in the same pass,
 *    fdatasync'd, the page cache for it dropped, and exactly the ranges
 *    written are read back from the device (O_DIRECT where the filesystem
 *    allows) and compared; the physical extents must be where they were
 *    before the pass;
 *  - before a name is renamed or unlinked, fstatat must show it is still
 *    the inode that was overwritten; the directory is fsync'd after the
 *    rename and after the unlink;
 *  - the random pattern key is wiped on every path out (aesctr.c);
 *  - in a batch, no step is skipped, only taken for many files at once:
 *    every file's writes are on the device (syncfs of its filesystem)
 *    before any is read back, and every file is read back before the
 *    caller records its new name and any name is touched.
 */
#include "sanitize/ow_int.h"
#include "base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct ow_opts default_opts = {
	.pattern = OW_PATTERN_ZERO, .verify = OW_VERIFY_FULL, .links_ok = 1,
};

int
ow_check_fd(int fd, const char *label, const struct ow_opts *o, struct stat *st,
    struct err *e)
{
	char fstype[64];
	const char *why;
	nlink_t ok = o->links_ok ? o->links_ok : 1;
	int flags = 0;

	if (fstat(fd, st) == -1)
		return err_sys(e, "%s: fstat", label);
	if (!S_ISREG(st->st_mode))
		return err_set(e, "%s: not a regular file; only regular files "
		    "are overwritten", label);
	if ((o->dev != 0 || o->ino != 0) &&
	    (st->st_dev != o->dev || st->st_ino != o->ino))
		return err_set(e, "%s: replaced by another file since it was "
		    "located; refused", label);
	if (st->st_nlink > ok)
		return err_set(e, "%s: has %lu hard links, so its data is also "
		    "reachable by a name outside this disposition; refused "
		    "(remove the other links or put them in the dataset)",
		    label, (unsigned long)st->st_nlink);
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
		if (flags & FS_IMMUTABLE_FL)
			return err_set(e, "%s is immutable (chattr +i); clear the "
			    "flag with chattr -i if it is to be destroyed, or "
			    "take it out of the dataset", label);
		if (flags & FS_APPEND_FL)
			return err_set(e, "%s is append-only (chattr +a); clear "
			    "the flag with chattr -a if it is to be destroyed, "
			    "or take it out of the dataset", label);
	}
	if (media_fstype(fd, fstype, sizeof(fstype), e) == -1)
		return -1;
	why = media_overwrite_refusal(fstype);
	if (why != NULL)
		return err_set(e, "%s: overwrite refused on %s: %s", label,
		    fstype, why);
	return 0;
}

int
ow_open_regular(int dirfd, const char *name, const char *label,
    const struct ow_opts *o, struct err *e)
{
	struct stat st;
	int fd, flags = 0, saved;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return err_sys(e, "%s", label);
	if (!S_ISREG(st.st_mode))
		return err_set(e, "%s: not a regular file (%s); never opened for "
		    "writing", label, S_ISLNK(st.st_mode) ? "a symlink" :
		    S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISSOCK(st.st_mode) ?
		    "a socket" : S_ISDIR(st.st_mode) ? "a directory" :
		    "a device");
	if ((o->dev != 0 || o->ino != 0) &&
	    (st.st_dev != o->dev || st.st_ino != o->ino))
		return err_set(e, "%s: replaced by another file since it was "
		    "located; refused", label);
	fd = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd != -1)
		return fd;
	saved = errno;
	if (saved == EPERM || saved == EACCES) {
		/* Say why, when it is a flag someone can clear. */
		int rfd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (rfd != -1 && ioctl(rfd, FS_IOC_GETFLAGS, &flags) == 0 &&
		    (flags & (FS_IMMUTABLE_FL | FS_APPEND_FL))) {
			close(rfd);
			return err_set(e, "%s is %s; clear the flag with chattr "
			    "%s if it is to be destroyed, or take it out of the "
			    "dataset", label, (flags & FS_IMMUTABLE_FL) ?
			    "immutable (chattr +i)" : "append-only (chattr +a)",
			    (flags & FS_IMMUTABLE_FL) ? "-i" : "-a");
		}
		if (rfd != -1)
			close(rfd);
	}
	errno = saved;
	if (saved == EROFS)
		return err_set(e, "%s: on a read-only filesystem; remount it "
		    "read-write to destroy the file", label);
	if (saved == ELOOP)
		return err_set(e, "%s: became a symlink; never followed", label);
	return err_sys(e, "%s: cannot open for overwrite", label);
}

/* The whole overwrite of one file that passed ow_check_fd: the pass, the
 * re-passes over any growth and the extent check, the journal checkpoint,
 * the read-back. */
static int
overwrite_fd(struct pass *p, const struct stat *st0)
{
	struct ow_work w;
	int rc = -1;

	memset(&w, 0, sizeof(w));
	w.p = *p;
	w.st = *st0;
	if (ow_work_write(&w) != 0 || ow_work_settle(&w, 0) != 0)
		goto out;
	/* Where the filesystem journals data (ext4 data=journal, inline
	 * data), the pattern sits in the log until a checkpoint writes it
	 * home; do that now, so the read-back sees the home blocks. */
	(void)media_checkpoint(w.p.fd);
	if (ow_work_verify(&w) != 0)
		goto out;
	rc = 0;
out:
	ow_work_free(&w);
	return rc;
}

int
ow_fd(int fd, const char *label, const struct ow_opts *o,
    struct ow_result *r, struct err *e)
{
	struct pass p = { .fd = fd, .label = label, .e = e };
	struct ow_result dummy;
	struct stat st;

	p.o = o != NULL ? o : &default_opts;
	p.r = r != NULL ? r : &dummy;
	if (ow_check_fd(fd, label, p.o, &st, e) == -1)
		return -1;
	return overwrite_fd(&p, &st);
}

int
ow_file(int dirfd, const char *name, const char *label,
    const struct ow_opts *o, struct ow_result *r, struct err *e)
{
	struct pass p = { .label = label, .e = e };
	struct ow_result dummy;
	struct stat st;
	int rc = -1;

	p.o = o != NULL ? o : &default_opts;
	p.r = r != NULL ? r : &dummy;
	memset(p.r, 0, sizeof(*p.r));
	p.fd = ow_open_regular(dirfd, name, label, p.o, e);
	if (p.fd == -1)
		return -1;
	if (ow_check_fd(p.fd, label, p.o, &st, e) == -1 ||
	    overwrite_fd(&p, &st) == -1)
		goto out;
	if (ow_strip_xattrs(p.fd, label, e) == -1)
		goto out;
	if (ftruncate(p.fd, 0) == -1 || fsync(p.fd) == -1) {
		err_sys(e, "%s: truncate", label);
		goto out;
	}
	if (ow_remove_name(dirfd, name, label, &st, p.o, &p.r->renamed, e) == -1)
		goto out;
	rc = 0;
out:
	close(p.fd);
	return rc;
}

int
ow_path(const char *path, struct err *e)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base;
	size_t len;
	int dfd, rc;

	if (path[0] != '/' || slash == NULL || slash[1] == '\0')
		return err_set(e, "%s: not an absolute file path", path);
	base = slash + 1;
	len = slash == path ? 1 : (size_t)(slash - path);
	if (len >= sizeof(dir))
		return err_set(e, "%s: path too long", path);
	memcpy(dir, path, len);
	dir[len] = '\0';
	/* state_dir's own directories are trusted (see overwrite.h). */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1)
		return err_sys(e, "%s", dir);
	rc = ow_file(dfd, base, path, NULL, NULL, e);
	close(dfd);
	return rc;
}
