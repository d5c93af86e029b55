/*
 * overwrite.c: verified overwrite of single files and removal of their
 * names (SPEC §6 steps 2, 4, 5; see overwrite.h).
 *
 * MUST rules:
 *  - a name is only ever looked up relative to its directory descriptor,
 *    with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW: a symlink is never followed;
 *  - only regular files are opened, and then with O_NONBLOCK|O_NOCTTY, so
 *    a FIFO or terminal swapped in after the type check never hangs or
 *    becomes a controlling tty; fstat on the fd must then show a regular
 *    file with the expected st_dev/st_ino and no more links than allowed;
 *  - nothing is written to an immutable or append-only file, to a file on
 *    a filesystem media.c refuses, or to a file sharing blocks with another
 *    (reflink); every refusal happens before the first write;
 *  - only the file's allocated extents and data ranges are written
 *    (span.h): a hole is never written, so a sparse file never fills the
 *    filesystem; the digest is still of the whole logical content, holes
 *    read as zeros, as any reader of the file sees it;
 *  - the content is read (and hashed) and overwritten in the same pass,
 *    fdatasync'd, the page cache for it dropped, and exactly the ranges
 *    written are read back from the device (O_DIRECT where the filesystem
 *    allows) and compared; the physical extents must be where they were
 *    before the pass;
 *  - before a name is renamed or unlinked, fstatat must show it is still
 *    the inode that was overwritten; the directory is fsync'd after the
 *    rename and after the unlink;
 *  - the random pattern key is wiped on every path out (aesctr.c).
 */
#include "sanitize/overwrite.h"
#include "sanitize/aesctr.h"
#include "sanitize/span.h"
#include "base/err.h"
#include "locate/media.h"
#include "conf/policy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define CHUNK ((size_t)8 << 20)	/* bytes per read/write: device speed */
#define NBUF 3			/* chunks read ahead of the writer */
#define VUNIT ((size_t)1 << 20)	/* unit of sampled verification */
#define VMIN 16			/* units always checked when sampling */
#define ALIGN 4096		/* O_DIRECT-safe alignment */
#define GROW_ROUNDS 8		/* re-passes over a file being appended to */

struct pass {
	int fd;
	const char *label;
	const struct ow_opts *o;
	struct ow_result *r;
	struct err *e;
	unsigned char *rbuf[NBUF];	/* bufsz each, ALIGN-aligned */
	unsigned char *pbuf;		/* the pattern, bufsz */
	size_t bufsz;
	int direct;			/* fd is O_DIRECT for the pass */
	struct aesctr ctr;
	int random;
	uint64_t done;
};

static const struct ow_opts default_opts = {
	.pattern = PATTERN_ZERO, .verify = VERIFY_FULL, .links_ok = 1,
};

/* pread until n bytes or end of file.  Under O_DIRECT a read ending at
 * an unaligned offset is the end of the file: the next read would be
 * refused (EINVAL) for its alignment, not for an error. */
static ssize_t
pread_full(int fd, void *buf, size_t n, off_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got,
		    off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EINVAL && got % ALIGN != 0)
			break;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int
pwrite_full(int fd, const void *buf, size_t n, off_t off)
{
	size_t put = 0;

	while (put < n) {
		ssize_t w = pwrite(fd, (const char *)buf + put, n - put,
		    off + (off_t)put);
		if (w < 0 && errno == EINTR)
			continue;
		if (w == 0)
			errno = EIO;	/* no progress: never spin */
		if (w <= 0)
			return -1;
		put += (size_t)w;
	}
	return 0;
}

/* The pattern bytes for [off, off+n) into p->pbuf (zeros stay zeros). */
static int
pattern_at(struct pass *p, uint64_t off, size_t n)
{
	if (!p->random)
		return 0;
	return aesctr_stream(&p->ctr, off, p->pbuf, n, p->e);
}

/* Overwrites the spans of sp with the pattern (buffered): the re-passes
 * over what was appended during the first pass. */
static int
write_spans(struct pass *p, const struct spans *sp)
{
	struct span_cursor c = { 0, 0 };
	uint64_t off;
	size_t n;

	while (span_next(sp, &c, p->bufsz, &off, &n)) {
		if (pattern_at(p, off, n) == -1)
			return -1;
		if (pwrite_full(p->fd, p->pbuf, n, (off_t)off) == -1)
			return err_sys(p->e, "%s: write at offset %llu",
			    p->label, (unsigned long long)off);
		p->done += n;
		if (p->o->progress != NULL)
			p->o->progress(p->done, p->o->arg);
	}
	return 0;
}

