/*
 * media.h: facts about the filesystem and device under a file, for the
 * certificate's [media] section (SPEC §8), the copy-on-write refusal
 * (SPEC §6.3) and the journal purge (SPEC §6.7).
 */
#ifndef LETHE_MEDIA_H
#define LETHE_MEDIA_H

#include <sys/types.h>

struct err;

struct media {
	dev_t dev;
	char fstype[32];	/* "ext4", "xfs", "btrfs", ... */
	char uuid[64];		/* filesystem UUID, or "unknown" */
	char device[256];	/* backing device, e.g. "/dev/loop3 (backing file /x.img)" */
	char model[128];	/* or "unknown" */
	char serial[128];	/* or "unknown" */
	int rotational;		/* 1, 0, or -1 unknown */
};

/* Fills *m for the filesystem holding fd.  Unknown facts say "unknown";
 * only a failing fstat/fstatfs is an error.  Returns 0 or -1. */
int media_probe(int fd, struct media *m, struct err *e);
/* NULL when overwrite is sound on this filesystem type, else the reason
 * it is refused ("btrfs is copy-on-write: ..."). */
const char *media_overwrite_refusal(const char *fstype);
/* Purges the filesystem journal's copies of names and data where the
 * kernel allows it (ext4: EXT4_IOC_CHECKPOINT with ..._FLAG_ZEROOUT).
 * Writes what was and was not done into detail (for method_details), e.g.
 * "ext4 journal checkpointed and zeroed" or "xfs log cannot be purged from
 * user space".  Returns 1 purged, 0 not possible (detail says why), -1 on
 * an error where it should have worked. */
int media_purge_journal(int fd, const struct media *m, char *detail,
    size_t len, struct err *e);

/* Writes the filesystem journal's committed metadata to its home blocks
 * now (ext2/3/4: EXT4_IOC_CHECKPOINT), so a block freed next (a removed
 * directory's, an xattr block) keeps its scrubbed contents rather than the
 * stale ones the journal would otherwise have superseded only in the log.
 * Best effort: returns 1 done, 0 not applicable (other filesystems, no
 * journal) or not permitted (needs CAP_SYS_ADMIN; the final purge reports
 * that). */
int media_checkpoint(int fd);

/* The filesystem type of fd from fstatfs alone (cheap; "ext4" stands for
 * the whole ext2/3/4 family, "unknown (0x...)" for a magic not in the
 * table), for the per-file refusal check.  Returns 0 or -1 with *e set. */
int media_fstype(int fd, char *name, size_t len, struct err *e);

/* The physical layout of a file (FIEMAP), to prove an overwrite landed in
 * the same blocks and to refuse files sharing blocks (reflinks). */
struct extent {
	unsigned long long logical, physical, length;	/* bytes */
};
struct extents {
	struct extent *v;
	size_t n, cap;
	int shared;	/* some extent is shared with another file */
};
/* Syncs the file and reads its extent map.  Returns 1 mapped, 0 when the
 * filesystem cannot say (no FIEMAP: tmpfs, ...), -1 with *e set. */
int media_extents(int fd, struct extents *x, struct err *e);
/* 1 when every byte mapped in before is still mapped to the same physical
 * place in after (holes filled since are fine), else 0. */
int media_extents_kept(const struct extents *before,
    const struct extents *after);
void media_extents_free(struct extents *x);

#endif
