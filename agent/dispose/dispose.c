/*
 * dispose.c: carrying out one disposition (see dispose.h for the MUST
 * rules this file follows to the letter).
 *
 * Order of work:
 *   1. locate every dataset's matches (files, links, specials, archives);
 *   2. transfer first when the directive says so (nothing is destroyed
 *      unless the archive at transfer_to read back complete);
 *   3. per file: journal the intent (n, size, dev, ino), overwrite and
 *      verify, remove the name, journal the outcome, append the manifest
 *      row; sealed files go by crypto-shred instead (their keys are
 *      destroyed once, after every ciphertext name is found);
 *   4. archives: rewrite without the matching members;
 *   5. emptied directories below each dataset's fixed prefix go too;
 *   6. purge the filesystem journals where the kernel allows it;
 *   7. locate again: anything left fails the disposition (SPEC §6.6).
 */
#include "dispose/dispose.h"
#include "dispose/dispose_int.h"

#include "sanitize/archive.h"
#include "certify/cert.h"
#include "conf/config.h"
#include "state/durable.h"
#include "base/err.h"
#include "state/journal.h"
#include "locate/locate.h"
#include "sanitize/overwrite.h"
#include "conf/policy.h"
#include "keys/keystore.h"
#include "locate/resolve.h"
#include "plan/sched.h"
#include "keys/seal.h"
#include "sanitize/transfer.h"

#include <openssl/crypto.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


/* Untrusted names are data (STYLE §10): escaped before they reach a
 * terminal. */
void
dispose_label(const struct dctx *x, const struct found *f, char *buf, size_t len)
{
	const char *root = x->rq->cfg->roots[f->root];
	size_t off;
	int w = snprintf(buf, len, "%s/", root);

	off = (w > 0 && (size_t)w < len) ? (size_t)w : 0;
	for (const unsigned char *s = (const unsigned char *)f->rel;
	    *s && off + 5 < len; s++) {
		if (*s < 0x20 || *s == 0x7f || *s == '\\')
			off += (size_t)snprintf(buf + off, len - off, "\\x%02x",
			    *s);
		else
			buf[off++] = (char)*s;
	}
	buf[off] = '\0';
}