/* Hashes n zero bytes: a hole, as a reader of the file sees it. */
static int
hash_zeros(EVP_MD_CTX *md, uint64_t n)
{
	static const unsigned char zeros[65536];

	while (n > 0) {
		size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);

		if (EVP_DigestUpdate(md, zeros, k) != 1)
			return -1;
		n -= k;
	}
	return 0;
}

/* The read-ahead ring: a reader thread fills buffers with the original
 * content while the writer hashes and overwrites the chunk before, so the
 * device reads and writes at once and the hash costs no extra time. */
struct ring {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned char *buf[NBUF];
	ssize_t got[NBUF];	/* bytes read into buf, -1 on error */
	int err;		/* errno of the failed read */
	uint64_t filled, used;	/* chunks read / consumed so far */
	int stop;
	int fd, direct;
	const struct spans *sp;	/* what is read, piece by piece */
	size_t chunk;
};

static void *
read_ahead(void *arg)
{
	struct ring *g = arg;
	struct span_cursor c = { 0, 0 };
	uint64_t off;
	size_t want;

	/* The same pieces, in the same order, as the writer takes them. */
	for (uint64_t i = 0; span_next(g->sp, &c, g->chunk, &off, &want); i++) {
		ssize_t got;
		int stop;

		pthread_mutex_lock(&g->mu);
		while (!g->stop && g->filled - g->used == NBUF)
			pthread_cond_wait(&g->cv, &g->mu);
		stop = g->stop;
		pthread_mutex_unlock(&g->mu);
		if (stop)
			break;
		if (g->direct)
			want = (want + ALIGN - 1) / ALIGN * ALIGN;
		got = pread_full(g->fd, g->buf[i % NBUF], want, (off_t)off);
		pthread_mutex_lock(&g->mu);
		g->got[i % NBUF] = got;
		if (got < 0)
			g->err = errno;
		g->filled++;
		pthread_cond_broadcast(&g->cv);
		pthread_mutex_unlock(&g->mu);
		if (got < 0)
			break;
	}
	return NULL;
}

/* Whether most of the file is in the page cache (sampled with mincore):
 * then buffered reads beat O_DIRECT ones. */
static int
mostly_cached(int fd, uint64_t size)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t npages, step;
	unsigned char v;
	int hit = 0, n = 0;
	void *m;

	if (size == 0 || pg <= 0 || size > (uint64_t)SIZE_MAX)
		return 0;
	m = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return 0;
	npages = (size + (uint64_t)pg - 1) / (uint64_t)pg;
	step = npages / 64 ? npages / 64 : 1;
	for (uint64_t i = 0; i < npages; i += step, n++)
		if (mincore((char *)m + i * (uint64_t)pg, (size_t)pg, &v) == 0 &&
		    (v & 1))
			hit++;
	munmap(m, (size_t)size);
	return hit * 4 >= n * 3;
}

/* Puts fd in O_DIRECT mode for the pass when that is faster and works:
 * cold files only, and only where a direct read is accepted. */
static void
choose_direct(struct pass *p, uint64_t size, int fl)
{
	ssize_t r;

	p->direct = 0;
	if (fl == -1 || size < ALIGN || mostly_cached(p->fd, size) ||
	    fcntl(p->fd, F_SETFL, fl | O_DIRECT) == -1)
		return;
	r = pread(p->fd, p->rbuf[0], ALIGN, 0);
	if (r < 0) {
		(void)fcntl(p->fd, F_SETFL, fl);
		return;
	}
	p->direct = 1;
}

/* The first pass: reads the original (hashing it into md, holes as the
 * zeros a reader sees) and overwrites every span of sp with the pattern,
 * piece by piece.  Sets *short_read when the file ended early (it shrank
 * under us).  Leaves the fd's flags as fl. */
