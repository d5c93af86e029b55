/*
 * glob.c: matching names and relative paths against dataset globs (see
 * locate.h).  `*` and `?` match any byte but '/', dotfiles included: a
 * disposition must never miss a hidden file.  `[...]` is a byte class
 * ([a-c], [!x] or [^x] negated, ']' first is literal; an unclosed '[' is a
 * literal '['); a backslash makes the next byte literal.  In paths, a
 * component that is exactly "**" matches zero or more components.
 */
#include "locate/locate.h"

#include <stdlib.h>
#include <string.h>

/* Matches the class starting after '[' at *pp against c.  Returns 1 match,
 * 0 no match, -1 not a class (no closing ']'); advances *pp past ']'. */
static int
match_class(const char **pp, unsigned char c)
{
	const char *p = *pp;
	int neg = 0, hit = 0;

	if (*p == '!' || *p == '^') {
		neg = 1;
		p++;
	}
	for (int first = 1; *p != '\0' && (first || *p != ']'); first = 0) {
		unsigned char lo, hi;

		if (*p == '\\' && p[1] != '\0')
			p++;
		lo = (unsigned char)*p++;
		hi = lo;
		if (*p == '-' && p[1] != ']' && p[1] != '\0') {
			p++;
			if (*p == '\\' && p[1] != '\0')
				p++;
			hi = (unsigned char)*p++;
		}
		if (lo <= c && c <= hi)
			hit = 1;
	}
	if (*p != ']')
		return -1;
	*pp = p + 1;
	return hit != neg;
}

int
glob_match_component(const char *pat, const char *name)
{
	const char *p = pat, *n = name;
	const char *star_p = NULL, *star_n = NULL;

	/* Iterative matching with one backtrack point: the most recent '*'
	 * absorbs one more byte whenever the rest fails to match. */
	for (;;) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			star_p = p;
			star_n = n;
			continue;
		}
		if (*n == '\0') {
			if (*p == '\0')
				return 1;
		} else if (*p == '?' && *n != '/') {
			p++;
			n++;
			continue;
		} else if (*p == '[') {
			const char *q = p + 1;
			int m = match_class(&q, (unsigned char)*n);
			if (m == 1 && *n == '/')
				m = 0;
			if (m == 1) {
				p = q;
				n++;
				continue;
			}
			if (m == -1 && *n == '[') {
				p++;
				n++;
				continue;
			}
		} else if (*p == '\\' && p[1] != '\0') {
			if (p[1] == *n) {
				p += 2;
				n++;
				continue;
			}
		} else if (*p != '\0' && *p == *n) {
			p++;
			n++;
			continue;
		}
		if (star_p == NULL || *star_n == '\0' || *star_n == '/')
			return 0;
		p = star_p;
		n = ++star_n;
	}
}

int
glob_is_literal(const char *comp)
{
	return strpbrk(comp, "*?[\\") == NULL;
}

/* Splits s at '/' into at most max components (empty and "." skipped),
 * writing NUL-terminated copies into buf.  Returns the count, or -1. */
static int
split(const char *s, char *buf, size_t buflen, const char **v, int max)
{
	size_t len = strlen(s);
	int n = 0;

	if (len >= buflen)
		return -1;
	memcpy(buf, s, len + 1);
	for (char *sp, *tok = strtok_r(buf, "/", &sp); tok != NULL;
	    tok = strtok_r(NULL, "/", &sp)) {
		if (strcmp(tok, ".") == 0)
			continue;
		if (n == max)
			return -1;
		v[n++] = tok;
	}
	return n;
}

size_t
glob_literal_prefix(const char *glob, char *buf, size_t len)
{
	const char *p = glob;
	size_t n = 0, keep = 0;

	/* Whole components up to the first one with a special byte; the
	 * last component is never part of the prefix (it names files). */
	if (len == 0)
		return 0;
	buf[0] = '\0';
	while (*p != '\0') {
		const char *s = strchr(p, '/');
		size_t cl = s ? (size_t)(s - p) : strlen(p);
		int wild = memchr(p, '*', cl) || memchr(p, '?', cl) ||
		    memchr(p, '[', cl) || memchr(p, '\\', cl);

		if (wild || s == NULL)
			break;
		if (n + cl + 1 >= len)
			break;
		memcpy(buf + n, p, cl);
		n += cl;
		buf[n++] = '/';
		buf[n] = '\0';
		keep = n;
		p = s + 1;
	}
	/* Without the trailing '/', but "/" stays "/". */
	if (keep > 1) {
		buf[keep - 1] = '\0';
		keep--;
	}
	return keep;
}

#define MAXCOMP 128

/* Two paths or globs split into components, and a zeroed table of
 * (na + 1) x (nb + 1) flags over their component indexes: what the
 * matchers below fill by dynamic programming, so "**" costs a row of the
 * table, never an exponential search. */
