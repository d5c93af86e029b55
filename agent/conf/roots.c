/*
 * roots.c: allowed_roots, the bound on everything lethe may destroy (see
 * roots.h, SPEC §3).
 *
 * MUST rules:
 *   - every allowed root is absolute and normalised: no "." or ".."
 *     component, no "//", no trailing '/';
 *   - "/" and anything equal to or inside a system directory is refused,
 *     also when the root resolves there through a symbolic link;
 *   - containment is by path components (resolve_which_root), here as
 *     everywhere: /srv/ab is not inside /srv/a.
 */
#include "conf/roots.h"

#include "base/err.h"
#include "locate/resolve.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Directories no allowed root may be, or lie in (SPEC §3). */
static const char *const sysdirs[] = { "/etc", "/usr", "/bin", "/sbin",
    "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/proc", "/sys", "/dev",
    "/run" };

/* The system directory p is or lies in, or NULL (by path components:
 * resolve_which_root, the one containment rule). */
static const char *
system_dir(const char *p)
{
	const char *rest;
	int i = resolve_which_root(sysdirs, sizeof(sysdirs) / sizeof(sysdirs[0]),
	    p, &rest);

	return i < 0 ? NULL : sysdirs[i];
}

int
roots_has_dot(const char *p)
{
	while (*p != '\0') {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 1;
		p += n;
	}
	return 0;
}

/* Where roots go, and where their problems are reported. */
struct rl {
	char ***v;
	size_t *n;
	struct diags *d;
	const char *file;
	int line;
};

/* Checks one allowed root (trailing '/' already stripped) and appends it. */
static void
add_root(struct rl *st, char *r)
{
	const char *file = st->file;
	int line = st->line;
	char resolved[PATH_MAX];
	const char *sys;
	char **v;

	if (r[0] != '/') {
		diag_add(st->d, file, line, "allowed root '%s' is not an "
		    "absolute path", r);
		return;
	}
	if (strcmp(r, "/") == 0) {
		diag_add(st->d, file, line, "allowed root '/' is the whole "
		    "filesystem; name the directories that hold student data");
		return;
	}
	if (strstr(r, "//") != NULL || r[strlen(r) - 1] == '/') {
		diag_add(st->d, file, line, "allowed root '%s' has an empty "
		    "component ('//')", r);
		return;
	}
	if (roots_has_dot(r)) {
		diag_add(st->d, file, line, "allowed root '%s' has a '.' or "
		    "'..' component; write it normalised", r);
		return;
	}
	if ((sys = system_dir(r)) != NULL) {
		diag_add(st->d, file, line, "allowed root '%s' %s %s, a system "
		    "directory; lethe never writes or removes there", r,
		    strcmp(r, sys) == 0 ? "is" : "is inside", sys);
		return;
	}
	/* A root reached through a symlink counts where it leads. */
	if (realpath(r, resolved) != NULL && strcmp(resolved, r) != 0) {
		if (strcmp(resolved, "/") == 0) {
			diag_add(st->d, file, line, "allowed root '%s' resolves "
			    "to '/', the whole filesystem", r);
			return;
		}
		if ((sys = system_dir(resolved)) != NULL) {
			diag_add(st->d, file, line, "allowed root '%s' resolves "
			    "to '%s', inside %s, a system directory; lethe "
			    "never writes or removes there", r, resolved, sys);
			return;
		}
	}
	for (size_t i = 0; i < *st->n; i++) {
		if (strcmp((*st->v)[i], r) == 0) {
			diag_warn(st->d, file, line, "allowed root '%s' is "
			    "listed twice", r);
			return;
		}
	}
	v = realloc(*st->v, (*st->n + 1) * sizeof(*v));
	if (v == NULL) {
		diag_add(st->d, file, line, "out of memory");
		return;
	}
	*st->v = v;
	if ((v[*st->n] = strdup(r)) == NULL) {
		diag_add(st->d, file, line, "out of memory");
		return;
	}
	(*st->n)++;
}

void
roots_parse(const char *val, char ***roots, size_t *nroots, struct diags *d,
    const char *file, int line)
{
	struct rl l = { roots, nroots, d, file, line }, *st = &l;
	const char *p = val;
	size_t ntok = 0;
	char *tok;

	while (*p != '\0') {
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, " \t");
		if ((tok = strndup(p, n)) == NULL) {
			diag_add(st->d, file, line, "out of memory");
			return;
		}
		if (n > 1 && tok[n - 1] == '/')
			tok[n - 1] = '\0';	/* one trailing '/' is harmless */
		add_root(st, tok);
		free(tok);
		ntok++;
		p += n;
	}
	if (ntok == 0)
		diag_add(st->d, file, line, "allowed_roots lists no directory");
}