static int
hash_and_write(struct pass *p, const struct spans *sp, uint64_t size, int fl,
    EVP_MD_CTX *md, int *short_read)
{
	struct ring g;
	struct span_cursor wc = { 0, 0 };
	pthread_t th;
	uint64_t n = 0, tail_off = 0, hashed = 0, off;
	size_t tail = 0, wlen = 0, want;
	int rc = -1, threaded = 0;

	while (span_next(sp, &wc, p->bufsz, &off, &want))
		n++;
	memset(&wc, 0, sizeof(wc));
	memset(&g, 0, sizeof(g));
	g.fd = p->fd;
	g.direct = p->direct;
	g.sp = sp;
	g.chunk = p->bufsz;
	for (int k = 0; k < NBUF; k++)
		g.buf[k] = p->rbuf[k];
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.cv, NULL);
	if (n > 1 && pthread_create(&th, NULL, read_ahead, &g) == 0)
		threaded = 1;
	else
		g.filled = 0;	/* read each chunk inline below */
	for (uint64_t i = 0; i < n; i++) {
		ssize_t got;

		(void)span_next(sp, &wc, p->bufsz, &off, &want);
		if (off > hashed && hash_zeros(md, off - hashed) != 0) {
			err_set(p->e, "%s: SHA-256 failed", p->label);
			goto out;
		}
		if (!threaded) {
			g.got[i % NBUF] = pread_full(p->fd, p->rbuf[i % NBUF],
			    p->direct ? (want + ALIGN - 1) / ALIGN * ALIGN : want,
			    (off_t)off);
			g.err = errno;
			g.filled = i + 1;
		}
		pthread_mutex_lock(&g.mu);
		while (g.filled <= i)
			pthread_cond_wait(&g.cv, &g.mu);
		got = g.got[i % NBUF];
		errno = g.err;
		pthread_mutex_unlock(&g.mu);
		if (got < 0) {
			err_sys(p->e, "%s: read at offset %llu", p->label,
			    (unsigned long long)off);
			goto out;
		}
		if ((size_t)got < want)
			*short_read = 1;
		if (EVP_DigestUpdate(md, p->rbuf[i % NBUF],
		    (size_t)got < want ? (size_t)got : want) != 1) {
			err_set(p->e, "%s: SHA-256 failed", p->label);
			goto out;
		}
		hashed = off + want;
		if (pattern_at(p, off, want) == -1)
			goto out;
		/* O_DIRECT takes whole blocks; an unaligned tail (only the
		 * file's last piece can have one: the spans are aligned when
		 * direct) is written once the fd is back in buffered mode. */
		wlen = p->direct ? want / ALIGN * ALIGN : want;
		if (wlen > 0 && pwrite_full(p->fd, p->pbuf, wlen, (off_t)off) ==
		    -1) {
			err_sys(p->e, "%s: write at offset %llu", p->label,
			    (unsigned long long)off);
			goto out;
		}
		if (wlen < want) {
			tail_off = off + wlen;
			tail = want - wlen;
		}
		if (!p->direct)
			(void)sync_file_range(p->fd, (off_t)off, (off_t)want,
			    SYNC_FILE_RANGE_WRITE);
		pthread_mutex_lock(&g.mu);
		g.used = i + 1;
		pthread_cond_broadcast(&g.cv);
		pthread_mutex_unlock(&g.mu);
		p->done += want;
		if (p->o->progress != NULL)
			p->o->progress(p->done, p->o->arg);
	}
	if (size > hashed && hash_zeros(md, size - hashed) != 0) {
		err_set(p->e, "%s: SHA-256 failed", p->label);
		goto out;
	}
	rc = 0;
out:
	if (threaded) {
		pthread_mutex_lock(&g.mu);
		g.stop = 1;
		pthread_cond_broadcast(&g.cv);
		pthread_mutex_unlock(&g.mu);
		pthread_join(th, NULL);
	}
	pthread_mutex_destroy(&g.mu);
	pthread_cond_destroy(&g.cv);
	if (p->direct) {
		(void)fcntl(p->fd, F_SETFL, fl);
		p->direct = 0;
	}
	/* The last chunk's pattern is still in pbuf. */
	if (rc == 0 && tail > 0 && pwrite_full(p->fd, p->pbuf + wlen, tail,
	    (off_t)tail_off) == -1)
		rc = err_sys(p->e, "%s: write at offset %llu", p->label,
		    (unsigned long long)tail_off);
	return rc;
}

/* Reads [off, off+n) back (n <= bufsz) and compares it with the pattern. */
static int
check_range(struct pass *p, uint64_t off, size_t n, int *direct)
{
	size_t want = n, req = (n + ALIGN - 1) / ALIGN * ALIGN;
	ssize_t got;

	if (req > p->bufsz)
		req = n;
	got = pread_full(p->fd, p->rbuf[0], *direct ? req : n, (off_t)off);
	if (got < 0 && *direct && errno == EINVAL) {
		/* The filesystem refused this O_DIRECT read: fall back to
		 * buffered reads of the range just dropped from the cache. */
		int fl = fcntl(p->fd, F_GETFL);
		if (fl != -1)
			(void)fcntl(p->fd, F_SETFL, fl & ~O_DIRECT);
		*direct = 0;
		(void)posix_fadvise(p->fd, (off_t)off, (off_t)n,
		    POSIX_FADV_DONTNEED);
		got = pread_full(p->fd, p->rbuf[0], n, (off_t)off);
	}
	if (got < 0)
		return err_sys(p->e, "%s: read-back at offset %llu", p->label,
		    (unsigned long long)off);
	if ((size_t)got < want)
		return err_set(p->e, "%s: read-back: the file is shorter than "
		    "what was written (offset %llu)", p->label,
		    (unsigned long long)(off + (uint64_t)got));
	if (pattern_at(p, off, want) == -1)
		return -1;
	if (memcmp(p->rbuf[0], p->pbuf, want) != 0)
		return err_set(p->e, "%s: verification failed: the bytes read "
		    "back at offset %llu are not the pattern written",
		    p->label, (unsigned long long)off);
	p->r->verified += want;
	return 0;
}

