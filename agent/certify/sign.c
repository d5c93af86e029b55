/*
 * sign.c: CMS detached signatures (see sign.h).  libcrypto only; the
 * openssl program is never run.
 *
 * MUST rules:
 *  - the signing key file is opened O_NOFOLLOW, must be a regular file of
 *    mode 0600 or stricter, and its bytes are cleansed on every path out;
 *  - only ECDSA P-256 and RSA >= 3072 keys sign; never Ed25519 (OpenSSL
 *    3.0's CMS cannot), never small RSA;
 *  - always binary mode (CMS_BINARY): line endings are never rewritten;
 *  - signatures are verified against the given CAs as of the given instant,
 *    never as of "now" by accident, with the S/MIME signing purpose, and
 *    the signer must carry keyUsage digitalSignature and extendedKeyUsage
 *    emailProtection (both present: an absent extension is not "any");
 *  - a signature file is accepted only if it is exactly the canonical PEM
 *    of what it parses to, and every certificate it carries verifies: no
 *    byte of it can change and still be accepted;
 *  - key material is never put into an error message.
 */
#include "certify/sign.h"
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
#define PEM_MAX (1024 * 1024)

/* The most telling OpenSSL error in the queue, as "reason: data". */
static const char *
ossl_reason(char *buf, size_t len)
{
	unsigned long code, last = 0;
	const char *data = NULL, *d;
	int flags;

	while ((code = ERR_get_error_all(NULL, NULL, NULL, &d, &flags)) != 0) {
		last = code;
		data = (flags & ERR_TXT_STRING) ? d : NULL;
		/* The first verify error carries the useful detail. */
		if (data != NULL && strstr(data, "Verify error") != NULL)
			break;
	}
	if (last == 0) {
		snprintf(buf, len, "unknown OpenSSL error");
	} else {
		const char *r = ERR_reason_error_string(last);
		if (data != NULL && strncmp(data, "Verify error:", 13) == 0) {
			r = "certificate chain does not verify";
			data += 13;
			data += strspn(data, " ");
		}
		/* Truncation of a diagnostic is harmless; failure is not. */
		if (snprintf(buf, len, "%s%s%s", r ? r : "error",
		    data && *data ? ": " : "", data ? data : "") < 0)
			buf[0] = '\0';
	}
	ERR_clear_error();	/* only now: it frees data */
	return buf;
}

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
		    ossl_reason(why, sizeof(why)));
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

/* The profile certs/mkca issues, required of every signer, when signing
 * and when verifying: keyUsage present with digitalSignature, and
 * extendedKeyUsage present with emailProtection.  (X509_check_purpose
 * alone lets a certificate without either extension pass, as "any use".)
 * Returns 0, or -1 with *e set naming who (a file or "signer"). */
