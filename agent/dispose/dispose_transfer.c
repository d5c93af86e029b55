/*
 * dispose_transfer.c: an Exhibit D transfer inside a disposition: pack,
 * read back and check, and only then may anything be destroyed.
 */
#include "dispose/dispose_int.h"

#include "base/err.h"
#include "certify/cert.h"
#include "conf/config.h"
#include "conf/policy.h"
#include "state/journal.h"
#include "sanitize/transfer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens (creating what is missing, 0700) the directory `path` beneath its
 * allowed root.  Returns the fd, or -1 with *e set. */
static int
open_transfer_dir(struct dctx *x, const char *path, struct err *e)
{
	const struct config *c = x->rq->cfg;
	const char *rel;
	char comp[256];
	int root, fd, next;

	root = resolve_which_root((const char *const *)c->roots, c->nroots,
	    path, &rel);
	if (root < 0)
		return err_set(e, "transfer_to %s is outside allowed_roots",
		    path);
	if (dctx_root(x, root, e) < 0)
		return -1;
	fd = dup(x->roots[root].fd);
	if (fd == -1)
		return err_sys(e, "%s", c->roots[root]);
	while (*rel != '\0') {
		size_t len = strcspn(rel, "/");
		if (len >= sizeof(comp) || len == 0 ||
		    (len == 1 && rel[0] == '.') ||
		    (len == 2 && rel[0] == '.' && rel[1] == '.')) {
			close(fd);
			return err_set(e, "transfer_to %s: bad component", path);
		}
		memcpy(comp, rel, len);
		comp[len] = '\0';
		next = resolve_child_dir(&x->roots[root], fd, comp);
		if (next == -1 && errno == ENOENT) {
			if (mkdirat(fd, comp, 0700) != 0 && errno != EEXIST) {
				err_sys(e, "transfer_to %s: mkdir %s", path, comp);
				close(fd);
				return -1;
			}
			(void)fsync(fd);
			next = resolve_child_dir(&x->roots[root], fd, comp);
		}
		if (next == -1) {
			err_sys(e, "transfer_to %s: %s (no symlinks, no mount "
			    "points)", path, comp);
			close(fd);
			return -1;
		}
		close(fd);
		fd = next;
		rel += len;
		while (*rel == '/')
			rel++;
	}
	return fd;
}

/* The most descriptors this process may hold, raised to the hard limit:
 * one per file is open while packing. */
static rlim_t
fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	(void)getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur;
}

/* Packs the regular files of v into todir/name and reads it back.
 * Returns 0, or -1 with *e set. */
static int
pack(struct dctx *x, struct item *v, size_t n, int todir, const char *name,
    struct transfer_result *tr, struct err *e)
{
	struct transfer_file *tf = calloc(n + 1, sizeof(*tf));
	int *dirs = calloc(n + 1, sizeof(*dirs));
	size_t nt = 0, ndirs = 0;
	rlim_t maxfd = fd_limit();
	int rc = -1;

	if (tf == NULL || dirs == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *base;
		int dirfd;

		if (v[i].f.kind != FOUND_FILE)
			continue;	/* links and special files hold no data */
		if (v[i].sealed) {
			char label[4200];
			dctx_label(x, &v[i].f, label, sizeof(label));
			err_set(e, "transfer: a file of dataset %s is sealed; "
			    "unseal it for the LEA or use a destroy directive",
			    x->rq->a->ds[v[i].ds].name);
			diag_add(x->problems, label, 0, "sealed: not transferred");
			goto out;
		}
		dirfd = dctx_open_parent(x, v[i].f.root, v[i].f.rel, &base, e);
		if (dirfd < 0)
			goto out;
		dirs[ndirs++] = dirfd;
		tf[nt].dirfd = dirfd;
		tf[nt].name = base;
		tf[nt].path = v[i].f.rel;
		tf[nt].dev = v[i].f.dev;
		tf[nt].ino = v[i].f.ino;
		nt++;
		if (ndirs + 64 > maxfd) {
			err_set(e, "transfer: %zu files exceed the open-file "
			    "limit (%zu); raise `ulimit -n`; nothing destroyed",
			    n, (size_t)maxfd);
			goto out;
		}
	}
	rc = transfer_pack(todir, name, x->rq->transfer_to, tf, nt, tr, e);
out:
	for (size_t i = 0; i < ndirs; i++)
		close(dirs[i]);
	free(dirs);
	free(tf);
	return rc;
}

/* Exhibit D transfer (SPEC §3): pack every file to be destroyed into
 * transfer_to/ID.tar.gz with a SHA-256 manifest, read it back and check
 * it; only then may anything be destroyed.  A killed run's finished archive
 * is checked again and kept.  Returns 0, or -1 with *e set (nothing was
 * destroyed). */
int
dispose_transfer(struct dctx *x, struct item *v, size_t n, struct err *e)
{
	struct transfer_result tr;
	char name[200], files[24];
	int todir, rc;

	if (snprintf(name, sizeof(name), "%s.tar.gz", x->rq->id) >=
	    (int)sizeof(name))
		return err_set(e, "transfer: id too long");
	todir = open_transfer_dir(x, x->rq->transfer_to, e);
	if (todir < 0)
		return -1;
	memset(&tr, 0, sizeof(tr));
	if (x->rq->resume && faccessat(todir, name, F_OK,
	    AT_SYMLINK_NOFOLLOW) == 0)
		rc = transfer_check(todir, name, x->rq->transfer_to, &tr, e);
	else
		rc = pack(x, v, n, todir, name, &tr, e);
	close(todir);
	if (rc != 0)
		return -1;
	x->out->transferred = tr.files;
	cert_hex(tr.sha256, x->out->transfer_sha256);
	snprintf(files, sizeof(files), "%" PRIu64, tr.files);
	return journal_appendv(x->rq->j, e, "transfer-complete", "disp",
	    x->rq->id, "files", files, "sha256", x->out->transfer_sha256,
	    NULL);
}
