/*
 * ow_pass.c: the data pass of a verified overwrite (SPEC §6 step 4; see
 * overwrite.h for the contract and overwrite.c for the MUST rules): the
 * content read and hashed while the pattern is written over it, span by
 * span (never the holes), made durable and its blocks checked in place;
 * ow_verify.c reads it back from the device afterwards.
 */
#include "sanitize/ow_int.h"

#include "base/err.h"
#include "base/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Under O_DIRECT a read ending at an unaligned offset is the end of the
 * file: the next read would be refused (EINVAL) for its alignment, not
 * for an error. */
ssize_t
ow_pread(int fd, void *buf, size_t n, off_t off)
{
	size_t got;
	ssize_t r = fdio_pread_full(fd, buf, n, off, &got);

	if (r < 0 && errno == EINVAL && got % ALIGN != 0)
		return (ssize_t)got;
	return r;
}

int
ow_pattern_at(struct pass *p, uint64_t off, size_t n)
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
		if (ow_pattern_at(p, off, n) == -1)
			return -1;
		if (fdio_pwrite_all(p->fd, p->pbuf, n, (off_t)off) == -1)
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
	int threaded;		/* th runs read_ahead */
	pthread_t th;
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
		got = ow_pread(g->fd, g->buf[i % NBUF], want, (off_t)off);
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
	/* A small file is one read: the page cache costs nothing there. */
	if (fl == -1 || size < DIRECT_MIN || mostly_cached(p->fd, size) ||
	    fcntl(p->fd, F_SETFL, fl | O_DIRECT) == -1)
		return;
	r = pread(p->fd, p->rbuf[0], ALIGN, 0);
	if (r < 0) {
		(void)fcntl(p->fd, F_SETFL, fl);
		return;
	}
	p->direct = 1;
}

/* Starts the ring over the n pieces of sp: a reader thread when there is
 * more than one piece (else ring_get reads each piece itself). */
static void
ring_start(struct ring *g, const struct pass *p, const struct spans *sp,
    uint64_t n)
{
	memset(g, 0, sizeof(*g));
	g->fd = p->fd;
	g->direct = p->direct;
	g->sp = sp;
	g->chunk = p->bufsz;
	for (int k = 0; k < NBUF; k++)
		g->buf[k] = p->rbuf[k];
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->threaded = n > 1 && pthread_create(&g->th, NULL, read_ahead, g) == 0;
}

/* Piece i of the original (want bytes at off), in g->buf[i % NBUF]: read
 * here without a reader thread, else waited for.  Returns the bytes read,
 * or -1 with errno set. */
static ssize_t
ring_get(struct ring *g, uint64_t i, uint64_t off, size_t want)
{
	ssize_t got;

	if (!g->threaded) {
		g->got[i % NBUF] = ow_pread(g->fd, g->buf[i % NBUF], g->direct ?
		    (want + ALIGN - 1) / ALIGN * ALIGN : want, (off_t)off);
		g->err = errno;
		g->filled = i + 1;
	}
	pthread_mutex_lock(&g->mu);
	while (g->filled <= i)
		pthread_cond_wait(&g->cv, &g->mu);
	got = g->got[i % NBUF];
	errno = g->err;
	pthread_mutex_unlock(&g->mu);
	return got;
}

