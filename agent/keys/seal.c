/*
 * seal.c: the sealed stream (format in seal.h).
 *
 * MUST rules:
 *  - a (key, nonce) pair is never used twice: the prefix is fresh from
 *    RAND_bytes for every stream, the counter is the chunk index, and a
 *    stream refuses to grow past 2^32 chunks;
 *  - every chunk's AAD holds the whole header, its index and its final
 *    flag; a full-size chunk is never final and a short one always is, so
 *    the reader never has to guess where the stream ends;
 *  - plaintext is written only after its chunk's tag has verified; on any
 *    failure nothing more is written;
 *  - the DEK from the lookup lives in secure memory and is wiped on every
 *    path out; buffers that held plaintext are cleansed before free;
 *  - memory is bounded by BATCH chunks, whatever the input's size.
 */
#include "keys/seal.h"
#include "base/err.h"
#include "base/secmem.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VERSION 1
#define SUITE 1
#define BATCH 16			/* chunks per read/write: 1 MiB */
#define CCHUNK (SEAL_CHUNK + SEAL_TAG)	/* a full chunk on the wire */
#define AAD_LEN (SEAL_HEADER_LEN + 8 + 1)
#define MAX_CHUNKS (UINT64_C(1) << 32)

/* Reads until n bytes or end of file.  Returns the count, or -1. */
static ssize_t
read_full(int fd, unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int
write_full(int fd, const unsigned char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
put_be(unsigned char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

int
seal_parse_header(const unsigned char *b, size_t len, struct seal_header *h,
    struct err *e)
{
	size_t idlen;

	if (len < SEAL_HEADER_LEN ||
	    memcmp(b, SEAL_MAGIC, strlen(SEAL_MAGIC)) != 0)
		return err_set(e, "not a lethe sealed file (bad magic: no "
		    "LETHESL1 header)");
	if (b[8] != VERSION)
		return err_set(e, "sealed stream version %u is not supported "
		    "(this lethe reads version %d)", b[8], VERSION);
	if (b[9] != SUITE)
		return err_set(e, "sealed stream cipher suite %u is not "
		    "supported", b[9]);
	idlen = b[10];
	if (idlen == 0 || idlen > SEAL_KEYID_MAX || b[11] != 0)
		return err_set(e, "sealed stream header is corrupt (key id "
		    "length %zu)", idlen);
	for (size_t i = 0; i < SEAL_KEYID_MAX; i++) {
		unsigned char c = b[20 + i];
		if (i < idlen ? (c < 0x21 || c > 0x7e) : c != 0)
			return err_set(e, "sealed stream header is corrupt "
			    "(key id)");
	}
	h->version = b[8];
	memcpy(h->keyid, b + 20, idlen);
	h->keyid[idlen] = '\0';
	memcpy(h->nonce_prefix, b + 12, sizeof(h->nonce_prefix));
	return 0;
}

int
seal_peek(int fd, struct seal_header *h, struct err *e)
{
	unsigned char b[SEAL_HEADER_LEN];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t r = pread(fd, b + got, sizeof(b) - got, (off_t)got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(e, "cannot read the sealed header");
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return seal_parse_header(b, got, h, e);
}

int
seal_is_sealed(int fd)
{
	char b[8];
	ssize_t r;

	do
		r = pread(fd, b, sizeof(b), 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	return r == (ssize_t)sizeof(b) && memcmp(b, SEAL_MAGIC, 8) == 0;
}

/* Seals or opens one chunk: n input bytes at in to out (n bytes), the tag
 * at/from tag.  Returns 0, or -1 (opening: authentication failed). */
static int
chunk(EVP_CIPHER_CTX *c, int enc, const unsigned char prefix[8],
    unsigned char *aad, uint64_t idx, int final, const unsigned char *in,
    size_t n, unsigned char *out, unsigned char *tag)
{
	unsigned char nonce[12];
	int l;

	memcpy(nonce, prefix, 8);
	put_be(nonce + 8, idx, 4);
	put_be(aad + SEAL_HEADER_LEN, idx, 8);
	aad[SEAL_HEADER_LEN + 8] = (unsigned char)final;
	if (EVP_CipherInit_ex(c, NULL, NULL, NULL, nonce, enc) != 1 ||
	    EVP_CipherUpdate(c, NULL, &l, aad, AAD_LEN) != 1)
		return -1;
	if (n > 0 && (EVP_CipherUpdate(c, out, &l, in, (int)n) != 1 ||
	    (size_t)l != n))
		return -1;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SEAL_TAG,
	    tag) != 1)
		return -1;
	if (EVP_CipherFinal_ex(c, out + n, &l) != 1)
		return -1;
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SEAL_TAG,
	    tag) != 1)
		return -1;
	return 0;
}

static EVP_CIPHER_CTX *
gcm_new(const unsigned char *key, int enc)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	if (c == NULL)
		return NULL;
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL,
	    enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key, NULL, enc) != 1) {
		EVP_CIPHER_CTX_free(c);
		return NULL;
	}
	return c;
}