static int
signer_profile(X509 *x, const char *who, struct err *e)
{
	uint32_t fl = X509_get_extension_flags(x);

	if (!(fl & EXFLAG_KUSAGE) ||
	    !(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE))
		return err_set(e, "%s: certificate %s keyUsage "
		    "digitalSignature; lethe's signer must carry it and "
		    "extendedKeyUsage emailProtection (as certs/mkca makes it)",
		    who, (fl & EXFLAG_KUSAGE) ? "has no" : "has no keyUsage "
		    "extension, so no");
	if (!(fl & EXFLAG_XKUSAGE) ||
	    !(X509_get_extended_key_usage(x) & XKU_SMIME))
		return err_set(e, "%s: certificate %s extendedKeyUsage "
		    "emailProtection; lethe's signer must carry it and keyUsage "
		    "digitalSignature (as certs/mkca makes it)", who,
		    (fl & EXFLAG_XKUSAGE) ? "has no" : "has no "
		    "extendedKeyUsage extension, so no");
	return 0;
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
		    ossl_reason(why, sizeof(why)));
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
	if (signer_profile(s->cert, cert, e) != 0)
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
		    ossl_reason(why, sizeof(why)));
		goto out;
	}
	if (PEM_write_bio_CMS(out, cms) != 1) {
		err_set(e, "signature: cannot write PEM: %s",
		    ossl_reason(why, sizeof(why)));
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

int
sign_trust_load(const char *cafile, struct sign_trust *t, struct err *e)
{
	char why[256];

	memset(t, 0, sizeof(*t));
	if (access(cafile, R_OK) != 0)
		return err_sys(e, "%s: CA file", cafile);
	t->store = X509_STORE_new();
	t->cafile = strdup(cafile);
	if (t->store == NULL || t->cafile == NULL) {
		sign_trust_free(t);
		return err_set(e, "%s: out of memory", cafile);
	}
	if (X509_STORE_load_file(t->store, cafile) != 1) {
		err_set(e, "%s: cannot load CA certificates: %s", cafile,
		    ossl_reason(why, sizeof(why)));
		sign_trust_free(t);
		return -1;
	}
	return 0;
}

void
sign_trust_free(struct sign_trust *t)
{
	X509_STORE_free(t->store);
	free(t->cafile);
	t->store = NULL;
	t->cafile = NULL;
}

/* Each certificate the signature carries must itself verify against the
 * trusted CAs as of `at`: a carried copy of the CA with a byte changed
 * would otherwise be ignored by chain building and go unnoticed. */
static int
check_carried_certs(CMS_ContentInfo *cms, X509_STORE *store, time_t at,
    struct err *e)
{
	STACK_OF(X509) *certs = CMS_get1_certs(cms);
	X509_STORE_CTX *ctx = NULL;
	int rc = -1;

	if (certs == NULL)
		return 0;	/* none carried: CMS_verify found the signer */
	if ((ctx = X509_STORE_CTX_new()) == NULL) {
		err_set(e, "signature: out of memory");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);
		int ok;

		if (X509_STORE_CTX_init(ctx, store, x, certs) != 1) {
			err_set(e, "signature: out of memory");
			goto out;
		}
		X509_STORE_CTX_set_time(ctx, 0, at);
		ok = X509_verify_cert(ctx);
		if (ok != 1) {
			int v = X509_STORE_CTX_get_error(ctx);
			err_set(e, "signature: carried certificate %d does not "
			    "verify: %s", i + 1, X509_verify_cert_error_string(v));
			goto out;
		}
		X509_STORE_CTX_cleanup(ctx);
	}
	rc = 0;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

/*
 * The DER skeleton of a signature lethe makes.  CMS_verify does not look
 * at everything the signature file holds (the SignedData and SignerInfo
 * versions, the digestAlgorithms set, the eContentType, the parameters of
 * the algorithm identifiers), so those are pinned here to exactly what
 * sign_detached writes, and no byte of the file is left unchecked.
 */
struct tlv {
	unsigned char tag;
	const unsigned char *v;
	size_t len;
};

static int
tlv_next(const unsigned char **p, const unsigned char *end, struct tlv *t)
{
	size_t len, n;

	if (end - *p < 2)
		return -1;
	t->tag = *(*p)++;
	len = *(*p)++;
	if (len & 0x80) {
		n = len & 0x7f;
		if (n == 0 || n > 3 || (size_t)(end - *p) < n)
			return -1;
		for (len = 0; n > 0; n--)
			len = (len << 8) | *(*p)++;
	}
	if (len > (size_t)(end - *p))
		return -1;
	t->v = *p;
	t->len = len;
	*p += len;
	return 0;
}

/* Whether the next element is exactly the given bytes (tag and all). */
static int
tlv_exact(const unsigned char **p, const unsigned char *end,
    const unsigned char *want, size_t wlen)
{
	if ((size_t)(end - *p) < wlen || memcmp(*p, want, wlen) != 0)
		return -1;
	*p += wlen;
	return 0;
}

static const unsigned char oid_signed_data[] = { 0x06, 0x09, 0x2a, 0x86,
    0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02 };
static const unsigned char version_1[] = { 0x02, 0x01, 0x01 };
static const unsigned char digest_algs[] = { 0x31, 0x0d, 0x30, 0x0b, 0x06,
    0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };
static const unsigned char econtent_data[] = { 0x30, 0x0b, 0x06, 0x09,
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01 };
static const unsigned char alg_sha256[] = { 0x30, 0x0b, 0x06, 0x09, 0x60,
    0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };
static const unsigned char alg_ecdsa_sha256[] = { 0x30, 0x0a, 0x06, 0x08,
    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
static const unsigned char alg_rsa[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a,
    0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00 };

static int
check_skeleton(CMS_ContentInfo *cms, struct err *e)
{
	unsigned char *der = NULL;
	const unsigned char *p, *end, *q, *qend;
	struct tlv t, sd, si;
	int n, rc = -1;

	if ((n = i2d_CMS_ContentInfo(cms, &der)) <= 0)
		goto bad;
	p = der;
	end = der + n;
	/* ContentInfo ::= SEQUENCE { contentType, [0] EXPLICIT content } */
	if (tlv_next(&p, end, &t) != 0 || t.tag != 0x30 || p != end)
		goto bad;
	p = t.v;
	end = t.v + t.len;
	if (tlv_exact(&p, end, oid_signed_data, sizeof(oid_signed_data)) != 0 ||
	    tlv_next(&p, end, &t) != 0 || t.tag != 0xa0 || p != end)
		goto bad;
	p = t.v;
	end = t.v + t.len;
	if (tlv_next(&p, end, &sd) != 0 || sd.tag != 0x30 || p != end)
		goto bad;
	/* SignedData: version 1, digestAlgorithms {sha256}, eContentType data
	 * without content, certificates (each verified elsewhere), no crls,
	 * exactly one SignerInfo. */
	p = sd.v;
	end = sd.v + sd.len;
	if (tlv_exact(&p, end, version_1, sizeof(version_1)) != 0 ||
	    tlv_exact(&p, end, digest_algs, sizeof(digest_algs)) != 0 ||
	    tlv_exact(&p, end, econtent_data, sizeof(econtent_data)) != 0 ||
	    tlv_next(&p, end, &t) != 0)
		goto bad;
	if (t.tag == 0xa0 && tlv_next(&p, end, &t) != 0)
		goto bad;
	if (t.tag != 0x31 || p != end)
		goto bad;
	q = t.v;
	qend = t.v + t.len;
	if (tlv_next(&q, qend, &si) != 0 || si.tag != 0x30 || q != qend)
		goto bad;
	/* SignerInfo: version 1, sid (must name the verified signer),
	 * digestAlgorithm sha256, signedAttrs (signed), signatureAlgorithm,
	 * signature (verified), no unsignedAttrs. */
	q = si.v;
	qend = si.v + si.len;
	if (tlv_exact(&q, qend, version_1, sizeof(version_1)) != 0 ||
	    tlv_next(&q, qend, &t) != 0 || t.tag != 0x30 ||
	    tlv_exact(&q, qend, alg_sha256, sizeof(alg_sha256)) != 0 ||
	    tlv_next(&q, qend, &t) != 0 || t.tag != 0xa0)
		goto bad;
	if (tlv_exact(&q, qend, alg_ecdsa_sha256,
	    sizeof(alg_ecdsa_sha256)) != 0 &&
	    tlv_exact(&q, qend, alg_rsa, sizeof(alg_rsa)) != 0)
		goto bad;
	if (tlv_next(&q, qend, &t) != 0 || t.tag != 0x04 || q != qend)
		goto bad;
	rc = 0;
bad:
	if (rc != 0)
		err_set(e, "signature: not the structure lethe writes (altered?)");
	OPENSSL_free(der);
	return rc;
}

static void
fill_info(CMS_ContentInfo *cms, struct sign_info *info)
{
	STACK_OF(X509) *signers;
	STACK_OF(CMS_SignerInfo) *sis;
	BIO *b;

	info->subject[0] = '\0';
	info->signing_time = -1;
	signers = CMS_get0_signers(cms);
	if (signers != NULL && sk_X509_num(signers) > 0 &&
	    (b = BIO_new(BIO_s_mem())) != NULL) {
		X509_NAME *n = X509_get_subject_name(sk_X509_value(signers, 0));
		char *p;
		long len;

		if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0) {
			len = BIO_get_mem_data(b, &p);
			if (len > 0) {
				size_t k = (size_t)len;
				if (k >= sizeof(info->subject))
					k = sizeof(info->subject) - 1;
				memcpy(info->subject, p, k);
				info->subject[k] = '\0';
			}
		}
		BIO_free(b);
	}
	sk_X509_free(signers);
	sis = CMS_get0_SignerInfos(cms);
	if (sis != NULL && sk_CMS_SignerInfo_num(sis) > 0) {
		CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, 0);
		int idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime,
		    -1);
		X509_ATTRIBUTE *a = idx >= 0 ? CMS_signed_get_attr(si, idx) :
		    NULL;
		ASN1_TYPE *ty = a ? X509_ATTRIBUTE_get0_type(a, 0) : NULL;
		struct tm tm;

		if (ty != NULL && (ty->type == V_ASN1_UTCTIME ||
		    ty->type == V_ASN1_GENERALIZEDTIME) &&
		    ASN1_TIME_to_tm((ASN1_TIME *)ty->value.asn1_string, &tm) == 1)
			info->signing_time = timegm(&tm);
	}
	ERR_clear_error();
}

