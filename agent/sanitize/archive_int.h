/*
 * archive_int.h: what the archive_*.c files share; not for other modules.
 *
 * The pieces, in the order a rewrite uses them:
 *   archive_name.c    member names as tar extracts them, and the glob
 *   archive_io.c      the decompressed stream of an archive file (one
 *                     filter, chosen by magic, never stacked), limits,
 *                     and the compressor of the new file
 *   archive_crc.c     CRC-32
 *   archive_gzip.c    gzip members: their CRC-32s and their headers
 *   archive_walk.c    the walker: which bytes belong to which member,
 *                     read by archive_tar.c or archive_cpio.c, which
 *                     report units and failures through archive_unit.c
 *   archive_scan.c    pass 1 (tar, cpio): libarchive and the walker read
 *                     the old archive side by side and must agree
 *   archive_write.c   pass 2 (tar, cpio): the old stream with the removed
 *                     members' bytes cut out, recompressed
 *   archive_verify.c  pass 3 (tar, cpio): the new file read back
 *   archive_zip*.c    the same three passes for zip, on the raw file:
 *                     archive_zip.c reads its layout (archive_zip.h),
 *                     archive_zipscan.c passes 1 and 3, archive_zipwrite.c
 *                     pass 2
 *   archive_child.c   runs the passes in a child process with a watchdog
 *   archive_swap.c    the public functions: checks, swap, old blocks
 */
#ifndef LETHE_ARCHIVE_INT_H
#define LETHE_ARCHIVE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>

struct archive;
struct archive_entry;
struct err;
struct archive_member;
struct actx;

#define IOBUF (1024 * 1024)

/* Bounded work (lethe-policy(5), "Archives").  A limit that is reached
 * refuses the archive with a message naming it; nothing is written. */
#define AR_RATIO 1000			/* decompressed bytes per input byte */
#define AR_RATIO_FLOOR (256ULL << 20)	/* ... but always allow 256 MiB */
#define AR_DRY_INPUT (16ULL << 20)	/* compressed input giving no output */
#define AR_HDR_MAX (1 << 20)		/* all headers of one member */
#define AR_GZHDR_MAX 65536		/* one gzip member header */
#define AR_STALL_SEC 30			/* no progress at all for this long */
#define AR_TIME_BASE 60			/* seconds per pass, plus ... */
#define AR_TIME_RATE (256 * 1024)	/* ... one second per 256 KiB */

/* ---- archive_name.c ---- */

/* Normalizes an archive member name the way GNU tar extracts it: leading
 * "/" and everything up to the last ".." component dropped, "." and empty
 * components dropped, no trailing "/".  Returns 1 with a malloc'd *out, 0
 * for a name that is nothing (".", "/": the archive's root), -1 with a
 * reason in *why when the name holds a ".." that escapes the root or that
 * readers resolve differently (a/b/../c: GNU tar gives c, others a/c). */
int aname_normalize(const char *path, char **out, const char **why);

/* Whether the normalized name matches the member glob (archive.h). */
int aname_matches(const char *glob, const char *norm);
/* Whether member idx, stored as path, is removed by glob: 1 or 0; -1 with
 * c->e set when its name cannot be read or has no single answer
 * (aname_normalize), which refuses the archive. */
int aname_member(const char *glob, const char *path, uint64_t idx,
    struct actx *c);

/* ---- archive_io.c ---- */

/* libarchive's message without anything it quotes and without bytes that
 * are not printable ASCII: names are student data (SPEC §8). */
const char *aerr(struct archive *a, char *buf, size_t len);

/* The bookkeeping every pass shares: progress, the watchdog's heartbeat,
 * and the first error. */
struct actx {
	const char *label;
	struct err *e;
	void (*beat)(uint64_t done, uint64_t work, void *arg);
	void *beat_arg;
	uint64_t done;		/* archive bytes read, over all passes */
	uint64_t work;		/* bytes read, decompressed or written */
};
/* Counts raw bytes read and other bytes processed, and tells the
 * watchdog (archive_child.c) the pass is alive. */
void actx_beat(struct actx *c, uint64_t raw, uint64_t other);
/* Sets "LABEL: the new archive does not read back as written (why)";
 * why NULL: the reason is the reader's message already in c->e. */
int readback_fail(struct actx *c, const char *why);

/* Filters lethe can read and write back (one layer only). */
struct filter_info {
	int code;		/* ARCHIVE_FILTER_* */
	const char *name;
};
/* The filter whose magic starts buf (len bytes), ARCHIVE_FILTER_NONE if
 * none; -1 for a compression libarchive cannot write back. */