void
dispose_exception(struct dctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Adds a name-free exception for the certificate and journal. */
void
dispose_exception(struct dctx *x, const char *fmt, ...)
{
	struct dispose_out *o = x->out;
	size_t off = strlen(o->exceptions);
	va_list ap;

	o->nexceptions++;
	if (off + 3 >= sizeof(o->exceptions))
		return;
	if (off > 0) {
		memcpy(o->exceptions + off, "; ", 3);
		off += 2;
	}
	va_start(ap, fmt);
	vsnprintf(o->exceptions + off, sizeof(o->exceptions) - off, fmt, ap);
	va_end(ap);
}

/* Opens the directory holding rel beneath allowed root `root` (the root
 * itself opened once per disposition) and points *base at the last
 * component.  Returns the directory fd, or -1 with *e set. */
int
dispose_open_parent(struct dctx *x, int root, const char *rel, const char **base,
    struct err *e)
{
	struct rootdir *r = &x->roots[root];

	if (r->fd == -1 && resolve_root(x->rq->cfg->roots[root], r, e) != 0)
		return -1;
	return resolve_parent(r, rel, base, e);
}

/* The media entry for the filesystem of fd (added on first sight). */
struct dispose_media *
dispose_media_for(struct dctx *x, int fd, const char *dsname, struct err *e)
{
	struct dispose_out *o = x->out;
	struct stat st;
	struct dispose_media *m = NULL;

	if (fstat(fd, &st) != 0) {
		err_sys(e, "fstat");
		return NULL;
	}
	for (size_t i = 0; i < o->nmedia; i++)
		if (o->media[i].m.dev == st.st_dev)
			m = &o->media[i];
	if (m == NULL) {
		if (o->nmedia == DISPOSE_MAX_MEDIA) {
			err_set(e, "more than %d filesystems in one disposition",
			    DISPOSE_MAX_MEDIA);
			return NULL;
		}
		m = &o->media[o->nmedia];
		memset(m, 0, sizeof(*m));
		if (media_probe(fd, &m->m, e) != 0)
			return NULL;
		m->purge = -2;	/* not tried yet */
		o->nmedia++;
	}
	if (strstr(m->sources, dsname) == NULL) {
		size_t off = strlen(m->sources);
		snprintf(m->sources + off, sizeof(m->sources) - off, "%s%s",
		    off ? ", " : "", dsname);
	}
	return m;
}

int
dispose_manifest_row(struct dctx *x, const char *path, uint64_t size,
    const char *sha, struct err *e)
{
	struct cert_manifest m;
	size_t hdr;
	ssize_t w;
	int rc = -1;

	if (cert_manifest_init(&m, e) != 0)
		return -1;
	hdr = m.len;
	if (cert_manifest_add(&m, path, size, sha, e) != 0)
		goto out;
	w = write(x->manfd, m.text + hdr, m.len - hdr);
	if (w < 0 || (size_t)w != m.len - hdr) {
		err_sys(e, "%s/manifest: write", x->workdir);
		goto out;
	}
	if (fdatasync(x->manfd) != 0) {
		err_sys(e, "%s/manifest: fdatasync", x->workdir);
		goto out;
	}
	rc = 0;
out:
	cert_manifest_free(&m);
	return rc;
}








static void
on_progress(uint64_t done, void *arg)
{
	struct dctx *x = arg;

	if (x->rq->progress != NULL)
		x->rq->progress(x->dfiles, x->nfiles, x->dbytes + done,
		    x->nbytes, x->rq->arg);
}

/* Overwrites one regular file through its parent directory fd. */
static int
destroy_file(struct dctx *x, struct item *it, nlink_t links_ok,
    struct err *e)
{
	const struct agreement *a = x->rq->a;
	const struct dataset *ds = &a->ds[it->ds];
	struct ow_opts oo;
	struct ow_result res;
	struct intent *lost;
	char label[4200], nbuf[24], sbuf[24], dbuf[24], ibuf[24], sha[65];
	const char *base;
	int dirfd = -1, rc = -1;

	dispose_label(x, &it->f, label, sizeof(label));
	if ((dirfd = dispose_open_parent(x, it->f.root, it->f.rel, &base, e)) < 0)
		return -1;
	if (dispose_media_for(x, dirfd, ds->name, e) == NULL)
		goto out;
	/* A file a killed run began on keeps its number and its size as
	 * announced; its digest is lost (part of it may be zeros now). */
	lost = dispose_names_intent(x, it->f.dev, it->f.ino);
	if (lost != NULL) {
		x->cur_n = lost->n;
		x->cur_size = lost->size;
		lost->done = 1;
	} else {
		x->cur_n = ++x->seq;
		x->cur_size = (uint64_t)it->f.size;
	}
	x->cur_lost = lost != NULL;
	snprintf(nbuf, sizeof(nbuf), "%" PRIu64, x->cur_n);
	snprintf(sbuf, sizeof(sbuf), "%lld", (long long)it->f.size);
	snprintf(dbuf, sizeof(dbuf), "%llu", (unsigned long long)it->f.dev);
	snprintf(ibuf, sizeof(ibuf), "%llu", (unsigned long long)it->f.ino);
	if (lost == NULL && journal_appendv(x->rq->j, e, "file-intent", "disp",
	    x->rq->id, "n", nbuf, "size", sbuf, "dev", dbuf, "ino", ibuf,
	    NULL) != 0)
		goto out;
	memset(&oo, 0, sizeof(oo));
	oo.pattern = dataset_pattern(a, ds);
	oo.verify = dataset_verify(a, ds);
	oo.links_ok = links_ok;
	oo.dev = it->f.dev;
	oo.ino = it->f.ino;
	oo.progress = on_progress;
	oo.before_rename = dispose_names_before_rename;
	oo.arg = x;
	memset(&res, 0, sizeof(res));
	x->cur = it;
	x->cur_res = &res;
	x->cur_label = label;
	if (ow_file(dirfd, base, label, &oo, &res, e) != 0)
		goto out;
	if (res.sha_ok && lost == NULL)
		cert_hex(res.sha256, sha);
	else
		snprintf(sha, sizeof(sha), "unavailable");
	snprintf(sbuf, sizeof(sbuf), "%" PRIu64, x->cur_size);
	if (journal_appendv(x->rq->j, e, "file-destroyed", "disp", x->rq->id,
	    "n", nbuf, "size", sbuf, "sha256", sha, NULL) != 0)
		goto out;
	x->out->techniques |= DT_OVERWRITE;
	x->out->pattern = oo.pattern;
	x->out->verify = oo.verify;
	x->dbytes += res.size;
	rc = 0;
out:
	x->cur = NULL;
	if (dirfd != -1)
		close(dirfd);
	return rc;
}











/* Removes a name without opening what it names (symlink, FIFO, socket,
 * device, or a further hard link of an inode already overwritten). */
int
dispose_remove_name(struct dctx *x, struct item *it, uint64_t size, struct err *e)
{
	char label[4200];
	const char *base;
	int dirfd = -1, rc = -1;
	struct ow_opts oo;

	dispose_label(x, &it->f, label, sizeof(label));
	if ((dirfd = dispose_open_parent(x, it->f.root, it->f.rel, &base, e)) < 0)
		return -1;
	if (dispose_media_for(x, dirfd, x->rq->a->ds[it->ds].name, e) == NULL)
		goto out;
	memset(&oo, 0, sizeof(oo));
	oo.dev = it->f.dev;	/* a name swapped since the walk is refused */
	oo.ino = it->f.ino;
	if (ow_unlink_name(dirfd, base, label, &oo, e) != 0)
		goto out;
	/* No content read: "-" in the manifest (SPEC §8 via cert.h). */
	if (dispose_manifest_row(x, label, size, "-", e) != 0)
		goto out;
	rc = 0;
out:
	close(dirfd);
	return rc;
}



/* Removes directories emptied by this disposition, deepest first, never
 * at or above a dataset's fixed prefix. */





/* Locates every path dataset's matches into items. */
static int
locate_all(const struct config *c, const struct agreement *a,
    const size_t *ds, size_t nds, struct item **items, size_t *n,
    size_t *mounts, struct err *e)
{
	struct item *v = NULL;
	size_t cnt = 0;

	if (mounts != NULL)
		*mounts = 0;

	for (size_t i = 0; i < nds; i++) {
		const struct dataset *d = &a->ds[ds[i]];
		struct foundlist fl = { 0 };
		struct item *nv;

		if (d->path == NULL)
			continue;
		if (locate((const char *const *)c->roots, c->nroots, d->path,
		    &fl, e) != 0) {
			char inner[sizeof(e->msg)];
			snprintf(inner, sizeof(inner), "%s", e->msg);
			err_set(e, "dataset %s: %s", d->name, inner);
			foundlist_free(&fl);
			goto fail;
		}
		if (mounts != NULL)
			*mounts += fl.skipped_mounts;
		nv = realloc(v, (cnt + fl.n + 1) * sizeof(*v));
		if (nv == NULL) {
			foundlist_free(&fl);
			err_set(e, "out of memory");
			goto fail;
		}
		v = nv;
		for (size_t k = 0; k < fl.n; k++) {
			memset(&v[cnt], 0, sizeof(v[cnt]));
			v[cnt].f = fl.v[k];
			v[cnt].ds = ds[i];
			cnt++;
		}
		free(fl.v);	/* the rel strings now belong to items */
	}
	*items = v;
	*n = cnt;
	return 0;
fail:
	for (size_t k = 0; k < cnt; k++)
		free(v[k].f.rel);
	free(v);
	return -1;
}

static void
items_free(struct item *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].f.rel);
	free(v);
}

