/*
 * archive_scan.c: pass 1 over a tar or cpio archive (archive_int.h).
 *
 * libarchive reads the members (names, kinds, content) while the walker
 * watches the same bytes and says where each member lies.  They must
 * agree member by member: where libarchive says a header begins is where
 * the walker says the previous member ended.  The pass ends only when
 * every byte of the file is accounted for: members, the kept regions
 * between them, the end marker and padding, and (compressed) every raw
 * byte consumed and every gzip checksum matched.
 *
 * MUST rules: a member whose name cannot be read or is ambiguous
 * (archive_name.c), an encrypted member, a warning from libarchive, a
 * cpio link set split by the glob, a kept GNU directory listing naming
 * removed members, and any disagreement with the walker refuse the
 * archive; nothing is written by this pass.
 */
#include "sanitize/archive_int.h"
#include "sanitize/archive.h"

#include "base/array.h"
#include "base/err.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- member helpers ---- */

char
entry_kind(struct archive_entry *ent)
{
	if (archive_entry_hardlink(ent) != NULL)
		return 'h';
	switch (archive_entry_filetype(ent)) {
	case AE_IFREG: return 'f';
	case AE_IFLNK: return 'l';
	case AE_IFDIR: return 'd';
	default: return 'o';
	}
}

int
is_tar_format(int fmt)
{
	return (fmt & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_TAR;
}

int64_t
sparse_end(struct archive_entry *ent)
{
	if (archive_entry_filetype(ent) != AE_IFREG ||
	    archive_entry_sparse_count(ent) == 0)
		return 0;
	return archive_entry_size(ent);
}

/* n bytes of a member's content: hashed into md, written to w (each when
 * set).  0, or -1 when w failed. */
static int
put(struct archive *w, EVP_MD_CTX *md, const void *p, size_t n)
{
	la_ssize_t r = w != NULL ? archive_write_data(w, p, n) : (la_ssize_t)n;

	if (md != NULL)
		EVP_DigestUpdate(md, p, n);
	return r < 0 || (size_t)r != n ? -1 : 0;
}

/* n zero bytes: a hole of a sparse member, as its readers see it. */
static int
put_zeros(struct archive *w, EVP_MD_CTX *md, uint64_t n)
{
	static const unsigned char zeros[65536];

	while (n > 0) {
		size_t chunk = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);
		if (put(w, md, zeros, chunk) != 0)
			return -1;
		n -= chunk;
	}
	return 0;
}

int
copy_content(struct archive *rd, struct archive *w, EVP_MD_CTX *md,
    int64_t want, uint64_t *n, struct actx *c, uint64_t idx)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int64_t pos = 0;
	char eb[256];

	for (;;) {
		int r = archive_read_data_block(rd, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK)
			return err_set(c->e, "%s: member #%ju: cannot read its "
			    "data: %s (damaged or truncated?); refused, archive "
			    "untouched", c->label, (uintmax_t)idx + 1,
			    aerr(rd, eb, sizeof(eb)));
		if (off < pos)
			return err_set(c->e, "%s: member #%ju: data out of "
			    "order", c->label, (uintmax_t)idx + 1);
		/* A hole of a sparse member, then the data itself. */
		if ((off > pos && put_zeros(w, md, (uint64_t)(off - pos)) != 0) ||
		    (len > 0 && put(w, md, buf, len) != 0))
			return -2;
		pos = off + (int64_t)len;
	}
	/* A sparse member may end in a hole. */
	if (want > pos && put_zeros(w, md, (uint64_t)(want - pos)) != 0)
		return -2;
	*n = (uint64_t)(want > pos ? want : pos);
	return 0;
}

int
digests_open(struct digests *d, struct actx *c)
{
	d->chain = EVP_MD_CTX_new();
	d->md = EVP_MD_CTX_new();
	if (d->chain == NULL || d->md == NULL ||
	    !EVP_DigestInit_ex(d->chain, EVP_sha256(), NULL))
		return err_set(c->e, "%s: out of memory", c->label);
	return 0;
}

void
digests_close(struct digests *d)
{
	EVP_MD_CTX_free(d->chain);
	EVP_MD_CTX_free(d->md);
	d->chain = d->md = NULL;
}

int
member_sha(struct digests *d, struct archive *rd, int hash, int64_t want,
    uint64_t *n, unsigned char sha[32], struct actx *c, uint64_t idx)
{
	if (hash)
		EVP_DigestInit_ex(d->md, EVP_sha256(), NULL);
	if (copy_content(rd, NULL, hash ? d->md : NULL, want, n, c, idx) != 0)
		return -1;
	if (hash)
		EVP_DigestFinal_ex(d->md, sha, NULL);
	return 0;
}

