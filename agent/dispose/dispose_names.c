/*
 * dispose_names.c: the per-file record of a disposition, work/ID/names.
 *
 * MUST rules:
 *  - a file's line (its manifest row, and the random name it is about to
 *    get) is durable before its name is replaced, so a run killed at any
 *    instant is finished by the next: the file is unlinked under the name
 *    it had, listed once, with the size and digest it had before;
 *  - the lines hold names and so live only in work/ID/ (0600), sanitized
 *    after delivery; never in the journal.
 */
#include "dispose/dispose_int.h"

#include "sanitize/archive.h"
#include "certify/cert.h"
#include "certify/manifest.h"
#include "conf/config.h"
#include "state/durable.h"
#include "base/err.h"
#include "base/num.h"
#include "state/journal.h"
#include "keys/keystore.h"
#include "conf/policy.h"
#include "plan/reappear.h"
#include "plan/sched.h"
#include "base/strbuf.h"
#include "sanitize/transfer.h"

#include <openssl/crypto.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A bounded decimal number (num.h): 0, or -1 when it is not one. */
static int
u64(const char *s, uint64_t *out)
{
	int64_t v;

	if (num_parse(s, 0, INT64_MAX, &v) != 0)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

/* Replays this disposition's file lines from a journal written before
 * they moved to work/ID/intents: every intent with its size and inode,
 * and which were followed by their outcome. */
int
dispose_names_scan(const struct jrec *r, void *arg)
{
	struct dctx *x = arg;
	const char *disp = jrec_get(r, "disp");
	const char *n = jrec_get(r, "n");
	uint64_t k;

	if (disp == NULL || n == NULL || strcmp(disp, x->rq->id) != 0 ||
	    u64(n, &k) != 0)
		return 0;
	if (strcmp(r->event, "file-intent") == 0) {
		const char *dev = jrec_get(r, "dev"), *ino = jrec_get(r, "ino");
		const char *size = jrec_get(r, "size");
		uint64_t d, i, z = 0;
		struct intent *v;
		if (dev == NULL || ino == NULL || u64(dev, &d) || u64(ino, &i) ||
		    (size != NULL && u64(size, &z)))
			return 0;
		v = realloc(x->open, (x->nopen + 1) * sizeof(*v));
		if (v == NULL)
			return -1;
		x->open = v;
		v[x->nopen].n = k;
		v[x->nopen].dev = (dev_t)d;
		v[x->nopen].ino = (ino_t)i;
		v[x->nopen].size = z;
		v[x->nopen].done = 0;
		x->nopen++;
	} else if (strcmp(r->event, "file-destroyed") == 0) {
		for (size_t i = 0; i < x->nopen; i++)
			if (x->open[i].n == k)
				x->open[i].done = 1;
	}
	if (k > x->seq)
		x->seq = k;
	return 0;
}

/* The open intent for this inode (a file a killed run began on), or NULL. */
struct intent *
dispose_names_intent(struct dctx *x, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < x->nopen; i++)
		if (!x->open[i].done && x->open[i].dev == dev &&
		    x->open[i].ino == ino)
			return &x->open[i];
	return NULL;
}

/* Percent-encodes a path for the names file (tab- and newline-free). */
static void
enc(const char *s, char *out, size_t len)
{
	size_t o = 0;

	for (; *s && o + 4 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c == '%' || c == 0x7f)
			o += (size_t)snprintf(out + o, len - o, "%%%02X", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

static void
dec(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '%' && s[1] && s[2]) {
			char h[3] = { s[1], s[2], 0 };
			*w++ = (char)strtol(h, NULL, 16);
			s += 2;
		} else
			*w++ = *s;
	}
	*w = '\0';
}

/* Appends the names line of one file to b: its number, dataset, root,
 * directory, the random name it is about to get, its size and digest as
 * they were, the bytes read back and overwritten, its name and label.
 * The caller makes a batch's lines durable (one fdatasync) before any of
 * their names is touched, so a kill at any later instant is finished by
 * the next run under the right name, size and digest, and the file is
 * never processed twice. */
