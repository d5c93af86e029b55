/*
 * archive_tar.c: the tar walker (archive_int.h).
 *
 * libarchive says what a member is; the walker says which bytes hold it,
 * so that a rewrite can cut exactly those bytes and keep every other one.
 * It reads the stream as blocks of 512 bytes, the way GNU tar
 * --ignore-zeros does: a member is its extension headers (pax x, GNU
 * L/K, Solaris X/A), its header, old GNU sparse extension blocks, and its
 * data rounded up to 512 bytes.  Global pax headers and GNU volume labels
 * belong to no member and are kept.  Zero blocks between members (the end
 * of one archive in a concatenation) and at the end are kept.
 *
 * MUST rules: a header whose checksum fails, a size that cannot be read,
 * headers of one member over AR_HDR_MAX, a link, device, directory or FIFO
 * header that claims data (readers disagree whether it follows), a
 * multi-volume continuation, a global header that renames or resizes
 * every member, a stream cut inside a member, and a stream without the
 * two zero blocks of an end marker are all refused by name.
 */
#include "sanitize/archive_int.h"

#include <stdlib.h>
#include <string.h>

enum { T_HDR, T_SKIP, T_EXT, T_SPARSE };

struct tarst {
	unsigned char blk[512];
	size_t nblk;
	int mode;
	uint64_t left;		/* T_SKIP, T_EXT: bytes to go */
	uint64_t ustart;	/* first extension header, or UINT64_MAX */
	uint64_t hdr_bytes;	/* headers of the current member so far */
	uint64_t prev_end;	/* end of the previous member */
	char ext_type;		/* T_EXT: 'x', 'g', 'L', ... */
	unsigned char *ext;	/* pax data being collected */
	size_t next, extsize;
	int64_t pax_size;	/* size= of the pending pax header, or -1 */
	int pax_sparse;
	struct unit cur;	/* T_SPARSE: the member being finished */
	uint64_t dsize;
	uint64_t nsparse;	/* old GNU sparse extension blocks so far */
	int zeros_seen;		/* a zero block after a member */
};

static struct tarst *
tst(struct walker *w)
{
	if (w->st == NULL) {
		struct tarst *t = calloc(1, sizeof(*t));
		if (t == NULL)
			return NULL;
		t->ustart = UINT64_MAX;
		t->pax_size = -1;
		w->st = t;
	}
	return w->st;
}

void
tar_free(struct walker *w)
{
	struct tarst *t = w->st;

	if (t != NULL)
		free(t->ext);
	free(t);
	w->st = NULL;
}

static uint64_t
pad512(uint64_t n)
{
	return (n + 511) & ~(uint64_t)511;
}

/* A numeric field: octal text, or base-256 when the top bit is set. */
static int
num_field(const unsigned char *f, size_t len, uint64_t *v)
{
	size_t i = 0;

	*v = 0;
	if (f[0] & 0x80) {
		if (f[0] == 0xff)
			return -1;	/* negative */
		*v = f[0] & 0x7f;
		for (i = 1; i < len; i++) {
			if (*v >> 55)
				return -1;
			*v = *v << 8 | f[i];
		}
		return 0;
	}
	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (*v >> 60)
			return -1;
		*v = *v << 3 | (uint64_t)(f[i] - '0');
	}
	for (; i < len; i++)
		if (f[i] != ' ' && f[i] != 0)
			return -1;
	return 0;
}

static int
checksum_ok(const unsigned char *b)
{
	uint64_t want;
	unsigned long u = 0;
	long s = 0;

	if (num_field(b + 148, 8, &want) != 0)
		return 0;
	for (int i = 0; i < 512; i++) {
		unsigned char c = i >= 148 && i < 156 ? ' ' : b[i];
		u += c;
		s += (signed char)c;
	}
	return want == u || (long)want == s;
}

int
tar_is_header(const unsigned char *b)
{
	return checksum_ok(b);
}

