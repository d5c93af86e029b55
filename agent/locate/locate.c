/*
 * locate.c: finding a dataset's files beneath an allowed root (see
 * locate.h).
 *
 * MUST rules:
 *  - the walk goes down through directory descriptors only (resolve.c):
 *    the glob's literal prefix with one openat2, every further directory
 *    with resolve_child_dir() relative to its parent's descriptor;
 *  - a symlink is never followed: entries are typed by d_type or by
 *    fstatat(AT_SYMLINK_NOFOLLOW), and a matched symlink is reported as
 *    FOUND_SYMLINK, to be removed as a link;
 *  - a mount point is never entered (it is counted in skipped_mounts);
 *  - a directory that the glob's last component matches and nothing of
 *    the glob reaches into is never a silent zero either: when it holds
 *    anything it is counted in matched_dirs (ROOT/acme/STAR over directories
 *    names none of their files);
 *  - nothing found is ever opened here: FIFOs, sockets and devices are only
 *    reported (FOUND_OTHER);
 *  - a directory that cannot be read is an error, never a silent zero,
 *    since zero remaining matches is what a certificate asserts.
 *
 * The pattern is run as a small NFA: each directory is visited with the
 * set of glob components (a bitmask) its entries may match next; "**"
 * keeps its own bit alive while descending.  A directory whose pending
 * components are all literal names is probed with fstatat, not read.
 * Entries are typed by d_type; only matches (and DT_UNKNOWN entries) are
 * stat'ed, and with LOCATE_NOSTAT not even matches whose type d_type gave.
 */
#include "locate/locate.h"
#include "base/err.h"
#include "locate/resolve.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAXCOMP 64	/* components in a glob below its root */
#define MAXDEPTH 256	/* directories deep: bounds descriptors in use */
#define MAXNEST 32	/* allowed roots nested inside the walk's root */

typedef unsigned long long mask_t;
#define BIT(i) (1ULL << (i))

/* An allowed root strictly inside the walk's root.  A path belongs to the
 * deepest root that holds it (resolve_which_root: one rule everywhere), so
 * names found below it are reported against it; and when it is a mount
 * point, the walk goes on inside it from its own descriptor. */
struct nest {
	const char *rel;	/* its path below the walk's root */
	size_t rlen;
	int idx;		/* index into the allowed roots */
	struct rootdir rd;	/* opened on first need; fd -1 until then */
};

struct walk {
	const struct rootdir *root;	/* where the walk started */
	int rootidx;
	const struct rootdir *cur;	/* the deepest root holding w->path */
	int curidx;
	size_t base;			/* w->path + base: path below cur */
	struct nest nest[MAXNEST];
	int nnest;
	const char *const *cfgroots;	/* all the allowed roots */
	const char *glob;		/* for messages */
	char *comp[MAXCOMP];		/* components, NUL-terminated */
	unsigned char dstar[MAXCOMP];	/* component is "**" */
	unsigned char literal[MAXCOMP];
	int n;
	char path[PATH_MAX];		/* relative path of the directory */
	size_t plen;
	struct foundlist *out;
	struct err *e;
	int nostat;			/* LOCATE_NOSTAT */
	int dirlocked;			/* the directory being read is
					 * immutable or append-only */
};

#define LOCKED_ATTRS (STATX_ATTR_IMMUTABLE | STATX_ATTR_APPEND)

/* Adds the states reachable without consuming a name: "**" may match zero
 * directories, so its successor is live too. */
static mask_t
closure(const struct walk *w, mask_t m)
{
	for (int i = 0; i < w->n; i++)
		if ((m & BIT(i)) && w->dstar[i] && i + 1 < w->n)
			m |= BIT(i + 1);
	return m;
}

static int
kind_of(mode_t mode)
{
	if (S_ISREG(mode))
		return FOUND_FILE;
	if (S_ISLNK(mode))
		return FOUND_SYMLINK;
	return FOUND_OTHER;
}