void
chain_add(EVP_MD_CTX *chain, struct archive_entry *ent, char kind,
    const char *link, uint64_t size, const unsigned char *sha)
{
	const char *p = archive_entry_pathname(ent);
	unsigned char meta[1 + 4 + 8 + 8 + 8];
	uint32_t perm = (uint32_t)(archive_entry_perm(ent) & 07777);
	int64_t mt = archive_entry_mtime(ent);
	int64_t mn = archive_entry_mtime_nsec(ent);

	if (p == NULL)
		p = "";
	EVP_DigestUpdate(chain, p, strlen(p) + 1);
	meta[0] = (unsigned char)kind;
	memcpy(meta + 1, &perm, 4);
	memcpy(meta + 5, &mt, 8);
	memcpy(meta + 13, &mn, 8);
	memcpy(meta + 21, &size, 8);
	EVP_DigestUpdate(chain, meta, sizeof(meta));
	if (link != NULL)
		EVP_DigestUpdate(chain, link, strlen(link) + 1);
	if (sha != NULL)
		EVP_DigestUpdate(chain, sha, 32);
}

int
row_add(struct aplan *p, uint64_t idx, struct archive_entry *ent, char kind,
    uint64_t size, const unsigned char *sha)
{
	const char *path = archive_entry_pathname(ent);
	struct row *r = array_grow(p->rows, p->nrow, &p->rowcap, sizeof(*r), 64);

	if (r == NULL)
		return -1;
	p->rows = r;
	r = &p->rows[p->nrow];
	memset(r, 0, sizeof(*r));
	r->idx = idx;
	r->size = size;
	r->kind = kind;
	if (sha != NULL)
		memcpy(r->sha, sha, 32);
	r->path = strdup(path != NULL ? path : "");
	if (r->path == NULL)
		return -1;
	p->nrow++;
	return 0;
}

int
rows_flush(struct aplan *p, row_fn row, void *arg, uint64_t *bad)
{
	for (size_t i = 0; i < p->nrow; i++) {
		struct row *r = &p->rows[i];
		struct archive_member m = { .path = r->path, .size = r->size,
		    .kind = r->kind };
		memcpy(m.sha256, r->sha, 32);
		if (row != NULL && row(&m, arg) != 0) {
			*bad = r->idx;
			return -1;
		}
	}
	return 0;
}

/* ---- the reader pair ---- */

static la_ssize_t
fr_read(struct archive *a, void *arg, const void **out)
{
	struct freader *f = arg;
	const void *p;
	size_t n;
	int r;

	if (!f->gave_first) {
		f->gave_first = 1;
		if (f->nfirst > 0) {
			*out = f->first;
			return (la_ssize_t)f->nfirst;
		}
	}
	r = ds_read(&f->ds, &p, &n);
	if (r < 0) {
		archive_set_error(a, EIO, "%s", f->ds.why);
		return -1;
	}
	if (r == 0)
		return 0;
	if (walk_feed(&f->wk, p, n) != 0) {
		archive_set_error(a, EINVAL, "%s", f->wk.why);
		return -1;
	}
	*out = p;
	return (la_ssize_t)n;
}

/* Reads the first 512 bytes (or all, if fewer) to learn the format. */
static int
peek(struct freader *f, struct actx *c)
{
	const void *p;
	size_t n;

	f->first = malloc(512);
	if (f->first == NULL)
		return err_set(c->e, "%s: out of memory", c->label);
	while (f->nfirst < 512) {
		int r = ds_read(&f->ds, &p, &n);
		if (r < 0)
			return err_set(c->e, "%s: %s; refused, archive "
			    "untouched", c->label, f->ds.why);
		if (r == 0)
			break;
		if (f->nfirst + n > 512) {
			/* Keep the whole block for libarchive. */
			unsigned char *b = realloc(f->first, f->nfirst + n);
			if (b == NULL)
				return err_set(c->e, "%s: out of memory",
				    c->label);
			f->first = b;
		}
		memcpy(f->first + f->nfirst, p, n);
		f->nfirst += n;
	}
	return 0;
}

