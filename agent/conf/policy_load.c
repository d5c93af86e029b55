/*
 * policy_load.c: reading policy files (see policy.h): the directory in
 * name order, each file opened once and checked on its descriptor, ids
 * unique across files.
 *
 * MUST rules:
 *   - running as root, a policy file or directory that fails StrictModes
 *     (strict.h: it or a directory above it not owned by root, or
 *     writable by group or others) is refused;
 *   - the file parsed is the file checked (fstat on the open descriptor);
 *   - every problem is reported (FILE:LINE: message) and loading goes on,
 *     so `lethe check` lists them all; a set with any error is not used.
 */
#include "conf/policy.h"
#include "conf/policy_int.h"

#include "base/err.h"
#include "conf/config.h"
#include "conf/iniread.h"
#include "conf/own.h"
#include "conf/strict.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Parses the open file fd (named path) and appends its agreement. */
static void
load_fd(const char *path, int fd, const struct config *c,
    struct policyset *ps, struct diags *d)
{
	struct pstate st;
	struct agreement a, *v;
	const struct agreement *o = NULL;
	size_t from = d->n;

	memset(&a, 0, sizeof(a));
	a.terminated = DAY_NONE;
	a.after_termination = (struct duration){ 30, 'd' };
	a.after_request = (struct duration){ 60, 'd' };
	a.certify_within = (struct duration){ 10, 'd' };
	a.notice_before = (struct duration){ 0, 'd' };
	a.method = METHOD_AUTO;
	a.verify = VERIFY_FULL;
	a.pattern = PATTERN_ZERO;
	memset(&st, 0, sizeof(st));
	st.file = path;
	st.c = c;
	st.d = d;
	st.a = &a;
	st.where = WHERE_NONE;
	if ((a.file = strdup(path)) == NULL) {
		diag_add(d, path, 0, "out of memory");
		return;
	}
	if (iniread_fd(path, fd, policy_on_key, policy_on_section, &st, d) ==
	    INIREAD_UNREAD) {
		/* Its one error says why; nothing about its content. */
		free(st.meta);
		policy_agreement_free(&a);
		return;
	}
	policy_finish(&st);
	free(st.meta);
	iniread_sort_diags(d, from, path);
	/* Ids are unique across files: report both places. */
	if (a.id != NULL && (o = policy_find(ps, a.id)) != NULL) {
		diag_add(d, path, a.line_id, "duplicate agreement id '%s' "
		    "(also in %s:%d)", a.id, o->file, o->line_id);
		diag_add(d, o->file, o->line_id, "duplicate agreement id '%s' "
		    "(also in %s:%d)", a.id, path, a.line_id);
	}
	v = realloc(ps->a, (ps->n + 1) * sizeof(*v));
	if (v != NULL)
		ps->a = v;
	if (v == NULL || (a.id != NULL && o == NULL &&
	    strmap_put(&ps->ids, a.id, ps->n) != 0)) {
		diag_add(d, path, 0, "out of memory");
		policy_agreement_free(&a);
		return;
	}
	ps->a = v;
	ps->a[ps->n++] = a;
}

/* Opens name (relative to dirfd, or a path with AT_FDCWD), checks it is a
 * trusted regular file and loads it. */
static void
load_at(int dirfd, const char *name, const char *path,
    const struct config *c, struct policyset *ps, struct diags *d)
{
	struct stat sb;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1) {
		diag_add(d, path, 0, "cannot open: %s", strerror(errno));
		return;
	}
	if (fstat(fd, &sb) != 0) {
		diag_add(d, path, 0, "cannot stat: %s", strerror(errno));
	} else if (!S_ISREG(sb.st_mode)) {
		diag_add(d, path, 0, "not a regular file");
	} else {
		/* The file read is the file checked; and as a policy may be
		 * a link, the way to it is checked too. */
		(void)strict_path(path, "the policy", geteuid(), d);
		(void)strict_stat(path, "the policy", &sb, geteuid(), d);
		load_fd(path, fd, c, ps, d);
	}
	close(fd);
}

int
policy_load_file(const char *path, const struct config *c,
    struct policyset *ps, struct diags *d)
{
	size_t before = diag_errors(d);

	load_at(AT_FDCWD, path, path, c, ps, d);
	return diag_errors(d) == before ? 0 : -1;
}

static int
cmp_names(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int
is_policy_name(const char *n)
{
	size_t len = strlen(n);

	return n[0] != '.' && len > 4 && strcmp(n + len - 4, ".ini") == 0;
}

int
policy_load_dir(const char *dir, const struct config *c,
    struct policyset *ps, struct diags *d)
{
	size_t before = diag_errors(d), n = 0, cap = 0;
	char **names = NULL, path[4096];
	struct dirent *e;
	struct stat sb;
	DIR *dp = NULL;
	int dfd;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1) {
		diag_add(d, dir, 0, "cannot open the policy directory: %s",
		    strerror(errno));
		goto out;
	}
	(void)strict_path(dir, "the policy directory", geteuid(), d);
	if (fstat(dfd, &sb) == 0)
		(void)strict_stat(dir, "the policy directory", &sb, geteuid(),
		    d);
	if ((dp = fdopendir(dfd)) == NULL) {
		diag_add(d, dir, 0, "cannot read: %s", strerror(errno));
		close(dfd);
		goto out;
	}
	while ((e = readdir(dp)) != NULL) {
		if (!is_policy_name(e->d_name))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nv = realloc(names, ncap * sizeof(*nv));

			if (nv == NULL) {
				diag_add(d, dir, 0, "out of memory");
				goto out;
			}
			names = nv;
			cap = ncap;
		}
		if ((names[n] = strdup(e->d_name)) == NULL) {
			diag_add(d, dir, 0, "out of memory");
			goto out;
		}
		n++;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	if (n == 0)
		diag_warn(d, dir, 0, "no policies (*.ini) here: nothing will "
		    "ever be disposed of");
	for (size_t i = 0; i < n; i++) {
		int len = snprintf(path, sizeof(path), "%s%s%s", dir,
		    dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/",
		    names[i]);

		if (len < 0 || (size_t)len >= sizeof(path)) {
			diag_add(d, dir, 0, "path of %s is too long", names[i]);
			continue;
		}
		load_at(dirfd(dp), names[i], path, c, ps, d);
	}
	/* lethe's own files are never data (SPEC §5): a glob that can reach
	 * one is an error, so nothing acts under such a policy. */
	if (c != NULL && c->state_dir != NULL)
		own_check_reach(c, ps, d);
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (dp != NULL)
		closedir(dp);
	return diag_errors(d) == before ? 0 : -1;
}
