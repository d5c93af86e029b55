/*
 * lint.c: datasets against each other and the filesystem (see lint.h).
 * Overlaps are judged on the globs' text (glob_may_overlap), which errs
 * toward "they may": a warning too many is cheaper than a surprise.
 */
#include "conf/lint.h"

#include "base/err.h"
#include "conf/config.h"
#include "conf/policy.h"
#include "locate/locate.h"
#include "locate/resolve.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The dataset's globs: path and archive (either may be NULL). */
static const char *
glob_of(const struct dataset *d, int k)
{
	return k == 0 ? d->path : d->archive;
}

/* Whether two datasets can match one same path, and through which globs. */
static int
meet(const struct dataset *x, const struct dataset *y, const char **gx,
    const char **gy)
{
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++) {
			const char *a = glob_of(x, i), *b = glob_of(y, j);
			/* Two agreements' member removals from one backup
			 * take their own members: no overlap of files. */
			if (a == NULL || b == NULL || (i == 1 && j == 1))
				continue;
			if (glob_may_overlap(a, b)) {
				*gx = a;
				*gy = b;
				return 1;
			}
		}
	return 0;
}

static void
within(const struct agreement *a, struct diags *d)
{
	for (size_t i = 0; i < a->nds; i++)
		for (size_t k = i + 1; k < a->nds; k++) {
			const struct dataset *x = &a->ds[i], *y = &a->ds[k];
			const char *gx, *gy;
			int ex = dataset_exempt(a, i), ey = dataset_exempt(a, k);

			if (!meet(x, y, &gx, &gy) || (ex && ey))
				continue;
			if (ex || ey)
				diag_warn(d, a->file, (ex ? y : x)->line, "dataset "
				    "%s (%s) overlaps exempt dataset %s (%s): "
				    "what both match is kept (exemption wins, "
				    "by object: a file is kept if any of its "
				    "names is exempt)", (ex ? y : x)->name,
				    ex ? gy : gx, (ex ? x : y)->name,
				    ex ? gx : gy);
			else
				diag_warn(d, a->file, y->line, "dataset %s (%s) "
				    "overlaps dataset %s (%s): a file both "
				    "match is destroyed once, with the "
				    "settings of %s (the first in the file)",
				    y->name, gy, x->name, gx, x->name);
		}
}

static void
across(const struct agreement *a, const struct agreement *b,
    struct diags *d)
{
	for (size_t i = 0; i < a->nds; i++)
		for (size_t k = 0; k < b->nds; k++) {
			const char *gx, *gy;
			if (!meet(&a->ds[i], &b->ds[k], &gx, &gy))
				continue;
			diag_warn(d, b->file, b->ds[k].line, "dataset %s (%s) of "
			    "agreement %s can match the same files as dataset "
			    "%s (%s) of agreement %s: such a file is refused, "
			    "naming both, while the other agreement's data is "
			    "not due (and kept while it is exempt or held "
			    "there)", b->ds[k].name, gy, b->id, a->ds[i].name,
			    gx, a->id);
		}
}

/* A glob DIR/LAST whose DIR is literal and whose LAST is a wildcard (not
 * "**") that matches a directory holding something: the dataset names
 * files, so that directory's files are not the dataset's (run refuses the
 * scope, scope.h).  Deeper globs are left to plan and run, which walk. */