int
sign_verify_trust(const struct sign_trust *t, const void *data, size_t len,
    const char *pem, size_t pemlen, time_t at, struct sign_info *info,
    struct err *e)
{
	CMS_ContentInfo *cms = NULL;
	BIO *pb = NULL, *in = NULL, *re = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	char why[512], *canon;
	long canonlen;
	int rc = -1;

	if (pemlen > PEM_MAX || len > INT_MAX)
		return err_set(e, "signature: too large");
	pb = BIO_new_mem_buf(pem, (int)pemlen);
	in = BIO_new_mem_buf(data, (int)len);
	re = BIO_new(BIO_s_mem());
	if (pb == NULL || in == NULL || re == NULL) {
		err_set(e, "signature: out of memory");
		goto out;
	}
	cms = PEM_read_bio_CMS(pb, NULL, NULL, NULL);
	if (cms == NULL) {
		ERR_clear_error();
		err_set(e, "signature: not a PEM CMS structure");
		goto out;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed ||
	    CMS_is_detached(cms) != 1) {
		err_set(e, "signature: not a detached CMS SignedData");
		goto out;
	}
	sis = CMS_get0_SignerInfos(cms);
	if (sis == NULL || sk_CMS_SignerInfo_num(sis) != 1) {
		err_set(e, "signature: expected exactly one signer");
		goto out;
	}
	/* Byte-exact: the file must be the canonical PEM of its contents. */
	if (PEM_write_bio_CMS(re, cms) != 1 ||
	    (canonlen = BIO_get_mem_data(re, &canon)) < 0 ||
	    (size_t)canonlen != pemlen || memcmp(canon, pem, pemlen) != 0) {
		ERR_clear_error();
		err_set(e, "signature: not in canonical form (altered?)");
		goto out;
	}
	if (check_skeleton(cms, e) != 0)
		goto out;
	X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(t->store), at);
	if (CMS_verify(cms, NULL, t->store, in, NULL, CMS_BINARY) != 1) {
		err_set(e, "signature: %s", ossl_reason(why, sizeof(why)));
		goto out;
	}
	if (check_carried_certs(cms, t->store, at, e) != 0)
		goto out;
	{
		STACK_OF(X509) *signers = CMS_get0_signers(cms);
		int bad = signers == NULL || sk_X509_num(signers) != 1 ||
		    signer_profile(sk_X509_value(signers, 0), "signature",
		    e) != 0;

		if (signers == NULL || sk_X509_num(signers) != 1)
			err_set(e, "signature: expected exactly one signer");
		sk_X509_free(signers);
		if (bad)
			goto out;
	}
	if (info != NULL)
		fill_info(cms, info);
	rc = 0;
out:
	ERR_clear_error();
	CMS_ContentInfo_free(cms);
	BIO_free(pb);
	BIO_free(in);
	BIO_free(re);
	return rc;
}

int
sign_verify(const void *data, size_t len, const char *pem, size_t pemlen,
    const char *cafile, time_t at, struct sign_info *info, struct err *e)
{
	struct sign_trust t;
	int rc;

	if (sign_trust_load(cafile, &t, e) != 0)
		return -1;
	rc = sign_verify_trust(&t, data, len, pem, pemlen, at, info, e);
	sign_trust_free(&t);
	return rc;
}
