/*
 * archive_zipscan.c: passes 1 and 3 over a zip (archive_int.h).
 *
 * The layout comes from archive_zip.c; libarchive's seekable zip reader
 * gives each member's name, metadata and content, and checks each
 * member's CRC-32 as it decompresses (a member in a method libarchive
 * cannot read is refused: its digest could not be given, nor its damage
 * seen).  The two must agree: every member libarchive returns sits at a
 * local header the central directory lists, each exactly once.
 */
#include "sanitize/archive_int.h"
#include "sanitize/archive.h"

#include "base/err.h"
#include "base/fdio.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct zsrc {
	int fd;
	uint64_t off, size;
	unsigned char *buf;
	struct actx *c;
};

static la_ssize_t
zs_read(struct archive *a, void *arg, const void **out)
{
	struct zsrc *s = arg;
	ssize_t n = fdio_pread_full(s->fd, s->buf, IOBUF, (off_t)s->off, NULL);

	if (n < 0) {
		archive_set_error(a, errno, "read: %s", strerror(errno));
		return -1;
	}
	s->off += (uint64_t)n;
	actx_beat(s->c, (uint64_t)n, 0);
	*out = s->buf;
	return n;
}

static la_int64_t
zs_seek(struct archive *a, void *arg, la_int64_t off, int whence)
{
	struct zsrc *s = arg;
	int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ?
	    (int64_t)s->off : (int64_t)s->size;

	(void)a;
	if (base + off < 0)
		return ARCHIVE_FATAL;
	s->off = (uint64_t)(base + off);
	return (la_int64_t)s->off;
}

static la_int64_t
zs_skip(struct archive *a, void *arg, la_int64_t req)
{
	struct zsrc *s = arg;
	uint64_t left = s->size > s->off ? s->size - s->off : 0;

	(void)a;
	if (req <= 0)
		return 0;
	if ((uint64_t)req > left)
		req = (la_int64_t)left;
	s->off += (uint64_t)req;
	return req;
}

struct zreader {
	struct zsrc s;
	struct archive *rd;
	struct zipinfo *z;
	unsigned char *seen;
};

static void
zr_close(struct zreader *r)
{
	if (r->rd != NULL)
		archive_read_free(r->rd);
	free(r->s.buf);
	free(r->seen);
	memset(r, 0, sizeof(*r));
}

static int
zr_open(struct zreader *r, int fd, uint64_t size, struct zipinfo *z,
    struct actx *c)
{
	char eb[256];

	memset(r, 0, sizeof(*r));
	r->s = (struct zsrc){ .fd = fd, .size = size, .c = c };
	r->z = z;
	r->s.buf = malloc(IOBUF);
	r->seen = calloc(zip_count(z) + 1, 1);
	r->rd = archive_read_new();
	if (r->s.buf == NULL || r->seen == NULL || r->rd == NULL)
		return err_set(c->e, "%s: out of memory", c->label);
	archive_read_support_format_zip_seekable(r->rd);
	archive_read_set_read_callback(r->rd, zs_read);
	archive_read_set_seek_callback(r->rd, zs_seek);
	archive_read_set_skip_callback(r->rd, zs_skip);
	archive_read_set_callback_data(r->rd, &r->s);
	if (archive_read_open1(r->rd) != ARCHIVE_OK)
		return err_set(c->e, "%s: %s; refused, archive untouched",
		    c->label, aerr(r->rd, eb, sizeof(eb)));
	return 0;
}

/* The next member: 1 with its central-directory ordinal, 0 at the end. */
static int
zr_next(struct zreader *r, struct archive_entry **ent, size_t *zi,
    uint64_t idx, struct actx *c)
{
	char eb[256];
	int rc = archive_read_next_header(r->rd, ent);

	if (rc == ARCHIVE_EOF) {
		for (size_t i = 0; i < zip_count(r->z); i++)
			if (!r->seen[i])
				return err_set(c->e, "%s: libarchive did not "
				    "read member #%zu of the central directory "
				    "(damaged?); refused, archive untouched",
				    c->label, i + 1);
		return 0;
	}
	if (rc != ARCHIVE_OK)
		return err_set(c->e, "%s: member #%ju: %s%s; refused, archive "
		    "untouched", c->label, (uintmax_t)idx + 1,
		    aerr(r->rd, eb, sizeof(eb)), rc == ARCHIVE_WARN ?
		    " (damaged?)" : "");
	/* libarchive returns the members of the central directory in the
	 * order of their local headers; each must be the one lethe found
	 * there, by name and size. */
	*zi = zip_nth(r->z, (size_t)idx);
	if (*zi == SIZE_MAX || r->seen[*zi]++ ||
	    !zip_same(r->s.fd, r->z, *zi, archive_entry_pathname(*ent),
	    archive_entry_size_is_set(*ent) && archive_entry_filetype(*ent) ==
	    AE_IFREG ? archive_entry_size(*ent) : -1))
		return err_set(c->e, "%s: member #%ju: libarchive and lethe's "
		    "reading of the central directory disagree (damaged?); "
		    "refused, archive untouched", c->label, (uintmax_t)idx + 1);
	if (archive_entry_is_encrypted(*ent))
		return err_set(c->e, "%s: member #%ju is encrypted; refused, "
		    "archive untouched", c->label, (uintmax_t)idx + 1);
	return 1;
}

