/*
 * archive_io.c: the byte streams under every pass (archive_int.h).
 *
 * MUST rules:
 *  - one layer of compression, chosen here by its magic and opened with
 *    archive_read_append_filter: libarchive never guesses filters, so a
 *    stream that decompresses to another compressed stream (a recursive
 *    gzip) is one layer deep and then "not an archive", instead of a
 *    filter chain libarchive builds without end;
 *  - only filters libarchive implements itself: never one that runs an
 *    external program (lzop, lrzip, grzip without their libraries);
 *  - the decompressed stream is bounded: AR_RATIO times the file (at
 *    least AR_RATIO_FLOOR), and at most AR_DRY_INPUT of input without any
 *    output; past a limit the read fails with a message naming it;
 *  - every raw byte of the file is accounted for: consumed by the
 *    decompressor, or zero padding after it.  Anything else is refused.
 */
#include "sanitize/archive_int.h"

#include "base/err.h"
#include "base/fdio.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *
aerr(struct archive *a, char *buf, size_t len)
{
	const char *s = a != NULL ? archive_error_string(a) : NULL;
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return "libarchive gave no reason";
	for (; *s != '\0' && n + 8 < len; s++) {
		unsigned char ch = (unsigned char)*s;
		/* A quote that opens after a word boundary and closes later
		 * may hold a member name: leave it out.  An apostrophe inside
		 * a word ("can't") is just text. */
		if ((ch == '\'' || ch == '"' || ch == '`') && (n == 0 ||
		    buf[n - 1] == ' ' || buf[n - 1] == '(' ||
		    buf[n - 1] == ':')) {
			const char *close = strchr(s + 1, ch == '`' ? '\'' : ch);
			if (close != NULL) {
				memcpy(buf + n, "'...'", 5);
				n += 5;
				s = close;
				continue;
			}
		}
		buf[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	while (n > 0 && (buf[n - 1] == '.' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return buf;
}

int
readback_fail(struct actx *c, const char *why)
{
	char detail[sizeof(c->e->msg)];
	const char *d = c->e->msg;
	size_t ll = strlen(c->label);

	if (why == NULL) {
		/* "LABEL: detail; refused, archive untouched" from a reader */
		if (strncmp(d, c->label, ll) == 0 && strncmp(d + ll, ": ", 2) == 0)
			d += ll + 2;
		snprintf(detail, sizeof(detail), "%s", d);
		char *cut = strstr(detail, "");
		if (cut != NULL)
			*cut = '\0';
		why = detail;
	}
	return err_set(c->e, "%s: the new archive does not read back as "
	    "written (%s); the archive is unchanged", c->label, why);
}

void
actx_beat(struct actx *c, uint64_t raw, uint64_t other)
{
	c->done += raw;
	c->work += raw + other;
	if (c->beat != NULL)
		c->beat(c->done, c->work, c->beat_arg);
}

static const struct {
	unsigned char magic[6];
	size_t len;
	int code;
	const char *name;
} filters[] = {
	{ { 0x1f, 0x8b, 0x08 }, 3, ARCHIVE_FILTER_GZIP, "gzip" },
	{ { 'B', 'Z', 'h' }, 3, ARCHIVE_FILTER_BZIP2, "bzip2" },
	{ { 0xfd, '7', 'z', 'X', 'Z', 0 }, 6, ARCHIVE_FILTER_XZ, "xz" },
	{ { 'L', 'Z', 'I', 'P' }, 4, ARCHIVE_FILTER_LZIP, "lzip" },
	{ { 0x28, 0xb5, 0x2f, 0xfd }, 4, ARCHIVE_FILTER_ZSTD, "zstd" },
	{ { 0x04, 0x22, 0x4d, 0x18 }, 4, ARCHIVE_FILTER_LZ4, "lz4" },
	{ { 0x1f, 0x9d }, 2, ARCHIVE_FILTER_COMPRESS, "compress" },
	{ { 0x5d, 0, 0 }, 3, ARCHIVE_FILTER_LZMA, "lzma" },
	/* Read by libarchive only through external programs, or written
	 * back only in another variant: refused. */
	{ { 0x89, 'L', 'Z', 'O' }, 4, -1, "lzop" },
	{ { 'L', 'R', 'Z', 'I' }, 4, -1, "lrzip" },
	{ { 'G', 'R', 'Z', 'i' }, 4, -1, "grzip" },
	{ { 0x02, 0x21, 0x4c, 0x18 }, 4, -1, "legacy lz4" },
	{ { 0x1f, 0x8b }, 2, -1, "gzip with an unknown method" },
	{ { 0x1f, 0xa0 }, 2, -1, "SCO lzh" },
	{ { 'b', 'e', 'g', 'i', 'n', ' ' }, 6, -1, "uuencode" },
	{ { 0xed, 0xab, 0xee, 0xdb }, 4, -1, "rpm" },
};

int
filter_detect(const unsigned char *buf, size_t len, const char **name)
{
	*name = NULL;
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		if (len >= filters[i].len &&
		    memcmp(buf, filters[i].magic, filters[i].len) == 0) {
			*name = filters[i].name;
			return filters[i].code;
		}
	return ARCHIVE_FILTER_NONE;
}

/* ---- the decompressed stream ---- */

static la_ssize_t
raw_read(struct archive *a, void *arg, const void **out)
{
	struct dstream *d = arg;
	ssize_t n;

	if (d->dry > AR_DRY_INPUT) {
		snprintf(d->why, sizeof(d->why), "%llu MiB of %s input give "
		    "no output (hostile or damaged)",
		    (unsigned long long)(AR_DRY_INPUT >> 20), d->fname);
		archive_set_error(a, EFBIG, "%s", d->why);
		return -1;
	}
	do
		n = pread(d->fd, d->buf, IOBUF, (off_t)d->roff);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		snprintf(d->why, sizeof(d->why), "read: %s", strerror(errno));
		archive_set_error(a, errno, "%s", d->why);
		return -1;
	}
	if (d->gz != NULL)
		gz_raw(d->gz, d->roff, d->buf, (size_t)n);
	d->roff += (uint64_t)n;
	d->dry += (uint64_t)n;
	actx_beat(d->c, (uint64_t)n, 0);
	*out = d->buf;
	return n;
}

int
ds_open(struct dstream *d, int fd, uint64_t size, int flags, struct actx *c)
{
	unsigned char magic[8] = { 0 };
	ssize_t got;

	memset(d, 0, sizeof(*d));
	d->fd = fd;
	d->size = size;
	d->c = c;
	d->limit = size > AR_RATIO_FLOOR / AR_RATIO ? size * AR_RATIO :
	    AR_RATIO_FLOOR;
	got = pread(fd, magic, sizeof(magic), 0);
	if (got < 0)
		return err_sys(c->e, "%s: read", c->label);
	d->filter = filter_detect(magic, (size_t)got, &d->fname);
	if (d->filter < 0)
		return err_set(c->e, "%s: %s compression, which lethe cannot "
		    "write back with libarchive alone; refused, archive "
		    "untouched", c->label, d->fname);
	d->buf = malloc(IOBUF);
	if (d->buf == NULL)
		return err_set(c->e, "%s: out of memory", c->label);
	if ((flags & DS_HASH) && ((d->md = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(d->md, EVP_sha256(), NULL)))
		return err_set(c->e, "%s: out of memory", c->label);
	if (d->filter == ARCHIVE_FILTER_NONE)
		return 0;
	if (d->filter == ARCHIVE_FILTER_GZIP && (flags & DS_CHECK) &&
	    (d->gz = gz_new()) == NULL)
		return err_set(c->e, "%s: out of memory", c->label);
	struct archive_entry *ent;
	char eb[256];
	d->raw = archive_read_new();
	/* libarchive 3.6.2's append_filter crashes for compress (.Z): that
	 * one filter is found by bidding, and checked below to be one layer. */
	if (d->raw == NULL || (d->filter == ARCHIVE_FILTER_COMPRESS ?
	    archive_read_support_filter_compress(d->raw) :
	    archive_read_append_filter(d->raw, d->filter)) != ARCHIVE_OK ||
	    archive_read_support_format_raw(d->raw) != ARCHIVE_OK)
		return err_set(c->e, "%s: cannot set up %s decompression: %s",
		    c->label, d->fname, aerr(d->raw, eb, sizeof(eb)));
	archive_read_set_read_callback(d->raw, raw_read);
	archive_read_set_callback_data(d->raw, d);
	if (archive_read_open1(d->raw) != ARCHIVE_OK ||
	    archive_read_next_header(d->raw, &ent) != ARCHIVE_OK) {
		if (d->why[0])
			return err_set(c->e, "%s: %s; refused, archive "
			    "untouched", c->label, d->why);
		return err_set(c->e, "%s: its %s data cannot be read: damaged "
		    "or truncated (libarchive: %s); refused, archive "
		    "untouched", c->label, d->fname,
		    aerr(d->raw, eb, sizeof(eb)));
	}
	if (archive_filter_count(d->raw) != 2)
		return err_set(c->e, "%s: its %s data is itself compressed "
		    "(%s inside %s: a recursive or hostile archive); refused, "
		    "archive untouched", c->label, d->fname, d->fname,
		    d->fname);
	return 0;
}

int
ds_read(struct dstream *d, const void **p, size_t *n)
{
	if (d->eof)
		return 0;
	if (d->raw == NULL) {
		ssize_t r;
		uint64_t left = d->size - d->roff;
		do
			r = pread(d->fd, d->buf, left < IOBUF ? (size_t)left :
			    IOBUF, (off_t)d->roff);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			snprintf(d->why, sizeof(d->why), "read: %s",
			    strerror(errno));
			return -1;
		}
		if (r == 0) {
			d->eof = 1;
			return 0;
		}
		d->roff += (uint64_t)r;
		actx_beat(d->c, (uint64_t)r, 0);
		*p = d->buf;
		*n = (size_t)r;
	} else {
		la_int64_t off;
		char eb[256];
		int r = archive_read_data_block(d->raw, p, n, &off);
		if (r == ARCHIVE_EOF) {
			d->eof = 1;
			return 0;
		}
		if (r != ARCHIVE_OK || off < 0 || (uint64_t)off != d->pos) {
			if (d->why[0] == '\0')
				snprintf(d->why, sizeof(d->why), "its %s data "
				    "cannot be read: damaged or truncated "
				    "(libarchive: %s)", d->fname, r != ARCHIVE_OK ?
				    aerr(d->raw, eb, sizeof(eb)) :
				    "out of order");
			return -1;
		}
		d->dry = 0;
		actx_beat(d->c, 0, *n);
		if (d->gz != NULL)
			gz_out(d->gz, *p, *n);
	}
	d->pos += *n;
	if (d->pos > d->limit) {
		snprintf(d->why, sizeof(d->why), "decompresses to more than "
		    "%d times its size (a limit against hostile archives)",
		    AR_RATIO);
		return -1;
	}
	if (d->md != NULL)
		EVP_DigestUpdate(d->md, *p, *n);
	return 1;
}

/* Bytes after what the decompressor consumed: zero padding is allowed. */
static int
check_tail(struct dstream *d)
{
	unsigned char *b = d->buf;
	uint64_t off = d->raw_end;

	while (off < d->size) {
		size_t want = d->size - off < IOBUF ? (size_t)(d->size - off) :
		    IOBUF;
		ssize_t r = pread(d->fd, b, want, (off_t)off);
		if (r <= 0)
			return err_sys(d->c->e, "%s: read", d->c->label);
		for (ssize_t i = 0; i < r; i++)
			if (b[i] != 0)
				return err_set(d->c->e, "%s: holds %llu bytes "
				    "after the end of its %s data that are "
				    "neither %s nor zero padding; lethe cannot "
				    "tell whether they hold member data; "
				    "refused, archive untouched", d->c->label,
				    (unsigned long long)(d->size - d->raw_end),
				    d->fname, d->fname);
		off += (uint64_t)r;
	}
	d->zero_tail = d->size - d->raw_end;
	return 0;
}

int
ds_finish(struct dstream *d, unsigned char sha[32])
{
	char why[256];

	if (d->raw == NULL) {
		d->raw_end = d->size;
	} else {
		la_int64_t used = archive_filter_bytes(d->raw, -1);
		if (used < 0 || (uint64_t)used > d->size)
			return err_set(d->c->e, "%s: %s: cannot tell where the "
			    "compressed data ends; refused, archive untouched",
			    d->c->label, d->fname);
		d->raw_end = (uint64_t)used;
		if (check_tail(d) != 0)
			return -1;
	}
	if (d->gz != NULL && gz_end(d->gz, d->fd, d->raw_end, why,
	    sizeof(why)) != 0)
		return err_set(d->c->e, "%s: %s; refused, archive untouched",
		    d->c->label, why);
	if (sha != NULL && d->md != NULL)
		EVP_DigestFinal_ex(d->md, sha, NULL);
	return 0;
}

void
ds_close(struct dstream *d)
{
	if (d->raw != NULL)
		archive_read_free(d->raw);
	gz_free(d->gz);
	EVP_MD_CTX_free(d->md);
	free(d->buf);
	memset(d, 0, sizeof(*d));
}

int
ar_pread(int fd, void *buf, size_t n, uint64_t off)
{
	return fdio_pread_full(fd, buf, n, (off_t)off, NULL) == (ssize_t)n ?
	    0 : -1;
}

/* ---- the new file ---- */

static int
sink_raw(struct sink *k, const unsigned char *p, size_t len)
{
	if (fdio_write_all(k->fd, p, len) != 0) {
		k->err = errno;
		return -1;
	}
	if (k->md != NULL)
		EVP_DigestUpdate(k->md, p, len);
	k->bytes += len;
	return 0;
}

int
sink_put(struct sink *k, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (k->skip > 0) {
		/* libarchive's gzip header out, the original one in. */
		if (k->hdr != NULL) {
			const unsigned char *h = k->hdr;
			k->hdr = NULL;
			if (sink_raw(k, h, k->hdrlen) != 0)
				return -1;
		}
		size_t drop = len < k->skip ? len : k->skip;
		memcpy(k->dropped + 10 - k->skip, p, drop);
		p += drop;
		len -= drop;
		k->skip -= drop;
		/* It must have been a plain header: magic, deflate, no flags. */
		if (k->skip == 0 && (k->dropped[0] != 0x1f ||
		    k->dropped[1] != 0x8b || k->dropped[2] != 8 ||
		    k->dropped[3] != 0)) {
			k->err = EPROTO;
			return -1;
		}
	}
	return sink_raw(k, p, len);
}

long
sink_write_cb(struct archive *a, void *arg, const void *buf, size_t n)
{
	struct sink *k = arg;

	if (sink_put(k, buf, n) != 0) {
		archive_set_error(a, k->err ? k->err : EIO, "%s",
		    strerror(k->err ? k->err : EIO));
		return -1;
	}
	return (long)n;
}

static int
cw_fail(struct cwriter *cw, struct actx *c)
{
	char eb[256];

	if (cw->k->err != 0)
		return err_set(c->e, "%s: writing the new archive failed: %s; "
		    "the archive is unchanged", c->label,
		    strerror(cw->k->err));
	return err_set(c->e, "%s: writing the new archive failed: %s; the "
	    "archive is unchanged", c->label, aerr(cw->w, eb, sizeof(eb)));
}

int
cw_open(struct cwriter *cw, struct sink *k, int filter, int level,
    struct actx *c)
{
	struct archive_entry *ent;
	char lv[16], eb[256];
	int r;

	memset(cw, 0, sizeof(*cw));
	cw->k = k;
	cw->filter = filter;
	if (filter == ARCHIVE_FILTER_NONE)
		return 0;
	cw->w = archive_write_new();
	if (cw->w == NULL)
		return err_set(c->e, "%s: out of memory", c->label);
	if (archive_write_set_format_raw(cw->w) != ARCHIVE_OK ||
	    archive_write_add_filter(cw->w, filter) != ARCHIVE_OK)
		return err_set(c->e, "%s: cannot write its compression back "
		    "(%s); refused, archive untouched", c->label,
		    aerr(cw->w, eb, sizeof(eb)));
	if (level >= 0) {
		snprintf(lv, sizeof(lv), "%d", level);
		if (archive_write_set_filter_option(cw->w, NULL,
		    "compression-level", lv) < ARCHIVE_WARN)
			return err_set(c->e, "%s: compression level %d: %s",
			    c->label, level, aerr(cw->w, eb, sizeof(eb)));
	}
	/* A compressed stream ends where its data ends. */
	archive_write_set_bytes_in_last_block(cw->w, 1);
	if (archive_write_open2(cw->w, k, NULL, sink_write_cb, NULL, NULL) !=
	    ARCHIVE_OK)
		return cw_fail(cw, c);
	ent = archive_entry_new();
	if (ent == NULL)
		return err_set(c->e, "%s: out of memory", c->label);
	archive_entry_set_pathname(ent, "data");
	archive_entry_set_filetype(ent, AE_IFREG);
	r = archive_write_header(cw->w, ent);
	archive_entry_free(ent);
	if (r != ARCHIVE_OK)
		return cw_fail(cw, c);
	return 0;
}

int
cw_write(struct cwriter *cw, const void *p, size_t n, struct actx *c)
{
	if (cw->w == NULL) {
		if (sink_put(cw->k, p, n) != 0)
			return err_set(c->e, "%s: writing the new archive "
			    "failed: %s; the archive is unchanged", c->label,
			    strerror(cw->k->err));
		return 0;
	}
	while (n > 0) {
		la_ssize_t w = archive_write_data(cw->w, p, n);
		if (w <= 0)
			return cw_fail(cw, c);
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

int
cw_close(struct cwriter *cw, struct actx *c)
{
	int rc = 0;

	if (cw->w != NULL) {
		if (archive_write_close(cw->w) != ARCHIVE_OK)
			rc = cw_fail(cw, c);
		archive_write_free(cw->w);
		cw->w = NULL;
	}
	return rc;
}

void
cw_abort(struct cwriter *cw)
{
	if (cw->w != NULL)
		archive_write_free(cw->w);
	cw->w = NULL;
}