int filter_detect(const unsigned char *buf, size_t len, const char **name);

struct gzcheck;

/* The decompressed stream of an archive file, read in order. */
struct dstream {
	int fd;
	uint64_t size;		/* raw file size */
	int filter;		/* ARCHIVE_FILTER_* */
	const char *fname;	/* "gzip", "xz", ... or NULL */
	struct archive *raw;	/* libarchive raw reader, or NULL */
	unsigned char *buf;
	uint64_t roff;		/* raw bytes read */
	uint64_t pos;		/* decompressed bytes delivered */
	uint64_t limit;		/* ratio limit on pos */
	uint64_t dry;		/* raw bytes read since the last output */
	uint64_t raw_end;	/* raw bytes consumed by the decompressor */
	uint64_t zero_tail;	/* zero bytes after raw_end (padding) */
	EVP_MD_CTX *md;		/* SHA-256 of the decompressed bytes */
	struct gzcheck *gz;	/* gzip members (filter gzip only) */
	struct actx *c;
	int eof;
	char why[512];		/* set by a failed callback */
};
/* Opens fd (size bytes) for decompressed reading.  flags: DS_HASH keeps
 * a SHA-256 of the stream, DS_CHECK checks each gzip member's CRC-32 and
 * length (a pass that reads again what an earlier one checked need not).
 * Returns 0 or -1 with c->e set. */
enum { DS_HASH = 1, DS_CHECK = 2 };
int ds_open(struct dstream *d, int fd, uint64_t size, int flags,
    struct actx *c);
/* The next decompressed block: 1 (*p, *n set), 0 at the end, -1 error
 * with d->why set. */
int ds_read(struct dstream *d, const void **p, size_t *n);
/* After the end: every raw byte was consumed (or is zero padding), and
 * each gzip member's CRC-32 and length matched.  0 or -1, c->e set. */
int ds_finish(struct dstream *d, unsigned char sha[32]);
void ds_close(struct dstream *d);

/* Reads exactly n bytes at off: 0, or -1 (a read error, or the file ends
 * first). */
int ar_pread(int fd, void *buf, size_t n, uint64_t off);

/* A sink for the new file: writes to fd, hashes what it writes. */
struct sink {
	int fd;
	int err;		/* errno of a failed write */
	uint64_t bytes;
	EVP_MD_CTX *md;
	/* gzip: libarchive's own 10-byte member header is replaced by the
	 * original member's header bytes (archive_gzip.c). */
	const unsigned char *hdr;
	size_t hdrlen, skip;
	unsigned char dropped[10];	/* what was skipped, checked */
};
int sink_put(struct sink *k, const void *p, size_t n);
long sink_write_cb(struct archive *a, void *arg, const void *buf, size_t n);

/* The compressor of the new file: one stream (or one gzip member). */
struct cwriter {
	struct archive *w;
	struct sink *k;
	int filter;
};
/* Starts a stream compressed with filter (level -1: libarchive's
 * default) into k.  0 or -1 with c->e set. */
int cw_open(struct cwriter *cw, struct sink *k, int filter, int level,
    struct actx *c);
int cw_write(struct cwriter *cw, const void *p, size_t n, struct actx *c);
int cw_close(struct cwriter *cw, struct actx *c);
/* Frees a writer without finishing it (after a failure). */
void cw_abort(struct cwriter *cw);

/* Little-endian fields (gzip, zip). */
static inline uint16_t
le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline uint64_t
le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* ---- archive_crc.c ---- */

/* CRC-32 (gzip, zip) of n bytes, continuing crc. */
uint32_t crc32_update(uint32_t crc, const void *p, size_t n);

/* ---- archive_gzip.c ---- */

/* gzip members of one file, found from the raw bytes and the CRC-32s of
 * the decompressed stream (see archive_gzip.c for how). */
struct gzmember {
	uint64_t raw_off;	/* where its header starts in the file */
	uint64_t dec_off;	/* where its data starts in the stream */
	int level;		/* compression level its XFL suggests, or -1 */
};
struct gzcheck *gz_new(void);
void gz_free(struct gzcheck *g);
/* Raw bytes as read, in order, from file offset off. */
void gz_raw(struct gzcheck *g, uint64_t off, const unsigned char *p, size_t n);
/* Decompressed bytes, in order. */
void gz_out(struct gzcheck *g, const unsigned char *p, size_t n);
/* At the end: raw_end is where the decompressor stopped.  Checks every
 * member's trailer; fills the member list.  0, or -1 with why set. */
