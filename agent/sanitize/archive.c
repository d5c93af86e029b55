/*
 * archive.c: removing matching members from tar, cpio and zip archives and
 * sanitizing the old archive's blocks (see archive.h).
 *
 * MUST rules:
 *  - the archive is opened O_NOFOLLOW through the caller's directory fd and
 *    checked on the fd: regular, one link, a filesystem where overwrite is
 *    sound; nothing is written before libarchive has read every member of it
 *    to the end without error or warning;
 *  - only a temporary in the same directory is written until the swap; it
 *    holds kept members only, so a failure removes it with a plain unlink;
 *  - the swap happens only after the new archive is fsync'd, read back from
 *    the disk and found to hold exactly the kept members (names, kinds,
 *    modes, mtimes, sizes, SHA-256 of contents) and after on_commit;
 *  - the swap is RENAME_EXCHANGE (else link + rename), so the old archive
 *    always keeps a name until its blocks are overwritten: a run killed at
 *    any instant leaves either the old archive in place, or the new one in
 *    place and the old one under SWAP_SUFFIX, which the next call
 *    overwrites before anything else;
 *  - the old blocks are overwritten through a descriptor checked to be the
 *    same inode that was read, and its name is removed only after the name
 *    is re-checked to be that inode;
 *  - member names never go into an error message (SPEC §8): members are
 *    named by ordinal.
 *
 * Hard links (tar): content reachable under a kept name is kept.  A kept
 * link whose target member is removed is written as a regular file with the
 * target's content (read again from the old archive by a second reader, so
 * memory stays constant), and further kept links to the same target become
 * links to that file.  A removed link to a kept target is simply left out:
 * the content stays with the kept name.  cpio stores a linked file's content
 * with one of its names, so a cpio link set split by the glob is refused.
 *
 * Sparse members: content is hashed and written as the logical bytes (holes
 * as zeros); the pax writer keeps the sparse map it is given, so holes stay
 * holes there.  gnu and ustar writers cannot express holes: those members
 * are written out in full (larger archive, same extracted content).
 */
#include "sanitize/archive.h"

#include "base/err.h"
#include "locate/locate.h"
#include "locate/media.h"
#include "sanitize/overwrite.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SWAP_SUFFIX ".lethe-swap"	/* new archive, then the old one */
#define OLD_SUFFIX ".lethe-old"		/* old archive, when no exchange */
#define IOBUF (1024 * 1024)

static const char sealed_magic[8] = "LETHESL1";

/* Reads an fd for libarchive with pread at its own offset, so two readers
 * can share the fd; optionally hashes every raw byte in order. */
struct src {
	int fd;
	uint64_t off, size;
	unsigned char *buf;
	EVP_MD_CTX *raw;	/* NULL unless hashing the raw file */
	uint64_t *progress_done;
	const struct archive_opts *o;
	uint64_t progress_total;
};

/* Writes libarchive's output to an fd, hashing it and keeping errno. */
struct sink {
	int fd;
	int err;
	uint64_t bytes;
	EVP_MD_CTX *md;
};

/* A kept tar hard link whose target member is removed. */
struct mat {
	uint64_t link_idx, target_idx;
	char *target;		/* target's path as stored */
	char *self;		/* the link's own path */
	const char *relink;	/* NULL: write the content; else link to this */
};

/* What the first pass learned. */
struct shape {
	int rformat;		/* libarchive's code for the whole archive */
	int filter;		/* ARCHIVE_FILTER_*, NONE when uncompressed */
	int nfilters;
	uint64_t entries, matches, match_bytes;
	struct mat *mat;
	size_t nmat, matcap;
};

static la_ssize_t
src_read(struct archive *a, void *arg, const void **out)
{
	struct src *s = arg;
	ssize_t n;

	do
		n = pread(s->fd, s->buf, IOBUF, (off_t)s->off);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "read: %s", strerror(errno));
		return -1;
	}
	if (s->raw != NULL && n > 0)
		EVP_DigestUpdate(s->raw, s->buf, (size_t)n);
	s->off += (uint64_t)n;
	if (s->progress_done != NULL) {
		*s->progress_done += (uint64_t)n;
		if (s->o != NULL && s->o->progress != NULL)
			s->o->progress(*s->progress_done, s->progress_total,
			    s->o->arg);
	}
	*out = s->buf;
	return n;
}

static la_int64_t
src_seek(struct archive *a, void *arg, la_int64_t off, int whence)
{
	struct src *s = arg;
	int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ?
	    (int64_t)s->off : (int64_t)s->size;

	(void)a;
	if (base + off < 0)
		return ARCHIVE_FATAL;
	s->off = (uint64_t)(base + off);
	return (la_int64_t)s->off;
}

static la_int64_t
src_skip(struct archive *a, void *arg, la_int64_t req)
{
	struct src *s = arg;
	uint64_t left = s->size > s->off ? s->size - s->off : 0;

	(void)a;
	if (req <= 0)
		return 0;
	if ((uint64_t)req > left)
		req = (la_int64_t)left;
	s->off += (uint64_t)req;
	return req;
}

static la_ssize_t
sink_write(struct archive *a, void *arg, const void *buf, size_t len)
{
	struct sink *k = arg;
	const char *p = buf;
	size_t left = len;

	while (left > 0) {
		ssize_t w = write(k->fd, p, left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			k->err = errno;
			archive_set_error(a, errno, "%s", strerror(errno));
			return -1;
		}
		p += w;
		left -= (size_t)w;
	}
	if (k->md != NULL)
		EVP_DigestUpdate(k->md, buf, len);
	k->bytes += len;
	return (la_ssize_t)len;
}

int
archive_member_matches(const char *glob, const char *path)
{
	char buf[4096];
	size_t gl = strlen(glob), pl;

	if (path == NULL)
		return 0;
	for (;;) {
		if (path[0] == '/')
			path++;
		else if (path[0] == '.' && path[1] == '/')
			path += 2;
		else
			break;
	}
	pl = strlen(path);
	if (pl >= sizeof(buf))
		pl = sizeof(buf) - 1;
	memcpy(buf, path, pl);
	buf[pl] = '\0';
	while (pl > 0 && buf[pl - 1] == '/')
		buf[--pl] = '\0';
	if (pl == 0)
		return 0;
	if (glob_match_path(glob, buf))
		return 1;
	/* "osde/" + "**" removes the directory entry "osde/" itself. */
	if (gl >= 3 && strcmp(glob + gl - 3, "/**") == 0 && gl - 3 < sizeof(buf)) {
		char head[4096];
		memcpy(head, glob, gl - 3);
		head[gl - 3] = '\0';
		if (glob_match_path(head, buf))
			return 1;
	}
	return 0;
}

