/*
 * fuzz_unseal.c: unseal_stream and seal_parse_header (agent/seal.c)
 * against an independent reference reader of the format in seal.h.
 *
 * The key lookup hands out one constant test DEK for every key id, except
 * ids starting with 'x', which it refuses (so the lookup's failure path is
 * reached too).  The first byte picks the mode:
 *   even  raw: the rest of the input is the sealed stream;
 *   odd   built: the rest is parameters and a plaintext, sealed here by
 *         the reference writer (any size up to 17 chunks, so reads that
 *         cross unseal's 16-chunk batches happen), then altered or not:
 *         a flipped bit, a cut, bytes appended, two chunks swapped, the
 *         last chunk dropped, or a header byte changed.
 *
 * Invariants besides "no crash, no leak, no UB":
 *   - unseal_stream succeeds exactly when the reference reader does, and
 *     then writes exactly the reference's plaintext; an unaltered built
 *     stream always unseals;
 *   - on failure it has written at most a prefix of the plaintext of the
 *     chunks that authenticated (never a byte of a chunk that did not);
 *   - seal_parse_header agrees with the reference on the first 128 bytes;
 *   - what seal_stream writes, the reference reads back (built mode).
 */
#include "fuzz_util.h"

#include "base/err.h"
#include "keys/seal.h"

#include <openssl/evp.h>
#include <sys/mman.h>

#define CCHUNK (SEAL_CHUNK + SEAL_TAG)
#define MAX_PLAIN (17 * SEAL_CHUNK + 100)

static const unsigned char test_dek[DEK_LEN] = {
	0x6c, 0x65, 0x74, 0x68, 0x65, 0x2d, 0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x74,
	0x65, 0x73, 0x74, 0x2d, 0x64, 0x65, 0x6b, 0x2d, 0x6e, 0x6f, 0x74, 0x2d,
	0x61, 0x2d, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74,
};
static int in_fd = -1, out_fd = -1, null_fd = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	in_fd = memfd_create("fuzz-sealed", MFD_CLOEXEC);
	out_fd = memfd_create("fuzz-plain", MFD_CLOEXEC);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	FZ_SETUP(in_fd != -1 && out_fd != -1 && null_fd != -1);
	return 0;
}

static int
lookup(const char *id, struct dek *k, void *arg, struct err *e)
{
	(void)arg;
	if (id[0] == 'x')
		return err_set(e, "unknown key %s", id);
	memcpy(k->key, test_dek, DEK_LEN);
	snprintf(k->id, sizeof(k->id), "%s", id);
	return 0;
}

/* ---- the reference reader and writer, from seal.h alone ---- */

struct ref_header {
	char keyid[SEAL_KEYID_MAX + 1];
	unsigned char prefix[8];
};

static int
ref_header(const unsigned char *b, size_t len, struct ref_header *h)
{
	size_t idlen;

	if (len < SEAL_HEADER_LEN || memcmp(b, "LETHESL1", 8) != 0 ||
	    b[8] != 1 || b[9] != 1 || b[11] != 0)
		return -1;
	idlen = b[10];
	if (idlen < 1 || idlen > SEAL_KEYID_MAX)
		return -1;
	for (size_t i = 0; i < SEAL_KEYID_MAX; i++) {
		unsigned char c = b[20 + i];

		if (i < idlen && (c < 0x21 || c > 0x7e))
			return -1;
		if (i >= idlen && c != 0)
			return -1;
	}
	memcpy(h->keyid, b + 20, idlen);
	h->keyid[idlen] = '\0';
	memcpy(h->prefix, b + 12, 8);
	return 0;
}

/* Seals (enc) or opens one chunk; 0, or -1 when the tag is wrong. */
static int
ref_chunk(int enc, const unsigned char *hdr, uint64_t i, int final,
    const unsigned char *in, size_t n, unsigned char *out,
    unsigned char *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	unsigned char nonce[12], aad[SEAL_HEADER_LEN + 9];
	int l, ok;

	memcpy(nonce, hdr + 12, 8);
	for (int k = 0; k < 4; k++)
		nonce[8 + k] = (unsigned char)(i >> (24 - 8 * k));
	memcpy(aad, hdr, SEAL_HEADER_LEN);
	for (int k = 0; k < 8; k++)
		aad[SEAL_HEADER_LEN + k] = (unsigned char)(i >> (56 - 8 * k));
	aad[SEAL_HEADER_LEN + 8] = (unsigned char)final;
	FZ_SETUP(c != NULL);
	ok = EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL,
	    enc) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
	    EVP_CipherInit_ex(c, NULL, NULL, test_dek, nonce, enc) == 1 &&
	    EVP_CipherUpdate(c, NULL, &l, aad, (int)sizeof(aad)) == 1 &&
	    (n == 0 || EVP_CipherUpdate(c, out, &l, in, (int)n) == 1) &&
	    (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SEAL_TAG,
	    tag) == 1) &&
	    EVP_CipherFinal_ex(c, out + n, &l) == 1 &&
	    (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SEAL_TAG,
	    tag) == 1);
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