/* A uniform random number below n (n > 0). */
static uint64_t
rand_below(uint64_t n)
{
	uint64_t x = 0, lim = UINT64_MAX - UINT64_MAX % n;

	do {
		if (getrandom(&x, sizeof(x), 0) != (ssize_t)sizeof(x))
			x = (uint64_t)random() << 31 ^ (uint64_t)random();
	} while (x >= lim);
	return x % n;
}

/* Reads back the bytes at virtual offsets [v, v+n) of sp (counting only
 * bytes inside spans), which may cross from one span to the next. */
static int
check_virtual(struct pass *p, const struct spans *sp, uint64_t v, uint64_t n,
    int *direct)
{
	while (n > 0) {
		uint64_t run, off = span_at(sp, v, &run);
		size_t k = (size_t)(n < run ? n : run);

		if (k > p->bufsz)
			k = p->bufsz;
		if (check_range(p, off, k, direct) == -1)
			return -1;
		v += k;
		n -= k;
	}
	return 0;
}

/* Verification of exactly the bytes written (the spans of sp): all of
 * them (VERIFY_FULL), or a NIST SP 800-88 style sample (VERIFY_SAMPLE) of
 * 1 MiB units of those bytes: the first and the last, and one random unit
 * in each of k-2 equal strata between them, where k is 10% of the units but
 * at least VMIN; at most VMIN units are read whole.  Stratifying spreads
 * the sample over the whole file; holes, never written, are never read. */
static int
verify(struct pass *p, const struct spans *sp)
{
	uint64_t total = sp->total, units = (total + VUNIT - 1) / VUNIT;
	uint64_t k, strata, lo, hi;
	int direct = 0, fl, rc = -1;

	if (total == 0)
		return 0;
	(void)posix_fadvise(p->fd, 0, 0, POSIX_FADV_DONTNEED);
	fl = fcntl(p->fd, F_GETFL);
	if (fl != -1 && fcntl(p->fd, F_SETFL, fl | O_DIRECT) == 0)
		direct = 1;
	if (p->o->verify != VERIFY_SAMPLE || units <= VMIN) {
		struct span_cursor c = { 0, 0 };
		uint64_t off;
		size_t n;

		while (span_next(sp, &c, p->bufsz, &off, &n))
			if (check_range(p, off, n, &direct) == -1)
				goto out;
		rc = 0;
		goto out;
	}
	k = units / 10 > VMIN ? units / 10 : VMIN;
	strata = k - 2;
	if (check_virtual(p, sp, 0, VUNIT, &direct) == -1)
		goto out;
	for (uint64_t s = 0; s < strata; s++) {
		lo = 1 + s * (units - 2) / strata;
		hi = 1 + (s + 1) * (units - 2) / strata;
		if (hi > lo && check_virtual(p, sp, (lo + rand_below(hi - lo)) *
		    VUNIT, VUNIT, &direct) == -1)
			goto out;
	}
	lo = (units - 1) * VUNIT;
	rc = check_virtual(p, sp, lo, total - lo, &direct);
out:
	/* The fd may be the caller's (ow_fd): give it back as it came. */
	if (direct && fl != -1)
		(void)fcntl(p->fd, F_SETFL, fl);
	return rc;
}

/* Everything that must hold before the first write, on the open fd. */
static int
check_fd(int fd, const char *label, const struct ow_opts *o, struct stat *st,
    struct err *e)
{
	char fstype[64];
	const char *why;
	nlink_t ok = o->links_ok ? o->links_ok : 1;
	int flags = 0;