static int
add_found(struct walk *w, const char *name, const struct stat *st,
    int locked)
{
	struct foundlist *l = w->out;
	struct found *f;
	size_t nlen = strlen(name);
	char *rel;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct found *v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			return err_set(w->e, "out of memory");
		l->v = v;
		l->cap = cap;
	}
	if (w->plen + 1 + nlen >= PATH_MAX)
		return err_set(w->e, "%s/%s/...: path too long", w->root->path,
		    w->path);
	{
		/* At a nested root itself, plen is base - 1. */
		size_t dlen = w->plen > w->base ? w->plen - w->base : 0;
		const char *dir = w->path + w->base;

		rel = malloc(dlen + 1 + nlen + 1);
		if (rel == NULL)
			return err_set(w->e, "out of memory");
		if (dlen > 0) {
			memcpy(rel, dir, dlen);
			rel[dlen] = '/';
			memcpy(rel + dlen + 1, name, nlen + 1);
		} else
			memcpy(rel, name, nlen + 1);
	}
	f = &l->v[l->n++];
	memset(f, 0, sizeof(*f));
	f->rel = rel;
	f->root = w->curidx;
	f->kind = kind_of(st->st_mode);
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->nlink = st->st_nlink;
	f->size = st->st_size;
	f->mode = st->st_mode;
	f->mtime = st->st_mtime;
	f->locked = locked || w->dirlocked;
	if (f->kind == FOUND_FILE)
		l->bytes += (uint64_t)st->st_size;
	return 0;
}

static int walk_dir(struct walk *w, int dirfd, mask_t states, int depth);

/* The nested root whose path below the walk's root is exactly w->path,
 * or NULL. */
static struct nest *
nested_here(struct walk *w)
{
	for (int k = 0; k < w->nnest; k++)
		if (w->nest[k].rlen == w->plen &&
		    memcmp(w->nest[k].rel, w->path, w->plen) == 0)
			return &w->nest[k];
	return NULL;
}

/* Descends into the subdirectory name of dirfd with the given states.  A
 * directory that is itself an allowed root is walked as that root: names
 * below it are reported against it, and if it is a mount point the walk
 * goes on from the root's own descriptor instead of stopping there. */
static int
descend(struct walk *w, int dirfd, const char *name, mask_t next, int depth)
{
	size_t save = w->plen, nlen = strlen(name), sbase = w->base;
	const struct rootdir *scur = w->cur;
	int scuridx = w->curidx, slocked = w->dirlocked, fd, rc;
	struct nest *nr;

	if (depth >= MAXDEPTH)
		return err_set(w->e, "%s/%s: directories nested deeper than %d "
		    "levels", w->root->path, w->path, MAXDEPTH);
	if (save + 1 + nlen >= sizeof(w->path))
		return err_set(w->e, "%s/%s/...: path too long", w->root->path,
		    w->path);
	if (save > 0)
		w->path[w->plen++] = '/';
	memcpy(w->path + w->plen, name, nlen + 1);
	w->plen += nlen;
	nr = nested_here(w);
	fd = resolve_child_dir(w->cur, dirfd, name);
	if (fd == -1 && errno == EXDEV && nr != NULL) {
		/* A mount point that is an allowed root of its own: its
		 * path is configuration, trusted like every root's. */
		struct err re;
		if (nr->rd.fd == -1 && resolve_root(w->cfgroots[nr->idx],
		    &nr->rd, &re) != 0) {
			rc = err_set(w->e, "%s", re.msg);
			goto out;
		}
		fd = fcntl(nr->rd.fd, F_DUPFD_CLOEXEC, 0);
		if (fd != -1)
			w->cur = &nr->rd;
	}
	if (fd != -1 && nr != NULL) {
		w->curidx = nr->idx;
		w->base = w->plen + 1;
	}
	if (fd == -1) {
		if (errno == EXDEV) {
			w->out->skipped_mounts++;
			rc = 0;
		} else if (errno == ENOENT)
			rc = 0;		/* removed while we walked */
		else if (errno == ELOOP || errno == ENOTDIR)
			rc = err_set(w->e, "%s/%s: changed from a directory to "
			    "something else during the walk", w->root->path,
			    w->path);
		else
			rc = err_sys(w->e, "%s/%s: cannot open directory",
			    w->root->path, w->path);
	} else
		rc = walk_dir(w, fd, next, depth + 1);	/* closes fd */
	w->dirlocked = slocked;
out:
	w->cur = scur;
	w->curidx = scuridx;
	w->base = sbase;
	w->plen = save;
	w->path[save] = '\0';
	return rc;
}