/* Opens s[0..len): 0 with the plaintext in out (*olen bytes), or -1 with
 * *olen the plaintext of the chunks that authenticated before the bad
 * one.  out holds at least len bytes. */
static int
ref_open(const unsigned char *s, size_t len, unsigned char *out,
    size_t *olen)
{
	struct ref_header h;
	size_t body, nfull, rest;

	*olen = 0;
	if (ref_header(s, len, &h) != 0 || h.keyid[0] == 'x')
		return -1;
	body = len - SEAL_HEADER_LEN;
	nfull = body / CCHUNK;
	rest = body % CCHUNK;
	for (size_t i = 0; i < nfull; i++) {
		const unsigned char *p = s + SEAL_HEADER_LEN + i * CCHUNK;

		if (ref_chunk(0, s, i, 0, p, SEAL_CHUNK, out + *olen,
		    (unsigned char *)p + SEAL_CHUNK) != 0)
			return -1;
		*olen += SEAL_CHUNK;
	}
	if (rest < SEAL_TAG)
		return -1;
	const unsigned char *p = s + SEAL_HEADER_LEN + nfull * CCHUNK;
	if (ref_chunk(0, s, nfull, 1, p, rest - SEAL_TAG, out + *olen,
	    (unsigned char *)p + rest - SEAL_TAG) != 0)
		return -1;
	*olen += rest - SEAL_TAG;
	return 0;
}

/* Seals plain[0..n) under key id / prefix into a new buffer. */
static unsigned char *
ref_seal(const char *id, const unsigned char prefix[8],
    const unsigned char *plain, size_t n, size_t *slen)
{
	size_t nfull = n / SEAL_CHUNK, rest = n % SEAL_CHUNK;
	size_t len = SEAL_HEADER_LEN + nfull * CCHUNK + rest + SEAL_TAG;
	unsigned char *s = calloc(1, len), *p;

	FZ_SETUP(s != NULL);
	memcpy(s, "LETHESL1", 8);
	s[8] = 1;
	s[9] = 1;
	s[10] = (unsigned char)strlen(id);
	memcpy(s + 12, prefix, 8);
	memcpy(s + 20, id, strlen(id));
	p = s + SEAL_HEADER_LEN;
	for (size_t i = 0; i <= nfull; i++) {
		size_t k = i < nfull ? SEAL_CHUNK : rest;

		FZ_SETUP(ref_chunk(1, s, i, i == nfull, plain + i * SEAL_CHUNK,
		    k, p, p + k) == 0);
		p += k + SEAL_TAG;
	}
	*slen = len;
	return s;
}

/* ---- driving unseal_stream ---- */

static void
reset(int fd)
{
	FZ_SETUP(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0);
}

static void
put(int fd, const void *p, size_t n)
{
	const unsigned char *b = p;

	reset(fd);
	while (n > 0) {
		ssize_t w = write(fd, b, n);

		FZ_SETUP(w > 0);
		b += w;
		n -= (size_t)w;
	}
	FZ_SETUP(lseek(fd, 0, SEEK_SET) == 0);
}

/* The whole content of fd (malloc'd; *n bytes). */
static unsigned char *
take(int fd, size_t *n)
{
	off_t end = lseek(fd, 0, SEEK_END);
	unsigned char *p;

	FZ_SETUP(end >= 0);
	p = malloc((size_t)end + 1);
	FZ_SETUP(p != NULL);
	FZ_SETUP(pread(fd, p, (size_t)end, 0) == (ssize_t)end);
	*n = (size_t)end;
	return p;
}

/* Unseals s and holds it to the reference.  Returns unseal's result. */
static int
check_unseal(const unsigned char *s, size_t len)
{
	unsigned char *want = malloc(len + 1), *got;
	struct seal_header h;
	struct ref_header rh;
	struct err e;
	size_t wlen, glen;
	int ref, rc, hrc, rhrc;

	FZ_SETUP(want != NULL);
	ref = ref_open(s, len, want, &wlen);

	hrc = seal_parse_header(s, len, &h, &e);
	rhrc = ref_header(s, len, &rh);
	FZ_CHECK(hrc == rhrc, "seal_parse_header %d, reference %d (%s)", hrc,
	    rhrc, hrc ? e.msg : "");
	if (hrc == 0)
		FZ_CHECK(strcmp(h.keyid, rh.keyid) == 0 && h.version == 1 &&
		    memcmp(h.nonce_prefix, rh.prefix, 8) == 0, "header fields");

	put(in_fd, s, len);
	reset(out_fd);
	rc = unseal_stream(in_fd, out_fd, lookup, NULL, NULL, NULL, &e);
	got = take(out_fd, &glen);
	if (rc == 0) {
		FZ_CHECK(ref == 0, "unseal_stream accepted a stream the "
		    "reference rejects (%zu bytes)", len);
		FZ_CHECK(glen == wlen && memcmp(got, want, wlen) == 0,
		    "unsealed %zu bytes, the reference %zu, or they differ",
		    glen, wlen);
	} else {
		FZ_CHECK(ref != 0, "unseal_stream rejected a stream the "
		    "reference accepts: %s", e.msg);
		FZ_CHECK(e.msg[0] != '\0', "failed without a message");
		FZ_CHECK(glen <= wlen && memcmp(got, want, glen) == 0,
		    "wrote %zu bytes on failure; only %zu authenticated",
		    glen, wlen);
	}
	/* The same again to /dev/null: no crash, same verdict. */
	put(in_fd, s, len);
	FZ_CHECK(unseal_stream(in_fd, null_fd, lookup, NULL, NULL, NULL,
	    &e) == rc, "a second unseal disagrees");
	free(got);
	free(want);
	return rc;
}