void
dispose_names_add(struct strbuf *b, const struct item *it, uint64_t n,
    uint64_t size, const char *sha, const struct ow_result *res,
    const char *newname, const char *label)
{
	char parent[8200], nm[1024], orig[1024], lab[12600];
	const char *slash = strrchr(it->f.rel, '/');

	if (slash != NULL) {
		char tmp[4200];
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(slash - it->f.rel),
		    it->f.rel);
		enc(tmp, parent, sizeof(parent));
	} else
		snprintf(parent, sizeof(parent), "%%2E");	/* "." */
	enc(newname, nm, sizeof(nm));
	enc(slash ? slash + 1 : it->f.rel, orig, sizeof(orig));
	enc(label, lab, sizeof(lab));
	strbuf_printf(b, "%" PRIu64 "\t%zu\t%d\t%s\t%s\t%" PRIu64 "\t%s\t%"
	    PRIu64 "\t%s\t%s\t%" PRIu64 "\n", n, it->ds, it->f.root, parent,
	    nm, size, sha, res->verified, orig, lab, res->overwritten);
}

/* Reads work/ID/intents ("N\tDEV\tINO\tSIZE" lines, one per file, made
 * durable a batch at a time before any of the batch is written): the
 * files this disposition set out to destroy.  Returns 0 or -1. */
int
dispose_names_intents(struct dctx *x)
{
	char path[4200], *buf = NULL;
	size_t len;
	struct err e;

	snprintf(path, sizeof(path), "%s/intents", x->workdir);
	if (slurp(path, SIZE_MAX / 4, &buf, &len, &e) != 0)
		return 0;	/* none yet */
	for (char *line = buf, *next; line != NULL && *line; line = next) {
		struct intent *v;
		int64_t f[4];
		char *t = line;
		int k = 0;
		next = strchr(line, '\n');
		if (next == NULL)
			break;		/* a torn last line: never acted on */
		*next++ = '\0';
		for (; k < 4 && t != NULL; k++) {
			char *tab = strchr(t, '\t');
			if (tab != NULL)
				*tab = '\0';
			if (num_parse(t, 0, INT64_MAX, &f[k]) != 0)
				break;
			t = tab != NULL ? tab + 1 : NULL;
		}
		if (k != 4)
			continue;
		v = realloc(x->open, (x->nopen + 1) * sizeof(*v));
		if (v == NULL) {
			free(buf);
			return -1;
		}
		x->open = v;
		v[x->nopen].n = (uint64_t)f[0];
		v[x->nopen].dev = (dev_t)f[1];
		v[x->nopen].ino = (ino_t)f[2];
		v[x->nopen].size = (uint64_t)f[3];
		v[x->nopen].done = 0;
		x->nopen++;
		if ((uint64_t)f[0] > x->seq)
			x->seq = (uint64_t)f[0];
	}
	free(buf);
	return 0;
}

/* One line of work/ID/names. */
struct nameline {
	uint64_t n, size, verified, overwritten;
	size_t ds;
	int root;
	char *parent, *name, *sha, *orig, *label;
};

static int
parse_nameline(char *line, struct nameline *l)
{
	char *f[11];
	size_t k = 0;
	uint64_t x, r;

	for (char *p = line; k < 11; k++) {
		f[k] = p;
		p = strchr(p, '\t');
		if (p == NULL) {
			k++;
			break;
		}
		*p++ = '\0';
	}
	if (k != 10 && k != 11)	/* 10: written before overwritten was */
		return -1;
	if (u64(f[0], &l->n) || u64(f[1], &x) || u64(f[2], &r) ||
	    u64(f[5], &l->size) || u64(f[7], &l->verified) ||
	    (k == 11 && u64(f[10], &l->overwritten)) || r > INT_MAX)
		return -1;	/* a torn or damaged line: skipped */
	l->ds = (size_t)x;
	l->root = (int)r;
	l->parent = f[3];
	l->name = f[4];
	l->sha = f[6];
	l->orig = f[8];
	l->label = f[9];
	/* A line without the count: holes were overwritten then too. */
	if (k == 10)
		l->overwritten = l->size;
	dec(l->parent);
	dec(l->name);
	dec(l->orig);
	dec(l->label);
	return 0;
}

/* Reads work/ID/names; calls fn for each line.  Returns 0 or -1. */
static int
names_each(struct dctx *x,
    void (*fn)(struct dctx *, struct nameline *, void *), void *arg)
{
	char path[4200], *buf = NULL, *line, *next;
	size_t len;
	struct err e;

	snprintf(path, sizeof(path), "%s/names", x->workdir);
	if (slurp(path, SIZE_MAX / 4, &buf, &len, &e) != 0)
		return -1;
	for (line = buf; line && *line; line = next) {
		struct nameline l;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (parse_nameline(line, &l) == 0)
			fn(x, &l, arg);
	}
	OPENSSL_cleanse(buf, len);
	free(buf);
	return 0;
}

/* Resume: a file whose row was made durable but whose outcome was not
 * journaled lies under its random name (or is already gone): finish it. */
