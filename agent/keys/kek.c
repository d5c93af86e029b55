/*
 * kek.c: the key-encryption key's file, key wrap and MAC (see kek.h).
 *
 * MUST rules:
 *  - the KEK file is opened O_NOFOLLOW|O_NONBLOCK and judged on the fd
 *    (fstat), never by a path lookup that could be raced;
 *  - a KEK that is not exactly ours, private and KEK_LEN bytes is refused,
 *    never "fixed";
 *  - derived keys (the MAC key) live in secure memory and are wiped on
 *    every path out; nothing here logs or copies key bytes.
 */
#include "keys/kek.h"
#include "state/durable.h"
#include "base/err.h"
#include "base/secmem.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static const char mac_label[] = "lethe keystore mac v1";

const char *
kek_refusal(const struct stat *st, char *buf, size_t len)
{
	if (S_ISLNK(st->st_mode))
		return "is a symbolic link";
	if (!S_ISREG(st->st_mode))
		return "is not a regular file";
	if (st->st_mode & 077) {
		snprintf(buf, len, "is mode %04o; it must be 0600 or stricter",
		    (unsigned)(st->st_mode & 07777));
		return buf;
	}
	if (st->st_uid != geteuid()) {
		snprintf(buf, len, "is owned by uid %u, not by us (uid %u)",
		    (unsigned)st->st_uid, (unsigned)geteuid());
		return buf;
	}
	if (st->st_size != KEK_LEN) {
		snprintf(buf, len, "is %lld bytes; it must be exactly %d bytes",
		    (long long)st->st_size, KEK_LEN);
		return buf;
	}
	return NULL;
}

int
kek_read(const char *path, unsigned char *kek, int *missing, struct err *e)
{
	char why[128];
	const char *bad;
	struct stat st;
	size_t got = 0;
	int fd, rc = -1;

	*missing = 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1) {
		if (errno == ENOENT)
			*missing = 1;
		if (errno == ELOOP)
			return err_set(e, "%s: the KEK is a symbolic link; "
			    "refused", path);
		return err_sys(e, "%s: cannot open the KEK", path);
	}
	if (fstat(fd, &st) != 0) {
		err_sys(e, "%s: stat", path);
		goto out;
	}
	if ((bad = kek_refusal(&st, why, sizeof(why))) != NULL) {
		err_set(e, "%s: the KEK %s; refused", path, bad);
		goto out;
	}
	while (got < KEK_LEN) {
		ssize_t r = read(fd, kek + got, KEK_LEN - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err_sys(e, "%s: read", path);
			goto out;
		}
		got += (size_t)r;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

int
kek_create(const char *path, unsigned char *kek, struct err *e)
{
	if (RAND_bytes(kek, KEK_LEN) != 1)
		return err_set(e, "%s: no random bytes for a KEK", path);
	return durable_write(path, kek, KEK_LEN, 0600, e);
}

/* One RFC 5649 operation.  Returns the output length, or -1. */
static int
wrap(const unsigned char *kek, int enc, const unsigned char *in, size_t n,
    unsigned char *out)
{
	EVP_CIPHER_CTX *c;
	int l = 0, l2 = 0, rc = -1;

	if (n == 0 || n > 4096 || (c = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	/* Wrap modes are refused by EVP unless explicitly allowed. */
	EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (EVP_CipherInit_ex(c, EVP_aes_256_wrap_pad(), NULL, kek, NULL,
	    enc) == 1 &&
	    EVP_CipherUpdate(c, out, &l, in, (int)n) == 1 &&
	    EVP_CipherFinal_ex(c, out + l, &l2) == 1)
		rc = l + l2;
	EVP_CIPHER_CTX_free(c);	/* cleanses the key schedule */
	return rc;
}

int
kek_wrap(const unsigned char *kek, const unsigned char *key, size_t n,
    unsigned char *out)
{
	return wrap(kek, 1, key, n, out);
}

int
kek_unwrap(const unsigned char *kek, const unsigned char *in, size_t n,
    unsigned char *out)
{
	return n < 16 ? -1 : wrap(kek, 0, in, n, out);
}

int
kek_mac(const unsigned char *kek, const void *buf, size_t len,
    unsigned char out[32])
{
	unsigned char *mk;
	unsigned int ml = 32, ol = 32;
	int rc = -1;

	if ((mk = secmem_alloc(32, NULL)) == NULL)
		return -1;
	if (HMAC(EVP_sha256(), kek, KEK_LEN, (const unsigned char *)mac_label,
	    sizeof(mac_label) - 1, mk, &ml) != NULL && ml == 32 &&
	    HMAC(EVP_sha256(), mk, 32, buf, len, out, &ol) != NULL && ol == 32)
		rc = 0;
	secmem_free(mk, 32);
	return rc;
}