static uint32_t
u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
built(const uint8_t *data, size_t size)
{
	unsigned char *plain, *s, *s2;
	size_t n, slen, s2len, nchunks, seedlen;
	char id[SEAL_KEYID_MAX + 1];
	const uint8_t *seed;
	uint32_t pos;
	unsigned op, idlen;
	int rc;

	if (size < 17)
		return;
	op = data[0] % 7;
	pos = u32(data + 1);
	n = (data[5] & 0x80) ? (size_t)(u32(data + 5) & 0xffffff) % MAX_PLAIN :
	    size - 17;
	idlen = 1 + data[16] % SEAL_KEYID_MAX;
	seed = data + 17;
	seedlen = size - 17;
	/* A printable key id; its first letter is the input's. */
	for (unsigned i = 0; i < idlen; i++)
		id[i] = (char)(0x21 + (seedlen ? seed[i % seedlen] : i) % 94);
	id[idlen] = '\0';
	if (id[0] == 'x' && (data[16] & 0x80) == 0)
		id[0] = 'y';	/* mostly a key the lookup knows */
	plain = malloc(n + 1);
	FZ_SETUP(plain != NULL);
	for (size_t i = 0; i < n; i++)
		plain[i] = seedlen ? seed[i % seedlen] : (unsigned char)i;
	s = ref_seal(id, data + 8, plain, n, &slen);
	nchunks = n / SEAL_CHUNK + 1;

	switch (op) {
	case 0:		/* untouched */
		break;
	case 1:		/* one bit flipped */
		s[pos % slen] ^= (unsigned char)(1u << (data[5] & 7));
		break;
	case 2:		/* cut short */
		slen = pos % slen;
		break;
	case 3:		/* bytes appended */
		s2 = realloc(s, slen + 1 + pos % 64);
		FZ_SETUP(s2 != NULL);
		s = s2;
		memset(s + slen, data[6], 1 + pos % 64);
		slen += 1 + pos % 64;
		break;
	case 4:		/* two chunks swapped (full ones only, equal size) */
		if (nchunks > 2) {
			size_t a = pos % (nchunks - 1), b = (pos >> 8) %
			    (nchunks - 1);
			unsigned char *t = malloc(CCHUNK);

			FZ_SETUP(t != NULL);
			memcpy(t, s + SEAL_HEADER_LEN + a * CCHUNK, CCHUNK);
			memmove(s + SEAL_HEADER_LEN + a * CCHUNK,
			    s + SEAL_HEADER_LEN + b * CCHUNK, CCHUNK);
			memcpy(s + SEAL_HEADER_LEN + b * CCHUNK, t, CCHUNK);
			free(t);
		}
		break;
	case 5:		/* the final chunk dropped */
		if (nchunks > 1)
			slen = SEAL_HEADER_LEN + (nchunks - 1) * CCHUNK;
		break;
	case 6:		/* a header byte changed */
		s[pos % SEAL_HEADER_LEN] = data[6];
		break;
	}
	rc = check_unseal(s, slen);
	if (op == 0)
		FZ_CHECK(rc == 0 || id[0] == 'x', "an untouched %zu-byte stream "
		    "does not unseal", n);

	/* seal_stream's output, read by the reference. */
	if (id[0] != 'x') {
		struct dek k;
		struct err e;
		unsigned char *back;
		size_t blen;

		memcpy(k.key, test_dek, DEK_LEN);
		snprintf(k.id, sizeof(k.id), "%s", id);
		put(in_fd, plain, n);
		reset(out_fd);
		FZ_CHECK(seal_stream(in_fd, out_fd, &k, NULL, NULL, &e) == 0,
		    "seal_stream: %s", e.msg);
		s2 = take(out_fd, &s2len);
		back = malloc(s2len + 1);
		FZ_SETUP(back != NULL);
		FZ_CHECK(ref_open(s2, s2len, back, &blen) == 0 && blen == n &&
		    memcmp(back, plain, n) == 0, "the reference cannot read "
		    "what seal_stream wrote (%zu bytes)", n);
		free(back);
		free(s2);
	}
	free(s);
	free(plain);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		built(data + 1, size - 1);
	else
		(void)check_unseal(data + 1, size - 1);
	return 0;
}
