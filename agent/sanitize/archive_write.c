/*
 * archive_write.c: pass 2 over a tar or cpio archive (archive_int.h).
 *
 * The new stream is the old decompressed stream with the removed
 * members' bytes cut out, byte for byte otherwise: every kept member keeps
 * its headers exactly (pax records, xattrs, GNU sparse maps, pre-1970 and
 * far-future times, crc checksums), and so do the regions between members
 * and the end marker.  Then it is compressed again with the same filter;
 * a gzip file keeps its members (one new member per old one, over the
 * same part of the stream) and each member's original header (name, time,
 * flags).  The only bytes lethe writes itself are the kept hard links
 * whose target was removed (archive_plan.c), encoded by libarchive as
 * pax (which any tar reader takes, and which holds every time and xattr
 * of the link entry), and zero padding back to the original record size.
 */
#include "sanitize/archive_int.h"

#include "base/err.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

struct wst {
	struct aplan *p;
	struct cwriter cw;
	struct sink *k;
	EVP_MD_CTX *emd;	/* of the decompressed bytes written */
	uint64_t emitted;
	size_t gi;		/* current gzip member */
	unsigned char *gzhdr;
	int oldfd;
	uint64_t oldsize;
	struct actx *c;
};

static int
emit(struct wst *w, const void *p, size_t n)
{
	EVP_DigestUpdate(w->emd, p, n);
	w->emitted += n;
	return cw_write(&w->cw, p, n, w->c);
}

static int
start_member(struct wst *w, size_t gi)
{
	char why[256];
	size_t hl;

	free(w->gzhdr);
	w->gzhdr = NULL;
	if (w->p->ngzm == 0)
		return cw_open(&w->cw, w->k, w->p->filter, w->p->level, w->c);
	if (gz_header(w->oldfd, w->p->gzm[gi].raw_off, w->oldsize, &w->gzhdr,
	    &hl, why, sizeof(why)) != 0)
		return err_set(w->c->e, "%s: %s; refused, archive untouched",
		    w->c->label, why);
	/* libarchive writes a plain 10-byte header; the sink puts the old
	 * member's header in its place. */
	w->k->hdr = w->gzhdr;
	w->k->hdrlen = hl;
	w->k->skip = sizeof(w->k->dropped);
	w->gi = gi;
	return cw_open(&w->cw, w->k, w->p->filter, w->p->gzm[gi].level, w->c);
}

/* libarchive's output for one synthesized entry, without the 1024 zero
 * bytes of the end marker that closing the writer adds. */
struct hold {
	struct wst *w;
	unsigned char buf[1024];
	size_t n;
	int fail;
};

static la_ssize_t
hold_write(struct archive *a, void *arg, const void *data, size_t len)
{
	struct hold *h = arg;
	const unsigned char *p = data;
	size_t total = h->n + len, out = total > 1024 ? total - 1024 : 0;
	size_t from_buf = out < h->n ? out : h->n;

	(void)a;
	if (from_buf > 0 && emit(h->w, h->buf, from_buf) != 0)
		goto fail;
	if (out > from_buf && emit(h->w, p, out - from_buf) != 0)
		goto fail;
	/* Keep the last bytes: the rest of buf, then the rest of p. */
	memmove(h->buf, h->buf + from_buf, h->n - from_buf);
	h->n -= from_buf;
	memcpy(h->buf + h->n, p + (out - from_buf), len - (out - from_buf));
	h->n += len - (out - from_buf);
	return (la_ssize_t)len;
fail:
	h->fail = 1;
	return -1;
}

/* Opens the old archive at member idx; *ent is valid until fr_close. */
static int
seek_member(struct wst *w, struct freader *f, uint64_t idx,
    struct archive_entry **ent)
{
	struct unit u;
	uint64_t n;

	if (fr_open(f, w->oldfd, w->oldsize, 0, w->c) != 0)
		return -1;
	for (uint64_t i = 0;; i++) {
		int r = fr_next(f, ent, &u, i, w->c);
		if (r <= 0)
			return r < 0 ? -1 : err_set(w->c->e, "%s: member #%ju "
			    "is gone; the archive changed while being "
			    "rewritten", w->c->label, (uintmax_t)idx + 1);
		if (i == idx)
			return 0;
		if (copy_content(f->rd, NULL, NULL, 0, &n, w->c, i) != 0)
			return -1;
	}
}

