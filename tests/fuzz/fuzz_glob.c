/*
 * fuzz_glob.c: glob_match_component and glob_match_path (agent/glob.c),
 * which decide what a disposition destroys, held to fnmatch(3).
 *
 * The input is "PATTERN\nPATH".  Invariants besides "no crash, no UB":
 *   - for one component (no '/' in either), glob_match_component agrees
 *     with fnmatch(pattern, name, FNM_PATHNAME) in the C locale, as
 *     locate.h promises ("fnmatch-like, FNM_PERIOD off"), except for POSIX
 *     bracket classes ("[:alpha:]", "[=a=]", "[.a.]"), which lethe does
 *     not implement, a pattern ending in a lone backslash and a '[' that
 *     is never closed, which POSIX leaves undefined and glibc treats
 *     inconsistently ("[a-" never matches, "[a" matches itself); lethe
 *     documents an unclosed '[' as a literal (such inputs are skipped);
 *   - glob_match_path agrees with a small reference matcher over
 *     components ("**" matches zero or more of them; empty and "."
 *     components are ignored) that uses fnmatch for each component;
 *   - glob_is_literal components match exactly themselves.
 */
#include "fuzz_util.h"

#include "locate/locate.h"

#include <fnmatch.h>
#include <locale.h>

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setlocale(LC_ALL, "C");
	return 0;
}

static int
ref_component(const char *pat, const char *name)
{
	return fnmatch(pat, name, FNM_PATHNAME) == 0;
}

/* Components of s (empty and "." dropped), at most max; -1 if more. */
static int
split(char *s, char **v, int max)
{
	int n = 0;

	for (char *sp, *t = strtok_r(s, "/", &sp); t != NULL;
	    t = strtok_r(NULL, "/", &sp)) {
		if (strcmp(t, ".") == 0)
			continue;
		if (n == max)
			return -1;
		v[n++] = t;
	}
	return n;
}

static int
ref_path(char **pv, int np, char **sv, int ns)
{
	if (np == 0)
		return ns == 0;
	if (strcmp(pv[0], "**") == 0)
		return ref_path(pv + 1, np - 1, sv, ns) ||
		    (ns > 0 && ref_path(pv, np, sv + 1, ns - 1));
	return ns > 0 && ref_component(pv[0], sv[0]) &&
	    ref_path(pv + 1, np - 1, sv + 1, ns - 1);
}

/* Whether s ends in a backslash that escapes nothing. */
static int
ends_in_backslash(const char *s)
{
	size_t n = strlen(s), k = 0;

	while (k < n && s[n - 1 - k] == '\\')
		k++;
	return k % 2 == 1;
}

/* Whether some '[' in s opens no bracket expression (no closing ']'
 * under glob.c's rules: after an optional '!' or '^', a first ']' is
 * literal and a backslash escapes the next byte). */
static int
has_unclosed_bracket(const char *s)
{
	for (const char *p = s; *p != '\0'; p++) {
		const char *q;

		if (*p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p != '[')
			continue;
		q = p + 1;
		if (*q == '!' || *q == '^')
			q++;
		if (*q == ']')
			q++;
		while (*q != '\0' && *q != ']')
			q += *q == '\\' && q[1] != '\0' ? 2 : 1;
		if (*q == '\0')
			return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	char *pat, *path, *pc, *sc, *pv[16], *sv[16];
	int got, want, np, ns, stars = 0;

	if (nl == NULL || size > 512)
		return 0;
	pat = fz_strndup(data, (size_t)(nl - data));
	path = fz_strndup(nl + 1, size - (size_t)(nl - data) - 1);
	if (strstr(pat, "[:") != NULL || strstr(pat, "[=") != NULL ||
	    strstr(pat, "[.") != NULL)
		goto out;

	if (strchr(pat, '/') == NULL && strchr(path, '/') == NULL &&
	    !ends_in_backslash(pat) && !has_unclosed_bracket(pat)) {
		got = glob_match_component(pat, path);
		want = ref_component(pat, path);
		FZ_CHECK(got == want, "glob_match_component(\"%s\", \"%s\") = %d,"
		    " fnmatch says %d", pat, path, got, want);
		if (glob_is_literal(pat))
			FZ_CHECK(got == (strcmp(pat, path) == 0), "literal '%s' "
			    "vs '%s'", pat, path);
	}

	pc = strdup(pat);
	sc = strdup(path);
	FZ_SETUP(pc != NULL && sc != NULL);
	np = split(pc, pv, 16);
	ns = split(sc, sv, 16);
	for (int i = 0; i < np; i++) {
		stars += strcmp(pv[i], "**") == 0;
		if (ends_in_backslash(pv[i]) || has_unclosed_bracket(pv[i]))
			np = -1;	/* undefined for fnmatch, as above */
	}
	if (np >= 0 && ns >= 0 && stars <= 4) {
		got = glob_match_path(pat, path);
		want = ref_path(pv, np, sv, ns);
		FZ_CHECK(got == want, "glob_match_path(\"%s\", \"%s\") = %d, the "
		    "reference says %d", pat, path, got, want);
	}
	free(pc);
	free(sc);
out:
	free(pat);
	free(path);
	return 0;
}
