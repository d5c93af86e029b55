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
#include "dispose.h"

#include "archive.h"
#include "cert.h"
#include "config.h"
#include "durable.h"
#include "err.h"
#include "journal.h"
#include "locate.h"
#include "overwrite.h"
#include "policy.h"
#include "keystore.h"
#include "resolve.h"
#include "sched.h"
#include "seal.h"
#include "transfer.h"

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

/* One match, with the dataset it came from. */
struct item {
	struct found f;
	size_t ds;
	int sealed;		/* lethe-sealed ciphertext: crypto-shred */
	char keyid[SEAL_KEYID_MAX + 1];	/* its key, from the header */
	int done;
};

/* A file-intent line of this disposition, and whether its outcome
 * (file-destroyed) followed. */
struct intent {
	uint64_t n;
	dev_t dev;
	ino_t ino;
	uint64_t size;
	int done;
};

struct dctx {
	const struct dispose_req *rq;
	struct dispose_out *out;
	struct diags *problems;	/* per-item messages naming paths, for the admin */
	const char *archive;	/* label of the archive being rewritten */
	struct cert_manifest pend;	/* its removed members, until committed */
	struct rootdir *roots;	/* per allowed root, fd -1 until opened */
	int manfd;		/* work/ID/manifest, O_APPEND */
	uint64_t seq;		/* file counter for file-intent / -destroyed */
	struct intent *open;	/* this disposition's intents (resume) */
	size_t nopen;
	int namesfd;		/* work/ID/names: every destroyed file */
	/* The file being overwritten, for the before_rename hook. */
	struct item *cur;
	struct ow_result *cur_res;
	const char *cur_label;
	uint64_t cur_n, cur_size;
	int cur_lost;
	uint64_t nfiles, nbytes, dfiles, dbytes;
	char workdir[4096];
};

/* Untrusted names are data (STYLE §10): escaped before they reach a
 * terminal. */
static void
label_of(const struct dctx *x, const struct found *f, char *buf, size_t len)
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

