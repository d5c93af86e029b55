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

#define MAXCOMP 128

int
glob_match_path(const char *pat, const char *path)
{
	char pbuf[4096], sbuf[4096];
	const char *pv[MAXCOMP], *sv[MAXCOMP];
	unsigned char *dp;
	int np, ns, rc;

	np = split(pat, pbuf, sizeof(pbuf), pv, MAXCOMP);
	ns = split(path, sbuf, sizeof(sbuf), sv, MAXCOMP);
	if (np < 0 || ns < 0)
		return 0;
	/* dp[i][j]: pattern components i.. match path components j.. ;
	 * filled from the end, so each "**" costs O(ns), never exponential. */
	dp = calloc((size_t)(np + 1) * (size_t)(ns + 1), 1);
	if (dp == NULL)
		return 0;
#define DP(i, j) dp[(size_t)(i) * (size_t)(ns + 1) + (size_t)(j)]
	DP(np, ns) = 1;
	for (int i = np - 1; i >= 0; i--) {
		int dstar = strcmp(pv[i], "**") == 0;
		for (int j = ns; j >= 0; j--) {
			if (dstar)
				DP(i, j) = DP(i + 1, j) || (j < ns && DP(i, j + 1));
			else
				DP(i, j) = j < ns && DP(i + 1, j + 1) &&
				    glob_match_component(pv[i], sv[j]);
		}
	}
	rc = DP(0, 0);
#undef DP
	free(dp);
	return rc;
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

int
glob_reaches(const char *pat, const char *dir)
{
	char pbuf[4096], sbuf[4096];
	const char *pv[MAXCOMP], *sv[MAXCOMP];
	unsigned char *f;
	int np, ns, rc = 0;

	np = split(pat, pbuf, sizeof(pbuf), pv, MAXCOMP);
	ns = split(dir, sbuf, sizeof(sbuf), sv, MAXCOMP);
	if (np < 0 || ns < 0)
		return 1;	/* cannot tell: say it may */
	/* f[i][j]: pattern components ..i match path components ..j. */
	f = calloc((size_t)(np + 1) * (size_t)(ns + 1), 1);
	if (f == NULL)
		return 1;
#define F(i, j) f[(size_t)(i) * (size_t)(ns + 1) + (size_t)(j)]
	F(0, 0) = 1;
	for (int i = 1; i <= np; i++) {
		int dstar = strcmp(pv[i - 1], "**") == 0;
		for (int j = 0; j <= ns; j++) {
			if (dstar)
				F(i, j) = F(i - 1, j) || (j > 0 && F(i, j - 1));
			else
				F(i, j) = j > 0 && F(i - 1, j - 1) &&
				    glob_match_component(pv[i - 1], sv[j - 1]);
		}
	}
	/* dir is reached when a proper prefix of the pattern has consumed
	 * it all: what is left names something below it.  The whole pattern
	 * consuming it names dir itself, which only reaches below when the
	 * pattern ends in "**". */
	for (int i = 0; i < np && !rc; i++)
		rc = F(i, ns);
	if (!rc && np > 0 && strcmp(pv[np - 1], "**") == 0)
		rc = F(np, ns);
#undef F
	free(f);
	return rc;
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

int
glob_may_overlap(const char *a, const char *b)
{
	char abuf[4096], bbuf[4096];
	const char *av[MAXCOMP], *bv[MAXCOMP];
	unsigned char *d;
	int na, nb, rc;

	na = split(a, abuf, sizeof(abuf), av, MAXCOMP);
	nb = split(b, bbuf, sizeof(bbuf), bv, MAXCOMP);
	if (na < 0 || nb < 0)
		return 1;
	d = calloc((size_t)(na + 1) * (size_t)(nb + 1), 1);
	if (d == NULL)
		return 1;
	/* D(i, j): suffixes a[i..] and b[j..] can match one path. */
#define D(i, j) d[(size_t)(i) * (size_t)(nb + 1) + (size_t)(j)]
	for (int i = na; i >= 0; i--)
		for (int j = nb; j >= 0; j--) {
			int sa = i < na && strcmp(av[i], "**") == 0;
			int sb = j < nb && strcmp(bv[j], "**") == 0;
			if (i == na && j == nb)
				D(i, j) = 1;
			else if (sa && (D(i + 1, j) || (j < nb && D(i, j + 1))))
				D(i, j) = 1;
			else if (sb && (D(i, j + 1) || (i < na && D(i + 1, j))))
				D(i, j) = 1;
			else if (i < na && j < nb && !sa && !sb)
				D(i, j) = D(i + 1, j + 1) &&
				    comp_may_meet(av[i], bv[j]);
			else
				D(i, j) = 0;
		}
	rc = D(0, 0);
#undef D
	free(d);
	return rc;
}
