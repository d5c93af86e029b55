/*
 * sign.c: making CMS detached signatures (see sign.h; verifying them is
 * sign_verify.c's).  libcrypto only; the openssl program is never run.
 *
 * MUST rules:
 *  - the signing key file is opened O_NOFOLLOW, must be a regular file of
 *    mode 0600 or stricter, and its bytes are cleansed on every path out;
 *  - only ECDSA P-256 and RSA >= 3072 keys sign; never Ed25519 (OpenSSL
 *    3.0's CMS cannot), never small RSA;
 *  - always binary mode (CMS_BINARY): line endings are never rewritten;
 *  - the signer carries keyUsage digitalSignature and extendedKeyUsage
 *    emailProtection (pki.h), and is valid now;
 *  - key material is never put into an error message.
 */
#include "certify/sign.h"
#include "certify/pki.h"
#include "base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>	/* before cms.h, which declares PEM_*_CMS only then */
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define KEY_MAX (64 * 1024)

/* A passphrase callback that refuses: a key that needs one cannot be
 * used unattended, and must never prompt on a terminal under cron. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;
}

static int
read_key_file(const char *path, char **buf, size_t *len, struct err *e)
{
	struct stat st;
	char *b = NULL;
	size_t n = 0;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1) {
		if (errno == ELOOP)
			return err_set(e, "%s: signing key is a symlink; "
			    "refusing it", path);
		return err_sys(e, "%s: signing key", path);
	}
	if (fstat(fd, &st) == -1) {
		err_sys(e, "%s: stat", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, "%s: signing key is not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		err_set(e, "%s: signing key has mode %04o; it must be 0600 or "
		    "stricter (chmod 600 %s)", path,
		    (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > KEY_MAX) {
		err_set(e, "%s: signing key is empty or too large", path);
		goto out;
	}
	b = malloc((size_t)st.st_size);
	if (b == NULL) {
		err_set(e, "%s: out of memory", path);
		goto out;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, b + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_sys(e, "%s: read", path);
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*buf = b;
	*len = n;
	b = NULL;
	rc = 0;
out:
	if (b != NULL)
		OPENSSL_clear_free(b, (size_t)st.st_size);
	close(fd);
	return rc;
}

/* Accepts ECDSA P-256 and RSA >= 3072 only. */
static int
key_acceptable(EVP_PKEY *k, const char *path, struct err *e)
{
	char group[64];

	if (EVP_PKEY_is_a(k, "ED25519") || EVP_PKEY_is_a(k, "ED448"))
		return err_set(e, "%s: Ed25519/Ed448 keys cannot sign CMS in "
		    "OpenSSL 3.0; use an ECDSA P-256 key (certs/mkca makes "
		    "one)", path);
	if (EVP_PKEY_is_a(k, "EC")) {
		if (EVP_PKEY_get_group_name(k, group, sizeof(group), NULL) != 1)
			return err_set(e, "%s: EC key without a named curve",
			    path);
		if (strcmp(group, "prime256v1") != 0 &&
		    strcmp(group, "P-256") != 0)
			return err_set(e, "%s: EC key on curve %s; only P-256 "
			    "is accepted", path, group);
		return 0;
	}
	if (EVP_PKEY_is_a(k, "RSA")) {
		if (EVP_PKEY_get_bits(k) < 3072)
			return err_set(e, "%s: RSA key of %d bits; at least "
			    "3072 are required", path, EVP_PKEY_get_bits(k));
		return 0;
	}
	return err_set(e, "%s: %s keys are not accepted; use ECDSA P-256 or "
	    "RSA >= 3072", path, EVP_PKEY_get0_type_name(k) ?
	    EVP_PKEY_get0_type_name(k) : "unknown");
}

static int
load_certs(const char *path, STACK_OF(X509) **out, struct err *e)
{
	STACK_OF(X509) *sk = NULL;
	BIO *b = NULL;
	X509 *x;
	char why[256];
	int rc = -1;

	b = BIO_new_file(path, "r");
	if (b == NULL) {
		err_set(e, "%s: cannot open: %s", path,
		    pki_reason(why, sizeof(why)));
		goto out;
	}
	if ((sk = sk_X509_new_null()) == NULL) {
		err_set(e, "%s: out of memory", path);
		goto out;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			err_set(e, "%s: out of memory", path);
			goto out;
		}
	}
	ERR_clear_error();	/* the end of the file */
	if (sk_X509_num(sk) == 0) {
		err_set(e, "%s: no PEM certificate in it", path);
		goto out;
	}
	*out = sk;
	sk = NULL;
	rc = 0;
out:
	sk_X509_pop_free(sk, X509_free);
	BIO_free(b);
	return rc;
}