/* How many of the items name the same inode as items[i]. */
static nlink_t
names_in_disposition(const struct item *v, size_t n, size_t i)
{
	nlink_t k = 0;

	for (size_t j = 0; j < n; j++)
		if (v[j].f.kind == FOUND_FILE && v[j].f.dev == v[i].f.dev &&
		    v[j].f.ino == v[i].f.ino)
			k++;
	return k;
}

static int
method_of(const struct agreement *a, size_t ds)
{
	return dataset_method(a, &a->ds[ds]);
}

/* Marks sealed files (crypto-shred candidates) by their header. */
static void
mark_sealed(struct dctx *x, struct item *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct err e;
		const char *base;
		int dirfd, fd;

		if (v[i].f.kind != FOUND_FILE ||
		    method_of(x->rq->a, v[i].ds) == METHOD_OVERWRITE)
			continue;
		if ((dirfd = dispose_open_parent(x, v[i].f.root, v[i].f.rel, &base, &e)) < 0)
			continue;
		fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
		if (fd != -1) {
			struct stat st;
			struct seal_header h;
			if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
			    st.st_ino == v[i].f.ino && seal_is_sealed(fd) == 1 &&
			    seal_peek(fd, &h, &e) == 0) {
				v[i].sealed = 1;
				snprintf(v[i].keyid, sizeof(v[i].keyid), "%s",
				    h.keyid);
			}
			close(fd);
		}
		close(dirfd);
	}
}