int
seal_stream(int in, int out, const struct dek *k, seal_progress progress,
    void *arg, struct err *e)
{
	unsigned char hdr[SEAL_HEADER_LEN] = { 0 }, aad[AAD_LEN];
	unsigned char *ib = NULL, *ob = NULL;
	EVP_CIPHER_CTX *c = NULL;
	size_t idlen = strlen(k->id);
	uint64_t idx = 0, done = 0;
	int rc = -1, eof = 0;

	if (idlen == 0 || idlen > SEAL_KEYID_MAX)
		return err_set(e, "key id '%s' is not a valid key id", k->id);
	memcpy(hdr, SEAL_MAGIC, 8);
	hdr[8] = VERSION;
	hdr[9] = SUITE;
	hdr[10] = (unsigned char)idlen;
	memcpy(hdr + 20, k->id, idlen);
	if (RAND_bytes(hdr + 12, 8) != 1)
		return err_set(e, "no random bytes for the nonce");
	memcpy(aad, hdr, SEAL_HEADER_LEN);
	ib = malloc((size_t)BATCH * SEAL_CHUNK);
	ob = malloc((size_t)BATCH * CCHUNK);
	if (ib == NULL || ob == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	if ((c = gcm_new(k->key, 1)) == NULL) {
		err_set(e, "cannot set up AES-256-GCM");
		goto out;
	}
	if (write_full(out, hdr, sizeof(hdr)) != 0) {
		err_sys(e, "write");
		goto out;
	}
	while (!eof) {
		ssize_t got = read_full(in, ib, (size_t)BATCH * SEAL_CHUNK);
		size_t n, full, rest, o = 0;

		if (got < 0) {
			err_sys(e, "read");
			goto out;
		}
		n = (size_t)got;
		eof = n < (size_t)BATCH * SEAL_CHUNK;
		full = n / SEAL_CHUNK;
		rest = n % SEAL_CHUNK;
		if (idx + full + 1 > MAX_CHUNKS) {
			err_set(e, "input too large for one sealed stream "
			    "(more than 2^32 chunks)");
			goto out;
		}
		for (size_t i = 0; i <= full; i++) {
			size_t len = i < full ? SEAL_CHUNK : rest;
			if (i == full && !eof)
				break;
			if (chunk(c, 1, hdr + 12, aad, idx, i == full,
			    ib + i * SEAL_CHUNK, len, ob + o, ob + o + len)
			    != 0) {
				err_set(e, "encryption failed at chunk %" PRIu64,
				    idx);
				goto out;
			}
			o += len + SEAL_TAG;
			idx++;
		}
		if (write_full(out, ob, o) != 0) {
			err_sys(e, "write");
			goto out;
		}
		done += n;
		if (progress != NULL)
			progress(done, arg);
	}
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	if (ib != NULL)
		OPENSSL_clear_free(ib, (size_t)BATCH * SEAL_CHUNK);
	free(ob);
	OPENSSL_cleanse(aad, sizeof(aad));
	return rc;
}

int
unseal_stream(int in, int out, seal_lookup lookup, void *arg,
    seal_progress progress, void *parg, struct err *e)
{
	unsigned char hdr[SEAL_HEADER_LEN], aad[AAD_LEN];
	unsigned char *ib = NULL, *ob = NULL;
	struct seal_header h;
	struct dek *k = NULL;
	EVP_CIPHER_CTX *c = NULL;
	uint64_t idx = 0, done = 0;
	ssize_t got;
	int rc = -1, eof = 0;

	got = read_full(in, hdr, sizeof(hdr));
	if (got < 0)
		return err_sys(e, "read");
	if (got < (ssize_t)sizeof(hdr) && got >= 8 &&
	    memcmp(hdr, SEAL_MAGIC, 8) == 0)
		return err_set(e, "sealed stream truncated inside its header");
	if (seal_parse_header(hdr, (size_t)got, &h, e) != 0)
		return -1;
	if ((k = secmem_alloc(sizeof(*k), e)) == NULL)
		return -1;
	if (lookup(h.keyid, k, arg, e) != 0)
		goto out;
	memcpy(aad, hdr, SEAL_HEADER_LEN);
	ib = malloc((size_t)BATCH * CCHUNK);
	ob = malloc((size_t)BATCH * SEAL_CHUNK);
	if (ib == NULL || ob == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	if ((c = gcm_new(k->key, 0)) == NULL) {
		err_set(e, "cannot set up AES-256-GCM");
		goto out;
	}
	while (!eof) {
		size_t n, full, rest, o = 0;

		got = read_full(in, ib, (size_t)BATCH * CCHUNK);
		if (got < 0) {
			err_sys(e, "read");
			goto out;
		}
		n = (size_t)got;
		eof = n < (size_t)BATCH * CCHUNK;
		full = n / CCHUNK;
		rest = n % CCHUNK;
		if (idx + full >= MAX_CHUNKS) {
			err_set(e, "sealed stream too long (more than 2^32 "
			    "chunks)");
			goto out;
		}
		for (size_t i = 0; i < full; i++) {
			const unsigned char *p = ib + i * CCHUNK;
			if (chunk(c, 0, h.nonce_prefix, aad, idx, 0, p,
			    SEAL_CHUNK, ob + o, (unsigned char *)p +
			    SEAL_CHUNK) != 0) {
				err_set(e, "chunk %" PRIu64 " does not "
				    "authenticate: the sealed stream was "
				    "altered, reordered or cut", idx);
				goto out;
			}
			o += SEAL_CHUNK;
			idx++;
		}
		if (eof) {
			if (rest < SEAL_TAG) {
				err_set(e, "sealed stream truncated after "
				    "chunk %" PRIu64 " (its final chunk is "
				    "missing)", idx);
				goto out;
			}
			if (chunk(c, 0, h.nonce_prefix, aad, idx, 1,
			    ib + full * CCHUNK, rest - SEAL_TAG, ob + o,
			    ib + full * CCHUNK + rest - SEAL_TAG) != 0) {
				err_set(e, "final chunk %" PRIu64 " does not "
				    "authenticate: the sealed stream was "
				    "altered, cut or extended", idx);
				goto out;
			}
			o += rest - SEAL_TAG;
		}
		if (write_full(out, ob, o) != 0) {
			err_sys(e, "write");
			goto out;
		}
		done += o;
		if (progress != NULL)
			progress(done, parg);
	}
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	secmem_free(k, sizeof(*k));
	free(ib);
	if (ob != NULL)
		OPENSSL_clear_free(ob, (size_t)BATCH * SEAL_CHUNK);
	return rc;
}

/* 16 random hex digits for a temporary name. */
static int
rand_hex(char *buf, size_t len)
{
	unsigned char r[8];
	int n;

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	n = snprintf(buf, len, "%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1],
	    r[2], r[3], r[4], r[5], r[6], r[7]);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
seal_out_openat(int dirfd, const char *name, const char *label, mode_t mode,
    struct seal_out *o, struct err *e)
{
	char hex[17];
	int n, rc = -1;

	memset(o, 0, sizeof(*o));
	o->dirfd = o->fd = -1;
	o->name = strdup(name);
	o->path = strdup(label);
	if (o->name == NULL || o->path == NULL) {
		err_set(e, "%s: out of memory", label);
		goto out;
	}
	if (name[0] == '\0' || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		err_set(e, "%s: not a file name", label);
		goto out;
	}
	o->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (o->dirfd == -1) {
		err_sys(e, "%s: dup", label);
		goto out;
	}
	n = rand_hex(hex, sizeof(hex));
	if (n == 0)
		n = snprintf(o->tmp, sizeof(o->tmp), ".lethe-tmp.%s", hex);
	if (n < 0 || (size_t)n >= sizeof(o->tmp)) {
		err_set(e, "%s: cannot make a temporary name", label);
		goto out;
	}
	o->fd = openat(o->dirfd, o->tmp, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, mode);
	if (o->fd == -1) {
		err_sys(e, "%s: cannot create a temporary file beside it",
		    label);
		goto out;
	}
	if (fchmod(o->fd, mode) != 0) {
		err_sys(e, "%s: chmod", label);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		seal_out_abort(o);
	return rc;
}

int
seal_out_open(const char *path, mode_t mode, struct seal_out *o,
    struct err *e)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int dfd, rc;

	memset(o, 0, sizeof(*o));
	o->dirfd = o->fd = -1;
	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return err_set(e, "%s: out of memory", path);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1) {
		err_sys(e, "%s: cannot open directory", dir);
		free(dir);
		return -1;
	}
	rc = seal_out_openat(dfd, slash ? slash + 1 : path, path, mode, o, e);
	close(dfd);
	free(dir);
	return rc;
}

static void
out_close(struct seal_out *o)
{
	if (o->fd != -1)
		close(o->fd);
	if (o->dirfd != -1)
		close(o->dirfd);
	free(o->name);
	free(o->path);
	o->fd = o->dirfd = -1;
	o->name = o->path = NULL;
}

int
seal_out_commit(struct seal_out *o, struct err *e)
{
	int fd = o->fd;

	o->fd = -1;
	if (fsync(fd) != 0) {
		err_sys(e, "%s: fsync", o->path);
		close(fd);
		goto fail;
	}
	if (close(fd) != 0) {
		err_sys(e, "%s: close", o->path);
		goto fail;
	}
	if (renameat(o->dirfd, o->tmp, o->dirfd, o->name) != 0) {
		err_sys(e, "%s: rename into place", o->path);
		goto fail;
	}
	if (fsync(o->dirfd) != 0) {
		/* In place already; only its durability is in doubt. */
		err_sys(e, "%s: fsync directory", o->path);
		out_close(o);
		return -1;
	}
	out_close(o);
	return 0;
fail:
	seal_out_abort(o);
	return -1;
}

void
seal_out_abort(struct seal_out *o)
{
	if (o->dirfd != -1 && o->tmp[0] != '\0')
		(void)unlinkat(o->dirfd, o->tmp, 0);
	out_close(o);
}
