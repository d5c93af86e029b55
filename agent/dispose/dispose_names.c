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

#include "base/err.h"
#include "base/strbuf.h"
#include "certify/cert.h"
#include "certify/manifest.h"
#include "conf/config.h"
#include "conf/policy.h"
#include "plan/reappear.h"
#include "state/durable.h"

#include <openssl/crypto.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

	dctx_enc_parent(it->f.rel, parent, sizeof(parent));
	dctx_enc(newname, nm, sizeof(nm));
	dctx_enc(slash ? slash + 1 : it->f.rel, orig, sizeof(orig));
	dctx_enc(label, lab, sizeof(lab));
	strbuf_printf(b, "%" PRIu64 "\t%zu\t%d\t%s\t%s\t%" PRIu64 "\t%s\t%"
	    PRIu64 "\t%s\t%s\t%" PRIu64 "\n", n, it->ds, it->f.root, parent,
	    nm, size, sha, res->verified, orig, lab, res->overwritten);
}

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
	if (dctx_u64(f[0], &l->n) || dctx_u64(f[1], &x) ||
	    dctx_u64(f[2], &r) || dctx_u64(f[5], &l->size) ||
	    dctx_u64(f[7], &l->verified) || (k == 11 &&
	    dctx_u64(f[10], &l->overwritten)) || r > INT_MAX)
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
	dctx_dec(l->parent);
	dctx_dec(l->name);
	dctx_dec(l->orig);
	dctx_dec(l->label);
	return 0;
}

int
dispose_names_each(struct dctx *x,
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
	struct intent *in = dispose_intents_num(x, l->n);
	struct stat st;
	struct err e;
	int dirfd;

	(void)arg;
	if (in == NULL || l->root < 0 || (size_t)l->root >= x->rq->cfg->nroots)
		return;
	if (dctx_root(x, l->root, &e) < 0)
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
 * special files, sealed files), the committed archives' member rows
 * (dispose_archive_rows) and the tallied rows of the overwritten files.
 * Rewritten whole each time: idempotent on resume. */
static int
write_final_manifest(struct dctx *x, const struct cert_manifest *m,
    struct err *e)
{
	char path[4200], *text = NULL, *all;
	size_t len = 0, hdr = strlen(CERT_MANIFEST_HEADER), tl = m->len - hdr;
	struct strbuf arows = { 0 };
	int rc;

	if (dispose_archive_rows(x, &arows, e) != 0) {
		strbuf_free(&arows);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/manifest", x->workdir);
	if (slurp(path, SIZE_MAX / 4, &text, &len, e) != 0) {
		strbuf_free(&arows);
		return -1;
	}
	all = malloc(len + arows.len + tl + 1);
	if (all == NULL) {
		OPENSSL_cleanse(text, len);
		free(text);
		if (arows.p != NULL)
			OPENSSL_cleanse(arows.p, arows.len);
		strbuf_free(&arows);
		return err_set(e, "out of memory");
	}
	memcpy(all, text, len);
	if (arows.len > 0)
		memcpy(all + len, arows.p, arows.len);
	memcpy(all + len + arows.len, m->text + hdr, tl);
	OPENSSL_cleanse(text, len);
	free(text);
	snprintf(path, sizeof(path), "%s/manifest.final", x->workdir);
	rc = durable_write(path, all, len + arows.len + tl, 0600, e);
	OPENSSL_cleanse(all, len + arows.len + tl);
	free(all);
	if (arows.p != NULL)
		OPENSSL_cleanse(arows.p, arows.len);
	strbuf_free(&arows);
	if (rc == 0 && snprintf(x->out->manifest_path,
	    sizeof(x->out->manifest_path), "%s", path) >=
	    (int)sizeof(x->out->manifest_path))
		rc = err_set(e, "%s: path too long", path);
	return rc;
}

/* Recounts the names removed without overwrite over every run of this
 * disposition, from work/ID/removed (a record from before that file:
 * this run's counts stay). */
static int
recount_removed(struct dctx *x, struct err *e)
{
	struct dispose_out *o = x->out;
	char path[4200], *text = NULL;
	size_t len = 0;
	struct stat st;

	if (x->remfd != -1 && fdatasync(x->remfd) != 0)
		return err_sys(e, "%s/removed: fdatasync", x->workdir);
	snprintf(path, sizeof(path), "%s/removed", x->workdir);
	if (lstat(path, &st) != 0 || st.st_size == 0)
		return 0;
	if (slurp(path, SIZE_MAX / 4, &text, &len, e) != 0)
		return -1;
	o->links = o->specials = o->sealed_files = o->sealed_clean = 0;
	o->sealed_cleared = o->sealed_kept = 0;
	for (char *p = text, *nl; p < text + len &&
	    (nl = memchr(p, '\n', (size_t)(text + len - p))) != NULL;
	    p = nl + 1) {
		*nl = '\0';
		dctx_kind_count(o, p);
	}
	free(text);
	return 0;
}

void
dispose_names_resume(struct dctx *x)
{
	(void)dispose_names_each(x, finish_renamed, NULL);
}

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
	if (dispose_names_each(x, tally_line, &t) != 0 || t.bad) {
		err_set(e, "%s/names: cannot read back", x->workdir);
		goto out;
	}
	rc = recount_removed(x, e) == 0 ? write_final_manifest(x, &t.m, e) :
	    -1;
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
