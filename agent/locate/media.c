/*
 * media.c: the filesystem and device under a file (see media.h): its
 * type, and whether overwrite is sound there; its UUID, device, model and
 * serial for the certificate.  The journal purge is fsjournal.c, a file's
 * extent map extents.c.
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
#include "base/err.h"
#include "base/hex.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* Not in every distribution's headers (Linux 6.5 added it). */
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
		char h[33];
		hex_encode(u.uuid, 16, h);
		snprintf(m->uuid, sizeof(m->uuid), "%.8s-%.4s-%.4s-%.4s-%.12s",
		    h, h + 8, h + 12, h + 16, h + 20);
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

