/*
 * outbox.c: the outbox's storage (see outbox.h): its directories, its
 * files' names, listing, checking one against the journal, removing one.
 * Queueing is queue.c's, telling where a message stands status.c's, the
 * flush deliver.c's.
 *
 * MUST rules:
 *  - new files are created under a temporary name and renamed into place
 *    with RENAME_NOREPLACE (or link(2)): a file is never replaced;
 *  - a removed certificate message is overwritten first (it may carry the
 *    manifest);
 *  - only stems lethe makes (ids.h) are listed; anything else is left
 *    alone.
 */
#include "deliver/outbox.h"
#include "deliver/msglog.h"
#include "state/durable.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "sanitize/overwrite.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
outbox_dir(const char *state_dir, const char *name, int create, struct err *e)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/%s", state_dir, name), fd;

	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return err_set(e, "%s: path too long", state_dir);
	}
	if (create && mkdirs(path, 0700, e) != 0)
		return -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return err_sys(e, "%s", path);
	return fd;
}

void
outbox_close(int out, int sent)
{
	if (out != -1)
		close(out);
	if (sent != -1)
		close(sent);
}

int
outbox_has(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int
outbox_write_new(int dirfd, const char *name, const char *buf, size_t len,
    struct err *e)
{
	int rc = durable_create_at(dirfd, name, buf, len, 0600, e);

	if (rc == 1)
		err_set(e, "outbox: %s already exists", name);
	else if (rc < 0)
		err_prefix(e, "outbox");
	return rc;
}

int
outbox_names(const char *stem, char *eml, char *receipt, struct err *e)
{
	int n = snprintf(eml, 200, "%s.eml", stem);
	int m = snprintf(receipt, 200, "%s.receipt", stem);

	if (n < 0 || n >= 200 || m < 0 || m >= 200)
		return err_set(e, "outbox: id too long");
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
outbox_list(int dirfd, const char *what, char ***ids, size_t *n, struct err *e)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;
	int fd = dup(dirfd), rc = -1;

	*ids = NULL;
	*n = 0;
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return err_sys(e, "%s: cannot list", what);
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		char cert[160], *s;
		int copy;
		if (de->d_name[0] == '.' || l <= 4 ||
		    strcmp(de->d_name + l - 4, ".eml") != 0)
			continue;
		if ((s = strndup(de->d_name, l - 4)) == NULL)
			goto oom;
		if (outbox_stem(s, cert, sizeof(cert), &copy) != 0) {
			free(s);	/* not ours: left alone */
			continue;
		}
		if (*n == cap) {
			char **nv = realloc(v, (cap ? cap * 2 : 16) * sizeof(*v));
			if (nv == NULL) {
				free(s);
				goto oom;
			}
			v = nv;
			cap = cap ? cap * 2 : 16;
		}
		v[(*n)++] = s;
	}
	if (errno != 0) {
		err_sys(e, "%s: cannot list", what);
		goto out;
	}
	if (*n > 0)
		qsort(v, *n, sizeof(*v), cmp_str);
	*ids = v;
	v = NULL;
	rc = 0;
	goto out;
oom:
	err_set(e, "%s: out of memory", what);
out:
	if (v)
		deliver_ids_free(v, *n);
	if (rc != 0)
		*n = 0;
	closedir(d);
	return rc;
}

void
deliver_ids_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}


int
outbox_check(int out, const char *stem, const struct msglog_rec *rec,
    char *why, size_t whysz, struct err *e)
{
	char eml[200], receipt[200];
	int fd, rc;

	if (rec == NULL) {
		strbuf_fit(why, whysz, "%s", "its digest was never journaled: "
		    "queued by hand, or by an older lethe");
		return 0;
	}
	if (outbox_names(stem, eml, receipt, e) != 0)
		return -1;
	fd = openat(out, eml, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ELOOP || errno == ENXIO) {
			strbuf_fit(why, whysz, "%s", "not a regular file");
			return 0;
		}
		return err_sys(e, "outbox: %s", eml);
	}
	rc = msglog_check(fd, rec, NULL, why, whysz, e);
	close(fd);
	return rc;
}

int
outbox_remove(int out, const char *stem, struct err *e)
{
	char eml[200], receipt[200], cert[160];
	struct stat st;
	int copy;

	if (outbox_names(stem, eml, receipt, e) != 0 ||
	    outbox_stem(stem, cert, sizeof(cert), &copy) != 0)
		return -1;
	if (fstatat(out, eml, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : err_sys(e, "outbox: %s", eml);
	if (outbox_kind(cert) == DELIVER_NOTICE || S_ISLNK(st.st_mode)) {
		if (unlinkat(out, eml, 0) == -1 || fsync(out) == -1)
			return err_sys(e, "outbox: remove %s", eml);
		return 0;
	}
	return ow_file(out, eml, eml, NULL, NULL, e);
}