/* xattrs read from both SCHILY.xattr and LIBARCHIVE.xattr records come
 * back twice; write each once. */
static void
xattrs_once(struct archive_entry *e)
{
	struct archive_entry *t = archive_entry_new();
	const char *name;
	const void *val;
	size_t sz;

	if (t == NULL || archive_entry_xattr_reset(e) == 0) {
		archive_entry_free(t);
		return;
	}
	while (archive_entry_xattr_next(e, &name, &val, &sz) == ARCHIVE_OK) {
		const char *n2;
		const void *v2;
		size_t s2;
		int dup = 0;
		archive_entry_xattr_reset(t);
		while (!dup && archive_entry_xattr_next(t, &n2, &v2, &s2) ==
		    ARCHIVE_OK)
			dup = strcmp(n2, name) == 0;
		if (!dup)
			archive_entry_xattr_add_entry(t, name, val, sz);
	}
	archive_entry_xattr_clear(e);
	archive_entry_xattr_reset(t);
	while (archive_entry_xattr_next(t, &name, &val, &sz) == ARCHIVE_OK)
		archive_entry_xattr_add_entry(e, name, val, sz);
	archive_entry_free(t);
}

static int
synthesize(struct wst *w, struct mat *m)
{
	struct freader fl, ft;
	struct archive_entry *le, *te, *e = NULL;
	struct archive *wr = NULL;
	struct hold h = { .w = w };
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	char eb[256];
	int rc = -1, r;

	memset(&fl, 0, sizeof(fl));
	memset(&ft, 0, sizeof(ft));
	if (md == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
	    seek_member(w, &fl, m->link_idx, &le) != 0)
		goto out;
	e = archive_entry_clone(le);
	if (e == NULL)
		goto out;
	xattrs_once(e);
	archive_entry_set_hardlink(e, NULL);
	archive_entry_sparse_clear(e);
	if (m->relink != NULL) {
		archive_entry_set_hardlink(e, m->relink);
		archive_entry_set_size(e, 0);
	} else {
		if (seek_member(w, &ft, m->target_idx, &te) != 0)
			goto out;
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_size(e, archive_entry_size(te));
	}
	wr = archive_write_new();
	if (wr == NULL || archive_write_set_format_pax(wr) !=
	    ARCHIVE_OK || archive_write_set_bytes_per_block(wr, 0) !=
	    ARCHIVE_OK || archive_write_open2(wr, &h, NULL, hold_write, NULL,
	    NULL) != ARCHIVE_OK || archive_write_header(wr, e) != ARCHIVE_OK)
		goto werr;
	if (m->relink == NULL) {
		r = copy_content(ft.rd, wr, md, 0, &m->size, w->c, m->target_idx);
		if (r == -2)
			goto werr;
		if (r != 0)
			goto out;
	}
	EVP_DigestFinal_ex(md, m->sha, NULL);
	if (archive_write_close(wr) != ARCHIVE_OK || h.fail)
		goto werr;
	for (size_t i = 0; i < h.n; i++)
		if (h.buf[i] != 0 || h.n != 1024) {
			err_set(w->c->e, "%s: libarchive's tar writer did not end "
			    "as expected; the archive is unchanged",
			    w->c->label);
			goto out;
		}
	rc = 0;
	goto out;
werr:
	if (!h.fail)
		err_set(w->c->e, "%s: writing kept member #%ju as a file "
		    "failed: %s; the archive is unchanged", w->c->label,
		    (uintmax_t)m->link_idx + 1, wr != NULL ?
		    aerr(wr, eb, sizeof(eb)) : "out of memory");
out:
	if (wr != NULL)
		archive_write_free(wr);
	archive_entry_free(e);
	fr_close(&fl);
	fr_close(&ft);
	EVP_MD_CTX_free(md);
	return rc;
}

/* Copies [pos, pos + n) of the old stream, minus the cuts; returns the
 * bytes consumed from b, or -1. */
struct cursor {
	uint64_t pos;
	size_t ci, mi;
};

