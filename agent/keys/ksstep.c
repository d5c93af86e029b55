/*
 * ksstep.c: the keystore's durable file steps (see keystore_int.h): what
 * opening, recovery and destruction do to the KEK and keystore files.
 *
 * MUST rules:
 *  - an old KEK or keystore is removed only by overwriting it (ow_path);
 *    a second name of a live file is only ever unlinked, never
 *    overwritten;
 *  - a rename or link is durable (its directory fsync'd) before it
 *    returns.
 */
#include "keys/keystore.h"
#include "keys/keystore_int.h"
#include "base/err.h"
#include "sanitize/overwrite.h"
#include "state/durable.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *
ks_join(const char *a, const char *b)
{
	char *s;

	return asprintf(&s, "%s%s", a, b) < 0 ? NULL : s;
}

/* Whether path names an existing object (lstat).  1, 0, or -1 on error. */
int
ks_exists(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

int
ks_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return lstat(a, &sa) == 0 && lstat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

char *
ks_dir_of(const char *path)
{
	const char *s = strrchr(path, '/');

	if (s == NULL)
		return strdup(".");
	if (s == path)
		return strdup("/");
	return strndup(path, (size_t)(s - path));
}

/* Sanitizes a file with the overwrite engine; if that fails the name is
 * removed anyway (a key file must not stay) and the failure reported. */
int
ks_sanitize(const char *path, struct err *e)
{
	struct err oe;

	if (ks_exists(path) != 1)
		return 0;
	if (ow_path(path, &oe) == 0)
		return 0;
	if (unlink(path) == 0 || errno == ENOENT)
		return err_set(e, "%s: removed but not overwritten: %s", path,
		    oe.msg);
	*e = oe;
	return err_prefix(e, "%s", path);
}

/* Sanitizes crashed durable_write temporaries of dir/BASE (they may hold
 * a KEK or wrapped keys).  Only called under the state lock, so no writer
 * is using them. */
int
ks_sanitize_temps(const char *dir, const char *base, struct err *e)
{
	char prefix[300], *p;
	struct dirent *d;
	DIR *dp;
	int rc = 0, n;

	/* durable.c names its temporaries ".NAME.tmp.PID". */
	n = snprintf(prefix, sizeof(prefix), ".%s.tmp.", base);
	if (n < 0 || (size_t)n >= sizeof(prefix))
		return err_set(e, "%s: name too long", base);
	if ((dp = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : err_sys(e, "%s", dir);
	while ((d = readdir(dp)) != NULL) {
		if (strncmp(d->d_name, prefix, (size_t)n) != 0)
			continue;
		if (asprintf(&p, "%s/%s", dir, d->d_name) < 0) {
			rc = err_set(e, "out of memory");
			break;
		}
		if (ks_sanitize(p, e) != 0)
			rc = -1;
		free(p);
	}
	closedir(dp);
	return rc;
}

void
ks_paths_free(struct ks_paths *p)
{
	free(p->ks_new);
	free(p->ks_old);
	free(p->kek_new);
	free(p->kek_old);
	free(p->kek_dir);
	free(p->kek_base);
	free(p->kek_new_base);
}

int
ks_paths_make(const struct keystore *ks, struct ks_paths *p, struct err *e)
{
	const char *s = strrchr(ks->kek_path, '/');

	memset(p, 0, sizeof(*p));
	p->ks_new = ks_join(ks->path, ".new");
	p->ks_old = ks_join(ks->path, ".old");
	p->kek_new = ks_join(ks->kek_path, ".new");
	p->kek_old = ks_join(ks->kek_path, ".old");
	p->kek_dir = ks_dir_of(ks->kek_path);
	p->kek_base = strdup(s ? s + 1 : ks->kek_path);
	p->kek_new_base = ks_join(s ? s + 1 : ks->kek_path, ".new");
	if (!p->ks_new || !p->ks_old || !p->kek_new || !p->kek_old ||
	    !p->kek_dir || !p->kek_base || !p->kek_new_base) {
		ks_paths_free(p);
		return err_set(e, "out of memory");
	}
	return 0;
}

/* Removes `extra` if it is a second name of `live`, else sanitizes it. */
int
ks_drop_old(const char *extra, const char *live, struct err *e)
{
	if (ks_exists(extra) != 1)
		return 0;
	if (ks_same_file(extra, live)) {
		if (unlink(extra) != 0 && errno != ENOENT)
			return err_sys(e, "%s: unlink", extra);
		return 0;
	}
	return ks_sanitize(extra, e);
}

/* A rename or link that returned rc, made durable: its directory
 * fsync'd.  what is "rename" or "link", for the message. */
static int
durable_step(int rc, const char *what, const char *from, const char *to,
    const char *dir, struct err *e)
{
	if (rc != 0)
		return err_sys(e, "%s: %s to %s", from, what, to);
	return fsync_dir(dir, e);
}

int
ks_rename_durable(const char *from, const char *to, const char *dir,
    struct err *e)
{
	return durable_step(rename(from, to), "rename", from, to, dir, e);
}

int
ks_link_durable(const char *from, const char *to, const char *dir,
    struct err *e)
{
	return durable_step(link(from, to), "link", from, to, dir, e);
}
