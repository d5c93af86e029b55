/*
 * media.c: the filesystem and device under a file (see media.h).
 *
 * MUST rules:
 *  - overwrite is allowed only on filesystem types known to rewrite a
 *    file's blocks in place (ext2/3/4, xfs, jfs, vfat, exfat, tmpfs,
 *    ramfs); copy-on-write, log-structured, network, stacked and unknown
 *    types are refused, so a new filesystem is never trusted by default;
 *  - facts the kernel does not show are reported as "unknown", never
 *    guessed; the journal purge says exactly what was and was not done;
 *  - sysfs and procfs text is treated as untrusted display data: bounded,
 *    and stripped of anything unprintable before it reaches a certificate.
 */
#include "locate/media.h"
#include "base/array.h"
#include "base/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Not in every distribution's headers (Linux 5.13 and 6.5 added them). */
#ifndef EXT4_IOC_CHECKPOINT
#define EXT4_IOC_CHECKPOINT _IOW('f', 43, uint32_t)
#endif
#ifndef EXT4_IOC_CHECKPOINT_FLAG_ZEROOUT
#define EXT4_IOC_CHECKPOINT_FLAG_ZEROOUT 0x2
#endif
struct media_fsuuid2 {
	uint8_t len;
	uint8_t uuid[16];
};
#ifndef FS_IOC_GETFSUUID
#define FS_IOC_GETFSUUID _IOR(0x15, 0, struct media_fsuuid2)
#endif

#define CRYPTO_SHRED "seal the dataset and use crypto-shred (method = crypto-shred)"
#define COW(n) n " is copy-on-write: an overwrite lands in new blocks and " \
	"leaves the old ones readable; " CRYPTO_SHRED
#define LOG(n) n " is log-structured: an overwrite is appended elsewhere " \
	"and leaves the old blocks readable; " CRYPTO_SHRED
#define NET(n) n " is a network or user-space filesystem: lethe cannot " \
	"know where the server keeps the old blocks (snapshots, copies); " \
	CRYPTO_SHRED
#define STACK(n) n " is stacked over another filesystem: the blocks lethe " \
	"would write are not where the data lives; " CRYPTO_SHRED
#define RO(n) n " is a read-only filesystem: nothing on it can be " \
	"overwritten"

static const struct fstab {
	unsigned long magic;
	const char *name;
	const char *refusal;	/* NULL: overwrite in place is sound */
} fstab[] = {
	{ 0xEF53, "ext4", NULL },		/* ext2/3/4 share it */
	{ 0x58465342, "xfs", NULL },		/* reflinks are caught by FIEMAP */
	{ 0x3153464a, "jfs", NULL },
	{ 0x4d44, "vfat", NULL },
	{ 0x2011BAB0, "exfat", NULL },
	{ 0x01021994, "tmpfs", NULL },
	{ 0x858458f6, "ramfs", NULL },
	{ 0x9123683E, "btrfs", COW("btrfs") },
	{ 0x2fc12fc1, "zfs", COW("zfs") },
	{ 0xca451a4e, "bcachefs", COW("bcachefs") },
	{ 0x7461636f, "ocfs2", COW("ocfs2") },
	{ 0xF2F52010, "f2fs", LOG("f2fs") },
	{ 0x3434, "nilfs2", LOG("nilfs2") },
	{ 0x794c7630, "overlayfs", STACK("overlayfs") },
	{ 0xf15f, "ecryptfs", STACK("ecryptfs") },
	{ 0x6969, "nfs", NET("nfs") },
	{ 0xFF534D42, "cifs", NET("cifs") },
	{ 0xFE534D42, "smb3", NET("smb3") },
	{ 0x517B, "smb", NET("smb") },
	{ 0x65735546, "fuse", NET("fuse") },
	{ 0x00c36400, "ceph", NET("ceph") },
	{ 0x01021997, "9p", NET("9p") },
	{ 0x5346414F, "afs", NET("afs") },
	{ 0x01161970, "gfs2", NET("gfs2") },
	{ 0x73717368, "squashfs", RO("squashfs") },
	{ 0xE0F5E1E2, "erofs", RO("erofs") },
	{ 0x9660, "iso9660", RO("iso9660") },
	{ 0x15013346, "udf", RO("udf") },
};

