/*
 * archive_gzip.c: the members of a gzip file and their checksums.
 *
 * libarchive (3.6) decompresses every member of a gzip file but checks no
 * member's CRC-32 or length, and does not say where one member ends, so a
 * flipped byte in a stored block would pass as data.  lethe finds the
 * members itself, without a second inflater: a member ends with CRC-32
 * and length of its data, and the next starts with 1f 8b 08.  Every place
 * in the raw file where 1f 8b 08 follows 8 bytes is a candidate end; it
 * is confirmed when the decompressed stream, counted from the current
 * member's start, reaches that length with that CRC-32.  The last member
 * ends where the decompressor stopped.  A damaged member confirms no end,
 * so the checksum at the end of the file cannot match: refused.  (A fake
 * candidate that matches by construction only splits one member in two
 * with the same data.)
 *
 * libarchive must read a member's header before it inflates that
 * member's data, so a member's end candidate is always seen in the raw
 * bytes before the output passes it.
 */
#include "sanitize/archive_int.h"

#include "base/array.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cand {
	uint64_t raw;		/* where the next member would start */
	uint64_t target;	/* decompressed offset it would end at */
	uint32_t crc, isize;
};

struct gzcheck {
	unsigned char *sb;	/* scan buffer: carry + one raw chunk */
	size_t ncarry;
	uint64_t scanned;	/* raw offsets below this were examined */
	struct cand *c;
	size_t nc, cc;
	uint64_t out;		/* decompressed bytes seen */
	uint64_t mstart;	/* where the current member's data began */
	uint32_t crc;		/* of [mstart, out) */
	struct gzmember *m;
	size_t nm, cm;
	int oom;
};

struct gzcheck *
gz_new(void)
{
	struct gzcheck *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->sb = malloc(IOBUF + 16);
	if (g->sb == NULL || (g->m = calloc(8, sizeof(*g->m))) == NULL) {
		gz_free(g);
		return NULL;
	}
	g->cm = 8;
	g->nm = 1;		/* member 0 starts at 0, 0 */
	g->m[0].level = -1;
	return g;
}

void
gz_free(struct gzcheck *g)
{
	if (g == NULL)
		return;
	free(g->sb);
	free(g->c);
	free(g->m);
	free(g);
}

/* The target of a candidate relative to the current member: the first
 * offset >= out whose length from mstart is isize modulo 2^32. */
static void
arm(struct gzcheck *g, struct cand *k)
{
	k->target = g->mstart + k->isize;
	while (k->target < g->out)
		k->target += 1ULL << 32;
}

static void
confirm(struct gzcheck *g, const struct cand *k)
{
	uint64_t raw = k->raw, at = k->target;
	size_t j = 0;
	struct gzmember *v = array_grow(g->m, g->nm, &g->cm, sizeof(*v), 8);

	if (v == NULL) {
		g->oom = 1;
		return;
	}
	g->m = v;
	g->m[g->nm++] = (struct gzmember){ .raw_off = raw, .dec_off = at,
	    .level = -1 };
	g->mstart = at;
	g->crc = 0;
	for (size_t i = 0; i < g->nc; i++)
		if (g->c[i].raw > raw)
			g->c[j++] = g->c[i];
	g->nc = j;
	for (size_t i = 0; i < g->nc; i++)
		arm(g, &g->c[i]);
}

/* Checks every candidate whose end is exactly here. */
static void
check_here(struct gzcheck *g)
{
	for (size_t i = 0; i < g->nc; i++) {
		struct cand *k = &g->c[i];
		if (k->target != g->out)
			continue;
		if (k->crc == g->crc) {
			struct cand hit = *k;
			confirm(g, &hit);
			return;
		}
		k->target += 1ULL << 32;	/* a member of 4 GiB more? */
	}
}

void
gz_raw(struct gzcheck *g, uint64_t off, const unsigned char *p, size_t n)
{
	size_t len = g->ncarry + n;
	uint64_t base = off - g->ncarry;
	size_t q = g->scanned > base ? (size_t)(g->scanned - base) : 0;

	memcpy(g->sb + g->ncarry, p, n);
	while (q + 3 <= len) {
		unsigned char *hit = memchr(g->sb + q, 0x1f, len - 2 - q);
		if (hit == NULL)
			break;
		q = (size_t)(hit - g->sb);
		if (hit[1] == 0x8b && hit[2] == 0x08 && base + q >= 20 &&
		    q >= 8) {
			struct cand *k = array_grow(g->c, g->nc, &g->cc,
			    sizeof(*k), 16);
			if (k == NULL) {
				g->oom = 1;
				return;
			}
			g->c = k;
			k = &g->c[g->nc++];
			k->raw = base + q;
			k->crc = le32(hit - 8);
			k->isize = le32(hit - 4);
			arm(g, k);
			if (k->target == g->out)
				check_here(g);
		}
		q++;
	}
	g->scanned = base + (len >= 2 ? len - 2 : 0);
	g->ncarry = len < 10 ? len : 10;
	memmove(g->sb, g->sb + len - g->ncarry, g->ncarry);
}