/* libarchive's message, with anything it quotes (some messages quote a
 * member's name) and any unprintable byte left out: names are student
 * data and must not reach a log (SPEC §8). */
static const char *
aerr(struct archive *a)
{
	static char buf[256];
	const char *s = archive_error_string(a);
	size_t n = 0;
	int quoted = 0;

	if (s == NULL)
		return "unknown error";
	for (; *s != '\0' && n + 8 < sizeof(buf); s++) {
		if (*s == '\'' || *s == '"') {
			if (!quoted) {
				memcpy(buf + n, "'...'", 5);
				n += 5;
			}
			quoted = !quoted;
		} else if (!quoted)
			buf[n++] = *s >= 0x20 && *s < 0x7f ? *s : '?';
	}
	buf[n] = '\0';
	return buf;
}

static struct archive *
reader_open_cb(void *data, archive_read_callback *rcb, int seekable,
    const char *label, struct err *e)
{
	struct archive *a = archive_read_new();

	if (a == NULL) {
		err_set(e, "%s: out of memory", label);
		return NULL;
	}
	/* Only formats we can write back.  Not format_all: the mtree reader
	 * opens files named in its input, and nothing here may. */
	archive_read_support_format_tar(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_zip(a);
	archive_read_support_format_empty(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_lzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_lz4(a);
	archive_read_support_filter_compress(a);
	archive_read_set_read_callback(a, rcb);
	if (seekable) {
		archive_read_set_seek_callback(a, src_seek);
		archive_read_set_skip_callback(a, src_skip);
	}
	archive_read_set_callback_data(a, data);
	if (archive_read_open1(a) != ARCHIVE_OK) {
		err_set(e, "%s: not an archive lethe can rewrite: %s", label,
		    archive_error_string(a) ? archive_error_string(a) : "unknown");
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static struct archive *
reader_open(struct src *s, int seekable, const char *label, struct err *e)
{
	return reader_open_cb(s, src_read, seekable, label, e);
}

/*
 * libarchive does not check a gzip member's CRC-32 and length, so a
 * flipped byte in a stored block would be copied into the new archive as
 * if it were data.  The first pass therefore decompresses through a raw
 * reader of its own, feeds the archive reader from it, and checks the
 * trailer against the CRC-32 of everything decompressed.  One gzip member
 * (what gzip, pigz, GNU tar and bsdtar write) is checked; a stream of
 * several members cannot be, and is refused.
 */
static uint32_t crc_tab[8][256];

static void
crc_init(void)
{
	static int ready;

	if (ready)
		return;
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_tab[0][n] = c;
	}
	for (uint32_t n = 0; n < 256; n++)
		for (int k = 1; k < 8; k++)
			crc_tab[k][n] = (crc_tab[k - 1][n] >> 8) ^
			    crc_tab[0][crc_tab[k - 1][n] & 0xff];
	ready = 1;
}

static uint32_t
crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	while (n >= 8) {
		uint32_t a = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		uint32_t b = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
		    (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
		crc = crc_tab[7][a & 0xff] ^ crc_tab[6][(a >> 8) & 0xff] ^
		    crc_tab[5][(a >> 16) & 0xff] ^ crc_tab[4][a >> 24] ^
		    crc_tab[3][b & 0xff] ^ crc_tab[2][(b >> 8) & 0xff] ^
		    crc_tab[1][(b >> 16) & 0xff] ^ crc_tab[0][b >> 24];
		p += 8;
		n -= 8;
	}
	while (n-- > 0)
		crc = crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

struct gzsrc {
	struct archive *raw;	/* format raw + filter gzip over a src */
	uint32_t crc;
	uint64_t total;
	int eof;
};

static la_ssize_t
gz_read(struct archive *a, void *arg, const void **out)
{
	struct gzsrc *g = arg;
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	if (g->eof)
		return 0;
	r = archive_read_data_block(g->raw, &buf, &len, &off);
	if (r == ARCHIVE_EOF) {
		g->eof = 1;
		return 0;
	}
	if (r != ARCHIVE_OK) {
		archive_set_error(a, archive_errno(g->raw) ? archive_errno(g->raw)
		    : EIO, "%s", archive_error_string(g->raw) ?
		    archive_error_string(g->raw) : "gzip read error");
		return -1;
	}
	g->crc = crc32_update(g->crc, buf, len);
	g->total += len;
	*out = buf;
	return (la_ssize_t)len;
}

static int
gz_open(struct gzsrc *g, struct src *s, const char *label, struct err *e)
{
	struct archive_entry *ent;

	crc_init();
	memset(g, 0, sizeof(*g));
	g->raw = archive_read_new();
	if (g->raw == NULL)
		return err_set(e, "%s: out of memory", label);
	archive_read_support_format_raw(g->raw);
	archive_read_support_filter_gzip(g->raw);
	archive_read_set_read_callback(g->raw, src_read);
	archive_read_set_callback_data(g->raw, s);
	if (archive_read_open1(g->raw) != ARCHIVE_OK ||
	    archive_read_next_header(g->raw, &ent) != ARCHIVE_OK)
		return err_set(e, "%s: gzip: %s; refused, archive untouched",
		    label, aerr(g->raw));
	return 0;
}

/* After the archive reader is done: decompresses the rest and checks the
 * last 8 bytes before any zero padding are CRC-32 and length. */
static int
gz_finish(struct gzsrc *g, int fd, uint64_t size, const char *label,
    struct err *e)
{
	unsigned char want[8], tail[65536];
	const void *p;
	size_t n = size < sizeof(tail) ? (size_t)size : sizeof(tail);

	while (!g->eof) {
		if (gz_read(g->raw, g, &p) < 0)
			return err_set(e, "%s: gzip: %s; refused, archive "
			    "untouched", label, aerr(g->raw));
	}
	for (int i = 0; i < 4; i++) {
		want[i] = (unsigned char)(g->crc >> (8 * i));
		want[4 + i] = (unsigned char)((uint32_t)g->total >> (8 * i));
	}
	if (pread(fd, tail, n, (off_t)(size - n)) != (ssize_t)n)
		return err_sys(e, "%s: read", label);
	/* Walk back over zero padding; the trailer may itself end in 0s. */
	for (size_t end = n; end >= 8; end--) {
		if (memcmp(tail + end - 8, want, 8) == 0)
			return 0;
		if (tail[end - 1] != 0)
			break;
	}
	return err_set(e, "%s: gzip CRC-32 or length does not match the data "
	    "(corrupt, or several gzip members); refused, archive untouched",
	    label);
}

static void
gz_close(struct gzsrc *g)
{
	if (g->raw != NULL)
		archive_read_free(g->raw);
	g->raw = NULL;
}

static char
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

static int
is_tar(int fmt)
{
	return (fmt & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_TAR;
}

/* Reads the current entry's content, hashing it (holes as zeros) and
 * feeding it to w when w is not NULL.  *n gets the logical size. */
static int
copy_content(struct archive *rd, struct archive *w, EVP_MD_CTX *md,
    int64_t want, uint64_t *n, const char *label, uint64_t idx,
    struct err *e)
{
	static const unsigned char zeros[65536];
	const void *buf;
	size_t len;
	la_int64_t off;
	int64_t pos = 0;

	for (;;) {
		int r = archive_read_data_block(rd, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK)
			return err_set(e, "%s: member #%ju: cannot read: %s",
			    label, (uintmax_t)idx + 1, aerr(rd));
		if (off < pos)
			return err_set(e, "%s: member #%ju: data out of order",
			    label, (uintmax_t)idx + 1);
		/* Holes of sparse members, then the data itself. */
		while (pos < off || len > 0) {
			const void *p;
			size_t chunk;
			if (pos < off) {
				p = zeros;
				chunk = (uint64_t)(off - pos) < sizeof(zeros) ?
				    (size_t)(off - pos) : sizeof(zeros);
			} else {
				p = buf;
				chunk = len;
			}
			if (md != NULL)
				EVP_DigestUpdate(md, p, chunk);
			if (w != NULL) {
				la_ssize_t wr = archive_write_data(w, p, chunk);
				if (wr < 0 || (size_t)wr != chunk)
					return -2;
			}
			pos += (int64_t)chunk;
			if (p == buf) {
				len = 0;
				off = pos;
			}
		}
	}
	/* A sparse member may end in a hole. */
	while (want > pos) {
		size_t chunk = (uint64_t)(want - pos) < sizeof(zeros) ?
		    (size_t)(want - pos) : sizeof(zeros);
		if (md != NULL)
			EVP_DigestUpdate(md, zeros, chunk);
		if (w != NULL) {
			la_ssize_t wr = archive_write_data(w, zeros, chunk);
			if (wr < 0 || (size_t)wr != chunk)
				return -2;
		}
		pos += (int64_t)chunk;
	}
	*n = (uint64_t)pos;
	return 0;
}

/* Where the content of a sparse file ends, which may be in a hole; 0 for
 * anything else, whose content is exactly what the reader returns. */
static int64_t
sparse_end(struct archive_entry *ent)
{
	if (archive_entry_filetype(ent) != AE_IFREG ||
	    archive_entry_hardlink(ent) != NULL ||
	    archive_entry_sparse_count(ent) == 0)
		return 0;
	return archive_entry_size(ent);
}

/* Adds one kept member to the running digest that the read-back must
 * reproduce: path, kind, permissions, mtime, and size + content digest or
 * link target. */
static void
chain_add(EVP_MD_CTX *chain, struct archive_entry *ent, char kind,
    const char *link, uint64_t size, const unsigned char *sha)
{
	const char *p = archive_entry_pathname(ent);
	unsigned char meta[1 + 4 + 8 + 8];
	uint32_t perm = (uint32_t)(archive_entry_perm(ent) & 07777);
	int64_t mt = archive_entry_mtime(ent);

	if (p == NULL)
		p = "";
	EVP_DigestUpdate(chain, p, strlen(p) + 1);
	meta[0] = (unsigned char)kind;
	memcpy(meta + 1, &perm, 4);
	memcpy(meta + 5, &mt, 8);
	memcpy(meta + 13, &size, 8);
	EVP_DigestUpdate(chain, meta, sizeof(meta));
	if (link != NULL)
		EVP_DigestUpdate(chain, link, strlen(link) + 1);
	if (sha != NULL)
		EVP_DigestUpdate(chain, sha, 32);
}

static void
mats_free(struct shape *sh)
{
	for (size_t i = 0; i < sh->nmat; i++) {
		free(sh->mat[i].target);
		free(sh->mat[i].self);
	}
	free(sh->mat);
	sh->mat = NULL;
	sh->nmat = sh->matcap = 0;
}

static int
mat_add(struct shape *sh, uint64_t idx, const char *target, const char *self)
{
	if (sh->nmat == sh->matcap) {
		size_t nc = sh->matcap ? sh->matcap * 2 : 8;
		struct mat *v = realloc(sh->mat, nc * sizeof(*v));
		if (v == NULL)
			return -1;
		sh->mat = v;
		sh->matcap = nc;
	}
	struct mat *m = &sh->mat[sh->nmat];
	memset(m, 0, sizeof(*m));
	m->link_idx = idx;
	m->target_idx = UINT64_MAX;
	m->target = strdup(target);
	m->self = strdup(self ? self : "");
	if (m->target == NULL || m->self == NULL) {
		free(m->target);
		free(m->self);
		return -1;
	}
	sh->nmat++;
	return 0;
}

/* The format seen so far merged with this entry's: a tar archive is pax
 * if any entry needed pax headers, gnu if any used GNU extensions. */
static int
merge_format(int have, int fmt)
{
	if (have == 0 || !is_tar(have) || !is_tar(fmt))
		return have == 0 ? fmt : have;
	if (have == ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE ||
	    fmt == ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE)
		return ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE;
	if (have == ARCHIVE_FORMAT_TAR_GNUTAR || fmt == ARCHIVE_FORMAT_TAR_GNUTAR)
		return ARCHIVE_FORMAT_TAR_GNUTAR;
	if (have == ARCHIVE_FORMAT_TAR_USTAR || fmt == ARCHIVE_FORMAT_TAR_USTAR)
		return ARCHIVE_FORMAT_TAR_USTAR;
	return fmt;
}

/* First pass: reads every header (and with full, every byte of content)
 * of the archive, counting matches and learning its format. */
static int
scan(int fd, uint64_t size, const char *label, const char *glob, int full,
    struct shape *sh, uint64_t *done, const struct archive_opts *o,
    struct err *e)
{
	struct src s = { .fd = fd, .size = size, .progress_done = done,
	    .o = o, .progress_total = size * 2 };
	struct archive *rd = NULL;
	struct archive_entry *ent;
	struct gzsrc gz = { 0 };
	unsigned char magic[2];
	int rc = -1, gzip;

	s.buf = malloc(IOBUF);
	if (s.buf == NULL)
		return err_set(e, "%s: out of memory", label);
	gzip = full && pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f &&
	    magic[1] == 0x8b;
	if (gzip) {
		if (gz_open(&gz, &s, label, e) != 0)
			goto out;
		rd = reader_open_cb(&gz, gz_read, 0, label, e);
	} else
		rd = reader_open(&s, 1, label, e);
	if (rd == NULL)
		goto out;
	for (uint64_t i = 0;; i++) {
		int r = archive_read_next_header(rd, &ent);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			err_set(e, "%s: member #%ju: %s%s; refused, archive "
			    "untouched", label, (uintmax_t)i + 1, aerr(rd),
			    r == ARCHIVE_WARN ? " (damaged?)" : "");
			goto out;
		}
		if (archive_entry_is_encrypted(ent)) {
			err_set(e, "%s: member #%ju is encrypted; refused, "
			    "archive untouched", label, (uintmax_t)i + 1);
			goto out;
		}
		sh->rformat = merge_format(sh->rformat, archive_format(rd));
		sh->entries++;
		const char *path = archive_entry_pathname(ent);
		const char *link = archive_entry_hardlink(ent);
		int m = archive_member_matches(glob, path);
		if (path == NULL) {
			err_set(e, "%s: member #%ju: its name cannot be read, so "
			    "whether to remove it cannot be decided; refused, "
			    "archive untouched", label, (uintmax_t)i + 1);
			goto out;
		}
		if (m) {
			sh->matches++;
			if (archive_entry_size_is_set(ent) && link == NULL)
				sh->match_bytes += (uint64_t)archive_entry_size(ent);
		}
		if (link != NULL && m != archive_member_matches(glob, link)) {
			if (!is_tar(archive_format(rd))) {
				err_set(e, "%s: member #%ju is hard-linked across "
				    "the members to remove, which this format "
				    "cannot split; refused, archive untouched",
				    label, (uintmax_t)i + 1);
				goto out;
			}
			if (!m && mat_add(sh, i, link, path) != 0) {
				err_set(e, "%s: out of memory", label);
				goto out;
			}
		}
		if (full) {
			uint64_t n;
			if (copy_content(rd, NULL, NULL, 0, &n, label, i, e) != 0)
				goto out;
		}
	}
	sh->nfilters = archive_filter_count(rd);
	sh->filter = sh->nfilters > 1 ? archive_filter_code(rd, 0) :
	    ARCHIVE_FILTER_NONE;
	if (gzip) {
		/* The gzip layer was ours, not the archive reader's. */
		sh->nfilters++;
		if (sh->filter == ARCHIVE_FILTER_NONE)
			sh->filter = ARCHIVE_FILTER_GZIP;
		if (gz_finish(&gz, fd, size, label, e) != 0)
			goto out;
	}
	if (sh->rformat == 0)
		sh->rformat = archive_format(rd);
	rc = 0;
out:
	if (rd != NULL)
		archive_read_free(rd);
	gz_close(&gz);
	free(s.buf);
	return rc;
}

/* Finds, for each kept link to a removed target, the target's ordinal:
 * the last member before the link with that path. */
static int
resolve_mats(int fd, uint64_t size, const char *label, struct shape *sh,
    struct err *e)
{
	struct src s = { .fd = fd, .size = size };
	struct archive *rd;
	struct archive_entry *ent;
	int rc = -1;

	s.buf = malloc(IOBUF);
	if (s.buf == NULL)
		return err_set(e, "%s: out of memory", label);
	rd = reader_open(&s, 1, label, e);
	if (rd == NULL)
		goto out;
	for (uint64_t i = 0;; i++) {
		int r = archive_read_next_header(rd, &ent);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			err_set(e, "%s: member #%ju: %s", label,
			    (uintmax_t)i + 1, aerr(rd));
			goto out;
		}
		const char *p = archive_entry_pathname(ent);
		if (p == NULL || archive_entry_hardlink(ent) != NULL)
			continue;
		for (size_t k = 0; k < sh->nmat; k++)
			if (sh->mat[k].link_idx > i &&
			    strcmp(sh->mat[k].target, p) == 0)
				sh->mat[k].target_idx = i;
	}
	/* The first kept link of each target gets the content; later ones
	 * link to it. */
	for (size_t k = 0; k < sh->nmat; k++)
		for (size_t j = 0; j < k; j++)
			if (sh->mat[k].target_idx != UINT64_MAX &&
			    sh->mat[j].target_idx == sh->mat[k].target_idx &&
			    sh->mat[j].relink == NULL) {
				sh->mat[k].relink = sh->mat[j].self;
				break;
			}
	rc = 0;
out:
	if (rd != NULL)
		archive_read_free(rd);
	free(s.buf);
	return rc;
}

/* Sets up the writer for the format and compression of the original. */
static int
writer_setup(struct archive *w, const struct shape *sh, char *desc,
    size_t desclen, const char *label, struct err *e)
{
	const char *fname = NULL, *note = "";
	int r;

	switch (sh->rformat) {
	case ARCHIVE_FORMAT_TAR_USTAR:
		r = archive_write_set_format_ustar(w); fname = "ustar"; break;
	case ARCHIVE_FORMAT_TAR_GNUTAR:
		r = archive_write_set_format_gnutar(w); fname = "gnu tar"; break;
	case ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE:
		r = archive_write_set_format_pax(w); fname = "pax"; break;
	case ARCHIVE_FORMAT_TAR_PAX_RESTRICTED:
		r = archive_write_set_format_pax_restricted(w); fname = "pax"; break;
	case ARCHIVE_FORMAT_TAR:
		r = archive_write_set_format_v7tar(w); fname = "v7 tar"; break;
	case ARCHIVE_FORMAT_CPIO_POSIX:
		r = archive_write_set_format_cpio_odc(w); fname = "cpio odc"; break;
	case ARCHIVE_FORMAT_CPIO_SVR4_NOCRC:
		r = archive_write_set_format_cpio_newc(w); fname = "cpio newc"; break;
	case ARCHIVE_FORMAT_CPIO_SVR4_CRC:
		r = archive_write_set_format_cpio_newc(w); fname = "cpio newc";
		note = " (was crc)"; break;
	case ARCHIVE_FORMAT_CPIO_BIN_LE:
		r = archive_write_set_format_cpio_bin(w); fname = "cpio bin"; break;
	case ARCHIVE_FORMAT_CPIO_PWB:
		r = archive_write_set_format_cpio_pwb(w); fname = "cpio pwb"; break;
	case ARCHIVE_FORMAT_CPIO_BIN_BE:
	case ARCHIVE_FORMAT_CPIO_AFIO_LARGE:
		r = archive_write_set_format_cpio_odc(w); fname = "cpio odc";
		note = " (was bin/afio)"; break;
	case ARCHIVE_FORMAT_ZIP:
		r = archive_write_set_format_zip(w); fname = "zip"; break;
	default:
		return err_set(e, "%s: archive format %#x cannot be written "
		    "back; refused, archive untouched", label,
		    (unsigned)sh->rformat);
	}
	if (r != ARCHIVE_OK)
		return err_set(e, "%s: %s", label, aerr(w));
	if (sh->nfilters > 2)
		return err_set(e, "%s: nested compression; refused, archive "
		    "untouched", label);
	if (sh->filter != ARCHIVE_FILTER_NONE) {
		if (archive_write_add_filter(w, sh->filter) != ARCHIVE_OK)
			return err_set(e, "%s: cannot write its compression "
			    "back (%s); refused, archive untouched", label,
			    aerr(w));
	}
	/* A compressed stream or a zip must end where its data ends; an
	 * uncompressed tar or cpio keeps the usual 10240-byte records. */
	if (sh->filter != ARCHIVE_FILTER_NONE ||
	    sh->rformat == ARCHIVE_FORMAT_ZIP)
		archive_write_set_bytes_in_last_block(w, 1);
	int n = snprintf(desc, desclen, "%s%s%s%s", fname, note,
	    sh->filter != ARCHIVE_FILTER_NONE ? " + " : "",
	    sh->filter != ARCHIVE_FILTER_NONE ? archive_filter_name(w, 0) : "");
	if (n < 0 || (size_t)n >= desclen)
		desc[desclen - 1] = '\0';
	return 0;
}

/* Writes the content of member #target_idx of the old archive as the
 * content of the entry just written (a kept link whose target is gone). */
static int
copy_from_member(int fd, uint64_t size, uint64_t target_idx,
    struct archive *w, EVP_MD_CTX *md, uint64_t *n, int64_t *tsize,
    const char *label, int header_only, struct err *e)
{
	struct src s = { .fd = fd, .size = size };
	struct archive *rd;
	struct archive_entry *ent;
	int rc = -1;

	s.buf = malloc(IOBUF);
	if (s.buf == NULL)
		return err_set(e, "%s: out of memory", label);
	rd = reader_open(&s, 1, label, e);
	if (rd == NULL)
		goto out;
	for (uint64_t i = 0; i <= target_idx; i++) {
		if (archive_read_next_header(rd, &ent) != ARCHIVE_OK) {
			err_set(e, "%s: member #%ju: %s", label,
			    (uintmax_t)i + 1, aerr(rd));
			goto out;
		}
	}
	*tsize = archive_entry_size(ent);
	if (header_only) {
		rc = 0;
		goto out;
	}
	rc = copy_content(rd, w, md, sparse_end(ent), n, label, target_idx, e);
out:
	if (rd != NULL)
		archive_read_free(rd);
	free(s.buf);
	return rc;
}

struct pass2 {
	int oldfd, tmpfd;
	uint64_t oldsize;
	const char *label, *glob;
	const struct archive_opts *o;
	struct shape *sh;
	struct archive_result *r;
	unsigned char chain[32];
	uint64_t *done;
};

static int
write_fail(struct archive *w, const struct sink *k, const char *label,
    struct err *e)
{
	if (k->err != 0)
		return err_set(e, "%s: writing the new archive failed: %s; "
		    "the archive is unchanged", label, strerror(k->err));
	return err_set(e, "%s: writing the new archive failed: %s; the "
	    "archive is unchanged", label, aerr(w));
}

/* Second pass: streams every kept member into the temporary, reports
 * every removed member, and builds the digest chain of what it wrote. */
static int
rewrite(struct pass2 *p, struct err *e)
{
	struct src s = { .fd = p->oldfd, .size = p->oldsize,
	    .progress_done = p->done, .o = p->o,
	    .progress_total = p->oldsize * 2 };
	struct sink k = { .fd = p->tmpfd };
	struct archive *rd = NULL, *w = NULL;
	struct archive_entry *ent;
	EVP_MD_CTX *chain = EVP_MD_CTX_new(), *md = EVP_MD_CTX_new();
	size_t mi = 0;
	int rc = -1, zip = p->sh->rformat == ARCHIVE_FORMAT_ZIP, zstore = -1;
	int tar = is_tar(p->sh->rformat);

	k.md = EVP_MD_CTX_new();
	s.buf = malloc(IOBUF);
	if (chain == NULL || md == NULL || k.md == NULL || s.buf == NULL) {
		err_set(e, "%s: out of memory", p->label);
		goto out;
	}
	EVP_DigestInit_ex(chain, EVP_sha256(), NULL);
	EVP_DigestInit_ex(k.md, EVP_sha256(), NULL);
	rd = reader_open(&s, 1, p->label, e);
	if (rd == NULL)
		goto out;
	w = archive_write_new();
	if (w == NULL) {
		err_set(e, "%s: out of memory", p->label);
		goto out;
	}
	if (writer_setup(w, p->sh, p->r->format, sizeof(p->r->format),
	    p->label, e) != 0)
		goto out;
	if (archive_write_open2(w, &k, NULL, sink_write, NULL, NULL) !=
	    ARCHIVE_OK) {
		write_fail(w, &k, p->label, e);
		goto out;
	}
	for (uint64_t i = 0;; i++) {
		unsigned char sha[32];
		uint64_t n = 0;
		int r = archive_read_next_header(rd, &ent);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			err_set(e, "%s: member #%ju: %s; the archive is "
			    "unchanged", p->label, (uintmax_t)i + 1, aerr(rd));
			goto out;
		}
		const char *path = archive_entry_pathname(ent);
		const char *link = archive_entry_hardlink(ent);
		char kind = entry_kind(ent);

		if (archive_member_matches(p->glob, path)) {
			struct archive_member row = { .path = path ? path : "",
			    .kind = kind };
			EVP_DigestInit_ex(md, EVP_sha256(), NULL);
			if (copy_content(rd, NULL, md, sparse_end(ent),
			    &n, p->label, i, e) != 0)
				goto out;
			EVP_DigestFinal_ex(md, row.sha256, NULL);
			row.size = n;
			p->r->members_removed++;
			p->r->bytes_removed += n;
			if (p->o != NULL && p->o->on_member != NULL &&
			    p->o->on_member(&row, p->o->arg) != 0) {
				err_set(e, "%s: manifest row for member #%ju "
				    "refused; the archive is unchanged",
				    p->label, (uintmax_t)i + 1);
				goto out;
			}
			continue;
		}

		struct mat *m = NULL;
		while (mi < p->sh->nmat && p->sh->mat[mi].link_idx < i)
			mi++;
		if (mi < p->sh->nmat && p->sh->mat[mi].link_idx == i)
			m = &p->sh->mat[mi];

		if (zip) {
			const char *fn = archive_format_name(rd);
			int store = fn != NULL && strstr(fn, "uncompressed");
			if (store != zstore) {
				r = store ? archive_write_zip_set_compression_store(w)
				    : archive_write_zip_set_compression_deflate(w);
				if (r != ARCHIVE_OK) {
					write_fail(w, &k, p->label, e);
					goto out;
				}
				zstore = store;
			}
		}
		if (m != NULL && m->relink != NULL) {
			/* A later kept link to a removed target: link it to
			 * the kept name that now holds the content. */
			archive_entry_set_hardlink(ent, m->relink);
			link = m->relink;
		} else if (m != NULL && m->target_idx != UINT64_MAX) {
			int64_t tsz;
			if (copy_from_member(p->oldfd, p->oldsize, m->target_idx,
			    NULL, NULL, &n, &tsz, p->label, 1, e) != 0)
				goto out;
			archive_entry_set_hardlink(ent, NULL);
			archive_entry_set_filetype(ent, AE_IFREG);
			archive_entry_set_size(ent, tsz);
			archive_entry_sparse_clear(ent);
			if (archive_write_header(w, ent) < ARCHIVE_WARN) {
				write_fail(w, &k, p->label, e);
				goto out;
			}
			EVP_DigestInit_ex(md, EVP_sha256(), NULL);
			r = copy_from_member(p->oldfd, p->oldsize,
			    m->target_idx, w, md, &n, &tsz, p->label, 0, e);
			if (r == -2)
				write_fail(w, &k, p->label, e);
			if (r != 0)
				goto out;
			EVP_DigestFinal_ex(md, sha, NULL);
			if (archive_read_data_skip(rd) != ARCHIVE_OK) {
				err_set(e, "%s: member #%ju: %s", p->label,
				    (uintmax_t)i + 1, aerr(rd));
				goto out;
			}
			chain_add(chain, ent, 'f', NULL, n, sha);
			p->r->materialized++;
			p->r->members_kept++;
			p->r->bytes_kept += n;
			if (archive_write_finish_entry(w) != ARCHIVE_OK) {
				write_fail(w, &k, p->label, e);
				goto out;
			}
			continue;
		}

		/* tar links carry no content of their own; a symlink's target
		 * is its body, which the writer puts there itself. */
		int nodata = link != NULL && tar;
		if (nodata || kind == 'l')
			archive_entry_set_size(ent, 0);
		if (archive_write_header(w, ent) < ARCHIVE_WARN) {
			write_fail(w, &k, p->label, e);
			goto out;
		}
		if (nodata) {
			if (archive_read_data_skip(rd) != ARCHIVE_OK) {
				err_set(e, "%s: member #%ju: %s", p->label,
				    (uintmax_t)i + 1, aerr(rd));
				goto out;
			}
			chain_add(chain, ent, 'h', link, 0, NULL);
		} else {
			EVP_DigestInit_ex(md, EVP_sha256(), NULL);
			r = copy_content(rd, w, md, sparse_end(ent), &n,
			    p->label, i, e);
			if (r == -2)
				write_fail(w, &k, p->label, e);
			if (r != 0)
				goto out;
			EVP_DigestFinal_ex(md, sha, NULL);
			chain_add(chain, ent, kind, kind == 'l' ?
			    archive_entry_symlink(ent) : link, n, sha);
		}
		if (archive_write_finish_entry(w) != ARCHIVE_OK) {
			write_fail(w, &k, p->label, e);
			goto out;
		}
		p->r->members_kept++;
		p->r->bytes_kept += n;
	}
	if (archive_write_close(w) != ARCHIVE_OK) {
		write_fail(w, &k, p->label, e);
		goto out;
	}
	EVP_DigestFinal_ex(chain, p->chain, NULL);
	EVP_DigestFinal_ex(k.md, p->r->new_sha256, NULL);
	p->r->new_size = k.bytes;
	rc = 0;
out:
	if (w != NULL)
		archive_write_free(w);
	if (rd != NULL)
		archive_read_free(rd);
	EVP_MD_CTX_free(chain);
	EVP_MD_CTX_free(md);
	EVP_MD_CTX_free(k.md);
	free(s.buf);
	return rc;
}

/* Third pass: reads the new archive back from the disk and rebuilds the
 * digest chain; it must equal the one built while writing. */
static int
read_back(int fd, uint64_t size, const char *label, const unsigned char
    *want, uint64_t want_count, struct err *e)
{
	struct src s = { .fd = fd, .size = size };
	struct archive *rd = NULL;
	struct archive_entry *ent;
	EVP_MD_CTX *chain = EVP_MD_CTX_new(), *md = EVP_MD_CTX_new();
	unsigned char got[32];
	uint64_t count = 0;
	int rc = -1, tar;

	s.buf = malloc(IOBUF);
	if (chain == NULL || md == NULL || s.buf == NULL) {
		err_set(e, "%s: out of memory", label);
		goto out;
	}
	/* Read what the disk holds, not the page cache. */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	EVP_DigestInit_ex(chain, EVP_sha256(), NULL);
	rd = reader_open(&s, 1, label, e);
	if (rd == NULL)
		goto out;
	for (uint64_t i = 0;; i++) {
		unsigned char sha[32];
		uint64_t n = 0;
		int r = archive_read_next_header(rd, &ent);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			err_set(e, "%s: the new archive does not read back "
			    "(member #%ju: %s); the archive is unchanged",
			    label, (uintmax_t)i + 1, aerr(rd));
			goto out;
		}
		tar = is_tar(archive_format(rd));
		const char *link = archive_entry_hardlink(ent);
		char kind = entry_kind(ent);
		if (link != NULL && tar) {
			chain_add(chain, ent, 'h', link, 0, NULL);
		} else {
			EVP_DigestInit_ex(md, EVP_sha256(), NULL);
			if (copy_content(rd, NULL, md, sparse_end(ent),
			    &n, label, i, e) != 0)
				goto out;
			EVP_DigestFinal_ex(md, sha, NULL);
			chain_add(chain, ent, kind, kind == 'l' ?
			    archive_entry_symlink(ent) : link, n, sha);
		}
		count++;
	}
	EVP_DigestFinal_ex(chain, got, NULL);
	if (count != want_count || memcmp(got, want, 32) != 0) {
		err_set(e, "%s: the new archive does not read back as written "
		    "(%ju of %ju members, digests %s); the archive is "
		    "unchanged", label, (uintmax_t)count,
		    (uintmax_t)want_count,
		    memcmp(got, want, 32) ? "differ" : "match");
		goto out;
	}
	rc = 0;
out:
	if (rd != NULL)
		archive_read_free(rd);
	EVP_MD_CTX_free(chain);
	EVP_MD_CTX_free(md);
	free(s.buf);
	return rc;
}

static int
side_name(char *buf, size_t len, const char *name, const char *suffix,
    const char *label, struct err *e)
{
	int n = snprintf(buf, len, ".%s%s", name, suffix);
	if (n < 0 || (size_t)n >= len || (size_t)n > 255)
		return err_set(e, "%s: name too long for a temporary beside it",
		    label);
	return 0;
}

/* Sanitizes what a killed run left beside the archive: the old archive
 * after the swap, or a partial new one.  A leftover that is the archive
 * itself (a link made before the rename) just loses that name.  Returns
 * 1 if something was cleared, 0 if nothing was there, -1 on error. */
static int
clear_leftover(int dirfd, const char *name, const char *leftover,
    const struct stat *live, const char *label, const struct archive_opts *o,
    struct err *e)
{
	struct stat st;
	struct ow_opts owo = { .links_ok = 1 };
	struct ow_result owr;

	if (fstatat(dirfd, leftover, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		return err_sys(e, "%s: leftover of an earlier run", label);
	}
	(void)name;
	if (!S_ISREG(st.st_mode))
		return err_set(e, "%s: leftover of an earlier run is not a "
		    "regular file; remove it by hand", label);
	if (live != NULL && st.st_dev == live->st_dev &&
	    st.st_ino == live->st_ino) {
		if (unlinkat(dirfd, leftover, 0) == -1 || fsync(dirfd) == -1)
			return err_sys(e, "%s: removing an extra link", label);
		return 1;
	}
	if (o != NULL) {
		owo.pattern = o->pattern;
		owo.verify = o->verify;
	}
	owo.dev = st.st_dev;
	owo.ino = st.st_ino;
	memset(&owr, 0, sizeof(owr));
	if (ow_file(dirfd, leftover, label, &owo, &owr, e) != 0)
		return -1;
	return 1;
}

/* Opens the archive for reading and checks it on the fd. */
static int
open_archive(int dirfd, const char *name, const char *label, int *fdp,
    struct stat *st, struct err *e)
{
	char magic[8];
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);

	if (fd == -1)
		return err_sys(e, "%s", label);
	if (fstat(fd, st) == -1) {
		err_sys(e, "%s: stat", label);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		err_set(e, "%s: not a regular file", label);
		close(fd);
		return -1;
	}
	if (pread(fd, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) &&
	    memcmp(magic, sealed_magic, sizeof(magic)) == 0) {
		close(fd);
		return ARCHIVE_IS_SEALED;
	}
	*fdp = fd;
	return 0;
}

/* Runs fn with LC_CTYPE C.UTF-8 for this thread only, so member names in
 * pax (UTF-8) round-trip byte for byte whatever the process locale. */
struct utf8 {
	locale_t loc, old;
};

static void
utf8_enter(struct utf8 *u)
{
	u->loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	u->old = u->loc != (locale_t)0 ? uselocale(u->loc) : (locale_t)0;
}

static void
utf8_leave(struct utf8 *u)
{
	if (u->loc != (locale_t)0) {
		uselocale(u->old);
		freelocale(u->loc);
	}
}

int
archive_count_members(int dirfd, const char *name, const char *label,
    const char *member_glob, uint64_t *matches, struct err *e)
{
	struct shape sh;
	struct stat st, lst;
	struct utf8 u;
	char side[2][512];
	int fd = -1, rc;

	memset(&sh, 0, sizeof(sh));
	*matches = 0;
	rc = open_archive(dirfd, name, label, &fd, &st, e);
	if (rc != 0)
		return rc;
	utf8_enter(&u);
	rc = scan(fd, (uint64_t)st.st_size, label, member_glob, 0, &sh, NULL,
	    NULL, e);
	utf8_leave(&u);
	if (rc == 0 && side_name(side[0], sizeof(side[0]), name, SWAP_SUFFIX,
	    label, e) == 0 && side_name(side[1], sizeof(side[1]), name,
	    OLD_SUFFIX, label, e) == 0) {
		*matches = sh.matches;
		for (int i = 0; i < 2; i++)
			if (fstatat(dirfd, side[i], &lst, AT_SYMLINK_NOFOLLOW) ==
			    0 && !(lst.st_dev == st.st_dev &&
			    lst.st_ino == st.st_ino))
				(*matches)++;
	} else
		rc = -1;
	mats_free(&sh);
	close(fd);
	return rc;
}

/* Gives the new archive the old one's owner, mode and times: rotation by
 * age and access by the backup's readers go on as before. */
static int
copy_attrs(int tmpfd, const struct stat *st, const char *label,
    struct err *e)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };

	if (fchown(tmpfd, st->st_uid, st->st_gid) == -1) {
		struct stat t;
		if (fstat(tmpfd, &t) == -1 || t.st_uid != st->st_uid ||
		    t.st_gid != st->st_gid)
			return err_sys(e, "%s: cannot give the new archive the "
			    "old one's owner", label);
	}
	if (fchmod(tmpfd, st->st_mode & 07777) == -1)
		return err_sys(e, "%s: chmod of the new archive", label);
	if (futimens(tmpfd, ts) == -1)
		return err_sys(e, "%s: times of the new archive", label);
	return 0;
}

