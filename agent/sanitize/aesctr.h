/*
 * aesctr.h: an AES-256-CTR keystream under a random, never-stored key, for
 * the `pattern = random` overwrite (SPEC §6.4).  The stream is seekable
 * (any 16-byte-aligned offset), so read-back verification regenerates the
 * bytes it expects instead of keeping a copy.
 */
#ifndef LETHE_AESCTR_H
#define LETHE_AESCTR_H

#include <stddef.h>
#include <stdint.h>

struct err;

struct aesctr {
	void *ctx;			/* EVP_CIPHER_CTX */
	unsigned char *key;		/* 32 bytes of secure memory (secmem.h) */
	unsigned char iv[16];		/* initial counter block */
};

/* Draws a fresh random key and counter.  Returns 0, or -1 with *e set. */
int aesctr_init(struct aesctr *a, struct err *e);
/* Writes the keystream bytes [off, off+len) into buf; off must be a
 * multiple of 16.  Returns 0, or -1 with *e set. */
int aesctr_stream(struct aesctr *a, uint64_t off, unsigned char *buf,
    size_t len, struct err *e);
/* Wipes and frees the key and context.  Safe on a zeroed struct. */
void aesctr_free(struct aesctr *a);

#endif