static void
exception(struct dctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Adds a name-free exception for the certificate and journal. */
static void
exception(struct dctx *x, const char *fmt, ...)
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
static int
open_parent(struct dctx *x, int root, const char *rel, const char **base,
    struct err *e)
{
	struct rootdir *r = &x->roots[root];

	if (r->fd == -1 && resolve_root(x->rq->cfg->roots[root], r, e) != 0)
		return -1;
	return resolve_parent(r, rel, base, e);
}

/* The media entry for the filesystem of fd (added on first sight). */
static struct dispose_media *
media_for(struct dctx *x, int fd, const char *dsname, struct err *e)
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

static int
manifest_row(struct dctx *x, const char *path, uint64_t size,
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
hex(const unsigned char *md, char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}


/* Replays this disposition's file lines from the journal: every intent
 * with its size and inode, and which were followed by their outcome. */
static int
resume_scan(const struct jrec *r, void *arg)
{
	struct dctx *x = arg;
	const char *disp = jrec_get(r, "disp");
	const char *n = jrec_get(r, "n");
	uint64_t k;

	if (disp == NULL || n == NULL || strcmp(disp, x->rq->id) != 0)
		return 0;
	k = strtoull(n, NULL, 10);
	if (strcmp(r->event, "file-intent") == 0) {
		const char *dev = jrec_get(r, "dev"), *ino = jrec_get(r, "ino");
		const char *size = jrec_get(r, "size");
		struct intent *v;
		if (dev == NULL || ino == NULL)
			return 0;
		v = realloc(x->open, (x->nopen + 1) * sizeof(*v));
		if (v == NULL)
			return -1;
		x->open = v;
		v[x->nopen].n = k;
		v[x->nopen].dev = (dev_t)strtoull(dev, NULL, 10);
		v[x->nopen].ino = (ino_t)strtoull(ino, NULL, 10);
		v[x->nopen].size = size ? strtoull(size, NULL, 10) : 0;
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
static struct intent *
interrupted_intent(struct dctx *x, dev_t dev, ino_t ino)
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

/* Called by ow_file after the overwrite is verified and just before the
 * name is replaced by a random one: the names line (the file's manifest
 * row, and where its random name will be) is made durable first, so a
 * kill at any later instant is finished by the next run under the right
 * name, size and digest, and the file is never processed twice. */
static int
before_rename(const char *newname, void *arg)
{
	struct dctx *x = arg;
	struct item *it = x->cur;
	struct ow_result *res = x->cur_res;
	char sha[65], parent[8200], nm[1024], orig[1024], lab[12600];
	char line[24000];
	const char *slash = strrchr(it->f.rel, '/');
	struct err e;
	int n;

	if (res->sha_ok && !x->cur_lost)
		hex(res->sha256, sha);
	else
		snprintf(sha, sizeof(sha), "unavailable");
	x->cur_size = x->cur_lost && x->cur_size > res->size ? x->cur_size :
	    res->size;
	(void)e;
	if (slash != NULL) {
		char tmp[4200];
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(slash - it->f.rel),
		    it->f.rel);
		enc(tmp, parent, sizeof(parent));
	} else
		snprintf(parent, sizeof(parent), "%%2E");	/* "." */
	enc(newname, nm, sizeof(nm));
	enc(slash ? slash + 1 : it->f.rel, orig, sizeof(orig));
	enc(x->cur_label, lab, sizeof(lab));
	n = snprintf(line, sizeof(line), "%" PRIu64 "\t%zu\t%d\t%s\t%s\t%"
	    PRIu64 "\t%s\t%" PRIu64 "\t%s\t%s\n", x->cur_n, it->ds,
	    it->f.root, parent, nm, x->cur_size, sha, res->verified, orig, lab);
	if (n < 0 || (size_t)n >= sizeof(line) ||
	    write(x->namesfd, line, (size_t)n) != n || fdatasync(x->namesfd))
		return -1;
	return 0;
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

	label_of(x, &it->f, label, sizeof(label));
	if ((dirfd = open_parent(x, it->f.root, it->f.rel, &base, e)) < 0)
		return -1;
	if (media_for(x, dirfd, ds->name, e) == NULL)
		goto out;
	/* A file a killed run began on keeps its number and its size as
	 * announced; its digest is lost (part of it may be zeros now). */
	lost = interrupted_intent(x, it->f.dev, it->f.ino);
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
	oo.before_rename = before_rename;
	oo.arg = x;
	memset(&res, 0, sizeof(res));
	x->cur = it;
	x->cur_res = &res;
	x->cur_label = label;
	if (ow_file(dirfd, base, label, &oo, &res, e) != 0)
		goto out;
	if (res.sha_ok && lost == NULL)
		hex(res.sha256, sha);
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

/* One line of work/ID/names. */
struct nameline {
	uint64_t n, size, verified;
	size_t ds;
	int root;
	char *parent, *name, *sha, *orig, *label;
};

static int
parse_nameline(char *line, struct nameline *l)
{
	char *f[10];
	size_t k = 0;

	for (char *p = line; k < 10; k++) {
		f[k] = p;
		p = strchr(p, '\t');
		if (p == NULL) {
			k++;
			break;
		}
		*p++ = '\0';
	}
	if (k != 10)
		return -1;
	l->n = strtoull(f[0], NULL, 10);
	l->ds = (size_t)strtoull(f[1], NULL, 10);
	l->root = atoi(f[2]);
	l->parent = f[3];
	l->name = f[4];
	l->size = strtoull(f[5], NULL, 10);
	l->sha = f[6];
	l->verified = strtoull(f[7], NULL, 10);
	l->orig = f[8];
	l->label = f[9];
	dec(l->parent);
	dec(l->name);
	dec(l->orig);
	dec(l->label);
	return 0;
}

/* Reads work/ID/names; calls fn for each line.  Returns 0 or -1. */
static int
names_each(struct dctx *x, void (*fn)(struct dctx *, struct nameline *))
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
			fn(x, &l);
	}
	OPENSSL_cleanse(buf, len);
	free(buf);
	return 0;
}

/* Resume: a file whose row was made durable but whose outcome was not
 * journaled lies under its random name (or is already gone): finish it. */
static void
finish_renamed(struct dctx *x, struct nameline *l)
{
	struct intent *in = NULL;
	char nbuf[24], sbuf[24];
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
	snprintf(nbuf, sizeof(nbuf), "%" PRIu64, l->n);
	snprintf(sbuf, sizeof(sbuf), "%" PRIu64, l->size);
	(void)journal_appendv(x->rq->j, &e, "file-destroyed", "disp",
	    x->rq->id, "n", nbuf, "size", sbuf, "sha256", l->sha, NULL);
}

/* The manifest rows of the overwritten files, from the names file, once
 * each (a line repeated by a killed run counts once). */
static struct cert_manifest *fin_m;
static unsigned char *fin_seen;	/* bit n: row n taken */
static uint64_t fin_max;
static int fin_bad;

/* Whether row n was seen already; marks it.  n beyond the bitmap (never
 * expected) counts as unseen. */
static int
seen_before(uint64_t n)
{
	int was;

	if (fin_seen == NULL || n > fin_max)
		return 0;
	was = (fin_seen[n / 8] >> (n % 8)) & 1;
	fin_seen[n / 8] |= (unsigned char)(1u << (n % 8));
	return was;
}

static int
seen_reset(uint64_t max)
{
	free(fin_seen);
	fin_max = max;
	fin_seen = calloc(max / 8 + 1, 1);
	return fin_seen == NULL ? -1 : 0;
}

static void
final_row(struct dctx *x, struct nameline *l)
{
	struct err e;

	(void)x;
	if (seen_before(l->n))
		return;
	if (cert_manifest_add(fin_m, l->label, l->size, l->sha, &e) != 0)
		fin_bad = 1;
}

/* Writes work/ID/manifest.final: the rows written as they happened (links,
 * special files, sealed files, archive members) and one row per
 * overwritten file.  Rewritten whole each time: idempotent on resume. */
static int
finalize_manifest(struct dctx *x, struct err *e)
{
	char path[4200], *text = NULL;
	size_t len = 0;
	struct cert_manifest m;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/manifest", x->workdir);
	if (slurp(path, SIZE_MAX / 4, &text, &len, e) != 0)
		return -1;
	if (cert_manifest_init(&m, e) != 0)
		goto out;
	fin_m = &m;
	fin_bad = seen_reset(x->seq);
	if (names_each(x, final_row) != 0 || fin_bad) {
		err_set(e, "%s/names: cannot read back", x->workdir);
		goto out2;
	}
	{
		size_t hdr = strlen(CERT_MANIFEST_HEADER), tl = m.len - hdr;
		char *all = malloc(len + tl + 1);
		if (all == NULL) {
			err_set(e, "out of memory");
			goto out2;
		}
		memcpy(all, text, len);
		memcpy(all + len, m.text + hdr, tl);
		snprintf(path, sizeof(path), "%s/manifest.final", x->workdir);
		rc = durable_write(path, all, len + tl, 0600, e);
		OPENSSL_cleanse(all, len + tl);
		free(all);
		if (rc == 0 && snprintf(x->out->manifest_path,
		    sizeof(x->out->manifest_path), "%s", path) >=
		    (int)sizeof(x->out->manifest_path))
			rc = err_set(e, "%s: path too long", path);
	}
out2:
	cert_manifest_free(&m);
	free(fin_seen);
	fin_seen = NULL;
	fin_m = NULL;
out:
	if (text != NULL)
		OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

/* Totals over every run of this disposition, from its names file. */
static void
count_name(struct dctx *x, struct nameline *l)
{
	if (seen_before(l->n))
		return;
	x->out->files++;
	x->out->bytes += l->size;
	x->out->verified_bytes += l->verified;
	if (strcmp(l->sha, "unavailable") == 0)
		x->out->digests_missing++;
}

/* Removes a name without opening what it names (symlink, FIFO, socket,
 * device, or a further hard link of an inode already overwritten). */
static int
remove_name(struct dctx *x, struct item *it, uint64_t size, struct err *e)
{
	char label[4200];
	const char *base;
	int dirfd = -1, rc = -1;
	struct ow_opts oo;

	label_of(x, &it->f, label, sizeof(label));
	if ((dirfd = open_parent(x, it->f.root, it->f.rel, &base, e)) < 0)
		return -1;
	if (media_for(x, dirfd, x->rq->a->ds[it->ds].name, e) == NULL)
		goto out;
	memset(&oo, 0, sizeof(oo));
	oo.dev = it->f.dev;	/* a name swapped since the walk is refused */
	oo.ino = it->f.ino;
	if (ow_unlink_name(dirfd, base, label, &oo, e) != 0)
		goto out;
	/* No content read: "-" in the manifest (SPEC §8 via cert.h). */
	if (manifest_row(x, label, size, "-", e) != 0)
		goto out;
	rc = 0;
out:
	close(dirfd);
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

/* Length of the glob's fixed directory prefix below its root: directories
 * at or above it are named by the policy, not by the data, and stay. */
static size_t
fixed_prefix_len(const char *root, const char *glob)
{
	const char *rel = glob + strlen(root);
	const char *wild;
	size_t n;

	while (*rel == '/')
		rel++;
	wild = strpbrk(rel, "*?[");
	n = wild ? (size_t)(wild - rel) : strlen(rel);
	while (n > 0 && rel[n - 1] != '/')
		n--;
	return n > 0 ? n - 1 : 0;	/* without the trailing '/' */
}

/* Removes directories emptied by this disposition, deepest first, never
 * at or above a dataset's fixed prefix. */
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

static struct dirset *cur_dirs;	/* for names_dirs (single-threaded) */

static void
names_dirs(struct dctx *x, struct nameline *l)
{
	char rel[8400];

	if (strcmp(l->parent, ".") == 0)
		return;
	snprintf(rel, sizeof(rel), "%s/x", l->parent);
	add_parents(x, cur_dirs, l->root, l->ds, rel);
}

/* Removes directories emptied by this disposition (in this run or a
 * killed one before it), deepest first, never at or above a dataset's
 * fixed prefix. */
static void
remove_empty_dirs(struct dctx *x, struct item *items, size_t n)
{
	struct dirset ds = { 0 };
	char **dirs;
	size_t nd;

	for (size_t i = 0; i < n; i++)
		if (items[i].done)
			add_parents(x, &ds, items[i].f.root, items[i].ds,
			    items[i].f.rel);
	cur_dirs = &ds;
	(void)names_each(x, names_dirs);
	cur_dirs = NULL;
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
		root = atoi(dirs[i]);
		rel = strchr(dirs[i], ':') + 1;
		memset(&f, 0, sizeof(f));
		f.rel = rel;
		f.root = root;
		label_of(x, &f, label, sizeof(label));
		if ((dirfd = open_parent(x, root, rel, &base, &e)) < 0)
			continue;
		if (ow_rmdir_if_empty(dirfd, base, label, &e) == 1)
			x->out->dirs++;
		close(dirfd);
	}
	for (size_t i = 0; i < nd; i++)
		free(dirs[i]);
	free(dirs);
}

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
		if ((dirfd = open_parent(x, v[i].f.root, v[i].f.rel, &base, &e)) < 0)
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
static int
covers_agreement(const struct dispose_req *rq)
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

/* Whether destroying the key of `category` ("all" = the agreement-wide key)
 * can touch only data in this disposition: no dataset outside it (held,
 * exempt, or simply not in scope) may share that category. */
static int
key_only_in_disposition(const struct dispose_req *rq, const char *category)
{
	int ci = strcmp(category, "all") == 0 ? -1 : category_find(category);

	if (strcmp(category, "all") != 0 && ci < 0)
		return 0;
	for (size_t i = 0; i < rq->a->nds; i++) {
		int in = 0;
		for (size_t k = 0; k < rq->nds; k++)
			in |= rq->ds[k] == i;
		if (in)
			continue;
		if (ci < 0 || (rq->a->ds[i].categories & (1u << ci)) != 0 ||
		    rq->a->ds[i].categories == 0)
			return 0;
	}
	return 1;
}

/* Destroys the keys of agreement (category NULL: all of them) and journals
 * each tombstone.  Returns 0, or -1 with *e set. */
static int
destroy_keys(struct dctx *x, const char *category, struct err *e)
{
	const struct dispose_req *rq = x->rq;
	struct ks_entry *list = NULL;
	size_t n = 0;
	int rc;

	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = keystore_destroy(rq->cfg->state_dir, rq->cfg->kek, rq->a->id,
	    category, rq->id, &list, &n, e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	x->out->key_usec += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000);
	for (size_t i = 0; i < n; i++) {
		struct err je;
		if (journal_appendv(rq->j, &je, "key-destroyed", "agreement",
		    rq->a->id, "category", list[i].category, "key", list[i].id,
		    "disp", rq->id, NULL) != 0) {
			rc = err_set(e, "%s", je.msg);
			break;
		}
		x->out->keys++;
		if (list[i].sealed_after[0] != '\0' &&
		    strcmp(list[i].sealed_after, x->out->key_sealed_after) > 0)
			snprintf(x->out->key_sealed_after,
			    sizeof(x->out->key_sealed_after), "%s",
			    list[i].sealed_after);
	}
	if (rc == 0 && n > 0) {
		/* Verify the erase: read the keystore back as unseal would;
		 * every destroyed key must be a tombstone, never live. */
		struct keystore ks;
		memset(&ks, 0, sizeof(ks));
		if (keystore_open(rq->cfg->state_dir, rq->cfg->kek, KS_READ,
		    &ks, e) != 0)
			rc = -1;
		for (size_t i = 0; rc == 0 && i < n; i++) {
			const struct ks_entry *k = keystore_find(&ks, list[i].id);
			if (k == NULL || !k->destroyed)
				rc = err_set(e, "key %s is still live after "
				    "its destruction", list[i].id);
		}
		if (rc == 0 || ks.path != NULL)
			keystore_close(&ks);
	}
	if (n > 0)
		x->out->techniques |= DT_CRYPTO;
	/* rc != 0 with n > 0: the new keystore is committed, but the old
	 * keystore or KEK is not yet overwritten, and together they still
	 * hold the key.  Not erased yet: the disposition fails, and the next
	 * run's keystore open finishes the job before it is certified. */
	free(list);
	return rc;
}

/* Crypto-shred (SPEC §7): destroy the keys, then the ciphertext names.
 * A disposition of the whole agreement destroys every key it has, so the
 * copies no locator can reach (backups, tapes) go too; a partial one
 * destroys the keys of the sealed files it found.  Returns -1 only when
 * the journal failed. */
static int
shred_sealed(struct dctx *x, struct item *v, size_t n)
{
	const struct dispose_req *rq = x->rq;
	char path[4200];
	struct stat st;
	struct err e;
	int any = 0;

	for (size_t i = 0; i < n; i++)
		any |= v[i].done == 2;
	if (snprintf(path, sizeof(path), "%s/keys/keystore",
	    rq->cfg->state_dir) >= (int)sizeof(path))
		return 0;
	if (lstat(path, &st) != 0) {
		/* Nothing was ever sealed here: no keys to destroy. */
		for (size_t i = 0; i < n; i++)
			if (v[i].done == 2) {
				v[i].done = 0;
				exception(x, "a sealed file of dataset %s has no "
				    "key in this host's keystore",
				    rq->a->ds[v[i].ds].name);
			}
		return 0;
	}
	e.msg[0] = '\0';
	if (covers_agreement(rq)) {
		if (destroy_keys(x, NULL, &e) != 0)
			goto failed;
	} else {
		struct keystore ks;
		char done[64][48];
		size_t ndone = 0;

		memset(&ks, 0, sizeof(ks));
		if (any && keystore_open(rq->cfg->state_dir, rq->cfg->kek,
		    KS_READ, &ks, &e) != 0)
			goto failed;
		for (size_t i = 0; i < n && any; i++) {
			const struct ks_entry *k;
			char cat[48];
			size_t d;
			if (v[i].done != 2)
				continue;
			k = keystore_find(&ks, v[i].keyid);
			if (k == NULL) {
				v[i].done = 0;
				exception(x, "a sealed file of dataset %s names a "
				    "key this keystore does not have",
				    rq->a->ds[v[i].ds].name);
				continue;
			}
			if (strcmp(k->agreement, rq->a->id) != 0) {
				v[i].done = 0;
				diag_add(x->problems, rq->a->ds[v[i].ds].name, 0,
				    "a sealed file is under agreement %s's key "
				    "%s, not %s's: refused", k->agreement, k->id,
				    rq->a->id);
				exception(x, "a sealed file of dataset %s is "
				    "sealed under another agreement's key",
				    rq->a->ds[v[i].ds].name);
				continue;
			}
			snprintf(cat, sizeof(cat), "%s", k->category);
			if (!key_only_in_disposition(rq, cat)) {
				v[i].done = 0;
				diag_add(x->problems, rq->a->ds[v[i].ds].name, 0,
				    "sealed under key %s (category %s), which "
				    "also seals data outside this disposition "
				    "(another dataset or category, or a held "
				    "one): destroying it would destroy that too; "
				    "refused.  Seal each category under its own "
				    "key (lethe seal --category)", k->id, cat);
				exception(x, "a sealed file of dataset %s is "
				    "under a key shared with data outside the "
				    "disposition", rq->a->ds[v[i].ds].name);
				continue;
			}
			for (d = 0; d < ndone; d++)
				if (strcmp(done[d], cat) == 0)
					break;
			if (d < ndone || k->destroyed)
				continue;
			if (ndone < 64)
				snprintf(done[ndone++], sizeof(done[0]), "%s",
				    cat);
		}
		if (any)
			keystore_close(&ks);
		for (size_t d = 0; d < ndone; d++)
			if (destroy_keys(x, done[d], &e) != 0)
				goto failed;
	}
	/* The keys are gone: the ciphertext is noise; remove its names. */
	for (size_t i = 0; i < n; i++) {
		char label[4200];
		if (v[i].done != 2)
			continue;
		label_of(x, &v[i].f, label, sizeof(label));
		if (remove_name(x, &v[i], (uint64_t)v[i].f.size, &e) != 0) {
			diag_add(x->problems, label, 0, "%s", e.msg);
			exception(x, "a ciphertext name of dataset %s could not "
			    "be removed", rq->a->ds[v[i].ds].name);
			v[i].done = 0;
			continue;
		}
		x->out->sealed_files++;
	}
	return 0;
failed:
	diag_add(x->problems, rq->a->id, 0, "crypto-shred: %s", e.msg);
	exception(x, "crypto-shred of agreement %s failed: %s", rq->a->id,
	    e.msg);
	for (size_t i = 0; i < n; i++)
		if (v[i].done == 2)
			v[i].done = 0;
	return 0;
}

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
	if (x->roots[root].fd == -1 &&
	    resolve_root(c->roots[root], &x->roots[root], e) != 0)
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

/* Exhibit D transfer (SPEC §3): pack every file to be destroyed into
 * transfer_to/ID.tar.gz with a SHA-256 manifest, read it back and check
 * it; only then may anything be destroyed.  A killed run's finished archive
 * is checked again and kept.  Returns 0, or -1 with *e set (nothing was
 * destroyed). */
static int
transfer_first(struct dctx *x, struct item *v, size_t n, struct err *e)
{
	struct transfer_file *tf = NULL;
	struct transfer_result tr;
	int *dirs = NULL, todir = -1, rc = -1;
	size_t nt = 0, ndirs = 0;
	rlim_t maxfd = 1024;
	char name[200];

	if (snprintf(name, sizeof(name), "%s.tar.gz", x->rq->id) >=
	    (int)sizeof(name))
		return err_set(e, "transfer: id too long");
	todir = open_transfer_dir(x, x->rq->transfer_to, e);
	if (todir < 0)
		return -1;
	memset(&tr, 0, sizeof(tr));
	if (x->rq->resume && faccessat(todir, name, F_OK,
	    AT_SYMLINK_NOFOLLOW) == 0) {
		if (transfer_check(todir, name, x->rq->transfer_to, &tr, e) != 0)
			goto out;
		goto done;
	}
	{
		struct rlimit rl;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
			(void)getrlimit(RLIMIT_NOFILE, &rl);
			maxfd = rl.rlim_cur;
		}
	}
	tf = calloc(n + 1, sizeof(*tf));
	dirs = calloc(n + 1, sizeof(*dirs));
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
			label_of(x, &v[i].f, label, sizeof(label));
			err_set(e, "transfer: a file of dataset %s is sealed; "
			    "unseal it for the LEA or use a destroy directive",
			    x->rq->a->ds[v[i].ds].name);
			diag_add(x->problems, label, 0, "sealed: not transferred");
			goto out;
		}
		dirfd = open_parent(x, v[i].f.root, v[i].f.rel, &base, e);
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
			/* One descriptor per file is open while packing. */
			err_set(e, "transfer: %zu files exceed the open-file "
			    "limit (%zu); raise `ulimit -n`; nothing destroyed",
			    n, (size_t)maxfd);
			goto out;
		}
	}
	if (transfer_pack(todir, name, x->rq->transfer_to, tf, nt, &tr,
	    e) != 0)
		goto out;