static const char unknown_refusal[] = "this filesystem type is not known to "
    "overwrite file blocks in place, so lethe does not trust it; "
    CRYPTO_SHRED;

static const struct fstab *
fs_by_magic(unsigned long magic)
{
	for (size_t i = 0; i < sizeof(fstab) / sizeof(fstab[0]); i++)
		if (fstab[i].magic == (magic & 0xffffffffUL))
			return &fstab[i];
	return NULL;
}

const char *
media_overwrite_refusal(const char *fstype)
{
	if (fstype == NULL)
		return unknown_refusal;
	if (strcmp(fstype, "ext2") == 0 || strcmp(fstype, "ext3") == 0)
		return NULL;
	if (strcmp(fstype, "smb2") == 0)
		fstype = "smb3";
	for (size_t i = 0; i < sizeof(fstab) / sizeof(fstab[0]); i++)
		if (strcmp(fstab[i].name, fstype) == 0)
			return fstab[i].refusal;
	return unknown_refusal;
}

int
media_fstype(int fd, char *name, size_t len, struct err *e)
{
	const struct fstab *t;
	struct statfs sf;
	int n;

	if (fstatfs(fd, &sf) == -1)
		return err_sys(e, "fstatfs");
	t = fs_by_magic((unsigned long)sf.f_type);
	if (t != NULL)
		n = snprintf(name, len, "%s", t->name);
	else
		n = snprintf(name, len, "unknown (0x%lx)",
		    (unsigned long)sf.f_type & 0xffffffffUL);
	if (n < 0 || (size_t)n >= len)
		return err_set(e, "filesystem type name too long");
	return 0;
}

/* Copies src into dst as printable ASCII, trimmed; "unknown" if empty. */
static void
clean_copy(char *dst, size_t len, const char *src)
{
	size_t o = 0;

	while (*src == ' ' || *src == '\t')
		src++;
	for (; *src != '\0' && o + 1 < len; src++)
		dst[o++] = (*src >= 0x20 && *src < 0x7f) ? *src : '?';
	while (o > 0 && (dst[o - 1] == ' ' || dst[o - 1] == '?'))
		o--;
	dst[o] = '\0';
	if (o == 0)
		snprintf(dst, len, "unknown");
}

/* Reads a small sysfs/procfs attribute below dirfd; "" when absent. */
static void
read_attr(int dirfd, const char *name, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	buf[0] = '\0';
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* Finds dev in /proc/self/mountinfo: its fstype and mount source. */
static void
mountinfo(dev_t dev, char *fstype, size_t flen, char *source, size_t slen)
{
	char line[4096], want[64];
	FILE *f;

	fstype[0] = source[0] = '\0';
	if (snprintf(want, sizeof(want), "%u:%u", major(dev), minor(dev)) >=
	    (int)sizeof(want))
		return;
	f = fopen("/proc/self/mountinfo", "re");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *sp, *tok, *field[3] = { NULL, NULL, NULL };
		int i = 0, dash = 0, after = 0;

		for (tok = strtok_r(line, " \n", &sp); tok != NULL;
		    tok = strtok_r(NULL, " \n", &sp), i++) {
			if (i == 2 && strcmp(tok, want) != 0)
				break;
			if (dash && after < 2)
				field[after++] = tok;
			if (i > 5 && strcmp(tok, "-") == 0)
				dash = 1;
		}
		if (field[0] != NULL && field[1] != NULL) {
			snprintf(fstype, flen, "%s", field[0]);
			snprintf(source, slen, "%s", field[1]);
			break;
		}
	}
	fclose(f);
}

/* The block device behind the filesystem: st_dev itself, or the mount
 * source when st_dev is anonymous (btrfs and the like).  0 if none. */
static dev_t
block_dev(dev_t dev, const char *source)
{
	struct stat st;

	if (major(dev) != 0)
		return dev;
	if (source[0] == '/' && stat(source, &st) == 0 && S_ISBLK(st.st_mode))
		return st.st_rdev;
	return 0;
}