/* Whether this disposition covers every non-exempt dataset of its
 * agreement (a termination or a complete directive, nothing held). */
int
dispose_covers_agreement(const struct dispose_req *rq)
{
	for (size_t i = 0; i < rq->a->nds; i++) {
		int in = 0;
		if (dataset_exempt(rq->a, i))
			continue;
		for (size_t k = 0; k < rq->nds; k++)
			in |= rq->ds[k] == i;
		if (!in)
			return 0;
	}
	return 1;
}






static int
do_items(struct dctx *x, struct item *v, size_t n)
{
	const struct agreement *a = x->rq->a;
	struct err e;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		struct item *it = &v[i];
		char label[4200];

		if (it->done)
			continue;
		dispose_label(x, &it->f, label, sizeof(label));
		e.msg[0] = '\0';
		if (it->f.kind == FOUND_SYMLINK || it->f.kind == FOUND_OTHER) {
			if (dispose_remove_name(x, it, 0, &e) != 0)
				goto failed;
			if (it->f.kind == FOUND_SYMLINK)
				x->out->links++;
			else
				x->out->specials++;
			it->done = 1;
			x->dfiles++;
			continue;
		}
		if (it->sealed) {
			it->done = 2;	/* name removed after the key is gone */
			continue;
		}
		if (method_of(a, it->ds) == METHOD_CRYPTO) {
			diag_add(x->problems, label, 0, "not sealed: dataset %s "
			    "says method = crypto-shred, but this file is "
			    "plaintext; seal it with `lethe seal` or use "
			    "method = overwrite", a->ds[it->ds].name);
			dispose_exception(x, "a file of dataset %s was not sealed "
			    "and was not destroyed", a->ds[it->ds].name);
			continue;
		}
		{
			nlink_t names = names_in_disposition(v, n, i);
			nlink_t links_ok = 1;
			if (it->f.nlink > 1) {
				if (names < it->f.nlink) {
					diag_add(x->problems, label, 0,
					    "refused: %ju hard links, only %ju "
					    "of them in this disposition; its "
					    "data lives on under another name",
					    (uintmax_t)it->f.nlink,
					    (uintmax_t)names);
					dispose_exception(x, "a file of dataset %s "
					    "refused: hard links outside the "
					    "disposition", a->ds[it->ds].name);
					continue;
				}
				links_ok = it->f.nlink;
			}
			if (destroy_file(x, it, links_ok, &e) != 0)
				goto failed;
			it->done = 1;
			x->dfiles++;
			/* The other names of that inode: only the name left. */
			for (size_t j = i + 1; j < n; j++)
				if (v[j].f.kind == FOUND_FILE &&
				    v[j].f.dev == it->f.dev &&
				    v[j].f.ino == it->f.ino && !v[j].done) {
					if (dispose_remove_name(x, &v[j], 0, &e) != 0)
						goto failed;
					v[j].done = 1;
					x->out->links++;
				}
		}
		continue;
failed:
		diag_add(x->problems, label, 0, "%s", e.msg);
		dispose_exception(x, "a file of dataset %s could not be destroyed",
		    a->ds[it->ds].name);
		if (x->rq->j->fd == -1) {
			rc = -1;
			break;
		}
	}
	/* Keys last: every ciphertext name was found first, so a failure to
	 * destroy a key leaves the data sealed and recorded, never orphaned. */
	if (dispose_crypto_shred(x, v, n) != 0)
		rc = -1;
	return rc;
}




