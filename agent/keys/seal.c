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
#include "base/fdio.h"
#include "base/secmem.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VERSION 1
#define SUITE 1
#define BATCH 16			/* chunks per read/write: 1 MiB */
#define CCHUNK (SEAL_CHUNK + SEAL_TAG)	/* a full chunk on the wire */
#define AAD_LEN (SEAL_HEADER_LEN + 8 + 1)
#define MAX_CHUNKS (UINT64_C(1) << 32)

/* Reads until n bytes or the end of the stream (a pipe, so not pread:
 * base/fdio.h has no plain read).  Returns the count, or -1. */
static ssize_t
read_full(int fd, unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
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
	ssize_t got = fdio_pread_full(fd, b, sizeof(b), 0, NULL);

	if (got < 0)
		return err_sys(e, "cannot read the sealed header");
	return seal_parse_header(b, (size_t)got, h, e);
}

int
seal_is_sealed(int fd)
{
	char b[8];
	ssize_t r = fdio_pread_full(fd, b, sizeof(b), 0, NULL);

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

/* One stream's buffers and cipher: ib what is read, ob what is written;
 * the plaintext side is cleansed before it is freed. */
struct pass {
	unsigned char *ib, *ob;
	size_t ilen, olen;
	int enc;		/* sealing: ib is plaintext; opening: ob */
	EVP_CIPHER_CTX *c;
	uint64_t idx;		/* the next chunk's index */
	uint64_t done;		/* bytes reported to progress */
};

static int
pass_open(struct pass *p, const unsigned char *key, int enc, struct err *e)
{
	memset(p, 0, sizeof(*p));
	p->enc = enc;
	p->ilen = (size_t)BATCH * (enc ? SEAL_CHUNK : CCHUNK);
	p->olen = (size_t)BATCH * (enc ? CCHUNK : SEAL_CHUNK);
	p->ib = malloc(p->ilen);
	p->ob = malloc(p->olen);
	if (p->ib == NULL || p->ob == NULL)
		return err_set(e, "out of memory");
	if ((p->c = gcm_new(key, enc)) == NULL)
		return err_set(e, "cannot set up AES-256-GCM");
	return 0;
}

static void
pass_close(struct pass *p)
{
	unsigned char **plain = p->enc ? &p->ib : &p->ob;
	size_t plen = p->enc ? p->ilen : p->olen;

	EVP_CIPHER_CTX_free(p->c);
	if (*plain != NULL)
		OPENSSL_clear_free(*plain, plen);
	*plain = NULL;
	free(p->enc ? p->ob : p->ib);
}

/* Writes the o bytes made in ob, then reports n more bytes done. */
static int
pass_flush(struct pass *p, int out, size_t o, uint64_t n,
    seal_progress progress, void *arg, struct err *e)
{
	if (fdio_write_all(out, p->ob, o) != 0)
		return err_sys(e, "write");
	p->done += n;
	if (progress != NULL)
		progress(p->done, arg);
	return 0;
}

/* Seals the n plaintext bytes read into ib (the last batch when eof) into
 * ob; *o is what to write.  Returns 0, or -1 with *e set. */
static int
seal_batch(struct pass *p, const unsigned char *hdr, unsigned char *aad,
    size_t n, int eof, size_t *o, struct err *e)
{
	size_t full = n / SEAL_CHUNK, rest = n % SEAL_CHUNK;

	*o = 0;
	if (p->idx + full + 1 > MAX_CHUNKS)
		return err_set(e, "input too large for one sealed stream "
		    "(more than 2^32 chunks)");
	for (size_t i = 0; i <= full; i++) {
		size_t len = i < full ? SEAL_CHUNK : rest;
		if (i == full && !eof)
			break;
		if (chunk(p->c, 1, hdr + 12, aad, p->idx, i == full,
		    p->ib + i * SEAL_CHUNK, len, p->ob + *o,
		    p->ob + *o + len) != 0)
			return err_set(e, "encryption failed at chunk %" PRIu64,
			    p->idx);
		*o += len + SEAL_TAG;
		p->idx++;
	}
	return 0;
}

int
seal_stream(int in, int out, const struct dek *k, seal_progress progress,
    void *arg, struct err *e)
{
	unsigned char hdr[SEAL_HEADER_LEN] = { 0 }, aad[AAD_LEN];
	struct pass p = { 0 };
	size_t idlen = strlen(k->id);
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
	if (pass_open(&p, k->key, 1, e) != 0)
		goto out;
	if (fdio_write_all(out, hdr, sizeof(hdr)) != 0) {
		err_sys(e, "write");
		goto out;
	}
	while (!eof) {
		ssize_t got = read_full(in, p.ib, p.ilen);
		size_t o;

		if (got < 0) {
			err_sys(e, "read");
			goto out;
		}
		eof = (size_t)got < p.ilen;
		if (seal_batch(&p, hdr, aad, (size_t)got, eof, &o, e) != 0 ||
		    pass_flush(&p, out, o, (uint64_t)got, progress, arg,
		    e) != 0)
			goto out;
	}
	rc = 0;
out:
	pass_close(&p);
	OPENSSL_cleanse(aad, sizeof(aad));
	return rc;
}

/* Opens the n sealed bytes read into ib (the last batch when eof, which
 * must end in the final chunk) into ob; *o is what to write.  Returns 0,
 * or -1 with *e set. */
static int
open_batch(struct pass *p, const struct seal_header *h, unsigned char *aad,
    size_t n, int eof, size_t *o, struct err *e)
{
	size_t full = n / CCHUNK, rest = n % CCHUNK;
	unsigned char *last = p->ib + full * CCHUNK;

	*o = 0;
	if (p->idx + full >= MAX_CHUNKS)
		return err_set(e, "sealed stream too long (more than 2^32 "
		    "chunks)");
	for (size_t i = 0; i < full; i++) {
		unsigned char *c = p->ib + i * CCHUNK;
		if (chunk(p->c, 0, h->nonce_prefix, aad, p->idx, 0, c,
		    SEAL_CHUNK, p->ob + *o, c + SEAL_CHUNK) != 0)
			return err_set(e, "chunk %" PRIu64 " does not "
			    "authenticate: the sealed stream was altered, "
			    "reordered or cut", p->idx);
		*o += SEAL_CHUNK;
		p->idx++;
	}
	if (!eof)
		return 0;
	if (rest < SEAL_TAG)
		return err_set(e, "sealed stream truncated after chunk %"
		    PRIu64 " (its final chunk is missing)", p->idx);
	if (chunk(p->c, 0, h->nonce_prefix, aad, p->idx, 1, last,
	    rest - SEAL_TAG, p->ob + *o, last + rest - SEAL_TAG) != 0)
		return err_set(e, "final chunk %" PRIu64 " does not "
		    "authenticate: the sealed stream was altered, cut or "
		    "extended", p->idx);
	*o += rest - SEAL_TAG;
	return 0;
}

int
unseal_stream(int in, int out, seal_lookup lookup, void *arg,
    seal_progress progress, void *parg, struct err *e)
{
	unsigned char hdr[SEAL_HEADER_LEN], aad[AAD_LEN];
	struct seal_header h;
	struct pass p = { 0 };
	struct dek *k = NULL;
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
	if (pass_open(&p, k->key, 0, e) != 0)
		goto out;
	while (!eof) {
		size_t o;

		got = read_full(in, p.ib, p.ilen);
		if (got < 0) {
			err_sys(e, "read");
			goto out;
		}
		eof = (size_t)got < p.ilen;
		if (open_batch(&p, &h, aad, (size_t)got, eof, &o, e) != 0 ||
		    pass_flush(&p, out, o, o, progress, parg, e) != 0)
			goto out;
	}
	rc = 0;
out:
	pass_close(&p);
	secmem_free(k, sizeof(*k));
	return rc;
}