static void
probe_uuid(int fd, dev_t bdev, struct media *m)
{
	struct media_fsuuid2 u;
	char link[PATH_MAX];
	struct dirent *de;
	DIR *d;

	memset(&u, 0, sizeof(u));
	u.len = sizeof(u.uuid);
	if (ioctl(fd, FS_IOC_GETFSUUID, &u) == 0 && u.len == 16) {
		const uint8_t *b = u.uuid;
		snprintf(m->uuid, sizeof(m->uuid),
		    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
		    b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		    b[14], b[15]);
		return;
	}
	if (bdev == 0 || (d = opendir("/dev/disk/by-uuid")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		/* Follows the udev link on purpose: /dev is the kernel's. */
		if (fstatat(dirfd(d), de->d_name, &st, 0) == 0 &&
		    S_ISBLK(st.st_mode) && st.st_rdev == bdev &&
		    readlinkat(dirfd(d), de->d_name, link, sizeof(link)) > 0) {
			clean_copy(m->uuid, sizeof(m->uuid), de->d_name);
			break;
		}
	}
	closedir(d);
}

/* Device name, loop backing file, model, serial and rotational. */
static void
probe_device(dev_t bdev, const char *source, struct media *m)
{
	char path[128], link[PATH_MAX], buf[PATH_MAX], *name;
	int fd = -1, disk = -1;
	ssize_t n;

	if (bdev == 0) {
		if (source[0] != '\0')
			clean_copy(m->device, sizeof(m->device), source);
		return;
	}
	if (snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major(bdev),
	    minor(bdev)) >= (int)sizeof(path))
		return;
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		goto out;
	link[n] = '\0';
	name = strrchr(link, '/');
	name = name ? name + 1 : link;
	if (strncmp(name, "loop", 4) == 0 &&
	    snprintf(buf, sizeof(buf), "/sys/block/%s/loop/backing_file",
	    name) < (int)sizeof(buf)) {
		char backing[PATH_MAX], dev[PATH_MAX];
		int bfd = open(buf, O_RDONLY | O_CLOEXEC);
		backing[0] = '\0';
		if (bfd != -1) {
			n = read(bfd, backing, sizeof(backing) - 1);
			backing[n > 0 ? n : 0] = '\0';
			backing[strcspn(backing, "\n")] = '\0';
			close(bfd);
		}
		if (snprintf(dev, sizeof(dev), "/dev/%s (backing file %s)", name,
		    backing[0] ? backing : "unknown") >= (int)sizeof(dev))
			(void)snprintf(dev, sizeof(dev), "/dev/%.64s (backing "
			    "file path too long)", name);	/* fits */
		clean_copy(m->device, sizeof(m->device), dev);
	} else if (snprintf(buf, sizeof(buf), "/dev/%s", name) <
	    (int)sizeof(buf))
		clean_copy(m->device, sizeof(m->device), buf);

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		goto out;
	/* A partition's model and queue live on its parent disk. */
	if (faccessat(fd, "partition", F_OK, 0) == 0)
		disk = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else
		disk = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (disk == -1)
		goto out;
	read_attr(disk, "device/model", buf, sizeof(buf));
	if (buf[0] != '\0')
		clean_copy(m->model, sizeof(m->model), buf);
	read_attr(disk, "device/serial", buf, sizeof(buf));
	if (buf[0] == '\0')
		read_attr(disk, "serial", buf, sizeof(buf));
	if (buf[0] != '\0')
		clean_copy(m->serial, sizeof(m->serial), buf);
	read_attr(disk, "queue/rotational", buf, sizeof(buf));
	if (buf[0] == '0' || buf[0] == '1')
		m->rotational = buf[0] - '0';
out:
	if (disk != -1)
		close(disk);
	if (fd != -1)
		close(fd);
}