static int
advance(struct wst *w, struct cursor *at, const unsigned char *b, size_t n)
{
	struct aplan *p = w->p;

	while (n > 0) {
		if (p->ngzm > 1 && w->gi + 1 < p->ngzm &&
		    at->pos == p->gzm[w->gi + 1].dec_off) {
			if (cw_close(&w->cw, w->c) != 0 ||
			    start_member(w, w->gi + 1) != 0)
				return -1;
		}
		if (at->mi < p->nmat && at->pos == p->mat[at->mi].start &&
		    synthesize(w, &p->mat[at->mi++]) != 0)
			return -1;
		uint64_t lim = at->pos + n;
		if (p->ngzm > 1 && w->gi + 1 < p->ngzm &&
		    p->gzm[w->gi + 1].dec_off < lim)
			lim = p->gzm[w->gi + 1].dec_off;
		if (at->mi < p->nmat && p->mat[at->mi].start > at->pos &&
		    p->mat[at->mi].start < lim)
			lim = p->mat[at->mi].start;
		int in_cut = at->ci < p->ncut && at->pos >= p->cuts[at->ci].start;
		if (in_cut && p->cuts[at->ci].end < lim)
			lim = p->cuts[at->ci].end;
		if (!in_cut && at->ci < p->ncut && p->cuts[at->ci].start < lim)
			lim = p->cuts[at->ci].start;
		size_t len = (size_t)(lim - at->pos);
		if (!in_cut && emit(w, b, len) != 0)
			return -1;
		b += len;
		n -= len;
		at->pos = lim;
		if (in_cut && at->pos == p->cuts[at->ci].end)
			at->ci++;
	}
	return 0;
}

static int
pad_raw(struct wst *w)
{
	static const unsigned char zeros[4096];
	uint64_t b = w->oldsize % 10240 == 0 ? 10240 : w->oldsize % 512 == 0 ?
	    512 : 0, want;

	if (w->p->raw_zero_tail == 0)
		return 0;
	want = b ? (b - w->k->bytes % b) % b : w->p->raw_zero_tail;
	w->k->skip = 0;
	while (want > 0) {
		size_t n = want < sizeof(zeros) ? (size_t)want : sizeof(zeros);
		if (sink_put(w->k, zeros, n) != 0)
			return err_set(w->c->e, "%s: writing the new archive "
			    "failed: %s; the archive is unchanged", w->c->label,
			    strerror(w->k->err));
		want -= n;
	}
	return 0;
}

int
write_stream(int oldfd, uint64_t oldsize, struct aplan *p, struct sink *k,
    unsigned char emitted[32], struct actx *c)
{
	static const unsigned char zeros[10240];
	struct wst w = { .p = p, .k = k, .oldfd = oldfd, .oldsize = oldsize,
	    .c = c };
	struct dstream d;
	struct cursor at = { 0 };
	const void *buf;
	size_t n;
	int rc = -1, r;

	memset(&d, 0, sizeof(d));
	w.emd = EVP_MD_CTX_new();
	if (w.emd == NULL || !EVP_DigestInit_ex(w.emd, EVP_sha256(), NULL)) {
		err_set(c->e, "%s: out of memory", c->label);
		goto out;
	}
	/* Pass 1 checked the gzip members.  A change of the file since then
	 * shows in its size and mtime (archive_swap.c), and in any kept
	 * member in pass 3, which compares them with pass 1's. */
	if (ds_open(&d, oldfd, oldsize, 0, c) != 0 ||
	    start_member(&w, 0) != 0)
		goto out;
	while ((r = ds_read(&d, &buf, &n)) > 0)
		if (advance(&w, &at, buf, n) != 0)
			goto out;
	if (r < 0) {
		err_set(c->e, "%s: %s; the archive is unchanged", c->label,
		    d.why);
		goto out;
	}
	if (p->block > 0 && w.emitted % p->block != 0 &&
	    emit(&w, zeros, (size_t)(p->block - w.emitted % p->block)) != 0)
		goto out;
	/* Empty gzip members at the very end. */
	while (p->ngzm > 1 && w.gi + 1 < p->ngzm)
		if (cw_close(&w.cw, c) != 0 || start_member(&w, w.gi + 1) != 0)
			goto out;
	if (ds_finish(&d, NULL) != 0)
		goto out;
	if (at.pos != p->dlen || at.ci != p->ncut || at.mi != p->nmat) {
		err_set(c->e, "%s: changed while being rewritten; the archive "
		    "is unchanged", c->label);
		goto out;
	}
	if (cw_close(&w.cw, c) != 0 || pad_raw(&w) != 0)
		goto out;
	EVP_DigestFinal_ex(w.emd, emitted, NULL);
	rc = 0;
out:
	cw_abort(&w.cw);
	free(w.gzhdr);
	ds_close(&d);
	EVP_MD_CTX_free(w.emd);
	return rc;
}
