/*
 * archive_zipwrite.c: pass 2 over a zip (archive_int.h): the new file
 * from the layout archive_zip.c read (archive_zip.h).
 *
 * A zip is not rewritten through libarchive's zip writer, which would
 * recompress every member as deflate, rewrite DOS times in the host's
 * zone, drop comments, extra fields and self-extractor stubs.  Instead
 * the kept members' bytes (local header, data, data descriptor) are
 * copied as they are, and the central directory is written again from
 * the kept members' own records, with only the offsets changed.  What
 * precedes the first member (a self-extractor stub) and the archive
 * comment are kept byte for byte.
 */
#include "sanitize/archive_int.h"
#include "sanitize/archive_zip.h"

#include "base/err.h"

#include <stdlib.h>
#include <string.h>

static void
p16(unsigned char *p, uint64_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void
p32(unsigned char *p, uint64_t v)
{
	p16(p, v & 0xffff);
	p16(p + 2, (v >> 16) & 0xffff);
}

static void
p64(unsigned char *p, uint64_t v)
{
	p32(p, v & 0xffffffff);
	p32(p + 4, v >> 32);
}

static int
copy_range(int fd, uint64_t off, uint64_t end, struct sink *k,
    unsigned char *buf, struct actx *c)
{
	while (off < end) {
		size_t n = end - off < IOBUF ? (size_t)(end - off) : IOBUF;
		if (ar_pread(fd, buf, n, off) != 0)
			return err_sys(c->e, "%s: read", c->label);
		if (sink_put(k, buf, n) != 0)
			return err_set(c->e, "%s: writing the new archive "
			    "failed: %s; the archive is unchanged", c->label,
			    strerror(k->err));
		actx_beat(c, n, 0);
		off += n;
	}
	return 0;
}

static int
put(struct sink *k, const void *b, size_t n, struct actx *c)
{
	if (sink_put(k, b, n) != 0)
		return err_set(c->e, "%s: writing the new archive failed: %s; "
		    "the archive is unchanged", c->label, strerror(k->err));
	return 0;
}

/* The end records with the new count, size and offset. */
static int
write_end(int fd, const struct zipinfo *z, struct sink *k, uint64_t kept,
    uint64_t cd_start, unsigned char *buf, struct actx *c)
{
	uint64_t cdsize = k->bytes - cd_start, cdrel = cd_start - z->base;
	size_t tail = (size_t)(z->size - z->eocd);

	if (z->z64) {
		unsigned char rec[56], loc[20];
		uint64_t at = k->bytes;
		if (ar_pread(fd, rec, 56, z->z64) != 0 ||
		    ar_pread(fd, loc, 20, z->z64loc) != 0)
			return err_sys(c->e, "%s: read", c->label);
		p64(rec + 24, kept);
		p64(rec + 32, kept);
		p64(rec + 40, cdsize);
		p64(rec + 48, cdrel);
		p64(loc + 8, at - z->base);
		if (put(k, rec, 56, c) != 0 || put(k, loc, 20, c) != 0)
			return -1;
	}
	if (ar_pread(fd, buf, tail, z->eocd) != 0)
		return err_sys(c->e, "%s: read", c->label);
	if (le16(buf + 8) != 0xffff) {
		p16(buf + 8, kept);
		p16(buf + 10, kept);
	}
	if (le32(buf + 12) != 0xffffffff)
		p32(buf + 12, cdsize);
	if (le32(buf + 16) != 0xffffffff)
		p32(buf + 16, cdrel);
	return put(k, buf, tail, c);
}

int
zip_write(int oldfd, uint64_t oldsize, const struct aplan *p,
    struct sink *k, struct actx *c)
{
	const struct zipinfo *z = p->zip;
	unsigned char *buf = malloc(IOBUF);
	uint64_t *nl = calloc(z->n ? z->n : 1, sizeof(*nl)), cd, kept = 0;
	int rc = -1;

	(void)oldsize;
	if (buf == NULL || nl == NULL) {
		err_set(c->e, "%s: out of memory", c->label);
		goto out;
	}
	if (copy_range(oldfd, 0, z->first, k, buf, c) != 0)
		goto out;
	for (size_t j = 0; j < z->n; j++) {
		const struct zent *e = &z->e[z->order[j]];
		if (e->removed)
			continue;
		nl[z->order[j]] = k->bytes - z->base;
		if (copy_range(oldfd, e->local, e->end, k, buf, c) != 0)
			goto out;
	}
	cd = k->bytes;
	for (size_t i = 0; i < z->n; i++) {
		const struct zent *e = &z->e[i];
		if (e->removed)
			continue;
		if (ar_pread(oldfd, buf, e->cd_len, e->cd_off) != 0) {
			err_sys(c->e, "%s: read", c->label);
			goto out;
		}
		if (e->z64off >= 0)
			p64(buf + e->z64off, nl[i]);
		else
			p32(buf + 42, nl[i]);
		if (put(k, buf, e->cd_len, c) != 0)
			goto out;
		kept++;
	}
	rc = write_end(oldfd, z, k, kept, cd, buf, c);
out:
	free(buf);
	free(nl);
	return rc;
}