int
media_probe(int fd, struct media *m, struct err *e)
{
	char mtype[64], source[PATH_MAX];
	struct stat st;

	memset(m, 0, sizeof(*m));
	snprintf(m->uuid, sizeof(m->uuid), "unknown");
	snprintf(m->device, sizeof(m->device), "unknown");
	snprintf(m->model, sizeof(m->model), "unknown");
	snprintf(m->serial, sizeof(m->serial), "unknown");
	m->rotational = -1;
	if (fstat(fd, &st) == -1)
		return err_sys(e, "fstat");
	m->dev = st.st_dev;
	if (media_fstype(fd, m->fstype, sizeof(m->fstype), e) == -1)
		return -1;
	mountinfo(st.st_dev, mtype, sizeof(mtype), source, sizeof(source));
	/* ext2/3/4 share a magic; the mount table tells them apart. */
	if (strcmp(m->fstype, "ext4") == 0 && (strcmp(mtype, "ext2") == 0 ||
	    strcmp(mtype, "ext3") == 0))
		clean_copy(m->fstype, sizeof(m->fstype), mtype);
	else if (strncmp(m->fstype, "unknown", 7) == 0 && mtype[0] != '\0')
		clean_copy(m->fstype, sizeof(m->fstype), mtype);
	dev_t bdev = block_dev(st.st_dev, source);
	probe_uuid(fd, bdev, m);
	probe_device(bdev, source, m);
	return 0;
}

int
media_checkpoint(int fd)
{
	struct statfs sf;
	uint32_t flags = 0;

	if (fstatfs(fd, &sf) == -1 || (sf.f_type & 0xffff) != 0xEF53 ||
	    (unsigned long)sf.f_type > 0xffffUL)
		return 0;
	return ioctl(fd, EXT4_IOC_CHECKPOINT, &flags) == 0;
}

int
media_purge_journal(int fd, const struct media *m, char *detail, size_t len,
    struct err *e)
{
	const char *t = m->fstype;
	uint32_t flags = EXT4_IOC_CHECKPOINT_FLAG_ZEROOUT;
	int rc = 0;

	/* Commit what is pending first, so the names just removed are in
	 * the journal transactions the checkpoint writes back and zeroes. */
	(void)syncfs(fd);
	if (strcmp(t, "ext3") == 0 || strcmp(t, "ext4") == 0) {
		if (ioctl(fd, EXT4_IOC_CHECKPOINT, &flags) == 0) {
			snprintf(detail, len, "%s journal checkpointed and its "
			    "blocks zeroed (EXT4_IOC_CHECKPOINT, ZEROOUT)", t);
			rc = 1;
		} else if (errno == ENODEV) {
			snprintf(detail, len, "%s has no journal: nothing to "
			    "purge", t);
			rc = 1;
		} else if (errno == EPERM || errno == EACCES) {
			snprintf(detail, len, "%s journal not purged: "
			    "EXT4_IOC_CHECKPOINT needs CAP_SYS_ADMIN (run as "
			    "root)", t);
		} else if (errno == ENOTTY || errno == EINVAL) {
			snprintf(detail, len, "%s journal not purged: the kernel "
			    "lacks EXT4_IOC_CHECKPOINT (Linux 5.13 or later)", t);
		} else if (errno == EOPNOTSUPP) {
			snprintf(detail, len, "%s journal not purged: the device "
			    "cannot zero the journal blocks", t);
		} else {
			rc = err_sys(e, "%s journal purge (EXT4_IOC_CHECKPOINT) "
			    "failed", t);
			snprintf(detail, len, "%s journal purge failed: %s", t,
			    strerror(errno));
		}
	} else if (strcmp(t, "ext2") == 0) {
		snprintf(detail, len, "ext2 has no journal: nothing to purge");
		rc = 1;
	} else if (strcmp(t, "xfs") == 0) {
		snprintf(detail, len, "xfs log cannot be purged from user space: "
		    "it keeps copies of changed metadata (such as directory "
		    "blocks with names) until later log writes overwrite them");
	} else if (strcmp(t, "jfs") == 0) {
		snprintf(detail, len, "jfs log cannot be purged from user space");
	} else if (strcmp(t, "tmpfs") == 0 || strcmp(t, "ramfs") == 0) {
		snprintf(detail, len, "%s has no journal: nothing to purge "
		    "(contents live in RAM%s)", t,
		    strcmp(t, "tmpfs") == 0 ? " and swap" : "");
		rc = 1;
	} else if (strcmp(t, "vfat") == 0 || strcmp(t, "exfat") == 0) {
		snprintf(detail, len, "%s has no journal: nothing to purge", t);
		rc = 1;
	} else {
		snprintf(detail, len, "no journal purge is known for %s", t);
	}
	return rc;
}