/* What the entry `name` does under states: *next gets the states for its
 * contents (if a directory); returns whether it is itself a match. */
static int
step(const struct walk *w, mask_t states, const char *name, mask_t *next)
{
	int match = 0;

	*next = 0;
	for (int i = 0; i < w->n; i++) {
		if (!(states & BIT(i)))
			continue;
		if (w->dstar[i]) {
			*next |= BIT(i);
			if (i == w->n - 1)
				match = 1;
		} else if (glob_match_component(w->comp[i], name)) {
			if (i == w->n - 1)
				match = 1;
			else
				*next |= BIT(i + 1);
		}
	}
	if (*next)
		*next = closure(w, *next);
	/* A trailing "**" matches zero components too: whatever leads to it
	 * is itself a match: the pattern "a", "*", "**" matches the file a/x. */
	if ((*next & BIT(w->n - 1)) && w->dstar[w->n - 1])
		match = 1;
	return match;
}

int
locate_dir_holds(int dirfd, const char *name)
{
	struct dirent *de;
	int fd, full = 0;
	DIR *d;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return 1;	/* unreadable: assume it holds something */
	}
	while (!full && (de = readdir(d)) != NULL)
		full = strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0;
	closedir(d);
	return full;
}

/* Notes the directory name (matched by the glob's last component, below
 * which nothing matched) when it holds anything.  Returns 0. */
static int
note_dir(struct walk *w, int dirfd, const char *name)
{
	struct foundlist *l = w->out;

	if (!locate_dir_holds(dirfd, name))
		return 0;
	if (l->matched_dirs++ == 0)
		snprintf(l->first_dir, sizeof(l->first_dir), "%.300s/%.400s%s"
		    "%.255s", w->root->path, w->path, w->plen ? "/" : "", name);
	return 0;
}

/* A directory entry: descended into when the glob goes on below it.  One
 * the glob's last component (not "**") matched, and below which nothing
 * matched, is noted when it holds anything (note_dir). */
static int
dir_entry(struct walk *w, int dirfd, const char *name, int match,
    mask_t next, int depth)
{
	size_t before = w->out->n;
	int rc = next ? descend(w, dirfd, name, next, depth) : 0;

	if (rc == 0 && match && !w->dstar[w->n - 1] && w->out->n == before)
		rc = note_dir(w, dirfd, name);
	return rc;
}

/* fstatat(AT_SYMLINK_NOFOLLOW) through statx, which also tells whether
 * the entry is immutable or append-only (*locked).  Returns 0 or -1. */
static int
stat_entry(int dirfd, const char *name, struct stat *st, int *locked)
{
	struct statx sx;

	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS,
	    &sx) == -1)
		return -1;
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	st->st_ino = sx.stx_ino;
	st->st_mode = sx.stx_mode;
	st->st_nlink = sx.stx_nlink;
	st->st_uid = sx.stx_uid;
	st->st_gid = sx.stx_gid;
	st->st_size = (off_t)sx.stx_size;
	st->st_mtime = sx.stx_mtime.tv_sec;
	*locked = (sx.stx_attributes_mask & sx.stx_attributes &
	    LOCKED_ATTRS) != 0;
	return 0;
}

