/*
 * archive_cpio.c: the cpio walker (archive_int.h).
 *
 * Four header layouts, all written by GNU cpio: newc ("070701") and crc
 * ("070702", the same with a checksum of the data), odc and hpodc
 * ("070707", octal), bin and hpbin (binary, either byte order).  A member
 * is its header, its name, its data and the padding of the layout; the
 * member named TRAILER!!! ends the archive and is kept, and only zero
 * padding may follow it.
 *
 * MUST rules: one layout per archive; a crc member whose data does not
 * sum to its checksum is refused as damaged (the rewrite copies bytes
 * and would otherwise carry the damage on unseen); names over
 * AR_HDR_MAX, a stream cut inside a member or without a trailer, and any
 * byte but zero after the trailer (a second archive appended) are
 * refused by name.
 */
#include "sanitize/archive_int.h"

#include <stdlib.h>
#include <string.h>

enum { CP_NEWC = 1, CP_CRC, CP_ODC, CP_BIN_LE, CP_BIN_BE };
enum { C_HDR, C_NAME, C_DATA, C_TAIL };

static const char *const cp_names[] = { "", "newc", "crc", "odc", "bin",
    "bin (big-endian)" };

struct cpiost {
	unsigned char h[110];
	size_t nh;
	int mode;
	uint64_t left;		/* C_NAME, C_DATA: bytes to go, padding too */
	uint64_t namesize, datasize, namepad, datapad;
	unsigned char name[11];
	size_t nname;
	uint32_t sum, check;
	int sum_it;
	struct unit cur;
};

void
cpio_free(struct walker *w)
{
	free(w->st);
	w->st = NULL;
}

static int
hexnum(const unsigned char *p, size_t n, uint64_t *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		int d = p[i] >= '0' && p[i] <= '9' ? p[i] - '0' :
		    p[i] >= 'a' && p[i] <= 'f' ? p[i] - 'a' + 10 :
		    p[i] >= 'A' && p[i] <= 'F' ? p[i] - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		*v = *v << 4 | (uint64_t)d;
	}
	return 0;
}

static int
octnum(const unsigned char *p, size_t n, uint64_t *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '7')
			return -1;
		*v = *v << 3 | (uint64_t)(p[i] - '0');
	}
	return 0;
}

static uint64_t
short_at(const unsigned char *p, int be)
{
	return be ? (uint64_t)p[0] << 8 | p[1] : (uint64_t)p[1] << 8 | p[0];
}

/* Header length of a layout. */
static size_t
hdr_len(int v)
{
	return v == CP_NEWC || v == CP_CRC ? 110 : v == CP_ODC ? 76 : 26;
}

/* The layout a header starts with, from its first 6 bytes; 0 if none. */
static int
layout(const unsigned char *h)
{
	if (h[0] == 0xc7 && h[1] == 0x71)
		return CP_BIN_LE;
	if (h[0] == 0x71 && h[1] == 0xc7)
		return CP_BIN_BE;
	if (memcmp(h, "070701", 6) == 0)
		return CP_NEWC;
	if (memcmp(h, "070702", 6) == 0)
		return CP_CRC;
	if (memcmp(h, "070707", 6) == 0)
		return CP_ODC;
	return 0;
}

/* Parses the full header in s->h. */
static int
parse(struct walker *w, struct cpiost *s)
{
	const unsigned char *h = s->h;
	uint64_t mode, nlink, ino, dev, devmin, check = 0;
	size_t hl = hdr_len(w->variant);
	int bad;

	if (w->variant == CP_NEWC || w->variant == CP_CRC) {
		bad = hexnum(h + 6, 8, &ino) | hexnum(h + 14, 8, &mode) |
		    hexnum(h + 38, 8, &nlink) | hexnum(h + 54, 8, &s->datasize) |
		    hexnum(h + 62, 8, &dev) | hexnum(h + 70, 8, &devmin) |
		    hexnum(h + 94, 8, &s->namesize) | hexnum(h + 102, 8, &check);
		dev = dev << 32 | devmin;
		s->namepad = (4 - (hl + s->namesize) % 4) % 4;
		s->datapad = (4 - s->datasize % 4) % 4;
	} else if (w->variant == CP_ODC) {
		bad = octnum(h + 6, 6, &dev) | octnum(h + 12, 6, &ino) |
		    octnum(h + 18, 6, &mode) | octnum(h + 36, 6, &nlink) |
		    octnum(h + 59, 6, &s->namesize) |
		    octnum(h + 65, 11, &s->datasize);
		s->namepad = s->datapad = 0;
	} else {
		int be = w->variant == CP_BIN_BE;
		bad = 0;
		dev = short_at(h + 2, be);
		ino = short_at(h + 4, be);
		mode = short_at(h + 6, be);
		nlink = short_at(h + 12, be);
		s->namesize = short_at(h + 20, be);
		s->datasize = short_at(h + 22, be) << 16 | short_at(h + 24, be);
		s->namepad = s->namesize % 2;
		s->datapad = s->datasize % 2;
	}
	if (bad)
		return walk_fail(w, "member #%llu: its cpio header cannot be "
		    "read (damaged)", (unsigned long long)w->nunits + 1);
	if (s->namesize == 0 || s->namesize > AR_HDR_MAX)
		return walk_fail(w, "member #%llu: its name is %s (damaged or "
		    "hostile)", (unsigned long long)w->nunits + 1,
		    s->namesize ? "longer than 1 MiB" : "empty");
	memset(&s->cur, 0, sizeof(s->cur));
	s->cur.lead = s->cur.start = w->pos - hl;
	s->cur.end = w->pos + s->namesize + s->namepad + s->datasize +
	    s->datapad;
	s->cur.dev = dev;
	s->cur.ino = ino;
	switch (mode & 0170000) {
	case 0100000: s->cur.type = 'f'; break;
	case 0040000: s->cur.type = 'd'; break;
	case 0120000: s->cur.type = 'l'; break;
	default: s->cur.type = 'o'; break;
	}
	if (nlink > 1 && s->cur.type != 'd')
		s->cur.flags |= U_LINKED;
	s->check = (uint32_t)check;
	s->sum = 0;
	s->sum_it = w->variant == CP_CRC && s->cur.type == 'f';
	if (s->sum_it)
		s->cur.flags |= U_CRC;
	s->nname = 0;
	s->mode = C_NAME;
	s->left = s->namesize + s->namepad;
	return 0;
}