int gz_end(struct gzcheck *g, int fd, uint64_t raw_end, char *why,
    size_t len);
const struct gzmember *gz_members(const struct gzcheck *g, size_t *n);
/* Reads and checks the header of the member at raw offset off; *len gets
 * its length.  0, or -1 with why set. */
int gz_header(int fd, uint64_t off, uint64_t size, unsigned char **hdr,
    size_t *len, char *why, size_t wlen);

/* ---- walkers: archive_walk.c, over archive_tar.c and archive_cpio.c ---- */

enum { WK_TAR = 1, WK_CPIO };
enum {			/* unit flags */
	U_DUMPDIR = 1,	/* GNU incremental directory listing */
	U_SPARSE = 2,	/* holes are described by the header */
	U_TRAILER = 4,	/* cpio TRAILER!!! (kept, not a member) */
	U_LINKED = 8,	/* cpio: nlink > 1, not a directory */
	U_CRC = 16,	/* cpio crc format: checksum checked */
};
/* One member's bytes in the decompressed stream. */
struct unit {
	uint64_t lead;		/* end of the previous member: where libarchive
				 * says this member's header begins */
	uint64_t start, end;	/* its headers, data and padding */
	uint64_t dev, ino;	/* cpio link sets */
	unsigned flags;
	char type;		/* tar typeflag; cpio: 'f', 'd', 'l', 'o' */
};
struct walker {
	int kind;			/* WK_TAR, WK_CPIO */
	uint64_t pos;			/* bytes fed */
	uint64_t last_end;		/* end of the last unit or kept region */
	uint64_t nunits;		/* units parsed */
	struct unit *q;			/* parsed, not yet taken */
	size_t qhead, qlen, qcap;
	int failed;
	char why[256];
	void *st;			/* the format's own state */
	int variant;			/* cpio: which header; tar: magic seen */
	int concat;			/* tar: members after an end marker */
};
int walk_init(struct walker *w, int kind);
void walk_free(struct walker *w);
/* Feeds the next n bytes of the stream: 0, or -1 with w->why set. */
int walk_feed(struct walker *w, const unsigned char *p, size_t n);
/* Takes the oldest parsed unit: 1, or 0 if there is none yet. */
int walk_take(struct walker *w, struct unit *u);
/* At the end of the stream: the tail is an end marker and padding.
 * 0, or -1 with w->why set. */
int walk_end(struct walker *w);
/* The format's block size for padding the new stream (512 or 10240),
 * given the old stream's length; 0 to leave the tail as it is. */
uint64_t walk_block(const struct walker *w, uint64_t len);

/* Walker internals, one per format. */
int tar_feed(struct walker *w, const unsigned char *p, size_t n);
int tar_end(struct walker *w);
void tar_free(struct walker *w);
int cpio_feed(struct walker *w, const unsigned char *p, size_t n);
int cpio_end(struct walker *w);
void cpio_free(struct walker *w);
/* A format walker's parsed unit, queued for walk_take (archive_unit.c):
 * 0, or -1 with w->why set (out of memory). */
int walk_push(struct walker *w, const struct unit *u);
/* Whether b (512 bytes) is a tar header with a valid checksum. */
int tar_is_header(const unsigned char *b);
/* The cpio layout a header starts with (n >= 6 bytes), 0 if none. */
int cpio_layout(const unsigned char *h, size_t n);
const char *cpio_variant_name(int v);
/* Marks the walker failed, keeping the first reason (archive_unit.c).
 * Returns -1. */