int
sign_load(const char *key, const char *cert, const char *chain,
    struct signer *s, struct err *e)
{
	STACK_OF(X509) *certs = NULL;
	char *kbuf = NULL, why[256];
	size_t klen = 0;
	BIO *b = NULL;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (read_key_file(key, &kbuf, &klen, e) != 0)
		goto out;
	if ((b = BIO_new_mem_buf(kbuf, (int)klen)) == NULL) {
		err_set(e, "%s: out of memory", key);
		goto out;
	}
	s->key = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	if (s->key == NULL) {
		err_set(e, "%s: not an unencrypted PEM private key: %s", key,
		    pki_reason(why, sizeof(why)));
		goto out;
	}
	if (key_acceptable(s->key, key, e) != 0)
		goto out;
	if (load_certs(cert, &certs, e) != 0)
		goto out;
	s->cert = sk_X509_shift(certs);
	if (X509_check_private_key(s->cert, s->key) != 1) {
		ERR_clear_error();
		err_set(e, "%s: certificate does not match the key %s", cert,
		    key);
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(s->cert)) <= 0) {
		err_set(e, "%s: agent certificate has expired; make a new one "
		    "(certs/mkca)", cert);
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(s->cert)) >= 0) {
		err_set(e, "%s: agent certificate is not valid yet", cert);
		goto out;
	}
	if (X509_check_purpose(s->cert, X509_PURPOSE_SMIME_SIGN, 0) != 1) {
		ERR_clear_error();
		err_set(e, "%s: certificate is not fit for signing: it needs "
		    "keyUsage digitalSignature and extendedKeyUsage "
		    "emailProtection", cert);
		goto out;
	}
	/* Both usages present, as certs/mkca issues them: OpenSSL's purpose
	 * check alone passes a certificate with no extensions at all. */
	if (pki_signer_profile(s->cert, cert, e) != 0)
		goto out;
	if (chain != NULL && *chain != '\0') {
		if (load_certs(chain, &s->chain, e) != 0)
			goto out;
	}
	rc = 0;
out:
	if (kbuf != NULL)
		OPENSSL_clear_free(kbuf, klen);
	BIO_free(b);
	sk_X509_pop_free(certs, X509_free);
	if (rc != 0)
		sign_free(s);
	return rc;
}

void
sign_free(struct signer *s)
{
	EVP_PKEY_free(s->key);	/* cleanses the private key */
	X509_free(s->cert);
	sk_X509_pop_free(s->chain, X509_free);
	s->key = NULL;
	s->cert = NULL;
	s->chain = NULL;
}

/* Copies a memory BIO's contents into a malloc'd NUL-terminated buffer. */
static int
bio_take(BIO *b, char **out, size_t *outlen, struct err *e)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);

	if (n <= 0)
		return err_set(e, "signature: nothing written");
	*out = malloc((size_t)n + 1);
	if (*out == NULL)
		return err_set(e, "signature: out of memory");
	memcpy(*out, p, (size_t)n);
	(*out)[n] = '\0';
	*outlen = (size_t)n;
	return 0;
}

int
sign_detached(const struct signer *s, const void *data, size_t len,
    char **pem, size_t *pemlen, struct err *e)
{
	const unsigned int flags = CMS_DETACHED | CMS_BINARY;
	CMS_ContentInfo *cms = NULL;
	BIO *in = NULL, *out = NULL;
	char why[256];
	int rc = -1;

	if (s->key == NULL || s->cert == NULL)
		return err_set(e, "signature: no signing key loaded");
	if (len > INT_MAX)
		return err_set(e, "signature: content too large");
	in = BIO_new_mem_buf(data, (int)len);
	out = BIO_new(BIO_s_mem());
	if (in == NULL || out == NULL) {
		err_set(e, "signature: out of memory");
		goto out;
	}
	/* Partial, so the digest can be named: SHA-256 whatever the key. */
	cms = CMS_sign(NULL, NULL, s->chain, NULL, flags | CMS_PARTIAL);
	if (cms == NULL ||
	    CMS_add1_signer(cms, s->cert, s->key, EVP_sha256(),
	    flags | CMS_NOSMIMECAP) == NULL ||
	    CMS_final(cms, in, NULL, flags) != 1) {
		err_set(e, "signature: cannot sign: %s",
		    pki_reason(why, sizeof(why)));
		goto out;
	}
	if (PEM_write_bio_CMS(out, cms) != 1) {
		err_set(e, "signature: cannot write PEM: %s",
		    pki_reason(why, sizeof(why)));
		goto out;
	}
	if (bio_take(out, pem, pemlen, e) != 0)
		goto out;
	rc = 0;
out:
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	BIO_free(out);
	return rc;
}