/* Handles one entry whose type may be known from d_type (DT_UNKNOWN
 * otherwise). */
static int
visit(struct walk *w, int dirfd, const char *name, unsigned char dtype,
    ino_t ino, mask_t states, int depth)
{
	struct stat st;
	mask_t next;
	int match = step(w, states, name, &next), locked;

	if (!match && next == 0)
		return 0;
	if (dtype == DT_DIR && !(match && w->literal[w->n - 1]))
		return dir_entry(w, dirfd, name, match, next, depth);
	if (dtype != DT_UNKNOWN && !match)
		return 0;	/* not a directory: nothing to descend into */
	if (dtype != DT_UNKNOWN && dtype != DT_DIR && w->nostat) {
		/* The directory entry says enough to count it. */
		memset(&st, 0, sizeof(st));
		st.st_mode = dtype == DT_REG ? S_IFREG : dtype == DT_LNK ?
		    S_IFLNK : dtype == DT_FIFO ? S_IFIFO : dtype == DT_SOCK ?
		    S_IFSOCK : dtype == DT_CHR ? S_IFCHR : S_IFBLK;
		st.st_dev = w->cur->dev;
		st.st_ino = ino;
		return add_found(w, name, &st, 0);
	}
	if (stat_entry(dirfd, name, &st, &locked) == -1) {
		if (errno == ENOENT)
			return 0;
		return err_sys(w->e, "%s/%s%s%s: statx", w->root->path,
		    w->path, w->plen ? "/" : "", name);
	}
	if (S_ISDIR(st.st_mode)) {
		if (match && w->literal[w->n - 1])
			return err_set(w->e, "%s: names the directory %s/%s%s%s; "
			    "a dataset names files: for everything below it, "
			    "write %s/%s%s%s/**", w->glob, w->root->path, w->path,
			    w->plen ? "/" : "", name, w->root->path, w->path,
			    w->plen ? "/" : "", name);
		return dir_entry(w, dirfd, name, match, next, depth);
	}
	return match ? add_found(w, name, &st, locked) : 0;
}

/* Whether every live state is a literal name (so no readdir is needed). */
static int
all_literal(const struct walk *w, mask_t states)
{
	for (int i = 0; i < w->n; i++)
		if ((states & BIT(i)) && !w->literal[i])
			return 0;
	return 1;
}

/* Walks the directory open at fd (taking ownership of fd). */
static int
walk_dir(struct walk *w, int fd, mask_t states, int depth)
{
	struct dirent *de;
	struct statx sx;
	DIR *d;
	int rc = -1;

	w->dirlocked = !w->nostat && statx(fd, "", AT_EMPTY_PATH,
	    STATX_TYPE, &sx) == 0 && (sx.stx_attributes_mask &
	    sx.stx_attributes & LOCKED_ATTRS) != 0;

	if (all_literal(w, states)) {
		rc = 0;
		for (int i = 0; i < w->n && rc == 0; i++) {
			int dup = 0;
			if (!(states & BIT(i)))
				continue;
			for (int j = 0; j < i; j++)
				if ((states & BIT(j)) &&
				    strcmp(w->comp[i], w->comp[j]) == 0)
					dup = 1;
			if (!dup)
				rc = visit(w, fd, w->comp[i], DT_UNKNOWN, 0,
				    states, depth);
		}
		close(fd);
		return rc;
	}
	d = fdopendir(fd);
	if (d == NULL) {
		err_sys(w->e, "%s/%s: cannot read directory", w->root->path,
		    w->path);
		close(fd);
		return -1;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0) {
				err_sys(w->e, "%s/%s: cannot read directory",
				    w->root->path, w->path);
				goto out;
			}
			break;
		}
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		if (visit(w, dirfd(d), de->d_name, de->d_type, de->d_ino, states,
		    depth) == -1)
			goto out;
	}
	rc = 0;