int
fr_open(struct freader *f, int fd, uint64_t size, int flags, struct actx *c)
{
	char eb[256];
	int zero = 1;

	memset(f, 0, sizeof(*f));
	if (ds_open(&f->ds, fd, size, flags, c) != 0 || peek(f, c) != 0)
		return -1;
	for (size_t i = 0; i < f->nfirst && i < 512; i++)
		zero &= f->first[i] == 0;
	const char *inner;
	if (f->nfirst == 0)
		f->kind = 0;	/* an empty file: no members */
	else if (f->ds.fname != NULL &&
	    filter_detect(f->first, f->nfirst, &inner) != ARCHIVE_FILTER_NONE)
		return err_set(c->e, "%s: its %s data is itself compressed "
		    "(%s inside %s: a recursive or hostile archive); refused, "
		    "archive untouched", c->label, f->ds.fname, inner,
		    f->ds.fname);
	else if (cpio_layout(f->first, f->nfirst) != 0)
		f->kind = WK_CPIO;
	else if (f->nfirst >= 512 && (zero || tar_is_header(f->first)))
		f->kind = WK_TAR;
	else
		return err_set(c->e, "%s: not a tar, cpio or zip archive%s%s; "
		    "refused, archive untouched", c->label,
		    f->ds.fname ? " inside its " : "",
		    f->ds.fname ? f->ds.fname : "");
	if (f->kind == 0)
		return 0;
	walk_init(&f->wk, f->kind);
	if (walk_feed(&f->wk, f->first, f->nfirst) != 0)
		return err_set(c->e, "%s: %s; refused, archive untouched",
		    c->label, f->wk.why);
	f->rd = archive_read_new();
	if (f->rd == NULL)
		return err_set(c->e, "%s: out of memory", c->label);
	/* The format the walker reads, and no filter: the stream is already
	 * decompressed (archive_io.c). */
	if (f->kind == WK_TAR) {
		archive_read_support_format_tar(f->rd);
		archive_read_set_format_option(f->rd, "tar",
		    "read_concatenated_archives", "1");
	} else
		archive_read_support_format_cpio(f->rd);
	archive_read_set_read_callback(f->rd, fr_read);
	archive_read_set_callback_data(f->rd, f);
	if (archive_read_open1(f->rd) != ARCHIVE_OK)
		return err_set(c->e, "%s: %s; refused, archive untouched",
		    c->label, f->wk.failed ? f->wk.why : f->ds.why[0] ?
		    f->ds.why : aerr(f->rd, eb, sizeof(eb)));
	return 0;
}

int
fr_next(struct freader *f, struct archive_entry **ent, struct unit *u,
    uint64_t idx, struct actx *c)
{
	char eb[256];
	int r;

	if (f->kind == 0)
		return 0;
	r = archive_read_next_header(f->rd, ent);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r != ARCHIVE_OK) {
		err_set(c->e, "%s: member #%ju: %s%s; refused, archive "
		    "untouched", c->label, (uintmax_t)idx + 1,
		    aerr(f->rd, eb, sizeof(eb)), r == ARCHIVE_WARN ?
		    " (damaged?)" : "");
		return fr_explain(f, c);
	}
	if (!walk_take(&f->wk, u) ||
	    u->lead != (uint64_t)archive_read_header_position(f->rd))
		return err_set(c->e, "%s: member #%ju: libarchive and lethe's "
		    "own reading of the archive disagree on where it begins "
		    "(damaged?); refused, archive untouched", c->label,
		    (uintmax_t)idx + 1);
	if (archive_entry_is_encrypted(*ent))
		return err_set(c->e, "%s: member #%ju is encrypted; refused, "
		    "archive untouched", c->label, (uintmax_t)idx + 1);
	return 1;
}

int
fr_explain(struct freader *f, struct actx *c)
{
	/* libarchive saw the end of a stream cut short: the walker can say
	 * where and how. */
	if (!f->wk.failed && !f->ds.why[0] && f->ds.eof && f->kind != 0)
		(void)walk_end(&f->wk);
	if (f->wk.failed || f->ds.why[0])
		err_set(c->e, "%s: %s; refused, archive untouched", c->label,
		    f->wk.failed ? f->wk.why : f->ds.why);
	return -1;
}

int
fr_finish(struct freader *f, unsigned char sha[32], struct actx *c)
{
	const void *p;
	size_t n;
	struct unit u;
	int r;

	/* libarchive stops at a cpio trailer: the walker reads the rest. */
	while (f->gave_first && (r = ds_read(&f->ds, &p, &n)) != 0) {
		if (r < 0)
			return err_set(c->e, "%s: %s; refused, archive "
			    "untouched", c->label, f->ds.why);
		if (walk_feed(&f->wk, p, n) != 0)
			break;
	}
	if (f->kind != 0 && walk_end(&f->wk) != 0)
		return err_set(c->e, "%s: %s; refused, archive untouched",
		    c->label, f->wk.why);
	if (f->kind != 0 && walk_take(&f->wk, &u))
		return err_set(c->e, "%s: holds members after #%ju that "
		    "libarchive did not read (damaged?); refused, archive "
		    "untouched", c->label, (uintmax_t)f->wk.nunits);
	return ds_finish(&f->ds, sha);
}

void
fr_close(struct freader *f)
{
	if (f->rd != NULL)
		archive_read_free(f->rd);
	walk_free(&f->wk);
	ds_close(&f->ds);
	free(f->first);
	memset(f, 0, sizeof(*f));
}
