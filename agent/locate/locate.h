/*
 * locate.h: finding a dataset's files beneath an allowed root (SPEC §6.1).
 *
 * A glob is absolute; `*`, `?` and `[...]` match within one component and
 * `**` (a whole component) matches zero or more directories.  The walk
 * starts at the allowed root that contains the glob's literal prefix and
 * goes down through directory descriptors only: openat2 with
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV where the kernel has
 * it, else O_NOFOLLOW|O_DIRECTORY at every component plus a st_dev check.
 * It never follows a symlink and never crosses a mount point.
 */
#ifndef LETHE_LOCATE_H
#define LETHE_LOCATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct err;

enum found_kind { FOUND_FILE, FOUND_SYMLINK, FOUND_OTHER /* fifo, socket, device */ };

struct found {
	char *rel;		/* path below the root, e.g. "exports/osde/a.csv" */
	int root;		/* index into the allowed roots */
	int kind;		/* enum found_kind */
	dev_t dev;
	ino_t ino;
	nlink_t nlink;
	off_t size;
	mode_t mode;
	time_t mtime;		/* 0 with LOCATE_NOSTAT */
	int locked;		/* immutable or append-only (chattr +i or
				 * +a), or in a directory that is: it can be
				 * neither overwritten nor unlinked (0 with
				 * LOCATE_NOSTAT) */
};

struct foundlist {
	struct found *v;
	size_t n, cap;
	uint64_t bytes;		/* sum of sizes of FOUND_FILE entries */
	size_t skipped_mounts;	/* directories not entered: mount points */
	size_t matched_dirs;	/* directories, not empty, that the glob's
				 * last component (not "**") matched and
				 * below which nothing matched: a dataset
				 * names files, so what they hold is not
				 * matched */
	char first_dir[1024];	/* the first of them, for messages */
};

/* Finds everything glob matches beneath roots[] (directories themselves
 * are never matches: one the glob's last component matches and cannot
 * reach into, such as ROOT/acme/x for ROOT/acme/STAR, is counted in
 * matched_dirs when it is not empty).  Appends to *out.  A glob outside every root is an
 * error; a missing literal prefix directory is no error (zero matches).
 * Unreadable directories are errors naming the directory.  Returns 0, or
 * -1 with *e set. */
int locate(const char *const *roots, size_t nroots, const char *glob,
    struct foundlist *out, struct err *e);
/* The same with flags.  LOCATE_NOSTAT: a match whose type the directory
 * entry gives (d_type) is not stat'ed: kind and ino come from the entry,
 * dev is the root's, nlink, size and bytes are 0.  For counting what is
 * left (SPEC §6.6) as fast as find lists names; never for destroying. */
int locate_ex(const char *const *roots, size_t nroots, const char *glob,
    int flags, struct foundlist *out, struct err *e);
#define LOCATE_NOSTAT 1
void foundlist_free(struct foundlist *l);
/* Sorts by (root, rel) and drops exact duplicates (two globs of one
 * disposition matching the same name), keeping bytes consistent. */
void foundlist_sort(struct foundlist *l);
/* How many entries of l name the inode (dev, ino): a file whose st_nlink
 * equals this count has every link inside the disposition. */
size_t foundlist_links(const struct foundlist *l, dev_t dev, ino_t ino);

/* Whether the directory name in dirfd holds anything (opened with
 * O_NOFOLLOW, read to its first entry; one that cannot be read is taken
 * to hold something).  For "a matched directory that is not empty". */
int locate_dir_holds(int dirfd, const char *name);
/* Whether name matches one glob component (no '/'), fnmatch-like with
 * FNM_PERIOD semantics off: "*" matches dotfiles too, as a disposition
 * must not miss hidden files. */
int glob_match_component(const char *pat, const char *name);
/* Whether the relative path matches the relative glob (with "**").
 * Empty and "." components are ignored; "**" may match zero components,
 * so a pattern ending in "**" matches its parent directory's own path as
 * well as everything below it (archive members "osde" and "osde/x"). */
int glob_match_path(const char *pat, const char *path);
/* Whether a glob component has no special bytes (*, ?, [, \), so it can
 * be looked up by name instead of by reading the directory. */
int glob_is_literal(const char *comp);
/* The glob's literal directory prefix: its leading components without a
 * special byte, never the last one (which names files): "/srv/a" for
 * "/srv/a/x?/b/f.csv" and for "/srv/a/f.csv".  Written to buf ("" when
 * there is none; "/" for a glob whose first component is wild).
 * Returns its length.  The one place that says where a glob's fixed part
 * ends. */
size_t glob_literal_prefix(const char *glob, char *buf, size_t len);
/* Whether some path at or below the directory dir (absolute, like pat)
 * can match the glob pat: whether a dataset can reach into dir. */
int glob_reaches(const char *pat, const char *dir);
/* Whether two globs can match one same path.  Errs toward yes: two wild
 * components are assumed to meet; only a certain "never" says 0. */
int glob_may_overlap(const char *a, const char *b);

#endif
