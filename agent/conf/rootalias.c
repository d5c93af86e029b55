/*
 * rootalias.c: see rootalias.h.  Each root is located on its filesystem:
 * realpath(3) takes the symbolic links out; the mount holding the result
 * (the longest mount point of /proc/self/mountinfo that is a component
 * prefix of it, the last such, as later mounts hide earlier ones) gives
 * the device and the directory of that filesystem it shows (its root
 * field: not "/" for a bind mount of a subtree).
 */
#include "conf/rootalias.h"
#include "base/err.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct where {
	char dev[32];		/* "major:minor", "" when unknown */
	char fs[PATH_MAX * 2];	/* the directory within that filesystem */
};

/* mountinfo escapes blanks, tabs, newlines and backslashes as \ooo. */
static void
unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r != '\0'; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' &&
		    r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 +
			    (r[3] - '0'));
			r += 3;
		} else
			*w++ = *r;
	}
	*w = '\0';
}

/* Whether dir is p or a directory above it, by whole components; *rest
 * is what follows dir in p ("" or "/..."). */
static int
under(const char *dir, const char *p, const char **rest)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0) {
		*rest = p;
		return 1;
	}
	if (strncmp(dir, p, n) != 0 || (p[n] != '\0' && p[n] != '/'))
		return 0;
	*rest = p + n;
	return 1;
}

/* Where real (a canonical path) lies: its filesystem and the directory of
 * it.  0, or -1 when mountinfo cannot tell. */
static int
locate_root(const char *real, struct where *w)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0, bestlen = 0;
	int found = 0;

	if (f == NULL)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		char dev[32], root[PATH_MAX], mnt[PATH_MAX];
		const char *rest;
		if (sscanf(line, "%*s %*s %31s %4095s %4095s", dev, root,
		    mnt) != 3)
			continue;
		unescape(root);
		unescape(mnt);
		if (!under(mnt, real, &rest) || strlen(mnt) < bestlen)
			continue;
		bestlen = strlen(mnt);
		snprintf(w->dev, sizeof(w->dev), "%s", dev);
		snprintf(w->fs, sizeof(w->fs), "%s%s",
		    strcmp(root, "/") == 0 && rest[0] != '\0' ? "" : root,
		    rest);
		found = 1;
	}
	free(line);
	fclose(f);
	if (found && w->fs[0] == '\0')
		snprintf(w->fs, sizeof(w->fs), "/");
	return found ? 0 : -1;
}

int
rootalias_check(const char *const *roots, size_t n, const char *file,
    int line, struct diags *d)
{
	struct where *w = calloc(n + 1, sizeof(*w));
	char *ok = calloc(n + 1, 1);
	int bad = 0;

	if (w == NULL || ok == NULL) {
		free(w);
		free(ok);
		diag_add(d, file, line, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char real[PATH_MAX];
		ok[i] = realpath(roots[i], real) != NULL &&
		    locate_root(real, &w[i]) == 0;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			const char *rest, *crest;
			if (i == j || !ok[i] || !ok[j] ||
			    strcmp(w[i].dev, w[j].dev) != 0 ||
			    !under(w[i].fs, w[j].fs, &rest))
				continue;
			/* j lies at i + rest on the filesystem: it must be
			 * configured there too. */
			if (under(roots[i], roots[j], &crest) &&
			    strcmp(crest, rest) == 0)
				continue;
			if (i > j && strcmp(w[i].fs, w[j].fs) == 0)
				continue;	/* the same pair, said once */
			diag_add(d, file, line, "allowed roots '%s' and '%s' "
			    "reach the same directories under two names ('%s' "
			    "is '%s%s', through a symbolic link or a mount): a "
			    "file would have two names, and protection written "
			    "on one would not see the other; list the "
			    "directory once, by one name", roots[i], roots[j],
			    roots[j], roots[i], rest);
			bad = 1;
		}
	free(w);
	free(ok);
	return bad ? -1 : 0;
}
