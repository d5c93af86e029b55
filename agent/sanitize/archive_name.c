/*
 * archive_name.c: which name a member really has (archive_int.h).
 *
 * A member's name decides whether it is removed, so it is taken the way
 * the tool that restores the backup sees it.  GNU tar extracts
 * "b/../a/x.csv" as "a/x.csv": it drops every component up to the last
 * "..", and leading slashes.  bsdtar, cpio and python resolve ".." in
 * place instead, which gives the same name unless the ".." climbs out of
 * a directory it did not enter ("a/b/../c": GNU tar says "c", the others
 * "a/c") or out of the root ("../x").  Those names have no single answer,
 * so they are refused rather than guessed.
 */
#include "sanitize/archive_int.h"
#include "sanitize/archive.h"

#include "base/err.h"
#include "locate/locate.h"

#include <stdlib.h>
#include <string.h>

struct comp {
	const char *p;
	size_t n;
};

static int
same(const struct comp *a, size_t na, const struct comp *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (a[i].n != b[i].n || memcmp(a[i].p, b[i].p, a[i].n) != 0)
			return 0;
	return 1;
}

int
aname_normalize(const char *path, char **out, const char **why)
{
	struct comp *all, *gnu, *lex;
	size_t nall = 0, ngnu = 0, nlex = 0, cap = 1, len = 0;
	int dotdot = 0, escaped = 0, rc = -1;

	*out = NULL;
	*why = "cannot be read";
	if (path == NULL)
		return -1;
	for (const char *s = path; *s; s++)
		cap += *s == '/';
	all = calloc(cap * 3, sizeof(*all));
	if (all == NULL) {
		*why = "out of memory";
		return -1;
	}
	gnu = all + cap;
	lex = gnu + cap;
	for (const char *s = path;;) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n > 0 && !(n == 1 && s[0] == '.'))
			all[nall++] = (struct comp){ s, n };
		if (e == NULL)
			break;
		s = e + 1;
	}
	for (size_t i = 0; i < nall; i++) {
		int up = all[i].n == 2 && all[i].p[0] == '.' && all[i].p[1] == '.';
		if (up) {
			dotdot = 1;
			ngnu = 0;	/* GNU tar: drop everything so far */
			if (nlex == 0)
				escaped = 1;
			else
				nlex--;
			continue;
		}
		gnu[ngnu++] = all[i];
		lex[nlex++] = all[i];
	}
	if (dotdot && escaped) {
		*why = "has a \"..\" that leads out of the archive's root";
		goto out;
	}
	if (dotdot && !same(gnu, ngnu, lex, nlex)) {
		*why = "has a \"..\" that GNU tar and other readers resolve "
		    "to different names";
		goto out;
	}
	if (ngnu == 0) {
		rc = 0;
		goto out;
	}
	for (size_t i = 0; i < ngnu; i++)
		len += gnu[i].n + 1;
	*out = malloc(len);
	if (*out == NULL) {
		*why = "out of memory";
		goto out;
	}
	len = 0;
	for (size_t i = 0; i < ngnu; i++) {
		if (i > 0)
			(*out)[len++] = '/';
		memcpy(*out + len, gnu[i].p, gnu[i].n);
		len += gnu[i].n;
	}
	(*out)[len] = '\0';
	rc = 1;
out:
	free(all);
	return rc;
}

int
aname_matches(const char *glob, const char *norm)
{
	size_t gl = strlen(glob);

	if (norm == NULL || norm[0] == '\0')
		return 0;
	if (glob_match_path(glob, norm))
		return 1;
	/* "osde/" + "**" removes the directory entry "osde" itself. */
	if (gl >= 3 && strcmp(glob + gl - 3, "/**") == 0) {
		char *head = strndup(glob, gl - 3);
		int m = head != NULL && glob_match_path(head, norm);
		free(head);
		return m;
	}
	return 0;
}

int
archive_member_matches(const char *glob, const char *path)
{
	char *norm;
	const char *why;
	int m = 0;

	if (aname_normalize(path, &norm, &why) == 1)
		m = aname_matches(glob, norm);
	free(norm);
	return m;
}

int
aname_member(const char *glob, const char *path, uint64_t idx,
    struct actx *c)
{
	const char *why;
	char *norm;
	int r = aname_normalize(path, &norm, &why);

	if (r < 0)
		return err_set(c->e, "%s: member #%ju %s; lethe cannot decide "
		    "whether to remove it; refused, archive untouched",
		    c->label, (uintmax_t)idx + 1, path == NULL ? "has a name "
		    "that cannot be read" : why);
	r = r == 1 && aname_matches(glob, norm);
	free(norm);
	return r;
}