/* The name has been read: a member, or the trailer. */
static int
name_done(struct walker *w, struct cpiost *s)
{
	if (s->namesize == 11 && memcmp(s->name, "TRAILER!!!", 11) == 0) {
		s->cur.flags |= U_TRAILER;
		s->mode = C_DATA;
		s->left = s->datasize + s->datapad;
		s->sum_it = 0;
		w->last_end = s->cur.end;
		return 0;
	}
	if (walk_push(w, &s->cur) != 0)
		return -1;
	w->last_end = s->cur.end;
	s->mode = C_DATA;
	s->left = s->datasize + s->datapad;
	return 0;
}

static int
data_done(struct walker *w, struct cpiost *s)
{
	if (s->sum_it && s->sum != s->check)
		return walk_fail(w, "member #%llu: its data does not match the "
		    "checksum of its crc header (damaged)",
		    (unsigned long long)w->nunits);
	s->mode = s->cur.flags & U_TRAILER ? C_TAIL : C_HDR;
	s->nh = 0;
	return 0;
}

int
cpio_feed(struct walker *w, const unsigned char *p, size_t n)
{
	struct cpiost *s = w->st;

	if (s == NULL && (s = w->st = calloc(1, sizeof(*s))) == NULL)
		return walk_fail(w, "out of memory");
	while (n > 0) {
		size_t take;
		switch (s->mode) {
		case C_HDR:
			take = 1;
			s->h[s->nh++] = *p;
			w->pos++;
			p++;
			n--;
			if (s->nh == 6 || (s->nh == 2 && (layout(s->h) ==
			    CP_BIN_LE || layout(s->h) == CP_BIN_BE))) {
				int v = layout(s->h);
				if (v == 0)
					return walk_fail(w, "%s at byte %llu "
					    "is not a cpio header (damaged, or "
					    "another format)", w->nunits ?
					    "the data" : "the start",
					    (unsigned long long)(w->pos - 6));
				if (w->variant != 0 && w->variant != v)
					return walk_fail(w, "member #%llu "
					    "mixes cpio layouts (%s after %s)",
					    (unsigned long long)
					    w->nunits + 1, cp_names[v],
					    cp_names[w->variant]);
				w->variant = v;
			}
			if (w->variant != 0 && s->nh == hdr_len(w->variant) &&
			    parse(w, s) != 0)
				return -1;
			break;
		case C_NAME:
		case C_DATA:
			take = s->left < n ? (size_t)s->left : n;
			if (s->mode == C_NAME) {
				size_t c = take;
				if (s->nname + c > sizeof(s->name))
					c = sizeof(s->name) - s->nname;
				memcpy(s->name + s->nname, p, c);
				s->nname += c;
			} else if (s->sum_it) {
				uint64_t data_left = s->left > s->datapad ?
				    s->left - s->datapad : 0;
				size_t c = data_left < take ?
				    (size_t)data_left : take;
				for (size_t i = 0; i < c; i++)
					s->sum += p[i];
			}
			s->left -= take;
			w->pos += take;
			p += take;
			n -= take;
			if (s->left > 0)
				break;
			if (s->mode == C_NAME ? name_done(w, s) :
			    data_done(w, s))
				return -1;
			if (s->mode == C_DATA && s->left == 0 &&
			    data_done(w, s) != 0)
				return -1;
			break;
		case C_TAIL:
			for (size_t i = 0; i < n; i++)
				if (p[i] != 0)
					return walk_fail(w, "the archive holds "
					    "data after its cpio trailer (a "
					    "second archive appended?)");
			w->pos += n;
			n = 0;
			break;
		}
	}
	return 0;
}

int
cpio_end(struct walker *w)
{
	struct cpiost *s = w->st;

	if (s == NULL || s->mode != C_TAIL)
		return walk_fail(w, "the archive ends %s without the cpio "
		    "trailer (truncated)", s != NULL && (s->mode != C_HDR ||
		    s->nh > 0) ? "inside a member" : "after a member");
	return 0;
}

int
cpio_layout(const unsigned char *h, size_t n)
{
	if (n < 6)
		return 0;
	return layout(h);
}

const char *
cpio_variant_name(int v)
{
	return v > 0 && v <= CP_BIN_BE ? cp_names[v] : "cpio";
}