done:
	x->out->transferred = tr.files;
	hex(tr.sha256, x->out->transfer_sha256);
	{
		struct err je;
		char files[24];
		snprintf(files, sizeof(files), "%" PRIu64, tr.files);
		if (journal_appendv(x->rq->j, &je, "transfer-complete", "disp",
		    x->rq->id, "files", files, "sha256",
		    x->out->transfer_sha256, NULL) != 0) {
			err_set(e, "%s", je.msg);
			goto out;
		}
	}
	rc = 0;
out:
	for (size_t i = 0; i < ndirs; i++)
		close(dirs[i]);
	free(dirs);
	free(tf);
	if (todir != -1)
		close(todir);
	return rc;
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
		label_of(x, &it->f, label, sizeof(label));
		e.msg[0] = '\0';
		if (it->f.kind == FOUND_SYMLINK || it->f.kind == FOUND_OTHER) {
			if (remove_name(x, it, 0, &e) != 0)
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
			exception(x, "a file of dataset %s was not sealed "
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
					exception(x, "a file of dataset %s "
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
					if (remove_name(x, &v[j], 0, &e) != 0)
						goto failed;
					v[j].done = 1;
					x->out->links++;
				}
		}
		continue;
failed:
		diag_add(x->problems, label, 0, "%s", e.msg);
		exception(x, "a file of dataset %s could not be destroyed",
		    a->ds[it->ds].name);
		if (x->rq->j->fd == -1) {
			rc = -1;
			break;
		}
	}
	/* Keys last: every ciphertext name was found first, so a failure to
	 * destroy a key leaves the data sealed and recorded, never orphaned. */
	if (shred_sealed(x, v, n) != 0)
		rc = -1;
	return rc;
}