/* SPEC §6.6: whatever the locator still finds is a remaining match. */
static uint64_t
rescan(struct dctx *x)
{
	const struct config *c = x->rq->cfg;
	const struct agreement *a = x->rq->a;
	struct item *v = NULL;
	size_t n = 0;
	uint64_t left = 0;
	struct err e;

	if (locate_all(c, a, x->rq->ds, x->rq->nds, &v, &n, NULL, &e) != 0) {
		diag_add(x->problems, a->id, 0, "re-scan: %s", e.msg);
		return UINT64_MAX;
	}
	left = n;
	items_free(v, n);
	for (size_t i = 0; i < x->rq->nds; i++) {
		const struct dataset *d = &a->ds[x->rq->ds[i]];
		struct foundlist fl = { 0 };
		if (d->archive == NULL)
			continue;
		if (locate((const char *const *)c->roots, c->nroots, d->archive,
		    &fl, &e) != 0)
			return UINT64_MAX;
		for (size_t k = 0; k < fl.n; k++) {
			const char *base;
			uint64_t m = 0;
			int dirfd;
			if (fl.v[k].kind != FOUND_FILE)
				continue;
			if ((dirfd = dispose_open_parent(x, fl.v[k].root, fl.v[k].rel, &base, &e)) < 0) {
				left++;
				continue;
			}
			switch (archive_count_members(dirfd, base, d->name,
			    d->members, &m, &e)) {
			case 0:
				left += m;
				break;
			case ARCHIVE_IS_SEALED:
				break;	/* gone with its keys */
			default:
				left++;	/* unreadable: cannot show it is clean */
				break;
			}
			close(dirfd);
		}
		foundlist_free(&fl);
	}
	return left;
}

static void
purge_journals(struct dctx *x)
{
	for (size_t i = 0; i < x->out->nmedia; i++) {
		struct dispose_media *m = &x->out->media[i];
		struct err e;
		int fd = -1;

		/* Any root fd on that filesystem will do. */
		for (size_t r = 0; r < x->rq->cfg->nroots && fd == -1; r++) {
			struct stat st;
			if (x->roots[r].fd != -1 &&
			    fstat(x->roots[r].fd, &st) == 0 &&
			    st.st_dev == m->m.dev)
				fd = x->roots[r].fd;
		}
		if (fd == -1) {
			m->purge = 0;
			snprintf(m->purge_detail, sizeof(m->purge_detail),
			    "filesystem journal not purged: the dataset lies "
			    "on a filesystem mounted below its allowed root");
			continue;
		}
		m->purge = media_purge_journal(fd, &m->m, m->purge_detail,
		    sizeof(m->purge_detail), &e);
		if (m->purge < 0) {
			diag_add(x->problems, m->m.fstype, 0, "journal purge: %s",
			    e.msg);
			dispose_exception(x, "the %s journal purge failed", m->m.fstype);
		}
	}
}

