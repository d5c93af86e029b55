/*
 * aesctr.c: seekable AES-256-CTR keystream for random overwrites (see
 * aesctr.h).
 *
 * MUST rules:
 *  - the key comes from the OpenSSL CSPRNG and lives only in a secure
 *    buffer (base/secmem.h: its own pages, locked where the process may
 *    lock memory, never in a core dump), wiped with OPENSSL_cleanse on
 *    every path out;
 *  - the key is never written anywhere: once freed, the pattern cannot be
 *    told from noise, which is the point.
 */
#include "sanitize/aesctr.h"
#include "base/err.h"
#include "base/secmem.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#define KEYLEN 32

int
aesctr_init(struct aesctr *a, struct err *e)
{
	memset(a, 0, sizeof(*a));
	a->key = secmem_alloc(KEYLEN, e);
	if (a->key == NULL)
		return err_prefix(e, "the pattern key");
	if (RAND_bytes(a->key, KEYLEN) != 1 ||
	    RAND_bytes(a->iv, sizeof(a->iv)) != 1) {
		aesctr_free(a);
		return err_set(e, "random pattern: the CSPRNG failed");
	}
	a->ctx = EVP_CIPHER_CTX_new();
	if (a->ctx == NULL) {
		aesctr_free(a);
		return err_set(e, "out of memory for the pattern cipher");
	}
	return 0;
}

int
aesctr_stream(struct aesctr *a, uint64_t off, unsigned char *buf, size_t len,
    struct err *e)
{
	unsigned char ctr[16];
	uint64_t add = off / 16;
	int outl, carry = 0;

	if (off % 16 != 0 || len > (size_t)0x7fffffff)
		return err_set(e, "random pattern: unaligned request");
	/* Counter block = iv + off/16, as a 128-bit big-endian sum. */
	memcpy(ctr, a->iv, sizeof(ctr));
	for (int i = 15; i >= 0; i--) {
		unsigned sum = ctr[i] + (unsigned)(add & 0xff) + (unsigned)carry;
		ctr[i] = (unsigned char)sum;
		carry = sum >> 8;
		add >>= 8;
	}
	memset(buf, 0, len);
	if (EVP_EncryptInit_ex(a->ctx, EVP_aes_256_ctr(), NULL, a->key,
	    ctr) != 1 ||
	    EVP_EncryptUpdate(a->ctx, buf, &outl, buf, (int)len) != 1 ||
	    (size_t)outl != len)
		return err_set(e, "random pattern: AES-256-CTR failed");
	return 0;
}

void
aesctr_free(struct aesctr *a)
{
	secmem_free(a->key, KEYLEN);	/* wiped, unlocked, unmapped */
	EVP_CIPHER_CTX_free(a->ctx);
	OPENSSL_cleanse(a->iv, sizeof(a->iv));
	memset(a, 0, sizeof(*a));
}