struct pair {
	char abuf[4096], bbuf[4096];
	const char *av[MAXCOMP], *bv[MAXCOMP];
	int na, nb;
	unsigned char *t;
};

/* The table's flag for components (i, j) of the pair p in scope. */
#define T(i, j) p->t[(size_t)(i) * (size_t)(p->nb + 1) + (size_t)(j)]

/* Splits a and b into a pair and returns what fill makes of it, or
 * fallback when they cannot be split (too long, too many components) or
 * the table cannot be allocated. */
static int
pair_run(const char *a, const char *b, int fallback,
    int (*fill)(struct pair *p))
{
	struct pair pr, *p = &pr;
	int rc = fallback;

	p->na = split(a, p->abuf, sizeof(p->abuf), p->av, MAXCOMP);
	p->nb = split(b, p->bbuf, sizeof(p->bbuf), p->bv, MAXCOMP);
	if (p->na < 0 || p->nb < 0)
		return fallback;
	p->t = calloc((size_t)(p->na + 1) * (size_t)(p->nb + 1), 1);
	if (p->t != NULL)
		rc = fill(p);
	free(p->t);
	return rc;
}

/* T(i, j): pattern components i.. (a) match path components j.. (b);
 * filled from the end. */
static int
match_path(struct pair *p)
{
	const int np = p->na, ns = p->nb;

	T(np, ns) = 1;
	for (int i = np - 1; i >= 0; i--) {
		int dstar = strcmp(p->av[i], "**") == 0;
		for (int j = ns; j >= 0; j--) {
			if (dstar)
				T(i, j) = T(i + 1, j) || (j < ns && T(i, j + 1));
			else
				T(i, j) = j < ns && T(i + 1, j + 1) &&
				    glob_match_component(p->av[i], p->bv[j]);
		}
	}
	return T(0, 0);
}

int
glob_match_path(const char *pat, const char *path)
{
	return pair_run(pat, path, 0, match_path);
}

/* T(i, j): pattern components ..i (a) match path components ..j (b).
 * The directory is reached when a proper prefix of the pattern has
 * consumed it all: what is left names something below it.  The whole
 * pattern consuming it names the directory itself, which only reaches
 * below when the pattern ends in "**". */
static int
reaches(struct pair *p)
{
	const int np = p->na, ns = p->nb;
	int rc = 0;

	T(0, 0) = 1;
	for (int i = 1; i <= np; i++) {
		int dstar = strcmp(p->av[i - 1], "**") == 0;
		for (int j = 0; j <= ns; j++) {
			if (dstar)
				T(i, j) = T(i - 1, j) || (j > 0 && T(i, j - 1));
			else
				T(i, j) = j > 0 && T(i - 1, j - 1) &&
				    glob_match_component(p->av[i - 1],
				    p->bv[j - 1]);
		}
	}
	for (int i = 0; i < np && !rc; i++)
		rc = T(i, ns);
	if (!rc && np > 0 && strcmp(p->av[np - 1], "**") == 0)
		rc = T(np, ns);
	return rc;
}

int
glob_reaches(const char *pat, const char *dir)
{
	return pair_run(pat, dir, 1, reaches);	/* cannot tell: it may */
}

/* Whether two glob components can match one name: certainly when either
 * matches the other as a name; else, when both have wildcards, assume so
 * (deciding it exactly is not worth the risk of saying "never"). */
static int
comp_may_meet(const char *a, const char *b)
{
	int la = glob_is_literal(a), lb = glob_is_literal(b);

	if (la && lb)
		return strcmp(a, b) == 0;
	if (la)
		return glob_match_component(b, a);
	if (lb)
		return glob_match_component(a, b);
	return 1;
}

/* T(i, j): suffixes a[i..] and b[j..] can match one path. */
static int
may_overlap(struct pair *p)
{
	const int na = p->na, nb = p->nb;

	for (int i = na; i >= 0; i--)
		for (int j = nb; j >= 0; j--) {
			int sa = i < na && strcmp(p->av[i], "**") == 0;
			int sb = j < nb && strcmp(p->bv[j], "**") == 0;
			if (i == na && j == nb)
				T(i, j) = 1;
			else if (sa && (T(i + 1, j) || (j < nb && T(i, j + 1))))
				T(i, j) = 1;
			else if (sb && (T(i, j + 1) || (i < na && T(i + 1, j))))
				T(i, j) = 1;
			else if (i < na && j < nb && !sa && !sb)
				T(i, j) = T(i + 1, j + 1) &&
				    comp_may_meet(p->av[i], p->bv[j]);
			else
				T(i, j) = 0;
		}
	return T(0, 0);
}

int
glob_may_overlap(const char *a, const char *b)
{
	return pair_run(a, b, 1, may_overlap);
}
