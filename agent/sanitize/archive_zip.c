/*
 * archive_zip.c: the layout of a zip file (archive_zip.h), read and
 * checked; archive_zipwrite.c writes the new one from it.
 *
 * MUST rules: every byte of the file belongs to exactly one of: the
 * prefix, a member, the central directory, the zip64 end records, the end
 * record and its comment.  Overlapping members (a zip bomb), bytes between
 * members, a member the central directory does not list, bytes after the
 * comment, a local header that disagrees with its central record, more
 * than one volume and encryption are refused by name; so is a zip without
 * a central directory (damaged or truncated).
 */
#include "sanitize/archive_int.h"
#include "sanitize/archive_zip.h"

#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
zip_free(struct zipinfo *z)
{
	if (z == NULL)
		return;
	free(z->e);
	free(z->order);
	free(z);
}

static int
find_eocd(int fd, struct zipinfo *z, char *why, size_t wl)
{
	size_t tl = z->size < 65557 ? (size_t)z->size : 65557;
	unsigned char *t = malloc(tl ? tl : 1);
	int seen = 0;

	if (t == NULL || ar_pread(fd, t, tl, z->size - tl) != 0) {
		free(t);
		return snprintf(why, wl, "cannot read its end"), -1;
	}
	for (size_t q = tl >= 22 ? tl - 22 + 1 : 0; q-- > 0;) {
		if (memcmp(t + q, "PK\5\6", 4) != 0)
			continue;
		seen = 1;
		if (q + 22 + le16(t + q + 20) == tl) {
			z->eocd = z->size - tl + q;
			free(t);
			return 0;
		}
	}
	free(t);
	if (seen)
		return snprintf(why, wl, "bytes after the end of its central "
		    "directory and comment"), -1;
	return snprintf(why, wl, "no central directory: a damaged or "
	    "truncated zip"), -1;
}

/* The zip64 end record and locator, when the end record asks for them. */
static int
find_z64(int fd, struct zipinfo *z, const unsigned char *eo, uint64_t *n,
    uint64_t *cdsize, uint64_t *cdoff, char *why, size_t wl)
{
	unsigned char loc[20], rec[56];

	if (z->eocd < 20 || ar_pread(fd, loc, 20, z->eocd - 20) != 0 ||
	    memcmp(loc, "PK\6\7", 4) != 0) {
		if (le16(eo + 10) == 0xffff || le32(eo + 12) == 0xffffffff ||
		    le32(eo + 16) == 0xffffffff)
			return snprintf(why, wl, "a zip64 end record is "
			    "missing (damaged)"), -1;
		return 0;
	}
	z->z64loc = z->eocd - 20;
	if (le32(loc + 4) != 0 || le32(loc + 16) > 1 || z->z64loc < 56 ||
	    ar_pread(fd, rec, 56, z->z64loc - 56) != 0 ||
	    memcmp(rec, "PK\6\6", 4) != 0 || le64(rec + 4) != 44)
		return snprintf(why, wl, "an unusual zip64 end record (with "
		    "extensible data, or on another volume), which lethe "
		    "does not rewrite"), -1;
	z->z64 = z->z64loc - 56;
	if (le32(rec + 16) != 0 || le32(rec + 20) != 0 ||
	    le64(rec + 24) != le64(rec + 32))
		return snprintf(why, wl, "a zip split over several volumes"),
		    -1;
	*n = le64(rec + 32);
	*cdsize = le64(rec + 40);
	*cdoff = le64(rec + 48);
	return 0;
}

/* Reads the zip64 extra of a central record (fields present only where
 * the 32-bit field is all ones). */
static int
z64_extra(struct zent *e, const unsigned char *x, size_t xl, size_t xoff,
    uint32_t us, uint32_t cs, uint32_t lo, uint16_t disk)
{
	e->z64off = -1;
	for (size_t i = 0; i + 4 <= xl;) {
		size_t id = le16(x + i), sz = le16(x + i + 2), f = i + 4;
		if (i + 4 + sz > xl)
			return -1;
		if (id == 1) {
			if (us == 0xffffffff) {
				if (f + 8 > i + 4 + sz)
					return -1;
				e->usize = le64(x + f);
				f += 8;
			}
			if (cs == 0xffffffff) {
				if (f + 8 > i + 4 + sz)
					return -1;
				e->csize = le64(x + f);
				f += 8;
			}
			if (lo == 0xffffffff) {
				if (f + 8 > i + 4 + sz)
					return -1;
				e->local = le64(x + f);
				e->z64off = (int)(xoff + f);
			}
			(void)disk;
			return 0;
		}
		i += 4 + sz;
	}
	return us == 0xffffffff || cs == 0xffffffff || lo == 0xffffffff ?
	    -1 : 0;
}