/* Puts the new archive (swap) in place of name, keeping the old one under
 * a name: exchanged into swap, or linked to oldname first.  Returns the
 * name that now holds the old archive, or NULL with *e set. */
static const char *
swap_in(int dirfd, const char *name, const char *swap, const char *oldname,
    const char *label, struct err *e)
{
	if (renameat2(dirfd, swap, dirfd, name, RENAME_EXCHANGE) == 0)
		return swap;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
		err_sys(e, "%s: putting the new archive in place", label);
		return NULL;
	}
	if (linkat(dirfd, name, dirfd, oldname, 0) == -1) {
		err_sys(e, "%s: keeping a name on the old archive", label);
		return NULL;
	}
	if (fsync(dirfd) == -1 || renameat(dirfd, swap, dirfd, name) == -1) {
		err_sys(e, "%s: putting the new archive in place", label);
		(void)unlinkat(dirfd, oldname, 0);
		return NULL;
	}
	return oldname;
}

int
archive_remove_members(int dirfd, const char *name, const char *label,
    const char *member_glob, const struct archive_opts *o,
    struct archive_result *r, struct err *e)
{
	struct shape sh;
	struct stat st, st2, wst;
	struct utf8 u;
	char swap[512], oldname[512];
	const char *holder = NULL;
	int fd = -1, wfd = -1, tmpfd = -1, rc = -1, have_tmp = 0, c;
	uint64_t done = 0;

