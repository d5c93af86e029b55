/*
 * kek.h: the key-encryption key (SPEC §7): its file, and what is done
 * under it: AES key wrap with padding (RFC 5649) of DEKs, and the
 * keystore's MAC.
 *
 * The KEK file is exactly KEK_LEN random bytes, a regular file (never a
 * symlink) owned by the effective uid, with no group or other permission
 * bits.  Key buffers passed here are the caller's secure memory (secmem.h);
 * nothing here keeps a copy.
 */
#ifndef LETHE_KEK_H
#define LETHE_KEK_H

#include <stddef.h>
#include <sys/stat.h>

struct err;

#define KEK_LEN 32
#define KEK_WRAP_LEN(n) ((((n) + 7) / 8) * 8 + 8)	/* RFC 5649 output */

/* Why a KEK file with status st would be refused (a static or buf-held
 * reason: "is mode 0644; it must be 0600 or stricter"), or NULL when it is
 * acceptable. */
const char *kek_refusal(const struct stat *st, char *buf, size_t len);
/* Reads the KEK at path into kek (KEK_LEN bytes), opened O_NOFOLLOW and
 * checked on the fd by kek_refusal.  Returns 0; or -1 with *e set and
 * *missing = 1 when the file does not exist (else 0). */
int kek_read(const char *path, unsigned char *kek, int *missing,
    struct err *e);
/* Writes a fresh random KEK into kek and durably to path (0600).  Returns
 * 0, or -1 with *e set. */
int kek_create(const char *path, unsigned char *kek, struct err *e);
/* Wraps key (n bytes) under kek into out (KEK_WRAP_LEN(n) bytes).  Returns
 * the length written, or -1. */
int kek_wrap(const unsigned char *kek, const unsigned char *key, size_t n,
    unsigned char *out);
/* Unwraps in (n bytes) under kek into out (room for n bytes).  Returns the
 * key's length, or -1 when it does not unwrap (wrong KEK, altered). */
int kek_unwrap(const unsigned char *kek, const unsigned char *in, size_t n,
    unsigned char *out);
/* HMAC-SHA256 of buf keyed with HMAC-SHA256(kek, "lethe keystore mac
 * v1"), so the KEK itself never keys two algorithms.  Returns 0 or -1. */
int kek_mac(const unsigned char *kek, const void *buf, size_t len,
    unsigned char out[32]);

#endif