	if (fstat(fd, st) == -1)
		return err_sys(e, "%s: fstat", label);
	if (!S_ISREG(st->st_mode))
		return err_set(e, "%s: not a regular file; only regular files "
		    "are overwritten", label);
	if ((o->dev != 0 || o->ino != 0) &&
	    (st->st_dev != o->dev || st->st_ino != o->ino))
		return err_set(e, "%s: replaced by another file since it was "
		    "located; refused", label);
	if (st->st_nlink > ok)
		return err_set(e, "%s: has %lu hard links, so its data is also "
		    "reachable by a name outside this disposition; refused "
		    "(remove the other links or put them in the dataset)",
		    label, (unsigned long)st->st_nlink);
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
		if (flags & FS_IMMUTABLE_FL)
			return err_set(e, "%s is immutable (chattr +i); clear the "
			    "flag with chattr -i if it is to be destroyed, or "
			    "take it out of the dataset", label);
		if (flags & FS_APPEND_FL)
			return err_set(e, "%s is append-only (chattr +a); clear "
			    "the flag with chattr -a if it is to be destroyed, "
			    "or take it out of the dataset", label);
	}
	if (media_fstype(fd, fstype, sizeof(fstype), e) == -1)
		return -1;
	why = media_overwrite_refusal(fstype);
	if (why != NULL)
		return err_set(e, "%s: overwrite refused on %s: %s", label,
		    fstype, why);
	return 0;
}

/* The pass, the re-passes over any growth, the extent check and the
 * read-back, on an fd that passed check_fd. */
static int
overwrite_fd(struct pass *p, const struct stat *st0)
{
	struct extents before = { 0 }, after = { 0 };
	struct spans sp = { 0 }, grown = { 0 };
	EVP_MD_CTX *md = NULL;
	struct stat st;
	uint64_t size = (uint64_t)st0->st_size, end;
	unsigned int mdlen = 0;
	int rc = -1, mapped, short_read = 0, fl;

	memset(p->r, 0, sizeof(*p->r));
	p->r->sha_ok = 1;
	p->random = 0;
	mapped = media_extents(p->fd, &before, p->e);
	if (mapped == -1)
		goto out;
	if (mapped == 1 && before.shared) {
		err_set(p->e, "%s: shares blocks with another file (a reflink "
		    "copy), so its data would survive there; refused",
		    p->label);
		goto out;
	}
	/* What has storage or data; never the holes. */
	if (spans_of(p->fd, 0, size, mapped == 1 ? &before : NULL, ALIGN,
	    p->label, &sp, p->e) != 0)
		goto out;
	p->bufsz = sp.total < CHUNK ?
	    (size_t)(sp.total + ALIGN - 1) / ALIGN * ALIGN : CHUNK;
	if (p->bufsz < ALIGN)
		p->bufsz = ALIGN;
	if (posix_memalign((void **)&p->rbuf[0], ALIGN, NBUF * p->bufsz) != 0 ||
	    posix_memalign((void **)&p->pbuf, ALIGN, p->bufsz) != 0) {
		err_set(p->e, "%s: out of memory", p->label);
		goto out;
	}
	for (int k = 1; k < NBUF; k++)
		p->rbuf[k] = p->rbuf[0] + (size_t)k * p->bufsz;
	memset(p->pbuf, 0, p->bufsz);
	p->random = p->o->pattern == PATTERN_RANDOM;
	if (p->random && aesctr_init(&p->ctr, p->e) == -1) {
		p->random = 0;
		goto out;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		err_set(p->e, "%s: SHA-256 unavailable", p->label);
		goto out;
	}
	fl = fcntl(p->fd, F_GETFL);
	if (sp.aligned)
		choose_direct(p, size, fl);
	else
		p->direct = 0;
	if (hash_and_write(p, &sp, size, fl, md, &short_read) == -1)
		goto out;
	if (EVP_DigestFinal_ex(md, p->r->sha256, &mdlen) != 1) {
		err_set(p->e, "%s: SHA-256 failed", p->label);
		goto out;
	}
	if (short_read)
		p->r->sha_ok = 0;
	end = size;
	for (int round = 0;; round++) {
		if (fdatasync(p->fd) == -1) {
			err_sys(p->e, "%s: fdatasync", p->label);
			goto out;
		}
		if (fstat(p->fd, &st) == -1) {
			err_sys(p->e, "%s: fstat", p->label);
			goto out;
		}
		if ((uint64_t)st.st_size <= end)
			break;
		/* Appended to while we worked: the digest no longer covers
		 * everything, but every byte of data must still be
		 * overwritten (and no hole it grew by filled). */
		p->r->sha_ok = 0;
		if (round == GROW_ROUNDS) {
			err_set(p->e, "%s: keeps growing while being overwritten; "
			    "stop whatever writes to it and run again", p->label);
			goto out;
		}
		if (spans_of(p->fd, end, (uint64_t)st.st_size, NULL, ALIGN,
		    p->label, &grown, p->e) != 0)
			goto out;
		if (write_spans(p, &grown) == -1)
			goto out;
		if (spans_append(&sp, &grown) != 0) {
			err_set(p->e, "%s: out of memory", p->label);
			goto out;
		}
		spans_free(&grown);
		end = (uint64_t)st.st_size;
	}
	p->r->size = end;
	p->r->overwritten = sp.total;
	if (p->o->phase != NULL)
		p->o->phase(OW_PHASE_WRITTEN, p->o->arg);
	if (mapped == 1) {
		if (media_extents(p->fd, &after, p->e) != 1) {
			if (p->e->msg[0] == '\0')
				err_set(p->e, "%s: extent map vanished", p->label);
			goto out;
		}
		if (!media_extents_kept(&before, &after)) {
			err_set(p->e, "%s: the filesystem moved the file's blocks "
			    "during the overwrite, so the old blocks may still "
			    "hold the data; seal the dataset and use crypto-shred",
			    p->label);
			goto out;
		}
	}
	/* Where the filesystem journals data (ext4 data=journal, inline
	 * data), the pattern sits in the log until a checkpoint writes it
	 * home; do that now, so the read-back sees the home blocks. */
	(void)media_checkpoint(p->fd);
	if (verify(p, &sp) == -1)
		goto out;
	if (p->o->phase != NULL)
		p->o->phase(OW_PHASE_VERIFIED, p->o->arg);
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	media_extents_free(&before);
	media_extents_free(&after);
	spans_free(&sp);
	spans_free(&grown);
	if (p->random)
		aesctr_free(&p->ctr);
	free(p->rbuf[0]);
	free(p->pbuf);
	memset(p->rbuf, 0, sizeof(p->rbuf));
	p->pbuf = NULL;
	return rc;
}