	memset(&sh, 0, sizeof(sh));
	memset(r, 0, sizeof(*r));
	utf8_enter(&u);
	if (side_name(swap, sizeof(swap), name, SWAP_SUFFIX, label, e) != 0 ||
	    side_name(oldname, sizeof(oldname), name, OLD_SUFFIX, label, e) != 0)
		goto out;
	c = open_archive(dirfd, name, label, &fd, &st, e);
	if (c != 0) {
		rc = c;
		goto out;
	}
	r->old_size = (uint64_t)st.st_size;
	/* A killed run's leftovers first: they may hold removed data. */
	for (int i = 0; i < 2; i++) {
		c = clear_leftover(dirfd, name, i ? oldname : swap, &st, label,
		    o, e);
		if (c < 0)
			goto out;
		r->stale_cleared += c;
	}
	if (fstat(fd, &st) == -1) {	/* nlink may have dropped */
		err_sys(e, "%s: stat", label);
		goto out;
	}
	if (st.st_nlink != 1) {
		err_set(e, "%s: has %ju hard links; its data lives under a "
		    "name outside the disposition", label,
		    (uintmax_t)st.st_nlink);
		goto out;
	}
	if (scan(fd, (uint64_t)st.st_size, label, member_glob, 1, &sh, &done,
	    o, e) != 0)
		goto out;
	if (sh.matches == 0) {
		r->members_kept = sh.entries;
		rc = 0;
		goto out;
	}
	if (media_probe(fd, &r->media, e) != 0)
		goto out;
	const char *why = media_overwrite_refusal(r->media.fstype);
	if (why != NULL) {
		err_set(e, "%s: %s", label, why);
		goto out;
	}
	if (sh.nmat > 0 && resolve_mats(fd, (uint64_t)st.st_size, label, &sh,
	    e) != 0)
		goto out;
	/* The descriptor that will overwrite the old blocks: the same inode. */
	wfd = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (wfd == -1 || fstat(wfd, &wst) == -1) {
		err_sys(e, "%s: cannot open for overwriting", label);
		goto out;
	}
	if (wst.st_dev != st.st_dev || wst.st_ino != st.st_ino) {
		err_set(e, "%s: replaced while being read; try again", label);
		goto out;
	}
	tmpfd = openat(dirfd, swap, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (tmpfd == -1) {
		err_sys(e, "%s: cannot create the new archive beside it", label);
		goto out;
	}
	have_tmp = 1;

	struct pass2 p = { .oldfd = fd, .tmpfd = tmpfd,
	    .oldsize = (uint64_t)st.st_size, .label = label,
	    .glob = member_glob, .o = o, .sh = &sh, .r = r, .done = &done };
	if (rewrite(&p, e) != 0)
		goto out;
	if (r->members_removed != sh.matches ||
	    r->members_kept + r->members_removed != sh.entries) {
		err_set(e, "%s: changed while being rewritten; the archive is "
		    "unchanged", label);
		goto out;
	}
	if (copy_attrs(tmpfd, &st, label, e) != 0)
		goto out;
	if (fsync(tmpfd) == -1) {
		err_set(e, "%s: writing the new archive failed: %s; the "
		    "archive is unchanged", label, strerror(errno));
		goto out;
	}
	if (read_back(tmpfd, r->new_size, label, p.chain, r->members_kept,
	    e) != 0)
		goto out;
	/* Nothing may have touched the old archive since the first pass. */
	if (fstat(fd, &st2) == -1 || st2.st_size != st.st_size ||
	    st2.st_mtim.tv_sec != st.st_mtim.tv_sec ||
	    st2.st_mtim.tv_nsec != st.st_mtim.tv_nsec ||
	    st2.st_nlink != 1) {
		err_set(e, "%s: changed while being rewritten; the archive is "
		    "unchanged", label);
		goto out;
	}
	if (o != NULL && o->on_commit != NULL && o->on_commit(o->arg) != 0) {
		err_set(e, "%s: not committed by the caller; the archive is "
		    "unchanged", label);
		goto out;
	}
	/* The name must still be the archive we read. */
	if (fstatat(dirfd, name, &st2, AT_SYMLINK_NOFOLLOW) == -1 ||
	    st2.st_dev != st.st_dev || st2.st_ino != st.st_ino) {
		err_set(e, "%s: replaced while being rewritten; the archive "
		    "is unchanged", label);
		goto out;
	}
	holder = swap_in(dirfd, name, swap, oldname, label, e);
	if (holder == NULL)
		goto out;
	have_tmp = 0;
	r->replaced = 1;
	if (fsync(dirfd) == -1) {
		err_sys(e, "%s: fsync of its directory", label);
		goto out;
	}

	/* The old blocks: overwrite and verify through the fd we read. */
	struct ow_opts owo = { .links_ok = 1, .dev = st.st_dev,
	    .ino = st.st_ino };
	if (o != NULL) {
		owo.pattern = o->pattern;
		owo.verify = o->verify;
	}
	if (ow_fd(wfd, label, &owo, &r->old, e) != 0)
		goto out;
	if (fstatat(dirfd, holder, &st2, AT_SYMLINK_NOFOLLOW) == -1 ||
	    st2.st_dev != st.st_dev || st2.st_ino != st.st_ino) {
		err_set(e, "%s: the old archive's temporary name changed "
		    "under us", label);
		goto out;
	}
	if (ow_unlink_name(dirfd, holder, label, &owo, e) != 0)
		goto out;
	r->old_sanitized = 1;
	rc = 0;
out:
	if (have_tmp)
		(void)unlinkat(dirfd, swap, 0);
	if (tmpfd != -1)
		close(tmpfd);
	if (wfd != -1)
		close(wfd);
	if (fd != -1)
		close(fd);
	mats_free(&sh);
	utf8_leave(&u);
	return rc;
}