static int
all_zero(const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/* Reads the records of a pax header ("LEN key=value\n"). */
static int
pax_parse(struct walker *w, struct tarst *t, int global)
{
	const unsigned char *p = t->ext, *end = t->ext + t->extsize;

	while (p < end) {
		uint64_t len = 0;
		const unsigned char *q = p, *eq, *rec_end;
		while (q < end && *q >= '0' && *q <= '9' && len < AR_HDR_MAX)
			len = len * 10 + (uint64_t)(*q++ - '0');
		if (q == p || q >= end || *q != ' ' || len < 5 ||
		    len > (uint64_t)(end - p) || p[len - 1] != '\n')
			return walk_fail(w, "member #%llu: malformed pax "
			    "header at byte %llu",
			    (unsigned long long)w->nunits + 1,
			    (unsigned long long)w->pos);
		rec_end = p + len - 1;
		q++;
		eq = memchr(q, '=', (size_t)(rec_end - q));
		if (eq == NULL)
			return walk_fail(w, "member #%llu: malformed pax "
			    "record", (unsigned long long)w->nunits + 1);
		size_t kl = (size_t)(eq - q);
		if (kl == 4 && memcmp(q, "size", 4) == 0) {
			uint64_t v = 0;
			const unsigned char *d = eq + 1;
			if (global)
				goto global_bad;
			if (d == rec_end)
				return walk_fail(w, "member #%llu: empty pax "
				    "size", (unsigned long long)w->nunits + 1);
			for (; d < rec_end; d++) {
				if (*d < '0' || *d > '9' || v > (UINT64_MAX >> 5))
					return walk_fail(w, "member #%llu: "
					    "bad pax size",
					    (unsigned long long)w->nunits + 1);
				v = v * 10 + (uint64_t)(*d - '0');
			}
			t->pax_size = (int64_t)v;
		} else if (kl > 11 && memcmp(q, "GNU.sparse.", 11) == 0) {
			if (global)
				goto global_bad;
			t->pax_sparse = 1;
		} else if (global && ((kl == 4 && memcmp(q, "path", 4) == 0) ||
		    (kl == 8 && memcmp(q, "linkpath", 8) == 0))) {
			goto global_bad;
		}
		p += len;
	}
	return 0;
global_bad:
	return walk_fail(w, "a global pax header at byte %llu sets a name or "
	    "size for the members after it, which readers apply differently",
	    (unsigned long long)w->pos);
}

static int ext_done(struct walker *w, struct tarst *t);

/* The member header in t->blk, which ended at w->pos. */
static int
main_header(struct walker *w, struct tarst *t, char tf, uint64_t size)
{
	uint64_t bstart = w->pos - 512, dsize;
	struct unit u;

	memset(&u, 0, sizeof(u));
	u.lead = t->prev_end;
	u.start = t->ustart != UINT64_MAX ? t->ustart : bstart;
	u.type = tf;
	dsize = t->pax_size >= 0 ? (uint64_t)t->pax_size : size;
	if (tf >= '1' && tf <= '6') {
		if (dsize != 0)
			return walk_fail(w, "member #%llu: its %s header "
			    "declares %llu bytes of data, which readers read "
			    "differently",
			    (unsigned long long)w->nunits + 1,
			    tf == '1' ? "hard link" : tf == '2' ? "symlink" :
			    tf == '5' ? "directory" : "device or FIFO",
			    (unsigned long long)dsize);
	}
	if (tf == 'D')
		u.flags |= U_DUMPDIR;
	if (tf == 'S' || t->pax_sparse)
		u.flags |= U_SPARSE;
	t->ustart = UINT64_MAX;
	t->pax_size = -1;
	t->pax_sparse = 0;
	t->hdr_bytes = 0;
	t->dsize = dsize;
	if (tf == 'S' && t->blk[482] != 0) {
		t->cur = u;
		t->nsparse = 0;
		t->mode = T_SPARSE;
		return 0;
	}
	u.end = w->pos + pad512(dsize);
	t->prev_end = w->last_end = u.end;
	t->mode = T_SKIP;
	t->left = pad512(dsize);
	return walk_push(w, &u);
}

static int
header(struct walker *w, struct tarst *t)
{
	unsigned char *b = t->blk;
	uint64_t size;
	char tf = (char)b[156];

	if (all_zero(b, 512)) {
		t->zeros_seen = w->nunits > 0;
		if (t->ustart != UINT64_MAX)
			return walk_fail(w, "member #%llu: its extended header "
			    "is followed by an end-of-archive block (damaged)",
			    (unsigned long long)w->nunits + 1);
		return 0;
	}
	if (t->zeros_seen)
		w->concat = 1;	/* a header after an end marker */
	if (!checksum_ok(b))
		return walk_fail(w, "%s at byte %llu is not a valid tar header "
		    "(checksum mismatch: damaged, or data after the end of "
		    "the archive)", w->nunits ? "the block" : "the first block",
		    (unsigned long long)(w->pos - 512));
	if (memcmp(b + 257, "ustar", 5) == 0)
		w->variant = 1;
	if (num_field(b + 124, 12, &size) != 0)
		return walk_fail(w, "member #%llu: its size field cannot be "
		    "read (damaged)", (unsigned long long)w->nunits + 1);
	switch (tf) {
	case 'x': case 'X': case 'g': case 'L': case 'K': case 'A':
		if (tf == 'g' && t->ustart != UINT64_MAX)
			return walk_fail(w, "member #%llu: a global header "
			    "among its extended headers (damaged)",
			    (unsigned long long)w->nunits + 1);
		if (tf != 'g' && t->ustart == UINT64_MAX)
			t->ustart = w->pos - 512;
		t->hdr_bytes += 512 + pad512(size);
		if (t->hdr_bytes > AR_HDR_MAX || size > AR_HDR_MAX)
			return walk_fail(w, "member #%llu: its headers take "
			    "more than %d KiB (a limit against hostile "
			    "archives)",
			    (unsigned long long)w->nunits + 1,
			    AR_HDR_MAX / 1024);
		t->ext_type = tf;
		t->extsize = (size_t)size;
		t->next = 0;
		if (tf == 'x' || tf == 'X' || tf == 'g') {
			free(t->ext);
			t->ext = malloc(t->extsize + 1);
			if (t->ext == NULL)
				return walk_fail(w, "out of memory");
		}
		t->mode = T_EXT;
		t->left = pad512(size);
		return t->left == 0 ? ext_done(w, t) : 0;
	case 'V':
		if (t->ustart != UINT64_MAX)
			return walk_fail(w, "member #%llu: a volume label among "
			    "its extended headers (damaged)",
			    (unsigned long long)w->nunits + 1);
		t->mode = T_SKIP;
		t->left = pad512(size);
		w->last_end = w->pos + t->left;
		return 0;
	case 'M':
		return walk_fail(w, "member #%llu continues a file from "
		    "another volume of a multi-volume archive",
		    (unsigned long long)w->nunits + 1);
	case 'N':
		return walk_fail(w, "member #%llu is an old GNU long-name "
		    "record (type N), which lethe does not read",
		    (unsigned long long)w->nunits + 1);
	default:
		return main_header(w, t, tf, size);
	}
}

static int
ext_done(struct walker *w, struct tarst *t)
{
	t->mode = T_HDR;
	if (t->ext_type == 'x' || t->ext_type == 'X' || t->ext_type == 'g') {
		int rc = pax_parse(w, t, t->ext_type == 'g');
		free(t->ext);
		t->ext = NULL;
		if (rc != 0)
			return -1;
	}
	if (t->ext_type == 'g')
		w->last_end = w->pos;
	return 0;
}

int
tar_feed(struct walker *w, const unsigned char *p, size_t n)
{
	struct tarst *t = tst(w);

	if (t == NULL)
		return walk_fail(w, "out of memory");
	while (n > 0) {
		size_t take;
		switch (t->mode) {
		case T_SKIP:
		case T_EXT:
			take = t->left < n ? (size_t)t->left : n;
			if (t->mode == T_EXT && t->ext != NULL &&
			    t->next < t->extsize) {
				size_t c = t->extsize - t->next < take ?
				    t->extsize - t->next : take;
				memcpy(t->ext + t->next, p, c);
				t->next += c;
			}
			t->left -= take;
			w->pos += take;
			p += take;
			n -= take;
			if (t->left == 0) {
				if (t->mode == T_EXT) {
					if (ext_done(w, t) != 0)
						return -1;
				} else
					t->mode = T_HDR;
			}
			break;
		case T_HDR:
		case T_SPARSE:
			take = 512 - t->nblk < n ? 512 - t->nblk : n;
			memcpy(t->blk + t->nblk, p, take);
			t->nblk += take;
			w->pos += take;
			p += take;
			n -= take;
			if (t->nblk < 512)
				break;
			t->nblk = 0;
			if (t->mode == T_HDR) {
				if (header(w, t) != 0)
					return -1;
				break;
			}
			/* An old GNU sparse extension block. */
			if (++t->nsparse > AR_HDR_MAX / 512)
				return walk_fail(w, "member #%llu: its sparse "
				    "map takes more than %d KiB (a limit "
				    "against hostile archives)",
				    (unsigned long long)w->nunits + 1,
				    AR_HDR_MAX / 1024);
			if (t->blk[504] != 0)
				break;
			t->cur.end = w->pos + pad512(t->dsize);
			t->prev_end = w->last_end = t->cur.end;
			t->mode = T_SKIP;
			t->left = pad512(t->dsize);
			if (walk_push(w, &t->cur) != 0)
				return -1;
			break;
		}
		if (t->mode == T_SKIP && t->left == 0)
			t->mode = T_HDR;
	}
	return 0;
}

int
tar_end(struct walker *w)
{
	struct tarst *t = tst(w);
	uint64_t tail;

	if (t == NULL)
		return walk_fail(w, "out of memory");
	if (t->mode != T_HDR || t->ustart != UINT64_MAX)
		return walk_fail(w, "member #%llu is cut short by the end of "
		    "the archive (truncated)", (unsigned long long)w->nunits);
	if (t->nblk > 0 && !all_zero(t->blk, t->nblk))
		return walk_fail(w, t->zeros_seen ? "it holds %zu bytes after "
		    "its end-of-archive marker that are not a tar member (junk "
		    "after the end)" : "it ends inside a header block after "
		    "%zu bytes (truncated or damaged)", t->nblk);
	tail = w->pos - w->last_end;
	if (w->nunits > 0 && tail == 0)
		return walk_fail(w, "the archive ends right after member "
		    "#%llu, without the end-of-archive marker (truncated at "
		    "a member boundary?)", (unsigned long long)w->nunits);
	if (w->nunits > 0 && tail < 1024)
		return walk_fail(w, "the archive ends with a single zero block "
		    "instead of the two of an end-of-archive marker "
		    "(truncated?)");
	return 0;
}