static int
central(int fd, struct zipinfo *z, uint64_t count, char *why, size_t wl)
{
	unsigned char h[46], *var = malloc(3 * 65536);
	uint64_t off = z->cd_start;

	z->e = calloc(count ? count : 1, sizeof(*z->e));
	if (z->e == NULL || var == NULL)
		goto oom;
	for (z->n = 0; z->n < count; z->n++) {
		struct zent *e = &z->e[z->n];
		if (off + 46 > z->cd_end || ar_pread(fd, h, 46, off) != 0 ||
		    memcmp(h, "PK\1\2", 4) != 0)
			goto bad;
		size_t nl = le16(h + 28), xl = le16(h + 30), cl = le16(h + 32);
		e->cd_off = off;
		e->cd_len = (uint32_t)(46 + nl + xl + cl);
		if (off + e->cd_len > z->cd_end ||
		    ar_pread(fd, var, nl + xl, off + 46) != 0)
			goto bad;
		e->flags = le16(h + 8);
		e->method = le16(h + 10);
		e->crc = le32(h + 16);
		e->csize = le32(h + 20);
		e->usize = le32(h + 24);
		e->local = le32(h + 42);
		if (z64_extra(e, var + nl, xl, 46 + nl, (uint32_t)e->usize,
		    (uint32_t)e->csize, (uint32_t)e->local, le16(h + 34)) != 0)
			goto bad;
		if (le16(h + 34) != 0 && le16(h + 34) != 0xffff)
			return free(var), snprintf(why, wl, "member #%zu is on "
			    "another volume of a split zip", z->n + 1), -1;
		if ((e->flags & 0x41) || e->method == 99)
			return free(var), snprintf(why, wl, "member #%zu is "
			    "encrypted", z->n + 1), -1;
		off += e->cd_len;
	}
	if (off != z->cd_end)
		goto bad;
	free(var);
	return 0;
bad:
	free(var);
	return snprintf(why, wl, "its central directory is damaged near "
	    "member #%zu", z->n + 1), -1;
oom:
	free(var);
	return snprintf(why, wl, "out of memory"), -1;
}

/* The local header, data and data descriptor of e. */
static int
local(int fd, struct zipinfo *z, struct zent *e, size_t i, char *why,
    size_t wl)
{
	unsigned char h[30], d[24];
	uint64_t data, dend;

	e->local += z->base;
	if (e->local + 30 > z->cd_start || ar_pread(fd, h, 30, e->local) != 0 ||
	    memcmp(h, "PK\3\4", 4) != 0)
		return snprintf(why, wl, "member #%zu: no local header where "
		    "the central directory says (damaged)", i + 1), -1;
	if (le16(h + 8) != e->method || (le16(h + 6) & 8) != (e->flags & 8))
		return snprintf(why, wl, "member #%zu: its local header "
		    "disagrees with the central directory (damaged)", i + 1),
		    -1;
	data = e->local + 30 + le16(h + 26) + le16(h + 28);
	dend = data + e->csize;
	if (dend < data || dend > z->cd_start)
		return snprintf(why, wl, "member #%zu: its data runs past the "
		    "central directory (damaged)", i + 1), -1;
	e->end = dend;
	if (!(e->flags & 8)) {
		if (le32(h + 14) != e->crc || (le32(h + 18) != 0xffffffff &&
		    (le32(h + 18) != e->csize || le32(h + 22) != e->usize)))
			return snprintf(why, wl, "member #%zu: its local header "
			    "disagrees with the central directory (damaged)",
			    i + 1), -1;
		return 0;
	}
	/* A data descriptor: optional signature, CRC, 32- or 64-bit sizes. */
	size_t have = z->cd_start - dend < 24 ? (size_t)(z->cd_start - dend) :
	    24, s = 0;
	if (ar_pread(fd, d, have, dend) != 0)
		return snprintf(why, wl, "cannot read member #%zu", i + 1), -1;
	if (have >= 4 && le32(d) == 0x08074b50)
		s = 4;
	if (have >= s + 12 && le32(d + s) == e->crc &&
	    le32(d + s + 4) == e->csize && le32(d + s + 8) == e->usize)
		e->end = dend + s + 12;
	else if (have >= s + 20 && le32(d + s) == e->crc &&
	    le64(d + s + 4) == e->csize && le64(d + s + 12) == e->usize)
		e->end = dend + s + 20;
	else
		return snprintf(why, wl, "member #%zu: its data descriptor "
		    "disagrees with the central directory (damaged)", i + 1),
		    -1;
	return 0;
}

static struct zipinfo *sort_z;

static int
by_local(const void *a, const void *b)
{
	uint64_t x = sort_z->e[*(const size_t *)a].local;
	uint64_t y = sort_z->e[*(const size_t *)b].local;
	return x < y ? -1 : x > y;
}

