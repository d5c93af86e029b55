/*
 * seal.h: the sealed stream format and its streaming AEAD (SPEC §7).
 *
 * FORMAT (version 1).  A sealed stream is a 128-byte header followed by
 * one or more chunks.
 *
 *   header, 128 bytes, fixed:
 *     0   8  magic "LETHESL1"
 *     8   1  version, 1
 *     9   1  suite, 1 = AES-256-GCM, 65536-byte plaintext chunks, 16-byte tags
 *    10   1  key id length L, 1..108
 *    11   1  reserved, 0
 *    12   8  nonce prefix: 8 random bytes, new for every stream
 *    20 108  key id: L printable ASCII bytes (0x21..0x7e), then 108-L zeros
 *
 *   chunk i (i = 0, 1, ...):
 *     ciphertext of 65536 plaintext bytes (every chunk but the last), or of
 *     0..65535 bytes (the last chunk, which is always present and always
 *     shorter than 65536: an input that is a multiple of 65536 bytes, the
 *     empty input included, ends with an empty final chunk), followed by
 *     its 16-byte GCM tag.  So a full-size chunk (65552 bytes) is never the
 *     last, and a short one always is.
 *
 *   nonce(i) = nonce prefix || i as 4 bytes big-endian   (i < 2^32, so a
 *              stream holds at most 256 TiB)
 *   AAD(i)   = the 128 header bytes || i as 8 bytes big-endian
 *              || final flag (1 byte: 1 for the last chunk, else 0)
 *
 * Every chunk authenticates the whole header (key id, nonce prefix,
 * version), its own position and whether it is the last, so a flipped
 * bit anywhere, chunks swapped or dropped, the stream cut at any byte
 * (a chunk boundary included: a valid stream never ends with a full-size
 * chunk) and anything appended after the last chunk all fail
 * authentication.  Nonces never repeat within a stream; across streams
 * under one key the 64-bit random prefix makes a repeat negligible for any
 * realistic number of files (birthday bound ~2^32 streams).
 *
 * Key ids are "AGREEMENT/CATEGORY-SLUG/GENERATION" (keystore.h): policy
 * names only, never student data.
 *
 * Memory is constant: about 2 MiB of buffers whatever the stream's size.
 */
#ifndef LETHE_SEAL_H
#define LETHE_SEAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct err;

#define SEAL_MAGIC "LETHESL1"
#define SEAL_HEADER_LEN 128
#define SEAL_CHUNK 65536
#define SEAL_TAG 16
#define SEAL_KEYID_MAX 108
#define DEK_LEN 32

/* A data-encryption key.  Allocate it with secmem_alloc(sizeof(struct
 * dek)) and free it with secmem_free: it holds key material. */
struct dek {
	unsigned char key[DEK_LEN];
	char id[SEAL_KEYID_MAX + 1];	/* printable key id, NUL-terminated */
};

/* Called after each batch with the number of plaintext bytes done. */
typedef void (*seal_progress)(uint64_t bytes, void *arg);

/* Finds the key named id for unsealing: fills *k (id and key) and returns
 * 0, or returns -1 with *e saying why (unknown key, or "key ... destroyed
 * on DATE (certificate ID)"). */
typedef int (*seal_lookup)(const char *id, struct dek *k, void *arg,
    struct err *e);

/* Seals everything read from fd in until end of file, writing the sealed
 * stream to fd out.  progress may be NULL.  Returns 0, or -1 with *e set
 * (out then holds an incomplete stream that will not unseal). */
int seal_stream(int in, int out, const struct dek *k, seal_progress progress,
    void *arg, struct err *e);

/* Unseals the stream read from in, writing plaintext to out.  Plaintext is
 * written only after the chunk it comes from has authenticated; but the
 * stream as a whole is authentic only when this returns 0: on -1 (with *e
 * naming the chunk) out may already hold the plaintext of the chunks before
 * the bad one, each authentic by itself, and the caller must discard it
 * (unseal_file does; to a pipe, exit nonzero).  The key is looked up
 * through lookup and wiped before returning. */
int unseal_stream(int in, int out, seal_lookup lookup, void *arg,
    seal_progress progress, void *parg, struct err *e);

/* The parsed header of a sealed stream. */
struct seal_header {
	int version;
	char keyid[SEAL_KEYID_MAX + 1];
	unsigned char nonce_prefix[8];
};

/* Parses and checks a 128-byte header in buf (len >= SEAL_HEADER_LEN).
 * Returns 0, or -1 with *e set (not sealed, unknown version or suite, bad
 * key id).  Authenticity is checked only by unsealing. */
int seal_parse_header(const unsigned char *buf, size_t len,
    struct seal_header *h, struct err *e);
/* Reads the header at offset 0 of fd with pread (the file offset does not
 * move) and parses it.  Returns 0, or -1 with *e set. */
int seal_peek(int fd, struct seal_header *h, struct err *e);
/* 1 when fd (a regular file) starts with the sealed-stream magic, 0 when it
 * does not (shorter files included), -1 when it cannot be read.  Uses
 * pread: the file offset does not move. */
int seal_is_sealed(int fd);

/* An output file written under a temporary name in its directory and
 * renamed into place only on success. */
struct seal_out {
	int dirfd;
	int fd;
	char tmp[64];		/* temporary name in dirfd */
	char *name;		/* final name in dirfd */
	char *path;		/* for messages */
};
/* Creates path's temporary file (O_CREAT|O_EXCL|O_NOFOLLOW, mode) in
 * path's directory.  Returns 0 with o->fd open for writing, or -1 with *e
 * set. */
int seal_out_open(const char *path, mode_t mode, struct seal_out *o,
    struct err *e);
/* The same for the single component name in directory dirfd (dirfd is
 * duplicated, not taken); label names it in messages. */
int seal_out_openat(int dirfd, const char *name, const char *label,
    mode_t mode, struct seal_out *o, struct err *e);
/* fsyncs the temporary file, renames it to path (replacing a file there)
 * and fsyncs the directory.  Returns 0, or -1 with *e set (the temporary
 * file is then removed).  Closes everything either way. */
int seal_out_commit(struct seal_out *o, struct err *e);
/* Removes the temporary file and closes everything; path is untouched. */
void seal_out_abort(struct seal_out *o);

#endif
