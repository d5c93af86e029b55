/*
 * dispose_dirs.c: directories a disposition emptied, removed deepest
 * first, never at or above a dataset's fixed prefix (those the policy
 * names stay).
 *
 * MUST rules:
 *  - a directory about to be renamed on its way out has its line in
 *    work/ID/dirs ("ROOT\tPARENT\tNEWNAME", percent-encoded) made durable
 *    first, so a run killed before the rmdir leaves nothing the next run
 *    cannot finish;
 *  - only an empty directory is removed (ow_rmdir_*), and only beneath an
 *    allowed root, walked by descriptors (resolve.h).
 */
#include "dispose/dispose_int.h"

#include "base/err.h"
#include "conf/config.h"
#include "conf/policy.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A candidate directory: rel below allowed root `root`. */
struct cand {
	int root;
	char *rel;
};

struct dirset {
	struct cand *v;
	size_t n;
};

static size_t
depth(const char *s)
{
	size_t d = 0;

	for (; *s; s++)
		d += *s == '/';
	return d;
}

/* Deepest first; equal candidates side by side. */
static int
cmp_depth(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	size_t da = depth(a->rel), db = depth(b->rel);

	if (da != db)
		return da > db ? -1 : 1;
	if (a->root != b->root)
		return a->root < b->root ? -1 : 1;
	return strcmp(a->rel, b->rel);
}

/* Length of the glob's fixed directory prefix below the allowed root
 * `root` (which holds the names it matched): directories at or above it
 * are named by the policy, not by the data, and stay. */
static size_t
fixed_prefix_len(const char *root, const char *glob)
{
	char prefix[4200];
	const char *rest, *r[1] = { root };

	glob_literal_prefix(glob, prefix, sizeof(prefix));
	if (resolve_which_root(r, 1, prefix, &rest) != 0)
		return 0;	/* the root lies below the prefix */
	return strlen(rest);
}

/* Adds every parent of `rel` (a removed file) strictly below its
 * dataset's fixed prefix.  Out of memory leaves some out: they stay. */
static void
add_parents(struct dctx *x, struct dirset *d, int root, size_t dsi,
    const char *rel)
{
	const struct dataset *ds;
	size_t keep;
	char *p;

	if (dsi >= x->rq->a->nds || root < 0 ||
	    (size_t)root >= x->rq->cfg->nroots)
		return;
	ds = &x->rq->a->ds[dsi];
	if (ds->path == NULL)
		return;
	keep = fixed_prefix_len(x->rq->cfg->roots[root], ds->path);
	if ((p = strdup(rel)) == NULL)
		return;
	for (char *s = strrchr(p, '/'); s != NULL && (size_t)(s - p) > keep;
	    s = strrchr(p, '/')) {
		struct cand *v;
		*s = '\0';
		v = realloc(d->v, (d->n + 1) * sizeof(*v));
		if (v == NULL)
			break;
		d->v = v;
		if ((v[d->n].rel = strdup(p)) == NULL)
			break;
		v[d->n++].root = root;
	}
	free(p);
}

static void
names_dirs(struct dctx *x, struct nameline *l, void *arg)
{
	char rel[8400];

	if (strcmp(l->parent, ".") == 0)
		return;
	snprintf(rel, sizeof(rel), "%s/x", l->parent);
	add_parents(x, arg, l->root, l->ds, rel);
}

/* ow_opts.before_rename: the line of a directory about to be renamed. */
struct dirrec {
	struct dctx *x;
	int root;
	const char *rel;	/* the directory's path below its root */
};

static int
record_dir(const char *newname, void *arg)
{
	struct dirrec *d = arg;
	char path[4200], parent[8200], nm[1024], line[9400];
	int fd, n, rc = -1;

	dctx_enc_parent(d->rel, parent, sizeof(parent));
	dctx_enc(newname, nm, sizeof(nm));
	n = snprintf(line, sizeof(line), "%d\t%s\t%s\n", d->root, parent, nm);
	snprintf(path, sizeof(path), "%s/dirs", d->x->workdir);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return -1;
	if (n > 0 && (size_t)n < sizeof(line) && write(fd, line, (size_t)n) == n &&
	    fdatasync(fd) == 0)
		rc = 0;
	close(fd);
	return rc;
}

/* Removes one candidate if it is empty. */
static void
remove_one(struct dctx *x, const struct cand *c)
{
	struct dirrec dr = { x, c->root, c->rel };
	struct ow_opts oo;
	struct found f;
	struct err e;
	char label[4200];
	const char *base;
	int dirfd;

	memset(&f, 0, sizeof(f));
	f.rel = c->rel;
	f.root = c->root;
	dctx_label(x, &f, label, sizeof(label));
	if ((dirfd = dctx_open_parent(x, c->root, c->rel, &base, &e)) < 0)
		return;
	memset(&oo, 0, sizeof(oo));
	oo.before_rename = record_dir;
	oo.arg = &dr;
	if (ow_rmdir_recorded(dirfd, base, label, &oo, &e) == 1)
		x->out->dirs++;
	close(dirfd);
}

void
dispose_dirs_remove(struct dctx *x)
{
	struct dirset ds = { 0 };

	for (size_t i = 0; i < x->ngone; i++)
		add_parents(x, &ds, x->gone[i].root, x->gone[i].ds,
		    x->gone[i].rel);
	(void)dispose_names_each(x, names_dirs, &ds);
	if (ds.n > 0)
		qsort(ds.v, ds.n, sizeof(*ds.v), cmp_depth);
	for (size_t i = 0; i < ds.n; i++)
		if (i == 0 || cmp_depth(&ds.v[i], &ds.v[i - 1]) != 0)
			remove_one(x, &ds.v[i]);
	for (size_t i = 0; i < ds.n; i++)
		free(ds.v[i].rel);
	free(ds.v);
}

/* Resume: one line of work/ID/dirs ("ROOT\tPARENT\tNEWNAME"), a directory
 * a killed run renamed on its way out: removed if it is still there and
 * empty.  A damaged line is skipped.  Returns 0. */
static int
finish_dir(struct dctx *x, char *line, void *arg)
{
	char *f[3], *t = line;
	uint64_t root;
	struct stat st;
	struct err e;
	int k = 0, dirfd;

	(void)arg;
	for (; k < 3 && t != NULL; k++) {
		f[k] = t;
		t = strchr(t, '\t');
		if (t != NULL)
			*t++ = '\0';
	}
	if (k != 3 || dctx_u64(f[0], &root) != 0 ||
	    root >= x->rq->cfg->nroots || dctx_root(x, (int)root, &e) < 0)
		return 0;
	dctx_dec(f[1]);
	dctx_dec(f[2]);
	dirfd = strcmp(f[1], ".") == 0 ? dup(x->roots[root].fd) :
	    resolve_dir(&x->roots[root], f[1], &e);
	if (dirfd < 0)
		return 0;
	if (fstatat(dirfd, f[2], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode) && ow_rmdir_if_empty(dirfd, f[2], f[2], &e) == 1)
		x->out->dirs++;
	close(dirfd);
	return 0;
}

void
dispose_dirs_resume(struct dctx *x)
{
	(void)dctx_work_lines(x, "dirs", 1 << 24, finish_dir, NULL);
}
