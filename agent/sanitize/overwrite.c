/*
 * overwrite.c: verified overwrite of files and removal of their names
 * (SPEC §6 steps 2, 4, 5; see overwrite.h): one file at a time, or many in
 * a batch whose durable steps are taken together.  The data pass is
 * ow_pass.c's, name removal ow_name.c's; this file holds the rules.
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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct ow_opts default_opts = {
	.pattern = OW_PATTERN_ZERO, .verify = OW_VERIFY_FULL, .links_ok = 1,
};

/* Everything that must hold before the first write, on the open fd. */
static int
check_fd(int fd, const char *label, const struct ow_opts *o, struct stat *st,
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

/* Opens dirfd/name for overwrite: regular files only, never following a
 * link, never blocking.  Explains the refusals a person can act on. */
static int
open_regular(int dirfd, const char *name, const char *label,
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

/* The whole overwrite of one file that passed check_fd: the pass, the
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
	if (check_fd(fd, label, p.o, &st, e) == -1)
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
	p.fd = open_regular(dirfd, name, label, p.o, e);
	if (p.fd == -1)
		return -1;
	if (check_fd(p.fd, label, p.o, &st, e) == -1 ||
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

/* ---- batches ---- */

/* Fails item it with the error already in it->e. */
static void
fail(struct ow_item *it)
{
	it->state = OWI_FAILED;
}

void
ow_batch_write(struct ow_item *v, size_t n)
{
	/* Open and check every file, and have the kernel read them all in
	 * at once, before the first is hashed and overwritten. */
	for (size_t i = 0; i < n; i++) {
		struct ow_item *it = &v[i];
		struct ow_work *w;

		if (it->state != OWI_NEW)
			continue;
		if ((w = calloc(1, sizeof(*w))) == NULL) {
			err_set(&it->e, "%s: out of memory", it->label);
			fail(it);
			continue;
		}
		it->w_ = w;
		w->p.fd = -1;
		w->p.label = it->label;
		w->p.o = &it->o;
		w->p.r = &it->r;
		w->p.e = &it->e;
		memset(&it->r, 0, sizeof(it->r));
		w->p.fd = open_regular(it->dirfd, it->name, it->label, &it->o,
		    &it->e);
		if (w->p.fd == -1 || check_fd(w->p.fd, it->label, &it->o, &w->st,
		    &it->e) == -1) {
			fail(it);
			continue;
		}
		ow_work_prefetch(w);
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i].state != OWI_NEW)
			continue;
		if (ow_work_write(v[i].w_) != 0)
			fail(&v[i]);
		else
			v[i].state = OWI_WRITTEN;
	}
}

/* Calls fn once for each filesystem (by st_dev) of items in state st,
 * with one of their descriptors.  Returns -1 when fn failed for any; the
 * items of that filesystem then fail with errno's message. */
static void
per_fs(struct ow_item *v, size_t n, int st, int (*fn)(int), const char *what)
{
	for (size_t i = 0; i < n; i++) {
		int dup = 0;
		if (v[i].state != st)
			continue;
		for (size_t k = 0; k < i && !dup; k++)
			dup = v[k].state == st &&
			    v[k].w_->st.st_dev == v[i].w_->st.st_dev;
		if (dup || fn(v[i].w_->p.fd) == 0)
			continue;
		for (size_t k = i; k < n; k++)
			if (v[k].state == st &&
			    v[k].w_->st.st_dev == v[i].w_->st.st_dev) {
				err_sys(&v[k].e, "%s: %s", v[k].label, what);
				fail(&v[k]);
			}
	}
}

static int
do_syncfs(int fd)
{
	return syncfs(fd);
}

static int
do_checkpoint(int fd)
{
	(void)media_checkpoint(fd);
	return 0;
}

/* The read-backs of a batch, READERS at a time: each is a device read
 * (O_DIRECT), so their latencies overlap instead of adding up. */
#define READERS 8

struct readers {
	pthread_mutex_t mu;
	struct ow_item *v;
	size_t n, next;
};

static void *
reader(void *arg)
{
	struct readers *r = arg;

	for (;;) {
		size_t i;
		pthread_mutex_lock(&r->mu);
		i = r->next++;
		pthread_mutex_unlock(&r->mu);
		if (i >= r->n)
			return NULL;
		if (r->v[i].state != OWI_WRITTEN)
			continue;
		/* Each item is its own: its pass, buffers and error. */
		if (ow_work_verify(r->v[i].w_) != 0)
			r->v[i].state = OWI_FAILED;
		else
			r->v[i].state = OWI_VERIFIED;
	}
}