/* Piece i is overwritten: its buffer may take the next read. */
static void
ring_put(struct ring *g, uint64_t i)
{
	pthread_mutex_lock(&g->mu);
	g->used = i + 1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static void
ring_stop(struct ring *g)
{
	if (g->threaded) {
		pthread_mutex_lock(&g->mu);
		g->stop = 1;
		pthread_cond_broadcast(&g->cv);
		pthread_mutex_unlock(&g->mu);
		pthread_join(g->th, NULL);
	}
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
}

/* What O_DIRECT leaves of the pass: the unaligned tail of the file's last
 * piece, written once the fd is back in buffered mode. */
struct tail {
	uint64_t off;
	size_t len;
	size_t at;		/* where it starts in pbuf */
};

/* Writes the pattern over [off, off + want), but for an unaligned tail
 * under O_DIRECT, which goes into *t (only the file's last piece can have
 * one: the spans are aligned when direct). */
static int
write_piece(struct pass *p, uint64_t off, size_t want, struct tail *t)
{
	size_t wlen = p->direct ? want / ALIGN * ALIGN : want;

	if (ow_pattern_at(p, off, want) == -1)
		return -1;
	if (wlen > 0 && fdio_pwrite_all(p->fd, p->pbuf, wlen, (off_t)off) == -1)
		return err_sys(p->e, "%s: write at offset %llu", p->label,
		    (unsigned long long)off);
	if (wlen < want)
		*t = (struct tail){ off + wlen, want - wlen, wlen };
	if (!p->direct)
		(void)sync_file_range(p->fd, (off_t)off, (off_t)want,
		    SYNC_FILE_RANGE_WRITE);
	return 0;
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
	struct tail t = { 0, 0, 0 };
	uint64_t n = 0, hashed = 0, off;
	size_t want;
	int rc = -1;

	while (span_next(sp, &wc, p->bufsz, &off, &want))
		n++;
	memset(&wc, 0, sizeof(wc));
	ring_start(&g, p, sp, n);
	for (uint64_t i = 0; i < n; i++) {
		ssize_t got;

		(void)span_next(sp, &wc, p->bufsz, &off, &want);
		if (off > hashed && hash_zeros(md, off - hashed) != 0)
			goto sha;
		if ((got = ring_get(&g, i, off, want)) < 0) {
			err_sys(p->e, "%s: read at offset %llu", p->label,
			    (unsigned long long)off);
			goto out;
		}
		if ((size_t)got < want)
			*short_read = 1;
		if (EVP_DigestUpdate(md, p->rbuf[i % NBUF],
		    (size_t)got < want ? (size_t)got : want) != 1)
			goto sha;
		hashed = off + want;
		if (write_piece(p, off, want, &t) != 0)
			goto out;
		ring_put(&g, i);
		p->done += want;
		if (p->o->progress != NULL)
			p->o->progress(p->done, p->o->arg);
	}
	if (size > hashed && hash_zeros(md, size - hashed) != 0)
		goto sha;
	rc = 0;
	goto out;
sha:
	err_set(p->e, "%s: SHA-256 failed", p->label);
out:
	ring_stop(&g);
	if (p->direct) {
		(void)fcntl(p->fd, F_SETFL, fl);
		p->direct = 0;
	}
	/* The last piece's pattern is still in pbuf. */
	if (rc == 0 && t.len > 0 && fdio_pwrite_all(p->fd, p->pbuf + t.at,
	    t.len, (off_t)t.off) == -1)
		rc = err_sys(p->e, "%s: write at offset %llu", p->label,
		    (unsigned long long)t.off);
	return rc;
}

/* Asks the kernel to start reading the file now (a batch asks for all
 * its files before the first is hashed, so their reads overlap). */
void
ow_work_prefetch(struct ow_work *w)
{
	if (w->st.st_size > 0 && (uint64_t)w->st.st_size < DIRECT_MIN)
		(void)posix_fadvise(w->p.fd, 0, w->st.st_size,
		    POSIX_FADV_WILLNEED);
}

int
ow_bufs_alloc(struct pass *p, uint64_t total)
{
	p->bufsz = total < CHUNK ? (size_t)(total + ALIGN - 1) / ALIGN * ALIGN :
	    CHUNK;
	if (p->bufsz < ALIGN)
		p->bufsz = ALIGN;
	if (posix_memalign((void **)&p->rbuf[0], ALIGN, NBUF * p->bufsz) != 0 ||
	    posix_memalign((void **)&p->pbuf, ALIGN, p->bufsz) != 0) {
		free(p->rbuf[0]);
		p->rbuf[0] = NULL;
		return err_set(p->e, "%s: out of memory", p->label);
	}
	for (int k = 1; k < NBUF; k++)
		p->rbuf[k] = p->rbuf[0] + (size_t)k * p->bufsz;
	memset(p->pbuf, 0, p->bufsz);
	return 0;
}

void
ow_bufs_free(struct pass *p)
{
	free(p->rbuf[0]);
	free(p->pbuf);
	memset(p->rbuf, 0, sizeof(p->rbuf));
	p->pbuf = NULL;
}

int
ow_work_write(struct ow_work *w)
{
	struct pass *p = &w->p;
	EVP_MD_CTX *md = NULL;
	uint64_t size = (uint64_t)w->st.st_size;
	unsigned int mdlen = 0;
	int rc = -1, short_read = 0, fl;

	memset(p->r, 0, sizeof(*p->r));
	p->r->sha_ok = 1;
	p->random = 0;
	w->mapped = media_extents(p->fd, &w->before, p->e);
	if (w->mapped == -1)
		goto out;
	if (w->mapped == 1 && w->before.shared) {
		err_set(p->e, "%s: shares blocks with another file (a reflink "
		    "copy), so its data would survive there; refused",
		    p->label);
		goto out;
	}
	/* What has storage or data; never the holes. */
	if (spans_of(p->fd, 0, size, w->mapped == 1 ? &w->before : NULL, ALIGN,
	    p->label, &w->sp, p->e) != 0)
		goto out;
	if (ow_bufs_alloc(p, w->sp.total) != 0)
		goto out;
	p->random = p->o->pattern == OW_PATTERN_RANDOM;
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
	if (w->sp.aligned)
		choose_direct(p, size, fl);
	else
		p->direct = 0;
	if (hash_and_write(p, &w->sp, size, fl, md, &short_read) == -1)
		goto out;
	if (EVP_DigestFinal_ex(md, p->r->sha256, &mdlen) != 1) {
		err_set(p->e, "%s: SHA-256 failed", p->label);
		goto out;
	}
	if (short_read)
		p->r->sha_ok = 0;
	w->end = size;
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	ow_bufs_free(p);
	return rc;
}

int
ow_work_settle(struct ow_work *w, int synced)
{
	struct pass *p = &w->p;
	struct extents after = { 0 };
	struct spans grown = { 0 };
	struct stat st;
	int rc = -1;

	for (int round = 0;; round++) {
		if ((!synced || round > 0) && fdatasync(p->fd) == -1) {
			err_sys(p->e, "%s: fdatasync", p->label);
			goto out;
		}
		if (fstat(p->fd, &st) == -1) {
			err_sys(p->e, "%s: fstat", p->label);
			goto out;
		}
		if ((uint64_t)st.st_size <= w->end)
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
		if (spans_of(p->fd, w->end, (uint64_t)st.st_size, NULL, ALIGN,
		    p->label, &grown, p->e) != 0)
			goto out;
		if (p->pbuf == NULL && ow_bufs_alloc(p, grown.total) != 0)
			goto out;
		if (write_spans(p, &grown) == -1)
			goto out;
		if (spans_append(&w->sp, &grown) != 0) {
			err_set(p->e, "%s: out of memory", p->label);
			goto out;
		}
		spans_free(&grown);
		w->end = (uint64_t)st.st_size;
	}
	p->r->size = w->end;
	p->r->overwritten = w->sp.total;
	if (p->o->phase != NULL)
		p->o->phase(OW_PHASE_WRITTEN, p->o->arg);
	if (w->mapped == 1) {
		if (media_extents(p->fd, &after, p->e) != 1) {
			if (p->e->msg[0] == '\0')
				err_set(p->e, "%s: extent map vanished", p->label);
			goto out;
		}
		if (!media_extents_kept(&w->before, &after)) {
			err_set(p->e, "%s: the filesystem moved the file's blocks "
			    "during the overwrite, so the old blocks may still "
			    "hold the data; seal the dataset and use crypto-shred",
			    p->label);
			goto out;
		}
	}
	rc = 0;
out:
	ow_bufs_free(p);
	media_extents_free(&after);
	spans_free(&grown);
	return rc;
}

void
ow_work_free(struct ow_work *w)
{
	media_extents_free(&w->before);
	spans_free(&w->sp);
	if (w->p.random)
		aesctr_free(&w->p.ctr);
	w->p.random = 0;
	ow_bufs_free(&w->p);
}