static int
open_work(struct dctx *x, struct err *e)
{
	const char *sd = x->rq->cfg->state_dir;
	char path[4200];
	struct stat st;
	int fresh;

	if (snprintf(x->workdir, sizeof(x->workdir), "%s/work/%s", sd,
	    x->rq->id) >= (int)sizeof(x->workdir))
		return err_set(e, "%s: path too long", x->rq->id);
	if (mkdirs(x->workdir, 0700, e) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/names", x->workdir);
	x->namesfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (x->namesfd == -1)
		return err_sys(e, "%s", path);
	snprintf(path, sizeof(path), "%s/manifest", x->workdir);
	fresh = lstat(path, &st) != 0;
	x->manfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (x->manfd == -1)
		return err_sys(e, "%s", path);
	if (snprintf(x->out->manifest_path, sizeof(x->out->manifest_path),
	    "%s", path) >= (int)sizeof(x->out->manifest_path))
		return err_set(e, "%s: path too long", path);
	if (fresh || st.st_size == 0) {
		ssize_t w = write(x->manfd, CERT_MANIFEST_HEADER,
		    strlen(CERT_MANIFEST_HEADER));
		if (w != (ssize_t)strlen(CERT_MANIFEST_HEADER) ||
		    fsync(x->manfd) != 0)
			return err_sys(e, "%s", path);
		if (fsync_dir(x->workdir, e) != 0)
			return -1;
	}
	return 0;
}

/* Resume: the filesystems an earlier run of this disposition touched are
 * those of its datasets' roots (nested mounts are never entered). */
static void
resume_media(struct dctx *x)
{
	for (size_t i = 0; i < x->rq->nds; i++) {
		const struct dataset *d = &x->rq->a->ds[x->rq->ds[i]];
		const char *glob = d->path ? d->path : d->archive;
		const char *rel;
		struct err e;
		int r;

		if (glob == NULL)
			continue;
		r = resolve_which_root((const char *const *)x->rq->cfg->roots,
		    x->rq->cfg->nroots, glob, &rel);
		if (r < 0 || (x->roots[r].fd == -1 &&
		    resolve_root(x->rq->cfg->roots[r], &x->roots[r], &e) != 0))
			continue;
		(void)dispose_media_for(x, x->roots[r].fd, d->name, &e);
	}
}

int
dispose_run(const struct dispose_req *rq, struct dispose_out *out,
    struct err *e)
{
	struct dctx x;
	struct diags scratch = { 0 };
	struct item *v = NULL;
	size_t n = 0, mounts = 0;
	int rc = -1;

	memset(&x, 0, sizeof(x));
	memset(out, 0, sizeof(*out));
	x.rq = rq;
	x.out = out;
	x.manfd = -1;
	x.namesfd = -1;
	x.problems = rq->problems ? rq->problems : &scratch;
	out->started = rq->started ? rq->started : time(NULL);
	out->pattern = PATTERN_ZERO;
	out->verify = VERIFY_FULL;
	x.roots = calloc(rq->cfg->nroots + 1, sizeof(*x.roots));
	if (x.roots == NULL)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < rq->cfg->nroots; i++)
		x.roots[i].fd = -1;
	if (open_work(&x, e) != 0)
		goto out;
	if (rq->resume) {
		if (journal_read(rq->cfg->state_dir, dispose_names_scan, &x, e) != 0)
			goto out;
		dispose_names_resume(&x);
		resume_media(&x);
	}
	if (locate_all(rq->cfg, rq->a, rq->ds, rq->nds, &v, &n, &mounts,
	    e) != 0)
		goto out;
	if (mounts > 0) {
		/* lethe never crosses a mount point (SPEC §6.1): data under one
		 * is out of reach, so the disposition cannot be complete. */
		diag_add(x.problems, rq->a->id, 0, "%zu mount point%s inside "
		    "the datasets' directories: lethe never crosses into another "
		    "filesystem; add it to allowed_roots or unmount it",
		    mounts, mounts == 1 ? "" : "s");
		dispose_exception(&x, "%zu filesystem%s mounted inside a dataset could "
		    "not be reached", mounts, mounts == 1 ? "" : "s");
	}
	if (rq->nds == 0)
		snprintf(out->exceptions, sizeof(out->exceptions), "no dataset "
		    "in scope: the policy holds no non-exempt data of the "
		    "requested categories; nothing was destroyed");
	for (size_t i = 0; i < n; i++) {
		x.nfiles++;
		if (v[i].f.kind == FOUND_FILE)
			x.nbytes += (uint64_t)v[i].f.size;
	}
	mark_sealed(&x, v, n);
	if (rq->transfer_to != NULL && n > 0) {
		if (dispose_transfer(&x, v, n, e) != 0)
			goto out;	/* nothing destroyed without the copy */
		out->techniques |= DT_TRANSFER;
	}
	if (do_items(&x, v, n) != 0) {
		err_set(e, "the journal could not be written; stopped");
		goto out;
	}
	dispose_archives(&x);
	dispose_names_remove_dirs(&x, v, n);
	purge_journals(&x);
	/* Totals and manifest over every run of this disposition. */
	if (dispose_names_totals(&x, e) != 0)
		goto out;
	out->remaining = rescan(&x);
	out->completed = time(NULL);
	if (out->nexceptions > 0) {
		err_set(e, "%" PRIu64 " problem%s: %s", out->nexceptions,
		    out->nexceptions == 1 ? "" : "s", out->exceptions);
		goto out;
	}
	if (out->remaining != 0) {
		err_set(e, "the re-scan still finds %" PRIu64 " match%s",
		    out->remaining, out->remaining == 1 ? "" : "es");
		goto out;
	}
	rc = 0;
out:
	items_free(v, n);
	free(x.open);
	if (x.manfd != -1)
		close(x.manfd);
	if (x.namesfd != -1)
		close(x.namesfd);
	for (size_t i = 0; i < rq->cfg->nroots; i++)
		resolve_root_close(&x.roots[i]);
	free(x.roots);
	diag_free(&scratch);
	return rc;
}