/* Overwrites the values of user-data xattrs with zeros, then removes every
 * xattr it can.  Only user.* and trusted.* hold data a person put there;
 * system.* and security.* (ACLs, labels) are removed where allowed. */
static int
strip_xattrs(int fd, const char *label, struct err *e)
{
	char *list = NULL, *zero = NULL;
	ssize_t len;
	int rc = -1, zeroed = 0;

	len = flistxattr(fd, NULL, 0);
	if (len <= 0) {
		rc = (len == 0 || errno == ENOTSUP) ? 0 :
		    err_sys(e, "%s: listing extended attributes", label);
		goto out;
	}
	list = malloc((size_t)len);
	if (list == NULL || (len = flistxattr(fd, list, (size_t)len)) < 0) {
		err_sys(e, "%s: listing extended attributes", label);
		goto out;
	}
	for (char *n = list; n < list + len; n += strlen(n) + 1) {
		int user = strncmp(n, "user.", 5) == 0 ||
		    strncmp(n, "trusted.", 8) == 0;
		ssize_t vlen = fgetxattr(fd, n, NULL, 0);

		if (user && vlen > 0) {
			char *z = realloc(zero, (size_t)vlen);
			if (z == NULL) {
				err_set(e, "%s: out of memory", label);
				goto out;
			}
			zero = z;
			memset(zero, 0, (size_t)vlen);
			if (fsetxattr(fd, n, zero, (size_t)vlen,
			    XATTR_REPLACE) == 0)
				zeroed = 1;
		}
	}
	/* The zeroed values must reach their home block before removal
	 * frees it, or the block would keep the values as they were. */
	if (zeroed && (fsync(fd) == -1 || media_checkpoint(fd) == -1)) {
		err_sys(e, "%s: fsync after scrubbing extended attributes",
		    label);
		goto out;
	}
	for (char *n = list; n < list + len; n += strlen(n) + 1) {
		int user = strncmp(n, "user.", 5) == 0 ||
		    strncmp(n, "trusted.", 8) == 0;
		if (fremovexattr(fd, n) == -1 && user && errno != ENODATA) {
			err_sys(e, "%s: removing extended attribute", label);
			goto out;
		}
	}
	rc = 0;
out:
	free(list);
	free(zero);
	return rc;
}

/* A random name of exactly len bytes from [A-Za-z0-9]. */
static void
random_name(char *out, size_t len)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

	for (size_t i = 0; i < len; i++)
		out[i] = abc[rand_below(sizeof(abc) - 1)];
	out[len] = '\0';
}

static int
same_inode(int dirfd, const char *name, const struct stat *want)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == want->st_dev && st.st_ino == want->st_ino;
}

/* Renames dirfd/name to a fresh random name of the same length (never
 * replacing anything), writing the new name to out.  Calls o's
 * before_rename first when given. */