int walk_fail(struct walker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- the plan that pass 1 hands to passes 2 and 3 ---- */

/* A run of the old stream to leave out: the bytes of removed members (tar,
 * cpio; a zip marks its removed members with zip_remove instead). */
struct cut {
	uint64_t start, end;
};
/* A kept tar hard link whose target is removed: written as a file with
 * the target's content, or (relink) as a link to an earlier such file. */
struct mat {
	uint64_t link_idx, target_idx;	/* member ordinals in the old archive */
	uint64_t new_idx;	/* its ordinal in the new one */
	uint64_t start, end;	/* the link's own bytes, replaced */
	char *target;		/* the target's name as stored */
	char *self;		/* the link's name as stored */
	const char *relink;	/* NULL: the content; else link to this */
	uint64_t size;		/* content written (pass 2) */
	unsigned char sha[32];	/* its SHA-256 (pass 2) */
};
struct aplan {
	int kind;		/* WK_TAR, WK_CPIO, or 0 for zip */
	int filter;		/* ARCHIVE_FILTER_* of the old file */
	int level;		/* compression level to write, -1 default */
	int rformat;		/* libarchive's format code (merged) */
	uint64_t entries, matches, match_bytes;
	uint64_t dlen;		/* decompressed length */
	uint64_t raw_zero_tail;	/* zero padding after the compressed data */
	uint64_t block;		/* pad the new stream to this (0: no) */
	struct cut *cuts;
	size_t ncut, cutcap;
	struct mat *mat;
	size_t nmat, matcap;
	struct gzmember *gzm;	/* gzip members of the old file */
	size_t ngzm;
	struct row {		/* removed members, for the manifest */
		uint64_t idx, size;
		unsigned char sha[32];
		char kind;
		char *path;
	} *rows;
	size_t nrow, rowcap;
	unsigned char chain[32];	/* digest of the kept members */
	uint64_t kept, kept_bytes, removed_bytes;
	struct zipinfo *zip;	/* zip: the central directory */
	char desc[96];		/* "gnu tar + gzip" */
	unsigned dumpdir:1, concatenated:1, sparse:1;
};
void aplan_free(struct aplan *p);
int aplan_cut(struct aplan *p, uint64_t start, uint64_t end);
/* What a read-back found, against the plan: NULL when the new archive
 * holds exactly the kept members (same_count) and its chain is pass 1's,
 * else why it does not (for readback_fail). */
const char *readback_members(const struct aplan *p, int same_count,
    const unsigned char chain[32]);

/* The digest chain over kept members that the read-back must reproduce:
 * name, kind, permissions, mtime, size and content digest (or link). */
void chain_add(EVP_MD_CTX *chain, struct archive_entry *ent, char kind,
    const char *link, uint64_t size, const unsigned char *sha);
char entry_kind(struct archive_entry *ent);
int is_tar_format(int fmt);

/* Reads the current entry's content through libarchive, hashing it
 * (holes as zeros) when md is set and writing it to w when w is set.  *n
 * gets the logical size.  0, or -1 with c->e set (idx names the member). */
int copy_content(struct archive *rd, struct archive *w, EVP_MD_CTX *md,
    int64_t want, uint64_t *n, struct actx *c, uint64_t idx);
int64_t sparse_end(struct archive_entry *ent);

/* The two digests of a pass over members: the chain over the kept ones,
 * and one member's content. */
struct digests {
	EVP_MD_CTX *chain, *md;
};
/* Both allocated and the chain started.  0, or -1 with c->e set. */
int digests_open(struct digests *d, struct actx *c);
void digests_close(struct digests *d);
/* copy_content of the current entry of rd into nothing, its SHA-256 into
 * sha when hash is set (else sha is left alone).  0, or -1 with c->e
 * set. */
int member_sha(struct digests *d, struct archive *rd, int hash, int64_t want,
    uint64_t *n, unsigned char sha[32], struct actx *c, uint64_t idx);

/* libarchive's format reader over a decompressed stream, with the walker
 * watching the same bytes (archive_scan.c). */
struct freader {
	struct dstream ds;
	struct walker wk;
	struct archive *rd;
	unsigned char *first;	/* the first bytes, held for libarchive */
	size_t nfirst;
	int gave_first;
	int kind;		/* WK_TAR, WK_CPIO, 0 for an empty file */
};
/* Opens fd for reading members; flags as ds_open.  0, or -1 with c->e
 * set. */
int fr_open(struct freader *f, int fd, uint64_t size, int flags,
    struct actx *c);
/* The next member and its unit: 1, 0 at the end, -1 with c->e set. */
int fr_next(struct freader *f, struct archive_entry **ent, struct unit *u,
    uint64_t idx, struct actx *c);
/* After a reading error: replaces c->e by what the walker or the
 * decompressor knows about it, when they know more.  Returns -1. */
int fr_explain(struct freader *f, struct actx *c);
/* After the last member: the rest of the stream, the walker's and the
 * decompressor's final checks.  0, or -1 with c->e set. */
int fr_finish(struct freader *f, unsigned char sha[32], struct actx *c);
void fr_close(struct freader *f);

/* Member rows for the manifest, as the scan finds them. */
typedef int (*row_fn)(const struct archive_member *m, void *arg);

/* ---- passes (tar, cpio) ---- */
int scan_stream(int fd, uint64_t size, const char *glob, int full,
    struct aplan *p, struct actx *c);
/* Holds the row of removed member idx (archive.h struct archive_member)
 * until the plan is complete: a removed member whose content a kept hard
 * link still holds gets kind 'k' and no digest (archive_plan.c). */
int row_add(struct aplan *p, uint64_t idx, struct archive_entry *ent,
    char kind, uint64_t size, const unsigned char *sha);
/* Hands the rows to row(), in archive order.  0, or -1 if row() refuses
 * one (its ordinal in *bad). */
int rows_flush(struct aplan *p, row_fn row, void *arg, uint64_t *bad);
int resolve_mats(int fd, uint64_t size, struct aplan *p, struct actx *c);
int write_stream(int oldfd, uint64_t oldsize, struct aplan *p,
    struct sink *k, unsigned char emitted[32], struct actx *c);
int verify_stream(int fd, uint64_t size, const struct aplan *p,
    const unsigned char emitted[32], struct actx *c);

/* ---- passes (zip) ---- */
/* The layout of a zip (archive_zip.c): 0, or -1 with why set. */
int zip_parse(int fd, uint64_t size, struct zipinfo **out, char *why,
    size_t wl);
void zip_free(struct zipinfo *z);
size_t zip_count(const struct zipinfo *z);
/* The central-directory ordinal of the k-th member by position (the
 * order libarchive's seekable reader returns them in), or SIZE_MAX. */
size_t zip_nth(const struct zipinfo *z, size_t k);
/* Whether member i has this name (as stored) and size (-1: unknown). */
int zip_same(int fd, const struct zipinfo *z, size_t i, const char *name,
    int64_t size);
/* Leaves member i out of the new zip (zip_write). */
void zip_remove(struct zipinfo *z, size_t i);
/* Whether the file ends with a zip's end record. */
int zip_looks(int fd, uint64_t size);
int zip_scan(int fd, uint64_t size, const char *glob, int full,
    struct aplan *p, struct actx *c);
int zip_write(int oldfd, uint64_t oldsize, const struct aplan *p,
    struct sink *k, struct actx *c);
int zip_verify(int fd, uint64_t size, const struct aplan *p,
    const unsigned char written[32], struct actx *c);

/* ---- archive_child.c ---- */

/* One archive's work: count its matches, or write the new archive into
 * tmpfd (fsync'd and read back) with the removed members' rows. */
struct job {
	int fd;			/* the old archive, read-only */
	uint64_t size;
	int tmpfd;		/* the new archive, or -1 to count only */
	const char *glob, *label;
	const char *refuse;	/* why the old blocks cannot be overwritten:
				 * refuse after pass 1 if anything matches */
	/* The watchdog's limits; 0 for AR_STALL_SEC, AR_TIME_BASE and
	 * AR_TIME_RATE (tests set small ones). */
	unsigned stall_ms, base_ms;
	uint64_t rate;
};
struct jobres {
	uint64_t entries, matches, match_bytes;
	uint64_t removed, removed_bytes, kept, kept_bytes, materialized;
	uint64_t new_size;
	unsigned char new_sha256[32];
	char format[96];
};
/* Does the job in this process.  Returns 0 or -1 with *e set. */
int job_work(const struct job *j, row_fn row, void *row_arg,
    void (*beat)(uint64_t, uint64_t, void *), void *beat_arg,
    struct jobres *r, struct err *e);
/* Does the job in a child process that holds no descriptor but the
 * archive's, the new file's and a pipe, under a watchdog: killed after
 * AR_STALL_SEC without progress, or when it runs longer than
 * AR_TIME_BASE plus one second per AR_TIME_RATE bytes of work.  Rows and
 * progress come back through the pipe.  Returns 0 or -1 with *e set. */
int job_run(const struct job *j, row_fn row, void *row_arg,
    void (*progress)(uint64_t, uint64_t, void *), void *parg,
    struct jobres *r, struct err *e);
/* archive_count_members in this process (for the fuzzer). */
int archive_count_inproc(int dirfd, const char *name, const char *label,
    const char *member_glob, uint64_t *matches, struct err *e);
/* The child's side: does the job, reports through fd out, exits. */
void job_child(const struct job *j, int out, pid_t parent)
    __attribute__((noreturn));
enum { MSG_BEAT = 'P', MSG_ROW = 'M', MSG_OK = 'R', MSG_ERR = 'E' };
#define MSG_MAX (AR_HDR_MAX + 64)

#endif
