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

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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
