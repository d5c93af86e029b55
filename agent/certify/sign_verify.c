/*
 * sign_verify.c: verifying CMS detached signatures (see sign.h; making
 * them is sign.c's).  libcrypto only; the openssl program is never run.
 *
 * MUST rules:
 *  - signatures are verified against the given CAs as of the given instant,
 *    never as of "now" by accident, with the S/MIME signing purpose, and
 *    the signer must carry keyUsage digitalSignature and extendedKeyUsage
 *    emailProtection (both present: an absent extension is not "any");
 *  - a signature file is accepted only if it is exactly the canonical PEM
 *    of what it parses to, has the DER skeleton sign_detached writes, and
 *    every certificate it carries verifies: no byte of it can change and
 *    still be accepted.
 */
#include "certify/sign.h"
#include "certify/pki.h"
#include "base/err.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>	/* before cms.h, which declares PEM_*_CMS only then */
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#define PEM_MAX (1024 * 1024)

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
		    pki_reason(why, sizeof(why)));
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
	int rc;

	if (certs == NULL)
		return 0;	/* none carried: CMS_verify found the signer */
	rc = pki_verify_each(store, certs, at, "signature", e);
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

	info->subject[0] = '\0';
	info->signing_time = -1;
	signers = CMS_get0_signers(cms);
	if (signers != NULL && sk_X509_num(signers) > 0)
		pki_subject(sk_X509_value(signers, 0), info->subject,
		    sizeof(info->subject));
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
		err_set(e, "signature: %s", pki_reason(why, sizeof(why)));
		goto out;
	}
	if (check_carried_certs(cms, t->store, at, e) != 0)
		goto out;
	{
		STACK_OF(X509) *signers = CMS_get0_signers(cms);
		int bad = signers == NULL || sk_X509_num(signers) != 1 ||
		    pki_signer_profile(sk_X509_value(signers, 0), "signature",
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