static void
wild_dirs(const struct agreement *a, const struct dataset *ds,
    const char *g, struct diags *d)
{
	char dir[PATH_MAX], first[NAME_MAX + 1] = "";
	const char *last = strrchr(g, '/');
	struct dirent *de;
	struct stat st;
	size_t n = 0;
	DIR *dp;

	if (last == NULL || glob_is_literal(last + 1) ||
	    strcmp(last + 1, "**") == 0)
		return;
	glob_literal_prefix(g, dir, sizeof(dir));
	if (strlen(dir) != (size_t)(last - g) || (dp = opendir(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    !glob_match_component(last + 1, de->d_name) ||
		    fstatat(dirfd(dp), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(st.st_mode) || !locate_dir_holds(dirfd(dp), de->d_name))
			continue;
		if (n++ == 0 || strcmp(de->d_name, first) < 0)
			snprintf(first, sizeof(first), "%s", de->d_name);
	}
	closedir(dp);
	if (n > 0)
		diag_add(d, a->file, ds->line, "dataset %s: %s matches %zu "
		    "director%s that %s not empty (first: %s/%s), and a "
		    "dataset names files: what %s is not matched; write "
		    "%s/** to destroy everything below %s, or a glob that "
		    "names files only", ds->name, g, n, n == 1 ? "y" : "ies",
		    n == 1 ? "is" : "are", dir, first, n == 1 ? "it holds" :
		    "they hold", dir, dir);
}

/* Whether the glob's fixed directory dir (which exists) is reached from
 * its allowed root as run reaches it (resolve.h: no symbolic link, no
 * mount point on the way); if not, says why as run would.  Returns 0 when
 * it is, -1 when an error was added. */
static int
reachable(const struct config *c, const struct agreement *a,
    const struct dataset *ds, const char *dir, struct diags *d)
{
	const char *rel;
	struct rootdir rd;
	struct err e;
	int r, fd, why = 0;

	r = resolve_which_root((const char *const *)c->roots, c->nroots, dir,
	    &rel);
	if (r < 0 || resolve_root(c->roots[r], &rd, &e) != 0)
		return 0;	/* said elsewhere: outside, or no root */
	fd = resolve_dir(&rd, rel, &e);
	if (fd == -1 && errno != ENOENT && errno != ENOTDIR)
		why = errno;
	if (fd != -1)
		close(fd);
	resolve_root_close(&rd);
	if (why == 0)
		return 0;
	diag_add(d, a->file, ds->line, "dataset %s: %s", ds->name, e.msg);
	return -1;
}

/* A path glob with no wildcard that names an existing directory matches
 * nothing; a glob whose fixed directory is missing matches nothing now. */
static void
on_disk(const struct config *c, const struct agreement *a,
    const struct dataset *ds, const char *g, struct diags *d)
{
	char dir[PATH_MAX];
	struct stat st;
	int r;

	if (strpbrk(g, "*?[\\") == NULL && lstat(g, &st) == 0 &&
	    S_ISDIR(st.st_mode)) {
		size_t n = strlen(g);
		diag_add(d, a->file, ds->line, "dataset %s: %s names a "
		    "directory, and a dataset names files: it would match "
		    "nothing; for everything below it, write %.*s/**",
		    ds->name, g, (int)(n > 1 && g[n - 1] == '/' ? n - 1 : n),
		    g);
		return;
	}
	glob_literal_prefix(g, dir, sizeof(dir));
	if (dir[0] != '\0' && lstat(dir, &st) == 0 &&
	    reachable(c, a, ds, dir, d) != 0)
		return;
	wild_dirs(a, ds, g, d);
	if (dir[0] == '\0' || lstat(dir, &st) == 0)
		return;
	/* A host whose allowed root is not there yet (an example config)
	 * is not a typo in the glob. */
	r = config_root_of(c, g);
	if (r < 0 || lstat(c->roots[r], &st) != 0)
		return;
	diag_warn(d, a->file, ds->line, "dataset %s: %s does not exist: the "
	    "dataset matches nothing now", ds->name, dir);
}

void
lint_datasets(const struct config *c, const struct policyset *ps,
    struct diags *d)
{
	for (size_t i = 0; i < ps->n; i++) {
		const struct agreement *a = &ps->a[i];
		within(a, d);
		for (size_t k = i + 1; k < ps->n; k++)
			across(a, &ps->a[k], d);
		for (size_t k = 0; k < a->nds; k++)
			for (int j = 0; j < 2; j++)
				if (glob_of(&a->ds[k], j) != NULL)
					on_disk(c, a, &a->ds[k],
					    glob_of(&a->ds[k], j), d);
	}
}
