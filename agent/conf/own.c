/*
 * own.c: lethe's own files are never data (see own.h).
 *
 * MUST rules:
 *  - every file lethe keeps state or trust in is listed, directories with
 *    everything below them;
 *  - a glob is refused if any path it could match is one of them, judged
 *    on the glob's text (glob_reaches), so a file that does not exist yet
 *    (a KEK made by the first seal, a work/ directory) is covered too.
 */
#include "conf/own.h"

#include "base/err.h"
#include "conf/config.h"
#include "conf/policy.h"
#include "locate/locate.h"
#include "locate/resolve.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static int
add(struct own *o, const char *path, int dir, const char *what)
{
	struct own_path *v;
	char *p;

	/* (A path listed twice costs a check twice, nothing more: no
	 * search here, so thousands of policies stay cheap.) */
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 64;
		if ((v = realloc(o->v, cap * sizeof(*v))) == NULL)
			return -1;
		o->v = v;
		o->cap = cap;
	}
	v = o->v;
	if ((p = strdup(path)) == NULL)
		return -1;
	memset(&v[o->n], 0, sizeof(v[o->n]));
	v[o->n].path = p;
	v[o->n].dir = dir;
	v[o->n].what = what;
	if (!dir) {
		struct stat st;
		if (stat(p, &st) == 0) {
			v[o->n].exists = 1;
			v[o->n].dev = st.st_dev;
			v[o->n].ino = st.st_ino;
		}
	}
	o->n++;
	return 0;
}

/* Adds path, and its aliases through allowed roots whose configured path
 * is not their real one. */
static int
add_all(struct own *o, const struct config *c, const char *path, int dir,
    const char *what)
{
	char real[PATH_MAX], rroot[PATH_MAX], alias[PATH_MAX * 2];
	char abs[PATH_MAX * 2], cwd[PATH_MAX];

	if (path == NULL || path[0] == '\0')
		return 0;
	/* A relative path (`lethe -c lethe.conf`) names a file all the same:
	 * taken from the working directory, as it was opened. */
	if (path[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    snprintf(abs, sizeof(abs), "%s/%s", cwd, path) >=
		    (int)sizeof(abs))
			return -1;
		path = abs;
	}
	if (add(o, path, dir, what) != 0)
		return -1;
	if (realpath(path, real) == NULL)
		return 0;	/* not there (yet): the configured path it is */
	if (strcmp(real, path) != 0 && add(o, real, dir, what) != 0)
		return -1;
	for (size_t i = 0; i < c->nroots; i++) {
		const char *rest, *rr[1] = { rroot };
		if (realpath(c->roots[i], rroot) == NULL ||
		    strcmp(rroot, c->roots[i]) == 0 ||
		    resolve_which_root(rr, 1, real, &rest) != 0)
			continue;
		if (snprintf(alias, sizeof(alias), "%s%s%s", c->roots[i],
		    rest[0] ? "/" : "", rest) >= (int)sizeof(alias))
			continue;
		if (add(o, alias, dir, what) != 0)
			return -1;
	}
	return 0;
}

static const char *const state_files[] = {
	"journal", "checkpoint", "checkpoint.p7s", "lock", "keys/keystore",
	"kek",
};

int
own_paths(const struct config *c, const struct policyset *ps, struct own *o)
{
	memset(o, 0, sizeof(*o));
	if (add_all(o, c, c->state_dir, 1, "state_dir") != 0 ||
	    add_all(o, c, c->kek, 0, "the KEK") != 0 ||
	    add_all(o, c, c->sign_key, 0, "the signing key") != 0 ||
	    add_all(o, c, c->sign_cert, 0, "the signing certificate") != 0 ||
	    add_all(o, c, c->sign_chain, 0, "the CA chain") != 0 ||
	    add_all(o, c, c->path, 0, "the config file") != 0 ||
	    add_all(o, c, c->policy_dir, 1, "policy_dir") != 0)
		return -1;
	for (size_t i = 0; ps != NULL && i < ps->n; i++)
		if (add_all(o, c, ps->a[i].file, 0, "a policy file") != 0)
			return -1;
	/* The state files by name as well, so that a hard link of one
	 * (which no glob may reach, being under state_dir) is known by its
	 * object wherever it turns up. */
	for (size_t i = 0; c->state_dir != NULL && i < sizeof(state_files) /
	    sizeof(state_files[0]); i++) {
		char p[PATH_MAX];
		if (snprintf(p, sizeof(p), "%s/%s", c->state_dir,
		    state_files[i]) < (int)sizeof(p) &&
		    add_all(o, c, p, 0, "lethe's state") != 0)
			return -1;
	}
	/* A file in an own directory is reached wherever that is (there are
	 * a few directories, and maybe thousands of policies). */
	for (size_t k = 0; k < o->n; k++) {
		const char *rest, *r[1] = { o->v[k].path };
		if (!o->v[k].dir)
			continue;
		for (size_t i = 0; i < o->n; i++)
			if (i != k && !o->v[i].inside &&
			    resolve_which_root(r, 1, o->v[i].path, &rest) == 0 &&
			    rest[0] != '\0')
				o->v[i].inside = 1;
	}
	return 0;
}

void
own_free(struct own *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->v[i].path);
	free(o->v);
	memset(o, 0, sizeof(*o));
}

const struct own_path *
own_covers(const struct own *o, const char *p)
{
	for (size_t i = 0; i < o->n; i++) {
		const char *rest, *r[1] = { o->v[i].path };
		if (resolve_which_root(r, 1, p, &rest) != 0)
			continue;
		if (rest[0] == '\0' || o->v[i].dir)
			return &o->v[i];
	}
	return NULL;
}

void
own_check_reach(const struct config *c, const struct policyset *ps,
    struct diags *d)
{
	struct own o;

	if (own_paths(c, ps, &o) != 0) {
		diag_add(d, c->path, 0, "out of memory");
		own_free(&o);
		return;
	}
	for (size_t i = 0; i < ps->n; i++) {
		const struct agreement *a = &ps->a[i];
		for (size_t j = 0; j < a->nds; j++) {
			const char *g[2] = { a->ds[j].path, a->ds[j].archive };
			for (int k = 0; k < 2; k++)
				for (size_t m = 0; g[k] != NULL && m < o.n; m++) {
					const struct own_path *op = &o.v[m];
					int hit;
					if (op->inside)
						continue;
					hit = op->dir ?
					    glob_reaches(g[k], op->path) :
					    glob_match_path(g[k], op->path);
					if (!hit)
						continue;
					diag_add(d, a->file, a->ds[j].line,
					    "dataset %s: %s '%s' can reach %s "
					    "%s; lethe's own files are never "
					    "data: narrow the glob, or move %s "
					    "out of the datasets", a->ds[j].name,
					    k == 0 ? "path" : "archive", g[k],
					    op->what, op->path, op->what);
					break;
				}
		}
	}
	own_free(&o);
}