int
zip_scan(int fd, uint64_t size, const char *glob, int full, struct aplan *p,
    struct actx *c)
{
	struct zreader r;
	struct archive_entry *ent;
	struct digests d = { 0 };
	char why[256];
	size_t zi;
	int rc = -1, x;

	memset(&r, 0, sizeof(r));
	p->kind = 0;
	p->filter = ARCHIVE_FILTER_NONE;
	snprintf(p->desc, sizeof(p->desc), "zip");
	if (digests_open(&d, c) != 0)
		goto out;
	if (zip_parse(fd, size, &p->zip, why, sizeof(why)) != 0) {
		err_set(c->e, "%s: %s; refused, archive untouched", c->label,
		    why);
		goto out;
	}
	if (zr_open(&r, fd, size, p->zip, c) != 0)
		goto out;
	for (uint64_t i = 0; (x = zr_next(&r, &ent, &zi, i, c)) != 0; i++) {
		unsigned char sha[32];
		uint64_t n = 0;
		char kind = entry_kind(ent);
		if (x < 0)
			goto out;
		p->entries++;
		int m = aname_member(glob, archive_entry_pathname(ent), i, c);
		if (m < 0 || member_sha(&d, r.rd, full, 0, &n, sha, c, i) != 0)
			goto out;
		if (m) {
			p->matches++;
			p->match_bytes += n;
			p->removed_bytes += n;
			zip_remove(p->zip, zi);
			if (full && row_add(p, i, ent, kind, n, kind == 'f' ?
			    sha : NULL) != 0) {
				err_set(c->e, "%s: out of memory", c->label);
				goto out;
			}
		} else {
			if (full)
				chain_add(d.chain, ent, kind, kind == 'l' ?
				    archive_entry_symlink(ent) : NULL, n,
				    kind == 'f' ? sha : NULL);
			p->kept++;
			p->kept_bytes += n;
		}
	}
	EVP_DigestFinal_ex(d.chain, p->chain, NULL);
	rc = 0;
out:
	zr_close(&r);
	digests_close(&d);
	return rc;
}

/* The file's SHA-256 as the disk holds it. */
static int
file_sha(int fd, uint64_t size, unsigned char sha[32], struct actx *c)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *b = malloc(IOBUF);
	uint64_t off = 0;
	int rc = -1;

	if (md == NULL || b == NULL ||
	    !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		goto out;
	while (off < size) {
		ssize_t n = pread(fd, b, size - off < IOBUF ? (size_t)(size -
		    off) : IOBUF, (off_t)off);
		if (n <= 0)
			goto out;
		EVP_DigestUpdate(md, b, (size_t)n);
		actx_beat(c, (uint64_t)n, 0);
		off += (uint64_t)n;
	}
	EVP_DigestFinal_ex(md, sha, NULL);
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	free(b);
	return rc;
}

int
zip_verify(int fd, uint64_t size, const struct aplan *p,
    const unsigned char written[32], struct actx *c)
{
	struct zipinfo *z = NULL;
	struct zreader r;
	struct archive_entry *ent;
	struct digests d = { 0 };
	unsigned char got[32], sha[32];
	char why[256];
	const char *bad = NULL;
	uint64_t count = 0;
	size_t zi;
	int rc = -1, x;

	memset(&r, 0, sizeof(r));
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (digests_open(&d, c) != 0)
		goto out;
	if (file_sha(fd, size, got, c) != 0 || memcmp(got, written, 32) != 0) {
		bad = "its bytes differ from those written";
		goto back;
	}
	if (zip_parse(fd, size, &z, why, sizeof(why)) != 0) {
		bad = why;
		goto back;
	}
	if (zr_open(&r, fd, size, z, c) != 0)
		goto back;
	for (uint64_t i = 0; (x = zr_next(&r, &ent, &zi, i, c)) != 0; i++) {
		uint64_t n = 0;
		char kind = entry_kind(ent);
		if (x < 0)
			goto back;
		if (member_sha(&d, r.rd, 1, 0, &n, sha, c, i) != 0)
			goto back;
		chain_add(d.chain, ent, kind, kind == 'l' ?
		    archive_entry_symlink(ent) : NULL, n,
		    kind == 'f' ? sha : NULL);
		count++;
	}
	EVP_DigestFinal_ex(d.chain, got, NULL);
	bad = readback_members(p, count == p->kept && zip_count(z) == p->kept,
	    got);
	if (bad == NULL) {
		rc = 0;
		goto out;
	}
back:
	readback_fail(c, bad);
out:
	zr_close(&r);
	zip_free(z);
	digests_close(&d);
	return rc;
}
