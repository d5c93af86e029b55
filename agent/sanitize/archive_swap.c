/*
 * archive_swap.c: removing matching members from tar, cpio and zip
 * archives and sanitizing the old archive's blocks (archive.h); the
 * checks before, and the swap after, the work of archive_child.c.
 *
 * MUST rules:
 *  - the archive is opened O_NOFOLLOW through the caller's directory fd and
 *    checked on the fd: regular, one link, a filesystem where overwrite is
 *    sound; the reading is done by a child process (archive_child.c) that
 *    writes nothing but the temporary;
 *  - only a temporary in the same directory is written until the swap; it
 *    holds kept members only, so a failure removes it with a plain unlink;
 *  - the swap happens only after the child has written the new archive,
 *    fsync'd it, read it back from the disk and found every kept byte and
 *    member of the old one in it (archive_verify.c), after the old file is
 *    checked unchanged, and after on_commit;
 *  - the swap is RENAME_EXCHANGE (else link + rename), so the old archive
 *    always keeps a name until its blocks are overwritten: a run killed at
 *    any instant leaves either the old archive in place, or the new one in
 *    place and the old one under SWAP_SUFFIX, which the next call
 *    overwrites before anything else;
 *  - the old blocks are overwritten through a descriptor checked to be the
 *    same inode that was read, and its name is removed only after the name
 *    is re-checked to be that inode;
 *  - member names never go into an error message (SPEC §8): members are
 *    named by ordinal.
 */
#include "sanitize/archive.h"
#include "sanitize/archive_int.h"

#include "base/err.h"
#include "locate/media.h"
#include "sanitize/overwrite.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SWAP_SUFFIX ".lethe-swap"	/* new archive, then the old one */
#define OLD_SUFFIX ".lethe-old"		/* old archive, when no exchange */

static const char sealed_magic[8] = "LETHESL1";

int
archive_is_leftover(const char *name, char *archive, size_t len)
{
	static const char *const suffix[] = { SWAP_SUFFIX, OLD_SUFFIX };
	size_t n = strlen(name);

	if (name[0] != '.')
		return 0;
	for (size_t i = 0; i < 2; i++) {
		size_t s = strlen(suffix[i]);
		if (n > s + 1 && strcmp(name + n - s, suffix[i]) == 0) {
			snprintf(archive, len, "%.*s", (int)(n - s - 1), name + 1);
			return 1;
		}
	}
	return 0;
}

static int
side_name(char *buf, size_t len, const char *name, const char *suffix,
    const char *label, struct err *e)
{
	int n = snprintf(buf, len, ".%s%s", name, suffix);
	if (n < 0 || (size_t)n >= len || (size_t)n > 255)
		return err_set(e, "%s: name too long for a temporary beside it",
		    label);
	return 0;
}

/* Sanitizes what a killed run left beside the archive: the old archive
 * after the swap, or a partial new one.  A leftover that is the archive
 * itself (a link made before the rename) just loses that name.  Returns
 * 1 if something was cleared, 0 if nothing was there, -1 on error. */
static int
clear_leftover(int dirfd, const char *name, const char *leftover,
    const struct stat *live, const char *label, const struct archive_opts *o,
    struct err *e)
{
	struct stat st;
	struct ow_opts owo = { .links_ok = 1 };
	struct ow_result owr;

	if (fstatat(dirfd, leftover, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		return err_sys(e, "%s: leftover of an earlier run", label);
	}
	(void)name;
	if (!S_ISREG(st.st_mode))
		return err_set(e, "%s: leftover of an earlier run is not a "
		    "regular file; remove it by hand", label);
	if (live != NULL && st.st_dev == live->st_dev &&
	    st.st_ino == live->st_ino) {
		if (unlinkat(dirfd, leftover, 0) == -1 || fsync(dirfd) == -1)
			return err_sys(e, "%s: removing an extra link", label);
		return 1;
	}
	if (o != NULL) {
		owo.pattern = o->pattern;
		owo.verify = o->verify;
	}
	owo.dev = st.st_dev;
	owo.ino = st.st_ino;
	memset(&owr, 0, sizeof(owr));
	if (ow_file(dirfd, leftover, label, &owo, &owr, e) != 0)
		return -1;
	return 1;
}

/* Opens the archive for reading and checks it on the fd. */
static int
open_archive(int dirfd, const char *name, const char *label, int *fdp,
    struct stat *st, struct err *e)
{
	char magic[8];
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);