out:
	closedir(d);
	return rc;
}

int
locate(const char *const *roots, size_t nroots, const char *glob,
    struct foundlist *out, struct err *e)
{
	return locate_ex(roots, nroots, glob, 0, out, e);
}

int
locate_ex(const char *const *roots, size_t nroots, const char *glob,
    int flags, struct foundlist *out, struct err *e)
{
	struct rootdir root = { .fd = -1 };
	struct walk w;
	char *copy = NULL, *sp, *tok;
	const char *rel;
	int idx, fd = -1, rc = -1, nlit;

	memset(&w, 0, sizeof(w));
	w.nostat = (flags & LOCATE_NOSTAT) != 0;
	w.out = out;
	w.e = e;
	w.glob = glob;
	idx = resolve_which_root(roots, nroots, glob, &rel);
	if (idx == -1)
		return err_set(e, "%s: not inside any allowed root; nothing "
		    "outside allowed_roots is ever touched", glob);
	copy = strdup(rel);
	if (copy == NULL)
		return err_set(e, "out of memory");
	for (tok = strtok_r(copy, "/", &sp); tok != NULL;
	    tok = strtok_r(NULL, "/", &sp)) {
		if (strcmp(tok, ".") == 0)
			continue;
		if (strcmp(tok, "..") == 0) {
			err_set(e, "%s: \"..\" is not allowed in a glob", glob);
			goto out;
		}
		if (w.n == MAXCOMP) {
			err_set(e, "%s: more than %d components", glob, MAXCOMP);
			goto out;
		}
		w.dstar[w.n] = strcmp(tok, "**") == 0;
		w.literal[w.n] = !w.dstar[w.n] && glob_is_literal(tok);
		w.comp[w.n++] = tok;
	}
	if (w.n == 0) {
		err_set(e, "%s: names an allowed root itself; a dataset glob "
		    "must name files below it (e.g. %s/**)", glob,
		    roots[idx]);
		goto out;
	}
	if (resolve_root(roots[idx], &root, e) == -1)
		goto out;
	w.root = w.cur = &root;
	w.rootidx = w.curidx = idx;
	w.cfgroots = roots;
	for (size_t k = 0; k < nroots; k++) {
		const char *nrel;
		if ((int)k == idx || resolve_which_root(&roots[idx], 1, roots[k],
		    &nrel) != 0 || nrel[0] == '\0')
			continue;
		if (w.nnest == MAXNEST) {
			err_set(e, "%s: more than %d allowed roots inside it",
			    roots[idx], MAXNEST);
			goto out;
		}
		w.nest[w.nnest].rel = nrel;
		w.nest[w.nnest].rlen = strlen(nrel);
		w.nest[w.nnest].idx = (int)k;
		w.nest[w.nnest].rd.fd = -1;
		w.nnest++;
	}

	/* The literal prefix (all but the last component) is opened in one
	 * lookup; the walk starts below it. */
	for (nlit = 0; nlit < w.n - 1 && w.literal[nlit]; nlit++) {
		size_t len = strlen(w.comp[nlit]);
		if (w.plen + len + 2 >= sizeof(w.path)) {
			err_set(e, "%s: path too long", glob);
			goto out;
		}
		if (w.plen > 0)
			w.path[w.plen++] = '/';
		memcpy(w.path + w.plen, w.comp[nlit], len + 1);
		w.plen += len;
	}
	fd = resolve_dir(&root, w.path, e);
	if (fd == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			rc = 0;		/* a missing prefix: zero matches */
		goto out;
	}
	rc = walk_dir(&w, fd, closure(&w, BIT(nlit)), 0);
	fd = -1;	/* walk_dir closed it */
out:
	for (int k = 0; k < w.nnest; k++)
		resolve_root_close(&w.nest[k].rd);
	resolve_root_close(&root);
	free(copy);
	return rc;
}