int
dispose_preview(const struct config *cfg, const struct agreement *a,
    const size_t *ds, size_t nds, struct dispose_preview *p, struct err *e)
{
	struct dispose_req rq;
	struct dispose_out out;
	struct dctx x;
	struct item *v = NULL;
	size_t n = 0, mounts = 0;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	memset(&rq, 0, sizeof(rq));
	memset(&x, 0, sizeof(x));
	rq.cfg = cfg;
	rq.a = a;
	rq.ds = ds;
	rq.nds = nds;
	x.rq = &rq;
	x.out = &out;
	x.roots = calloc(cfg->nroots + 1, sizeof(*x.roots));
	if (x.roots == NULL)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < cfg->nroots; i++)
		x.roots[i].fd = -1;
	if (locate_all(cfg, a, ds, nds, &v, &n, &mounts, e) != 0)
		goto out;
	if (mounts > 0 && p->refused++ == 0)
		snprintf(p->first_refusal, sizeof(p->first_refusal), "%zu mount "
		    "point%s inside the datasets: never crossed", mounts,
		    mounts == 1 ? "" : "s");
	mark_sealed(&x, v, n);
	for (size_t i = 0; i < n; i++) {
		switch (v[i].f.kind) {
		case FOUND_FILE:
			if (v[i].sealed) {
				p->sealed++;
				break;
			}
			p->files++;
			p->bytes += (uint64_t)v[i].f.size;
			if (v[i].f.nlink > 1 &&
			    names_in_disposition(v, n, i) < v[i].f.nlink &&
			    p->refused++ == 0) {
				char label[4200];
				dispose_label(&x, &v[i].f, label, sizeof(label));
				if (snprintf(p->first_refusal,
				    sizeof(p->first_refusal), "%s: hard links "
				    "outside the disposition", label) >=
				    (int)sizeof(p->first_refusal))
					p->first_refusal[sizeof(
					    p->first_refusal) - 2] = '~';
			}
			break;
		case FOUND_SYMLINK:
			p->links++;
			break;
		default:
			p->specials++;
			break;
		}
	}
	for (size_t i = 0; i < nds; i++) {
		const struct dataset *d = &a->ds[ds[i]];
		struct foundlist fl = { 0 };
		if (d->archive == NULL)
			continue;
		if (locate((const char *const *)cfg->roots, cfg->nroots,
		    d->archive, &fl, e) != 0)
			goto out;
		for (size_t k = 0; k < fl.n; k++) {
			const char *base;
			uint64_t m = 0;
			int dirfd;
			if (fl.v[k].kind != FOUND_FILE)
				continue;
			if ((dirfd = dispose_open_parent(&x, fl.v[k].root, fl.v[k].rel, &base, e)) < 0)
				continue;
			if (archive_count_members(dirfd, base, d->name,
			    d->members, &m, e) == 0 && m > 0)
				p->archives++;
			close(dirfd);
		}
		foundlist_free(&fl);
	}
	rc = 0;
out:
	items_free(v, n);
	for (size_t i = 0; i < cfg->nroots; i++)
		resolve_root_close(&x.roots[i]);
	free(x.roots);
	return rc;
}