/* A removed member's manifest row, held back until the new archive is
 * checked and about to replace the old one (archive.h on_commit).  Its
 * path is ARCHIVE//MEMBER: "//" never occurs in a resolved path. */
static int
on_member(const struct archive_member *m, void *arg)
{
	struct dctx *x = arg;
	char sha[65], *label = NULL;
	struct err e;
	int rc;

	if (m->kind == 'f' || m->kind == 'h')
		hex(m->sha256, sha);
	else
		snprintf(sha, sizeof(sha), "-");
	if (asprintf(&label, "%s//%s", x->archive, m->path) < 0)
		return -1;
	rc = cert_manifest_add(&x->pend, label, m->size, sha, &e);
	free(label);
	return rc;
}

/* The new archive is good: make the rows durable before the swap. */
static int
on_commit(void *arg)
{
	struct dctx *x = arg;
	size_t hdr = strlen(CERT_MANIFEST_HEADER);
	ssize_t w;

	if (x->pend.len <= hdr)
		return 0;
	w = write(x->manfd, x->pend.text + hdr, x->pend.len - hdr);
	if (w < 0 || (size_t)w != x->pend.len - hdr || fdatasync(x->manfd) != 0)
		return -1;
	return 0;
}

/* Rewrites each matching archive without the district's members. */
static void
do_archives(struct dctx *x)
{
	const struct config *c = x->rq->cfg;
	const struct agreement *a = x->rq->a;

	for (size_t i = 0; i < x->rq->nds; i++) {
		const struct dataset *d = &a->ds[x->rq->ds[i]];
		struct foundlist fl = { 0 };
		struct err e;

		if (d->archive == NULL)
			continue;
		if (locate((const char *const *)c->roots, c->nroots, d->archive,
		    &fl, &e) != 0) {
			diag_add(x->problems, d->name, 0, "%s", e.msg);
			exception(x, "dataset %s: archives could not be located",
			    d->name);
			continue;
		}
		for (size_t k = 0; k < fl.n; k++) {
			struct archive_opts ao;
			struct archive_result ar;
			char label[4200];
			const char *base;
			int dirfd, rc;

			label_of(x, &fl.v[k], label, sizeof(label));
			if (fl.v[k].kind != FOUND_FILE)
				continue;
			if ((dirfd = open_parent(x, fl.v[k].root, fl.v[k].rel, &base, &e)) < 0) {
				diag_add(x->problems, label, 0, "%s", e.msg);
				exception(x, "an archive of dataset %s could "
				    "not be opened", d->name);
				continue;
			}
			memset(&ao, 0, sizeof(ao));
			ao.pattern = dataset_pattern(a, d);
			ao.verify = dataset_verify(a, d);
			ao.on_member = on_member;
			ao.on_commit = on_commit;
			ao.arg = x;
			x->archive = label;
			if (cert_manifest_init(&x->pend, &e) != 0) {
				close(dirfd);
				continue;
			}
			memset(&ar, 0, sizeof(ar));
			rc = archive_remove_members(dirfd, base, label,
			    d->members, &ao, &ar, &e);
			if (rc == 0 && ar.members_removed > 0) {
				struct dispose_media *m;
				x->out->archives++;
				x->out->members += ar.members_removed;
				x->out->member_bytes += ar.bytes_removed;
				x->out->techniques |= DT_ARCHIVE;
				x->out->verified_bytes += ar.old.verified;
				m = media_for(x, dirfd, d->name, &e);
				(void)m;
			} else if (rc == ARCHIVE_IS_SEALED &&
			    covers_agreement(x->rq)) {
				/* Not opened: every key of the agreement was
				 * destroyed above, which is what erases it. */
			} else if (rc == ARCHIVE_IS_SEALED) {
				diag_add(x->problems, label, 0, "sealed archive: "
				    "only a disposition of the whole agreement "
				    "(its keys) can destroy it; not opened");
				exception(x, "a sealed archive of dataset %s "
				    "needs crypto-shred of the whole agreement",
				    d->name);
			} else if (rc != 0) {
				diag_add(x->problems, label, 0, "%s", e.msg);
				exception(x, "an archive of dataset %s was "
				    "refused or failed", d->name);
			}
			cert_manifest_free(&x->pend);
			close(dirfd);
		}
		foundlist_free(&fl);
	}
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
			if ((dirfd = open_parent(x, fl.v[k].root, fl.v[k].rel, &base, &e)) < 0) {
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
			exception(x, "the %s journal purge failed", m->m.fstype);
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
		(void)media_for(x, x->roots[r].fd, d->name, &e);
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
		if (journal_read(rq->cfg->state_dir, resume_scan, &x, e) != 0)
			goto out;
		/* Files a killed run left under their random names. */
		(void)names_each(&x, finish_renamed);
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
		exception(&x, "%zu filesystem%s mounted inside a dataset could "
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
		if (transfer_first(&x, v, n, e) != 0)
			goto out;	/* nothing destroyed without the copy */
		out->techniques |= DT_TRANSFER;
	}
	if (do_items(&x, v, n) != 0) {
		err_set(e, "the journal could not be written; stopped");
		goto out;
	}
	do_archives(&x);
	remove_empty_dirs(&x, v, n);
	purge_journals(&x);
	/* Totals of overwritten files over every run of this disposition. */
	out->files = out->bytes = out->verified_bytes = out->digests_missing = 0;
	if (seen_reset(x.seq) != 0) {
		err_set(e, "out of memory");
		goto out;
	}
	(void)names_each(&x, count_name);
	free(fin_seen);
	fin_seen = NULL;
	if (finalize_manifest(&x, e) != 0)
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
				label_of(&x, &v[i].f, label, sizeof(label));
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
			if ((dirfd = open_parent(&x, fl.v[k].root, fl.v[k].rel, &base, e)) < 0)
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