	if (fd == -1)
		return err_sys(e, "%s", label);
	if (fstat(fd, st) == -1) {
		err_sys(e, "%s: stat", label);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		err_set(e, "%s: not a regular file", label);
		close(fd);
		return -1;
	}
	if (pread(fd, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) &&
	    memcmp(magic, sealed_magic, sizeof(magic)) == 0) {
		close(fd);
		return ARCHIVE_IS_SEALED;
	}
	*fdp = fd;
	return 0;
}

/* Runs fn with LC_CTYPE C.UTF-8 for this thread only, so member names in
 * pax (UTF-8) round-trip byte for byte whatever the process locale. */
struct utf8 {
	locale_t loc, old;
};

static void
utf8_enter(struct utf8 *u)
{
	u->loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	u->old = u->loc != (locale_t)0 ? uselocale(u->loc) : (locale_t)0;
}

static void
utf8_leave(struct utf8 *u)
{
	if (u->loc != (locale_t)0) {
		uselocale(u->old);
		freelocale(u->loc);
	}
}

/* Gives the new archive the old one's owner, mode and times: rotation by
 * age and access by the backup's readers go on as before. */
static int
copy_attrs(int tmpfd, const struct stat *st, const char *label,
    struct err *e)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };

	if (fchown(tmpfd, st->st_uid, st->st_gid) == -1) {
		struct stat t;
		if (fstat(tmpfd, &t) == -1 || t.st_uid != st->st_uid ||
		    t.st_gid != st->st_gid)
			return err_sys(e, "%s: cannot give the new archive the "
			    "old one's owner", label);
	}
	if (fchmod(tmpfd, st->st_mode & 07777) == -1)
		return err_sys(e, "%s: chmod of the new archive", label);
	if (futimens(tmpfd, ts) == -1)
		return err_sys(e, "%s: times of the new archive", label);
	return 0;
}

/* Puts the new archive (swap) in place of name, keeping the old one under
 * a name: exchanged into swap, or linked to oldname first.  Returns the
 * name that now holds the old archive, or NULL with *e set. */
static const char *
swap_in(int dirfd, const char *name, const char *swap, const char *oldname,
    const char *label, struct err *e)
{
	if (renameat2(dirfd, swap, dirfd, name, RENAME_EXCHANGE) == 0)
		return swap;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
		err_sys(e, "%s: putting the new archive in place", label);
		return NULL;
	}
	if (linkat(dirfd, name, dirfd, oldname, 0) == -1) {
		err_sys(e, "%s: keeping a name on the old archive", label);
		return NULL;
	}
	if (fsync(dirfd) == -1 || renameat(dirfd, swap, dirfd, name) == -1) {
		err_sys(e, "%s: putting the new archive in place", label);
		(void)unlinkat(dirfd, oldname, 0);
		return NULL;
	}
	return oldname;
}


/* Counts the leftovers of a killed run beside the archive as matches:
 * they may hold removed data. */