static void
read_back(struct ow_item *v, size_t n)
{
	struct readers r = { .v = v, .n = n };
	pthread_t th[READERS];
	size_t nt = 0, want = 0;

	for (size_t i = 0; i < n; i++)
		want += v[i].state == OWI_WRITTEN;
	want = want < READERS ? want : READERS;
	pthread_mutex_init(&r.mu, NULL);
	/* Progress callbacks are not for threads: none are made here. */
	while (nt + 1 < want && pthread_create(&th[nt], NULL, reader, &r) == 0)
		nt++;
	(void)reader(&r);
	for (size_t k = 0; k < nt; k++)
		pthread_join(th[k], NULL);
	pthread_mutex_destroy(&r.mu);
}

void
ow_batch_verify(struct ow_item *v, size_t n)
{
	/* Every file's pattern on the device at once: one sync per
	 * filesystem where ow_file makes one fdatasync per file. */
	per_fs(v, n, OWI_WRITTEN, do_syncfs, "syncfs");
	for (size_t i = 0; i < n; i++)
		if (v[i].state == OWI_WRITTEN &&
		    ow_work_settle(v[i].w_, 1) != 0)
			fail(&v[i]);
	per_fs(v, n, OWI_WRITTEN, do_checkpoint, "journal checkpoint");
	read_back(v, n);
}

void
ow_batch_names(struct ow_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ow_item *it = &v[i];
		if (it->state != OWI_VERIFIED)
			continue;
		if (ow_strip_xattrs(it->w_->p.fd, it->label, &it->e) == -1)
			fail(it);
		else if (ftruncate(it->w_->p.fd, 0) == -1) {
			err_sys(&it->e, "%s: truncate", it->label);
			fail(it);
		}
	}
	per_fs(v, n, OWI_VERIFIED, do_syncfs, "syncfs after truncating");
	for (size_t i = 0; i < n; i++) {
		struct ow_item *it = &v[i];
		if (it->state != OWI_VERIFIED)
			continue;
		if (ow_pick_name(it->dirfd, it->name, it->label, it->newname,
		    &it->e) != 0)
			fail(it);
		else
			it->state = OWI_NAMED;
	}
}

/* fsyncs each distinct directory of the items in state st once; an item
 * whose directory fails to sync fails. */
static void
sync_dirs(struct ow_item *v, size_t n, int st, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		int dup = 0;
		if (v[i].state != st)
			continue;
		for (size_t k = 0; k < i && !dup; k++)
			dup = v[k].state == st && v[k].dirfd == v[i].dirfd;
		if (dup || fsync(v[i].dirfd) == 0)
			continue;
		for (size_t k = i; k < n; k++)
			if (v[k].state == st && v[k].dirfd == v[i].dirfd) {
				err_sys(&v[k].e, "%s: fsync directory %s",
				    v[k].label, what);
				fail(&v[k]);
			}
	}
}

void
ow_batch_remove(struct ow_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ow_item *it = &v[i];
		int r;
		if (it->state != OWI_NAMED)
			continue;
		if (!ow_same_inode(it->dirfd, it->name, &it->w_->st)) {
			err_set(&it->e, "%s: the name no longer refers to the "
			    "file that was checked; left in place", it->label);
			fail(it);
			continue;
		}
		r = ow_rename_to(it->dirfd, it->name, it->newname, it->label,
		    &it->e);
		if (r != 0) {
			if (r == 1)
				err_set(&it->e, "%s: its random name was taken "
				    "meanwhile; left in place", it->label);
			fail(it);
			continue;
		}
		it->renamed = it->r.renamed = 1;
	}
	sync_dirs(v, n, OWI_NAMED, "after renaming");
	for (size_t i = 0; i < n; i++) {
		struct ow_item *it = &v[i];
		if (it->state != OWI_NAMED)
			continue;
		if (!ow_same_inode(it->dirfd, it->newname, &it->w_->st)) {
			err_set(&it->e, "%s (renamed %s): replaced after the "
			    "rename; left in place", it->label, it->newname);
			fail(it);
		} else if (unlinkat(it->dirfd, it->newname, 0) == -1) {
			err_sys(&it->e, "%s (renamed %s): unlink", it->label,
			    it->newname);
			fail(it);
		}
	}
	sync_dirs(v, n, OWI_NAMED, "after unlinking");
	for (size_t i = 0; i < n; i++)
		if (v[i].state == OWI_NAMED)
			v[i].state = OWI_GONE;
}

void
ow_batch_close(struct ow_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ow_work *w = v[i].w_;
		if (w == NULL)
			continue;
		if (w->p.fd != -1)
			close(w->p.fd);
		ow_work_free(w);
		free(w);
		v[i].w_ = NULL;
	}
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