static void
finish_renamed(struct dctx *x, struct nameline *l, void *arg)
{
	struct intent *in = NULL;

	(void)arg;
	struct stat st;
	struct err e;
	int dirfd;

	for (size_t i = 0; i < x->nopen; i++)
		if (x->open[i].n == l->n && !x->open[i].done)
			in = &x->open[i];
	if (in == NULL || l->root < 0 || (size_t)l->root >= x->rq->cfg->nroots)
		return;
	if (x->roots[l->root].fd == -1 &&
	    resolve_root(x->rq->cfg->roots[l->root], &x->roots[l->root],
	    &e) != 0)
		return;
	dirfd = strcmp(l->parent, ".") == 0 ? dup(x->roots[l->root].fd) :
	    resolve_dir(&x->roots[l->root], l->parent, &e);
	if (dirfd >= 0) {
		if (fstatat(dirfd, l->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_ino == in->ino &&
		    st.st_dev == in->dev) {
			if (unlinkat(dirfd, l->name, 0) != 0) {
				close(dirfd);
				return;
			}
			(void)fsync(dirfd);
		} else if (fstatat(dirfd, l->orig, &st, AT_SYMLINK_NOFOLLOW) ==
		    0 && S_ISREG(st.st_mode) && st.st_ino == in->ino &&
		    st.st_dev == in->dev) {
			/* Killed before the rename: the content is already
			 * overwritten and verified; only the name is left. */
			struct ow_opts oo;
			memset(&oo, 0, sizeof(oo));
			oo.dev = in->dev;
			oo.ino = in->ino;
			if (ow_unlink_name(dirfd, l->orig, l->label, &oo,
			    &e) != 0) {
				diag_add(x->problems, l->label, 0, "%s", e.msg);
				close(dirfd);
				return;
			}
		}
		close(dirfd);
	}
	in->done = 1;
}

/* One pass over the names file at the end of a disposition: totals and the
 * manifest rows of the overwritten files, each file once (a line a killed
 * run repeated counts once). */
struct tally {
	struct cert_manifest m;
	struct strbuf digests;	/* "SIZE SHA256" lines (plan/reappear.h) */
	unsigned char *seen;	/* bit n: row n taken */
	uint64_t max;
	int bad;
};

/* Whether row n was taken already; marks it.  n beyond the bitmap (never
 * expected) counts as new. */
static int
seen_before(struct tally *t, uint64_t n)
{
	int was;

	if (n > t->max)
		return 0;
	was = (t->seen[n / 8] >> (n % 8)) & 1;
	t->seen[n / 8] |= (unsigned char)(1u << (n % 8));
	return was;
}

static void
tally_line(struct dctx *x, struct nameline *l, void *arg)
{
	struct tally *t = arg;
	struct err e;

	if (seen_before(t, l->n))
		return;
	x->out->files++;
	x->out->bytes += l->size;
	if (l->ds < x->rq->a->nds)
		x->out->categories |= x->rq->a->ds[l->ds].categories;
	x->out->verified_bytes += l->verified;
	x->out->overwritten_bytes += l->overwritten;
	if (strcmp(l->sha, "unavailable") == 0)
		x->out->digests_missing++;
	else
		strbuf_printf(&t->digests, "%" PRIu64 " %s\n", l->size, l->sha);
	if (cert_manifest_add(&t->m, l->label, l->size, l->sha, &e) != 0)
		t->bad = 1;
}

/* Writes work/ID/manifest.final: the rows written as they happened (links,
 * special files, sealed files, archive members) and the tallied rows of the
 * overwritten files.  Rewritten whole each time: idempotent on resume. */
static int
write_final_manifest(struct dctx *x, const struct cert_manifest *m,
    struct err *e)
{
	char path[4200], *text = NULL, *all;
	size_t len = 0, hdr = strlen(CERT_MANIFEST_HEADER), tl = m->len - hdr;
	int rc;

	snprintf(path, sizeof(path), "%s/manifest", x->workdir);
	if (slurp(path, SIZE_MAX / 4, &text, &len, e) != 0)
		return -1;
	all = malloc(len + tl + 1);
	if (all == NULL) {
		OPENSSL_cleanse(text, len);
		free(text);
		return err_set(e, "out of memory");
	}
	memcpy(all, text, len);
	memcpy(all + len, m->text + hdr, tl);
	OPENSSL_cleanse(text, len);
	free(text);
	snprintf(path, sizeof(path), "%s/manifest.final", x->workdir);
	rc = durable_write(path, all, len + tl, 0600, e);
	OPENSSL_cleanse(all, len + tl);
	free(all);
	if (rc == 0 && snprintf(x->out->manifest_path,
	    sizeof(x->out->manifest_path), "%s", path) >=
	    (int)sizeof(x->out->manifest_path))
		rc = err_set(e, "%s: path too long", path);
	return rc;
}

static int
cmp_depth(const void *pa, const void *pb)
{
	const char *a = *(const char *const *)pa, *b = *(const char *const *)pb;
	size_t da = 0, db = 0;

	for (; *a; a++)
		da += *a == '/';
	for (; *b; b++)
		db += *b == '/';
	if (da != db)
		return da > db ? -1 : 1;
	return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

/* Length of the glob's fixed directory prefix below the allowed root
 * `root` (which holds the names it matched): directories at or above it
 * are named by the policy, not by the data, and stay. */
static size_t
fixed_prefix_len(const char *root, const char *glob)
{
	char prefix[4200];
	const char *rest, *r[1] = { root };

	glob_literal_prefix(glob, prefix, sizeof(prefix));
	if (resolve_which_root(r, 1, prefix, &rest) != 0)
		return 0;	/* the root lies below the prefix */
	return strlen(rest);
}

/* Candidate directories: every parent of `rel` (a removed file) strictly
 * below its dataset's fixed prefix, as "ROOT:DIR". */
struct dirset {
	char **v;
	size_t n;
};

static void
add_parents(struct dctx *x, struct dirset *d, int root, size_t dsi,
    const char *rel)
{
	const struct dataset *ds;
	size_t keep;
	char *p;

	if (dsi >= x->rq->a->nds || root < 0 ||
	    (size_t)root >= x->rq->cfg->nroots)
		return;
	ds = &x->rq->a->ds[dsi];
	if (ds->path == NULL)
		return;
	keep = fixed_prefix_len(x->rq->cfg->roots[root], ds->path);
	if ((p = strdup(rel)) == NULL)
		return;
	for (char *s = strrchr(p, '/'); s != NULL && (size_t)(s - p) > keep;
	    s = strrchr(p, '/')) {
		char **v;
		*s = '\0';
		v = realloc(d->v, (d->n + 1) * sizeof(*v));
		if (v == NULL)
			break;
		d->v = v;
		if (asprintf(&d->v[d->n], "%d:%s", root, p) < 0)
			break;
		d->n++;
	}
	free(p);
}

static void
names_dirs(struct dctx *x, struct nameline *l, void *arg)
{
	char rel[8400];

	if (strcmp(l->parent, ".") == 0)
		return;
	snprintf(rel, sizeof(rel), "%s/x", l->parent);
	add_parents(x, arg, l->root, l->ds, rel);
}

/* A directory about to be renamed on its way out: its line in work/ID/dirs
 * ("ROOT\tPARENT\tNEWNAME", percent-encoded) is made durable first, so a
 * run killed before the rmdir leaves nothing the next cannot finish. */
struct dirrec {
	struct dctx *x;
	int root;
	const char *rel;	/* the directory's path below its root */
	int unused;
};

static int
record_dir(const char *newname, void *arg)
{
	struct dirrec *d = arg;
	char path[4200], parent[8200], nm[1024], line[9400];
	const char *slash = strrchr(d->rel, '/');
	int fd, n, rc = -1;

	if (slash != NULL) {
		char tmp[4200];
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(slash - d->rel), d->rel);
		enc(tmp, parent, sizeof(parent));
	} else
		snprintf(parent, sizeof(parent), "%%2E");	/* "." */
	enc(newname, nm, sizeof(nm));
	n = snprintf(line, sizeof(line), "%d\t%s\t%s\n", d->root, parent, nm);
	snprintf(path, sizeof(path), "%s/dirs", d->x->workdir);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return -1;
	if (n > 0 && (size_t)n < sizeof(line) && write(fd, line, (size_t)n) == n &&
	    fdatasync(fd) == 0)
		rc = 0;
	close(fd);
	return rc;
}

/* Resume: directories a killed run renamed but did not remove. */
static void
finish_dirs(struct dctx *x)
{
	char path[4200], *buf = NULL;
	size_t len;
	struct err e;

	snprintf(path, sizeof(path), "%s/dirs", x->workdir);
	if (slurp(path, 1 << 24, &buf, &len, &e) != 0)
		return;
	for (char *line = buf, *next; line != NULL && *line; line = next) {
		char *f[3], *t = line;
		uint64_t root;
		struct stat st;
		int k = 0, dirfd;
		next = strchr(line, '\n');
		if (next == NULL)
			break;		/* torn: that rename never happened */
		*next++ = '\0';
		for (; k < 3 && t != NULL; k++) {
			f[k] = t;
			t = strchr(t, '\t');
			if (t != NULL)
				*t++ = '\0';
		}
		if (k != 3 || u64(f[0], &root) != 0 || root >= x->rq->cfg->nroots)
			continue;
		dec(f[1]);
		dec(f[2]);
		if (x->roots[root].fd == -1 && resolve_root(x->rq->cfg->roots[root],
		    &x->roots[root], &e) != 0)
			continue;
		dirfd = strcmp(f[1], ".") == 0 ? dup(x->roots[root].fd) :
		    resolve_dir(&x->roots[root], f[1], &e);
		if (dirfd < 0)
			continue;
		if (fstatat(dirfd, f[2], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode) &&
		    ow_rmdir_if_empty(dirfd, f[2], f[2], &e) == 1)
			x->out->dirs++;
		close(dirfd);
	}
	free(buf);
}

/* Removes directories emptied by this disposition (names removed in this
 * run, and files overwritten in it or in a killed one before it), deepest
 * first, never at or above a dataset's fixed prefix. */
void
dispose_names_remove_dirs(struct dctx *x)
{
	struct dirset ds = { 0 };
	char **dirs;
	size_t nd;

	for (size_t i = 0; i < x->ngone; i++)
		add_parents(x, &ds, x->gone[i].root, x->gone[i].ds,
		    x->gone[i].rel);
	(void)names_each(x, names_dirs, &ds);
	dirs = ds.v;
	nd = ds.n;
	if (nd > 0)
		qsort(dirs, nd, sizeof(*dirs), cmp_depth);
	for (size_t i = 0; i < nd; i++) {
		struct err e;
		struct found f;
		char label[4200], *rel;
		const char *base;
		int root, dirfd;

		if (i > 0 && strcmp(dirs[i], dirs[i - 1]) == 0)
			continue;
		root = (int)strtol(dirs[i], NULL, 10);	/* "%d:" we wrote */
		rel = strchr(dirs[i], ':') + 1;
		memset(&f, 0, sizeof(f));
		f.rel = rel;
		f.root = root;
		dispose_label(x, &f, label, sizeof(label));
		if ((dirfd = dispose_open_parent(x, root, rel, &base, &e)) < 0)
			continue;
		{
			struct dirrec dr = { x, root, rel, 0 };
			struct ow_opts oo;
			memset(&oo, 0, sizeof(oo));
			oo.before_rename = record_dir;
			oo.arg = &dr;
			if (ow_rmdir_recorded(dirfd, base, label, &oo, &e) == 1)
				x->out->dirs++;
		}
		close(dirfd);
	}
	for (size_t i = 0; i < nd; i++)
		free(dirs[i]);
	free(dirs);
}

/* Resume: files a killed run left under their random names, and
 * directories it renamed on their way out. */
void
dispose_names_resume(struct dctx *x)
{
	(void)names_each(x, finish_renamed, NULL);
	finish_dirs(x);
}

/* Totals of overwritten files over every run of the disposition, and the
 * final manifest.  Returns 0, or -1 with *e set. */
int
dispose_names_totals(struct dctx *x, struct err *e)
{
	struct dispose_out *o = x->out;
	struct tally t;
	int rc = -1;

	memset(&t, 0, sizeof(t));
	/* Recounted from the names file; verified_bytes keeps what
	 * dispose_archives() added for the archives' old blocks. */
	o->files = o->bytes = o->digests_missing = 0;
	t.max = x->seq;
	if ((t.seen = calloc(t.max / 8 + 1, 1)) == NULL)
		return err_set(e, "out of memory");
	if (cert_manifest_init(&t.m, e) != 0)
		goto out;
	if (names_each(x, tally_line, &t) != 0 || t.bad) {
		err_set(e, "%s/names: cannot read back", x->workdir);
		goto out;
	}
	rc = write_final_manifest(x, &t.m, e);
	/* What was destroyed, by content only: how a later run tells the
	 * same data, restored, from new data (plan/reappear.c). */
	if (rc == 0 && t.digests.oom)
		rc = err_set(e, "out of memory");
	if (rc == 0)
		rc = reappear_save(x->workdir, t.digests.p ? t.digests.p : "",
		    t.digests.len, e);
out:
	free(t.digests.p);
	cert_manifest_free(&t.m);
	free(t.seen);
	return rc;
}
