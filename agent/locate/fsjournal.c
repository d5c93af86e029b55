/*
 * fsjournal.c: the filesystem journal's copies of what was destroyed (see
 * media_purge_journal and media_checkpoint in media.h, SPEC §6.7).
 *
 * MUST rules:
 *  - the purge says exactly what was and was not done, per filesystem
 *    type; nothing is claimed where the kernel gives no way to do it.
 */
#include "locate/media.h"
#include "base/err.h"

#include <errno.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <unistd.h>

/* Not in every distribution's headers (Linux 5.13 added them). */
#ifndef EXT4_IOC_CHECKPOINT
#define EXT4_IOC_CHECKPOINT _IOW('f', 43, uint32_t)
#endif
#ifndef EXT4_IOC_CHECKPOINT_FLAG_ZEROOUT
#define EXT4_IOC_CHECKPOINT_FLAG_ZEROOUT 0x2
#endif

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