/* No byte of the file outside the known parts; no hidden local header. */
static int
coverage(int fd, struct zipinfo *z, char *why, size_t wl)
{
	unsigned char *b;
	uint64_t at;

	z->order = malloc((z->n ? z->n : 1) * sizeof(*z->order));
	if (z->order == NULL)
		return snprintf(why, wl, "out of memory"), -1;
	for (size_t i = 0; i < z->n; i++)
		z->order[i] = i;
	sort_z = z;
	qsort(z->order, z->n, sizeof(*z->order), by_local);
	z->first = z->n ? z->e[z->order[0]].local : z->cd_start;
	at = z->first;
	for (size_t k = 0; k < z->n; k++) {
		struct zent *e = &z->e[z->order[k]];
		if (e->local < at)
			return snprintf(why, wl, "members #%zu and #%zu "
			    "overlap (a zip bomb, or damaged)",
			    z->order[k - 1] + 1, z->order[k] + 1), -1;
		if (e->local > at)
			return snprintf(why, wl, "%llu bytes before member #%zu "
			    "belong to no member", (unsigned long long)
			    (e->local - at), z->order[k] + 1), -1;
		at = e->end;
	}
	if (at != z->cd_start)
		return snprintf(why, wl, "%llu bytes between the last member "
		    "and the central directory belong to no member",
		    (unsigned long long)(z->cd_start - at)), -1;
	/* The prefix (a self-extractor) may not hide a member. */
	b = malloc(IOBUF);
	if (b == NULL)
		return snprintf(why, wl, "out of memory"), -1;
	for (uint64_t off = 0; off < z->first;) {
		size_t n = z->first - off < IOBUF ? (size_t)(z->first - off) :
		    IOBUF;
		if (ar_pread(fd, b, n, off) != 0)
			break;
		for (size_t i = 0; i + 30 <= n; i++)
			if (memcmp(b + i, "PK\3\4", 4) == 0 && off + i + 30 +
			    le16(b + i + 26) + le16(b + i + 28) <= z->first) {
				free(b);
				return snprintf(why, wl, "a member header in "
				    "the %llu bytes before the first member "
				    "that the central directory does not list",
				    (unsigned long long)z->first), -1;
			}
		off += n > 29 ? n - 29 : n;
	}
	free(b);
	return 0;
}

int
zip_parse(int fd, uint64_t size, struct zipinfo **out, char *why, size_t wl)
{
	struct zipinfo *z = calloc(1, sizeof(*z));
	unsigned char eo[22];
	uint64_t n, cdsize, cdoff;

	*out = NULL;
	snprintf(why, wl, "cannot read it");
	if (z == NULL)
		return snprintf(why, wl, "out of memory"), -1;
	z->size = size;
	if (size < 22) {
		snprintf(why, wl, "too short for a zip (%llu bytes): damaged or "
		    "truncated", (unsigned long long)size);
		goto bad;
	}
	if (find_eocd(fd, z, why, wl) != 0 || ar_pread(fd, eo, 22, z->eocd) != 0)
		goto bad;
	if (le16(eo + 4) != 0 || le16(eo + 6) != 0 ||
	    le16(eo + 8) != le16(eo + 10)) {
		snprintf(why, wl, "a zip split over several volumes");
		goto bad;
	}
	n = le16(eo + 10);
	cdsize = le32(eo + 12);
	cdoff = le32(eo + 16);
	if (find_z64(fd, z, eo, &n, &cdsize, &cdoff, why, wl) != 0)
		goto bad;
	z->cd_end = z->z64 ? z->z64 : z->eocd;
	if (cdsize > z->cd_end || z->cd_end - cdsize < cdoff) {
		snprintf(why, wl, "its central directory is out of place "
		    "(damaged)");
		goto bad;
	}
	z->cd_start = z->cd_end - cdsize;
	z->base = z->cd_start - cdoff;
	if (n > cdsize / 46 + 1) {
		snprintf(why, wl, "its member count does not fit its central "
		    "directory (damaged)");
		goto bad;
	}
	if (central(fd, z, n, why, wl) != 0)
		goto bad;
	for (size_t i = 0; i < z->n; i++)
		if (local(fd, z, &z->e[i], i, why, wl) != 0)
			goto bad;
	if (coverage(fd, z, why, wl) != 0)
		goto bad;
	*out = z;
	return 0;
bad:
	zip_free(z);
	return -1;
}

int
zip_looks(int fd, uint64_t size)
{
	struct zipinfo z = { .size = size };
	char why[64];
	unsigned char m[4];

	if (ar_pread(fd, m, 4, 0) == 0 && memcmp(m, "PK\3\4", 4) == 0)
		return 1;
	return size >= 22 && find_eocd(fd, &z, why, sizeof(why)) == 0;
}

size_t
zip_count(const struct zipinfo *z)
{
	return z->n;
}

size_t
zip_nth(const struct zipinfo *z, size_t k)
{
	return k < z->n ? z->order[k] : SIZE_MAX;
}

int
zip_same(int fd, const struct zipinfo *z, size_t i, const char *name,
    int64_t size)
{
	const struct zent *e = &z->e[i];
	unsigned char h[46];
	char *n;
	size_t nl;
	int same;

	if (name == NULL || ar_pread(fd, h, 46, e->cd_off) != 0)
		return 0;
	nl = le16(h + 28);
	if (strlen(name) != nl || (size >= 0 && (uint64_t)size != e->usize))
		return 0;
	n = malloc(nl + 1);
	if (n == NULL || ar_pread(fd, n, nl, e->cd_off + 46) != 0) {
		free(n);
		return 0;
	}
	same = memcmp(n, name, nl) == 0;
	free(n);
	return same;
}

void
zip_remove(struct zipinfo *z, size_t i)
{
	z->e[i].removed = 1;
}