void
gz_out(struct gzcheck *g, const unsigned char *p, size_t n)
{
	while (n > 0) {
		uint64_t next = UINT64_MAX;
		for (size_t i = 0; i < g->nc; i++)
			if (g->c[i].target > g->out && g->c[i].target < next)
				next = g->c[i].target;
		size_t chunk = next - g->out < n ? (size_t)(next - g->out) : n;
		g->crc = crc32_update(g->crc, p, chunk);
		g->out += chunk;
		p += chunk;
		n -= chunk;
		if (g->out == next)
			check_here(g);
	}
}

int
gz_header(int fd, uint64_t off, uint64_t size, unsigned char **hdr,
    size_t *len, char *why, size_t wlen)
{
	size_t want = size - off < AR_GZHDR_MAX ? (size_t)(size - off) :
	    AR_GZHDR_MAX, n = 10;
	unsigned char *b = malloc(AR_GZHDR_MAX);
	ssize_t got;

	*hdr = NULL;
	if (b == NULL)
		return snprintf(why, wlen, "out of memory"), -1;
	got = pread(fd, b, want, (off_t)off);
	if (got < 18 || b[0] != 0x1f || b[1] != 0x8b || b[2] != 8) {
		snprintf(why, wlen, "gzip member at byte %llu: %s",
		    (unsigned long long)off, got < 0 ? strerror(errno) :
		    "not a deflate member header");
		goto bad;
	}
	if (b[3] & 0xe0) {
		snprintf(why, wlen, "gzip member at byte %llu: reserved flag "
		    "bits set", (unsigned long long)off);
		goto bad;
	}
	if (b[3] & 4) {			/* FEXTRA */
		n += 2 + ((size_t)b[10] | (size_t)b[11] << 8);
	}
	for (int f = 8; f <= 16; f <<= 1) {	/* FNAME, FCOMMENT */
		if (!(b[3] & f))
			continue;
		while (n < (size_t)got && b[n] != 0)
			n++;
		n++;
	}
	if (b[3] & 2) {			/* FHCRC */
		if (n + 2 <= (size_t)got && (crc32_update(0, b, n) & 0xffff) !=
		    ((unsigned)b[n] | (unsigned)b[n + 1] << 8)) {
			snprintf(why, wlen, "gzip member at byte %llu: header "
			    "checksum mismatch (damaged)",
			    (unsigned long long)off);
			goto bad;
		}
		n += 2;
	}
	if (n + 8 > (size_t)got) {
		snprintf(why, wlen, "gzip member at byte %llu: header longer "
		    "than %d KiB (a limit against hostile archives), or cut "
		    "short", (unsigned long long)off, AR_GZHDR_MAX / 1024);
		goto bad;
	}
	*hdr = b;
	*len = n;
	return 0;
bad:
	free(b);
	return -1;
}

int
gz_end(struct gzcheck *g, int fd, uint64_t raw_end, char *why, size_t len)
{
	unsigned char t[8], *h;
	size_t hl;

	if (g->oom)
		return snprintf(why, len, "out of memory"), -1;
	if (raw_end < 20 || pread(fd, t, 8, (off_t)(raw_end - 8)) != 8)
		return snprintf(why, len, "gzip data cut short"), -1;
	if (le32(t) != g->crc || le32(t + 4) != (uint32_t)(g->out -
	    g->mstart))
		return snprintf(why, len, "gzip CRC-32 or length does not "
		    "match the data of member %zu (corrupt or truncated)",
		    g->nm), -1;
	for (size_t i = 0; i < g->nm; i++) {
		if (gz_header(fd, g->m[i].raw_off, raw_end, &h, &hl, why,
		    len) != 0)
			return -1;
		g->m[i].level = h[8] == 2 ? 9 : h[8] == 4 ? 1 : -1;
		free(h);
	}
	return 0;
}

const struct gzmember *
gz_members(const struct gzcheck *g, size_t *n)
{
	*n = g->nm;
	return g->m;
}