static int
add_extent(struct extents *x, unsigned long long lo, unsigned long long ph,
    unsigned long long len)
{
	struct extent *p = x->n ? &x->v[x->n - 1] : NULL;

	/* Coalesce contiguous mappings so a filesystem merging extents after
	 * the overwrite does not look like a move. */
	if (p != NULL && p->logical + p->length == lo &&
	    p->physical + p->length == ph) {
		p->length += len;
		return 0;
	}
	if ((p = array_grow(x->v, x->n, &x->cap, sizeof(*p), 16)) == NULL)
		return -1;
	x->v = p;
	x->v[x->n++] = (struct extent){ lo, ph, len };
	return 0;
}

#define FIEMAP_BATCH 128

int
media_extents(int fd, struct extents *x, struct err *e)
{
	struct fiemap *fm;
	unsigned long long start = 0;
	int rc = -1, last = 0;
	uint32_t flags = FIEMAP_FLAG_SYNC;

	memset(x, 0, sizeof(*x));
	fm = calloc(1, sizeof(*fm) + FIEMAP_BATCH * sizeof(struct fiemap_extent));
	if (fm == NULL)
		return err_set(e, "out of memory");
	while (!last) {
		memset(fm, 0, sizeof(*fm));
		fm->fm_start = start;
		fm->fm_length = FIEMAP_MAX_OFFSET - start;
		fm->fm_flags = flags;
		fm->fm_extent_count = FIEMAP_BATCH;
		flags = 0;	/* synced once is enough */
		if (ioctl(fd, FS_IOC_FIEMAP, fm) == -1) {
			if (errno == EOPNOTSUPP || errno == ENOTTY ||
			    errno == EBADR)
				rc = 0;
			else
				err_sys(e, "FIEMAP");
			goto out;
		}
		if (fm->fm_mapped_extents == 0)
			break;
		for (uint32_t i = 0; i < fm->fm_mapped_extents; i++) {
			struct fiemap_extent *fe = &fm->fm_extents[i];
			if (fe->fe_flags & FIEMAP_EXTENT_SHARED)
				x->shared = 1;
			if (fe->fe_flags & FIEMAP_EXTENT_LAST)
				last = 1;
			start = fe->fe_logical + fe->fe_length;
			/* An unknown or delayed place cannot be compared. */
			if (fe->fe_flags & (FIEMAP_EXTENT_UNKNOWN |
			    FIEMAP_EXTENT_DELALLOC))
				continue;
			if (add_extent(x, fe->fe_logical, fe->fe_physical,
			    fe->fe_length) == -1) {
				err_set(e, "out of memory");
				goto out;
			}
		}
	}
	rc = 1;
out:
	free(fm);
	if (rc != 1)
		media_extents_free(x);
	return rc;
}

int
media_extents_kept(const struct extents *before, const struct extents *after)
{
	size_t j = 0;

	/* Both lists are sorted by logical offset and coalesced. */
	for (size_t i = 0; i < before->n; i++) {
		const struct extent *b = &before->v[i];
		unsigned long long lo = b->logical, end = b->logical + b->length;

		while (lo < end) {
			while (j < after->n &&
			    after->v[j].logical + after->v[j].length <= lo)
				j++;
			if (j == after->n || after->v[j].logical > lo)
				return 0;
			const struct extent *a = &after->v[j];
			if (a->physical + (lo - a->logical) !=
			    b->physical + (lo - b->logical))
				return 0;
			lo = a->logical + a->length < end ?
			    a->logical + a->length : end;
		}
	}
	return 1;
}

void
media_extents_free(struct extents *x)
{
	free(x->v);
	memset(x, 0, sizeof(*x));
}