static int
rename_same_length(int dirfd, const char *name, const char *label,
    const struct ow_opts *o, char *out, struct err *e)
{
	size_t len = strlen(name);

	if (len > NAME_MAX)
		return err_set(e, "%s: name too long", label);
	for (int tries = 0; tries < 64; tries++) {
		random_name(out, len);
		if (strcmp(out, name) == 0)
			continue;
		if (o != NULL && o->before_rename != NULL &&
		    o->before_rename(out, o->arg) != 0)
			return err_set(e, "%s: not renamed: the caller could not "
			    "record the new name", label);
		if (renameat2(dirfd, name, dirfd, out, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == EEXIST)
			continue;
		if (errno != EINVAL && errno != ENOSYS)
			return err_sys(e, "%s: rename", label);
		/* No RENAME_NOREPLACE here: check, then plain rename.  The
		 * name is random, so a race needs a guess of it. */
		if (faccessat(dirfd, out, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (renameat(dirfd, name, dirfd, out) == 0)
			return 0;
		return err_sys(e, "%s: rename", label);
	}
	return err_set(e, "%s: no free random name of the same length", label);
}

/* Same-length rename, fsync, re-check, unlink, fsync (SPEC §6.5). */
static int
remove_name(int dirfd, const char *name, const char *label,
    const struct stat *want, const struct ow_opts *o, int *renamed,
    struct err *e)
{
	char tmp[NAME_MAX + 1];

	if (!same_inode(dirfd, name, want))
		return err_set(e, "%s: the name no longer refers to the file "
		    "that was checked; left in place", label);
	if (rename_same_length(dirfd, name, label, o, tmp, e) == -1)
		return -1;
	if (renamed != NULL)
		*renamed = 1;
	if (fsync(dirfd) == -1)
		return err_sys(e, "%s (renamed %s): fsync directory", label, tmp);
	if (!same_inode(dirfd, tmp, want))
		return err_set(e, "%s (renamed %s): replaced after the rename; "
		    "left in place", label, tmp);
	if (unlinkat(dirfd, tmp, 0) == -1)
		return err_sys(e, "%s (renamed %s): unlink", label, tmp);
	if (fsync(dirfd) == -1)
		return err_sys(e, "%s: fsync directory after unlink", label);
	return 0;
}

/* Opens dirfd/name for overwrite: regular files only, never following a
 * link, never blocking.  Explains the refusals a person can act on. */
static int
open_regular(int dirfd, const char *name, const char *label,
    const struct ow_opts *o, struct err *e)
{
	struct stat st;
	int fd, flags = 0, saved;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return err_sys(e, "%s", label);
	if (!S_ISREG(st.st_mode))
		return err_set(e, "%s: not a regular file (%s); never opened for "
		    "writing", label, S_ISLNK(st.st_mode) ? "a symlink" :
		    S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISSOCK(st.st_mode) ?
		    "a socket" : S_ISDIR(st.st_mode) ? "a directory" :
		    "a device");
	if ((o->dev != 0 || o->ino != 0) &&
	    (st.st_dev != o->dev || st.st_ino != o->ino))
		return err_set(e, "%s: replaced by another file since it was "
		    "located; refused", label);
	fd = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd != -1)
		return fd;
	saved = errno;
	if (saved == EPERM || saved == EACCES) {
		/* Say why, when it is a flag someone can clear. */
		int rfd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (rfd != -1 && ioctl(rfd, FS_IOC_GETFLAGS, &flags) == 0 &&
		    (flags & (FS_IMMUTABLE_FL | FS_APPEND_FL))) {
			close(rfd);
			return err_set(e, "%s is %s; clear the flag with chattr "
			    "%s if it is to be destroyed, or take it out of the "
			    "dataset", label, (flags & FS_IMMUTABLE_FL) ?
			    "immutable (chattr +i)" : "append-only (chattr +a)",
			    (flags & FS_IMMUTABLE_FL) ? "-i" : "-a");
		}
		if (rfd != -1)
			close(rfd);
	}
	errno = saved;
	if (saved == EROFS)
		return err_set(e, "%s: on a read-only filesystem; remount it "
		    "read-write to destroy the file", label);
	if (saved == ELOOP)
		return err_set(e, "%s: became a symlink; never followed", label);
	return err_sys(e, "%s: cannot open for overwrite", label);
}

int
ow_fd(int fd, const char *label, const struct ow_opts *o,
    struct ow_result *r, struct err *e)
{
	struct pass p = { .fd = fd, .label = label, .e = e };
	struct ow_result dummy;
	struct stat st;

	p.o = o != NULL ? o : &default_opts;
	p.r = r != NULL ? r : &dummy;
	if (check_fd(fd, label, p.o, &st, e) == -1)
		return -1;
	return overwrite_fd(&p, &st);
}

int
ow_file(int dirfd, const char *name, const char *label,
    const struct ow_opts *o, struct ow_result *r, struct err *e)
{
	struct pass p = { .label = label, .e = e };
	struct ow_result dummy;
	struct stat st;
	int rc = -1;

	p.o = o != NULL ? o : &default_opts;
	p.r = r != NULL ? r : &dummy;
	memset(p.r, 0, sizeof(*p.r));
	p.fd = open_regular(dirfd, name, label, p.o, e);
	if (p.fd == -1)
		return -1;
	if (check_fd(p.fd, label, p.o, &st, e) == -1 ||
	    overwrite_fd(&p, &st) == -1)
		goto out;
	if (strip_xattrs(p.fd, label, e) == -1)
		goto out;
	if (ftruncate(p.fd, 0) == -1 || fsync(p.fd) == -1) {
		err_sys(e, "%s: truncate", label);
		goto out;
	}
	if (remove_name(dirfd, name, label, &st, p.o, &p.r->renamed, e) == -1)
		goto out;
	rc = 0;
out:
	close(p.fd);
	return rc;
}

int
ow_unlink_name(int dirfd, const char *name, const char *label,
    const struct ow_opts *o, struct err *e)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return err_sys(e, "%s", label);
	if (S_ISDIR(st.st_mode))
		return err_set(e, "%s: is a directory", label);
	if (o != NULL && (o->dev != 0 || o->ino != 0) &&
	    (st.st_dev != o->dev || st.st_ino != o->ino))
		return err_set(e, "%s: replaced since it was located; refused",
		    label);
	return remove_name(dirfd, name, label, &st, o, NULL, e);
}

int
ow_rmdir_if_empty(int dirfd, const char *name, const char *label,
    struct err *e)
{
	char tmp[NAME_MAX + 1];
	struct stat st, pst;
	struct dirent *de;
	DIR *d = NULL;
	int fd, rc = -1, empty = 1;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return err_sys(e, "%s", label);
	if (!S_ISDIR(st.st_mode))
		return err_set(e, "%s: not a directory", label);
	if (fstat(dirfd, &pst) == -1)
		return err_sys(e, "%s: fstat parent", label);
	if (st.st_dev != pst.st_dev)
		return 0;	/* a mount point is never removed */
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return err_sys(e, "%s", label);
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return err_sys(e, "%s: cannot read directory", label);
	}
	while ((de = readdir(d)) != NULL)
		if (!(de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    (de->d_name[1] == '.' && de->d_name[2] == '\0'))))
			empty = 0;
	closedir(d);
	if (!empty)
		return 0;
	if (!same_inode(dirfd, name, &st))
		return err_set(e, "%s: replaced while being checked", label);
	if (rename_same_length(dirfd, name, label, NULL, tmp, e) == -1)
		return -1;
	if (fsync(dirfd) == -1) {
		err_sys(e, "%s: fsync parent directory", label);
		goto out;
	}
	if (!same_inode(dirfd, tmp, &st)) {
		err_set(e, "%s (renamed %s): replaced after the rename; left in "
		    "place", label, tmp);
		goto out;
	}
	/* Its entries were removed (and fsync'd) before; write that home
	 * now, since rmdir frees the block and a journaling filesystem would
	 * then never write the scrubbed version over the old names. */
	(void)media_checkpoint(dirfd);
	if (unlinkat(dirfd, tmp, AT_REMOVEDIR) == -1) {
		if (errno == ENOTEMPTY || errno == EEXIST) {
			/* Filled again since we looked: put the name back. */
			if (renameat2(dirfd, tmp, dirfd, name,
			    RENAME_NOREPLACE) == -1) {
				err_sys(e, "%s: refilled while being removed and "
				    "left as %s", label, tmp);
				goto out;
			}
			rc = 0;
			goto out;
		}
		err_sys(e, "%s (renamed %s): rmdir", label, tmp);
		goto out;
	}
	rc = 1;
out:
	if (fsync(dirfd) == -1 && rc != -1)
		rc = err_sys(e, "%s: fsync parent directory", label);
	return rc;
}

int
ow_path(const char *path, struct err *e)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base;
	size_t len;
	int dfd, rc;

	if (path[0] != '/' || slash == NULL || slash[1] == '\0')
		return err_set(e, "%s: not an absolute file path", path);
	base = slash + 1;
	len = slash == path ? 1 : (size_t)(slash - path);
	if (len >= sizeof(dir))
		return err_set(e, "%s: path too long", path);
	memcpy(dir, path, len);
	dir[len] = '\0';
	/* state_dir's own directories are trusted (see overwrite.h). */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1)
		return err_sys(e, "%s", dir);
	rc = ow_file(dfd, base, path, NULL, NULL, e);
	close(dfd);
	return rc;
}