static int
count_leftovers(int dirfd, const char *name, const struct stat *st,
    const char *label, uint64_t *n, struct err *e)
{
	char side[2][512];
	struct stat lst;

	if (side_name(side[0], sizeof(side[0]), name, SWAP_SUFFIX, label,
	    e) != 0 || side_name(side[1], sizeof(side[1]), name, OLD_SUFFIX,
	    label, e) != 0)
		return -1;
	for (int i = 0; i < 2; i++)
		if (fstatat(dirfd, side[i], &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !(lst.st_dev == st->st_dev && lst.st_ino == st->st_ino))
			(*n)++;
	return 0;
}

static int
count(int dirfd, const char *name, const char *label, const char *glob,
    uint64_t *matches, int inproc, struct err *e)
{
	struct job j = { .tmpfd = -1, .glob = glob, .label = label };
	struct jobres r;
	struct stat st;
	struct utf8 u;
	int fd = -1, rc;

	*matches = 0;
	rc = open_archive(dirfd, name, label, &fd, &st, e);
	if (rc != 0)
		return rc;
	j.fd = fd;
	j.size = (uint64_t)st.st_size;
	utf8_enter(&u);
	rc = inproc ? job_work(&j, NULL, NULL, NULL, NULL, &r, e) :
	    job_run(&j, NULL, NULL, NULL, NULL, &r, e);
	utf8_leave(&u);
	if (rc == 0) {
		*matches = r.matches;
		rc = count_leftovers(dirfd, name, &st, label, matches, e);
	}
	close(fd);
	return rc;
}

int
archive_count_members(int dirfd, const char *name, const char *label,
    const char *member_glob, uint64_t *matches, struct err *e)
{
	return count(dirfd, name, label, member_glob, matches, 0, e);
}

int
archive_count_inproc(int dirfd, const char *name, const char *label,
    const char *member_glob, uint64_t *matches, struct err *e)
{
	return count(dirfd, name, label, member_glob, matches, 1, e);
}

/* One call's state, shared by its steps. */
struct rm {
	int dirfd, fd, wfd, tmpfd, have_tmp;
	const char *name, *label, *glob;
	const struct archive_opts *o;
	struct archive_result *r;
	struct stat st;
	char swap[512], oldname[512];
	struct err *e;
};

/* Opens and checks the archive, after clearing a killed run's leftovers.
 * Returns 0, ARCHIVE_IS_SEALED or -1. */
static int
rm_open(struct rm *x)
{
	int c;

	if (side_name(x->swap, sizeof(x->swap), x->name, SWAP_SUFFIX,
	    x->label, x->e) != 0 || side_name(x->oldname, sizeof(x->oldname),
	    x->name, OLD_SUFFIX, x->label, x->e) != 0)
		return -1;
	c = open_archive(x->dirfd, x->name, x->label, &x->fd, &x->st, x->e);
	if (c != 0)
		return c;
	x->r->old_size = (uint64_t)x->st.st_size;
	for (int i = 0; i < 2; i++) {
		c = clear_leftover(x->dirfd, x->name, i ? x->oldname : x->swap,
		    &x->st, x->label, x->o, x->e);
		if (c < 0)
			return -1;
		x->r->stale_cleared += c;
	}
	if (fstat(x->fd, &x->st) == -1)	/* nlink may have dropped */
		return err_sys(x->e, "%s: stat", x->label);
	if (x->st.st_nlink != 1)
		return err_set(x->e, "%s: has %ju hard links; its data lives "
		    "under a name outside the disposition", x->label,
		    (uintmax_t)x->st.st_nlink);
	return media_probe(x->fd, &x->r->media, x->e);
}

/* The child's work: the new archive in the temporary, or nothing. */
static int
rm_work(struct rm *x)
{
	struct job j = { .fd = x->fd, .size = (uint64_t)x->st.st_size,
	    .glob = x->glob, .label = x->label,
	    .refuse = media_overwrite_refusal(x->r->media.fstype) };
	struct jobres jr;

	x->tmpfd = openat(x->dirfd, x->swap, O_RDWR | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (x->tmpfd == -1) {
		int errno_ = errno;
		/* Nothing to write is fine on a filesystem that takes no
		 * new file (read-only, full). */
		j.tmpfd = -1;
		if (job_run(&j, NULL, NULL, NULL, NULL, &jr, x->e) != 0)
			return -1;
		if (jr.matches == 0) {
			x->r->members_kept = jr.entries;
			return 1;
		}
		errno = errno_;
		return err_sys(x->e, "%s: cannot create the new archive beside "
		    "it", x->label);
	}
	x->have_tmp = 1;
	j.tmpfd = x->tmpfd;
	if (job_run(&j, x->o ? x->o->on_member : NULL, x->o ? x->o->arg : NULL,
	    x->o ? x->o->progress : NULL, x->o ? x->o->arg : NULL, &jr,
	    x->e) != 0)
		return -1;
	if (jr.matches == 0) {
		x->r->members_kept = jr.entries;
		return 1;
	}
	x->r->members_removed = jr.removed;
	x->r->bytes_removed = jr.removed_bytes;
	x->r->members_kept = jr.kept;
	x->r->bytes_kept = jr.kept_bytes;
	x->r->materialized = jr.materialized;
	x->r->new_size = jr.new_size;
	memcpy(x->r->new_sha256, jr.new_sha256, 32);
	snprintf(x->r->format, sizeof(x->r->format), "%s", jr.format);
	return 0;
}

/* Puts the new archive in place of the old one. */
static int
rm_swap(struct rm *x, const char **holder)
{
	struct stat st2, wst;

	/* The descriptor that will overwrite the old blocks: the same inode. */
	x->wfd = openat(x->dirfd, x->name, O_RDWR | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (x->wfd == -1 || fstat(x->wfd, &wst) == -1)
		return err_sys(x->e, "%s: cannot open for overwriting",
		    x->label);
	if (wst.st_dev != x->st.st_dev || wst.st_ino != x->st.st_ino)
		return err_set(x->e, "%s: replaced while being read; try again",
		    x->label);
	if (copy_attrs(x->tmpfd, &x->st, x->label, x->e) != 0)
		return -1;
	if (fsync(x->tmpfd) == -1)
		return err_set(x->e, "%s: writing the new archive failed: %s; "
		    "the archive is unchanged", x->label, strerror(errno));
	/* Nothing may have touched the old archive since it was read. */
	if (fstat(x->fd, &st2) == -1 || st2.st_size != x->st.st_size ||
	    st2.st_mtim.tv_sec != x->st.st_mtim.tv_sec ||
	    st2.st_mtim.tv_nsec != x->st.st_mtim.tv_nsec ||
	    st2.st_nlink != 1)
		return err_set(x->e, "%s: changed while being rewritten; the "
		    "archive is unchanged", x->label);
	if (x->o != NULL && x->o->on_commit != NULL &&
	    x->o->on_commit(x->o->arg) != 0)
		return err_set(x->e, "%s: not committed by the caller; the "
		    "archive is unchanged", x->label);
	/* The name must still be the archive we read. */
	if (fstatat(x->dirfd, x->name, &st2, AT_SYMLINK_NOFOLLOW) == -1 ||
	    st2.st_dev != x->st.st_dev || st2.st_ino != x->st.st_ino)
		return err_set(x->e, "%s: replaced while being rewritten; the "
		    "archive is unchanged", x->label);
	*holder = swap_in(x->dirfd, x->name, x->swap, x->oldname, x->label,
	    x->e);
	if (*holder == NULL)
		return -1;
	x->have_tmp = 0;
	x->r->replaced = 1;
	if (fsync(x->dirfd) == -1)
		return err_sys(x->e, "%s: fsync of its directory", x->label);
	return 0;
}

/* The old blocks: overwritten and verified through the fd that read
 * them, then the old archive's last name removed. */
static int
rm_sanitize(struct rm *x, const char *holder)
{
	struct ow_opts owo = { .links_ok = 1, .dev = x->st.st_dev,
	    .ino = x->st.st_ino };
	struct stat st2;

	if (x->o != NULL) {
		owo.pattern = x->o->pattern;
		owo.verify = x->o->verify;
	}
	if (ow_fd(x->wfd, x->label, &owo, &x->r->old, x->e) != 0)
		return -1;
	if (fstatat(x->dirfd, holder, &st2, AT_SYMLINK_NOFOLLOW) == -1 ||
	    st2.st_dev != x->st.st_dev || st2.st_ino != x->st.st_ino)
		return err_set(x->e, "%s: the old archive's temporary name "
		    "changed under us", x->label);
	if (ow_unlink_name(x->dirfd, holder, x->label, &owo, x->e) != 0)
		return -1;
	x->r->old_sanitized = 1;
	return 0;
}

int
archive_remove_members(int dirfd, const char *name, const char *label,
    const char *member_glob, const struct archive_opts *o,
    struct archive_result *r, struct err *e)
{
	struct rm x = { .dirfd = dirfd, .fd = -1, .wfd = -1, .tmpfd = -1,
	    .name = name, .label = label, .glob = member_glob, .o = o,
	    .r = r, .e = e };
	const char *holder = NULL;
	struct utf8 u;
	int rc;

	memset(r, 0, sizeof(*r));
	utf8_enter(&u);
	rc = rm_open(&x);
	if (rc == 0) {
		rc = rm_work(&x);
		if (rc == 1)
			rc = 0;		/* no match: nothing written */
		else if (rc == 0 && (rm_swap(&x, &holder) != 0 ||
		    rm_sanitize(&x, holder) != 0))
			rc = -1;
	}
	if (x.have_tmp)
		(void)unlinkat(dirfd, x.swap, 0);
	if (x.tmpfd != -1)
		close(x.tmpfd);
	if (x.wfd != -1)
		close(x.wfd);
	if (x.fd != -1)
		close(x.fd);
	utf8_leave(&u);
	return rc;
}
