/*
 * tsa.c: RFC 3161 time-stamps (see tsa.h).
 *
 * MUST rules:
 *  - the request is built here with OpenSSL's TS API; the command only
 *    carries it to a TSA and back, and what it returns is checked against
 *    the request (imprint, nonce) before it is kept;
 *  - the command runs through spawn.h: no shell, only stdin, stdout and
 *    stderr open, its own process group; its output is bounded in size
 *    and time, and a command that hangs (even with its pipes closed) has
 *    its whole process group killed at the limit;
 *  - SIGPIPE from a command that does not read its input must not kill
 *    lethe (spawn.h ignores it while writing).
 */
#include "certify/tsa.h"
#include "certify/pki.h"
#include "base/err.h"
#include "base/spawn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#define TSR_MAX (1024 * 1024)
#define TSA_TIMEOUT_S 60

static TS_REQ *
make_request(const void *sig, size_t siglen, struct err *e)
{
	unsigned char md[32], nbytes[8];
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_INTEGER *nonce = NULL;
	BIGNUM *bn = NULL;
	TS_REQ *ret = NULL;

	if (req == NULL || mi == NULL || alg == NULL)
		goto oom;
	if (EVP_Digest(sig, siglen, md, NULL, EVP_sha256(), NULL) != 1 ||
	    RAND_bytes(nbytes, sizeof(nbytes)) != 1)
		goto oom;
	nbytes[0] |= 0x01;	/* never a zero nonce */
	if ((bn = BN_bin2bn(nbytes, sizeof(nbytes), NULL)) == NULL ||
	    (nonce = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		goto oom;
	X509_ALGOR_set_md(alg, EVP_sha256());
	if (TS_MSG_IMPRINT_set_algo(mi, alg) != 1 ||
	    TS_MSG_IMPRINT_set_msg(mi, md, sizeof(md)) != 1 ||
	    TS_REQ_set_version(req, 1) != 1 ||
	    TS_REQ_set_msg_imprint(req, mi) != 1 ||
	    TS_REQ_set_nonce(req, nonce) != 1 ||
	    TS_REQ_set_cert_req(req, 1) != 1)
		goto oom;
	ret = req;
	req = NULL;
	goto out;
oom:
	err_set(e, "time-stamp request: cannot build it");
out:
	TS_REQ_free(req);
	TS_MSG_IMPRINT_free(mi);
	X509_ALGOR_free(alg);
	ASN1_INTEGER_free(nonce);
	BN_free(bn);
	return ret;
}

/* Runs the command (spawn.h), feeding it in; collects stdout (bounded).
 * Returns 0 if it exited 0 with an answer, else -1 with *e set. */
static int
run_command(const char *command, int timeout_s, const unsigned char *in,
    size_t inlen, unsigned char **out, size_t *outlen, struct err *e)
{
	struct spawn_io io;
	char **argv = NULL, how[256];
	int rc = -1;

	if (spawn_parse(command, "tsa_command", &argv, e) != 0)
		return -1;
	memset(&io, 0, sizeof(io));
	io.infd = -1;
	io.in = in;
	io.inlen = inlen;
	io.outmax = TSR_MAX;
	io.timeout_s = timeout_s > 0 ? timeout_s : TSA_TIMEOUT_S;
	if (spawn_run(argv, &io, e) != 0)
		goto out;
	if (io.timed_out) {
		err_set(e, "tsa_command: no answer within %d seconds; its "
		    "process group was killed", io.timeout_s);
		goto out;
	}
	if (!WIFEXITED(io.status) || WEXITSTATUS(io.status) != 0) {
		spawn_describe(&io, how, sizeof(how));
		err_set(e, "tsa_command failed (%s)", how);
		goto out;
	}
	if (io.out_over) {
		err_set(e, "tsa_command: answer larger than %d bytes", TSR_MAX);
		goto out;
	}
	if (io.outlen == 0) {
		err_set(e, "tsa_command printed nothing%s%s",
		    io.errline[0] ? ": " : "", io.errline);
		goto out;
	}
	*out = io.out;
	*outlen = io.outlen;
	io.out = NULL;
	rc = 0;
out:
	free(io.out);
	spawn_argv_free(argv);
	return rc;
}

int
tsa_stamp(const char *command, int timeout_s, const void *sig, size_t siglen,
    unsigned char **tsr, size_t *tsrlen, struct err *e)
{
	TS_REQ *req = NULL;
	TS_RESP *resp = NULL;
	TS_VERIFY_CTX *ctx = NULL;
	unsigned char *der = NULL, *out = NULL;
	const unsigned char *p;
	size_t outlen = 0;
	char why[256];
	int n, rc = -1;

	if ((req = make_request(sig, siglen, e)) == NULL)
		goto out;
	if ((n = i2d_TS_REQ(req, &der)) <= 0) {
		err_set(e, "time-stamp request: cannot encode it");
		goto out;
	}
	if (run_command(command, timeout_s, der, (size_t)n, &out, &outlen,
	    e) != 0)
		goto out;
	p = out;
	resp = d2i_TS_RESP(NULL, &p, (long)outlen);
	if (resp == NULL || p != out + outlen) {
		err_set(e, "tsa_command did not print one DER TimeStampResp");
		goto out;
	}
	if ((ctx = TS_REQ_to_TS_VERIFY_CTX(req, NULL)) == NULL) {
		err_set(e, "time-stamp: out of memory");
		goto out;
	}
	/* Its signature is checked by tsa_verify, against the TSA's CA. */
	TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_IMPRINT |
	    TS_VFY_NONCE);
	if (TS_RESP_verify_response(ctx, resp) != 1) {
		err_set(e, "tsa_command's answer does not answer the request: "
		    "%s", pki_reason(why, sizeof(why)));
		goto out;
	}
	*tsr = out;
	*tsrlen = outlen;
	out = NULL;
	rc = 0;
out:
	ERR_clear_error();
	TS_VERIFY_CTX_free(ctx);
	TS_RESP_free(resp);
	TS_REQ_free(req);
	OPENSSL_free(der);
	free(out);
	return rc;
}

/*
 * What TS_RESP_verify_response does not look at, pinned so that no byte
 * of a stored token can change unnoticed: the response is canonical DER;
 * the status is a plain "granted" with no text; the token's SignedData is
 * version 3 with one SignerInfo (version 1, no unsigned attributes) whose
 * digest algorithm is the only one listed and whose signature algorithm
 * agrees with it and with the key; every carried certificate verifies.
 */
static int
token_strict(TS_RESP *resp, const unsigned char *der, size_t len,
    X509_STORE *store, time_t at, struct err *e)
{
	TS_STATUS_INFO *st = TS_RESP_get_status_info(resp);
	PKCS7 *tok = TS_RESP_get_token(resp);
	unsigned char *re = NULL, *a = NULL, *b = NULL;
	PKCS7_SIGNED *sd;
	PKCS7_SIGNER_INFO *si;
	int n, na, nb, rc = -1, md_nid, pk_nid, sig_nid;

	if ((n = i2d_TS_RESP(resp, &re)) <= 0 || (size_t)n != len ||
	    memcmp(re, der, len) != 0) {
		err_set(e, "time-stamp: not in canonical DER (altered?)");
		goto out;
	}
	if (st == NULL || ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(st)) != 0 ||
	    TS_STATUS_INFO_get0_text(st) != NULL ||
	    TS_STATUS_INFO_get0_failure_info(st) != NULL) {
		err_set(e, "time-stamp: status is not a plain 'granted'");
		goto out;
	}
	if (tok == NULL || !PKCS7_type_is_signed(tok) ||
	    (sd = tok->d.sign) == NULL || ASN1_INTEGER_get(sd->version) != 3 ||
	    sk_X509_ALGOR_num(sd->md_algs) != 1 ||
	    sk_PKCS7_SIGNER_INFO_num(sd->signer_info) != 1 ||
	    sd->crl != NULL) {
		err_set(e, "time-stamp: token is not a single-signer SignedData "
		    "(altered?)");
		goto out;
	}
	si = sk_PKCS7_SIGNER_INFO_value(sd->signer_info, 0);
	na = i2d_X509_ALGOR(sk_X509_ALGOR_value(sd->md_algs, 0), &a);
	nb = i2d_X509_ALGOR(si->digest_alg, &b);
	if (ASN1_INTEGER_get(si->version) != 1 ||
	    (si->unauth_attr != NULL &&
	    sk_X509_ATTRIBUTE_num(si->unauth_attr) > 0) ||
	    na <= 0 || na != nb || memcmp(a, b, (size_t)na) != 0) {
		err_set(e, "time-stamp: signer info is not as a TSA writes it "
		    "(altered?)");
		goto out;
	}
	md_nid = OBJ_obj2nid(si->digest_alg->algorithm);
	sig_nid = OBJ_obj2nid(si->digest_enc_alg->algorithm);
	if (sig_nid != NID_rsaEncryption) {
		int sig_md;
		if (!OBJ_find_sigid_algs(sig_nid, &sig_md, &pk_nid) ||
		    sig_md != md_nid ||
		    (pk_nid == NID_X9_62_id_ecPublicKey &&
		    si->digest_enc_alg->parameter != NULL)) {
			err_set(e, "time-stamp: signature algorithm does not "
			    "match its digest (altered?)");
			goto out;
		}
	}
	if (pki_verify_each(store, sd->cert, at, "time-stamp", e) != 0)
		goto out;
	rc = 0;
out:
	ERR_clear_error();
	OPENSSL_free(re);
	OPENSSL_free(a);
	OPENSSL_free(b);
	return rc;
}

int
tsa_verify(const unsigned char *tsr, size_t tsrlen, const void *sig,
    size_t siglen, const char *cafile, struct tsa_info *info, struct err *e)
{
	TS_RESP *resp = NULL;
	TS_VERIFY_CTX *ctx = NULL;
	X509_STORE *store = NULL, *vstore;
	BIO *data = NULL;
	const unsigned char *p = tsr;
	const ASN1_GENERALIZEDTIME *gt;
	TS_TST_INFO *tst;
	X509_ALGOR *alg;
	struct tm tm;
	time_t gen;
	char why[256];
	int rc = -1;

	resp = d2i_TS_RESP(NULL, &p, (long)tsrlen);
	if (resp == NULL || p != tsr + tsrlen) {
		err_set(e, "time-stamp: not a DER TimeStampResp");
		goto out;
	}
	if ((tst = TS_RESP_get_tst_info(resp)) == NULL) {
		err_set(e, "time-stamp: response holds no token (not granted)");
		goto out;
	}
	alg = TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint(tst));
	if (alg == NULL || OBJ_obj2nid(alg->algorithm) != NID_sha256) {
		err_set(e, "time-stamp: imprint is not SHA-256");
		goto out;
	}
	gt = TS_TST_INFO_get_time(tst);
	if (gt == NULL || ASN1_TIME_to_tm(gt, &tm) != 1) {
		err_set(e, "time-stamp: bad time");
		goto out;
	}
	gen = timegm(&tm);
	store = X509_STORE_new();
	if (store == NULL || X509_STORE_load_file(store, cafile) != 1) {
		err_set(e, "%s: cannot load CA certificates: %s", cafile,
		    pki_reason(why, sizeof(why)));
		goto out;
	}
	X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), gen);
	if ((ctx = TS_VERIFY_CTX_new()) == NULL ||
	    (data = BIO_new_mem_buf(sig, (int)siglen)) == NULL) {
		err_set(e, "time-stamp: out of memory");
		goto out;
	}
	TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_SIGNATURE |
	    TS_VFY_DATA);
	TS_VERIFY_CTX_set_data(ctx, data);
	TS_VERIFY_CTX_set_store(ctx, store);
	vstore = store;		/* still usable: the context frees it */
	data = NULL;		/* the context owns them now */
	store = NULL;
	if (TS_RESP_verify_response(ctx, resp) != 1) {
		err_set(e, "time-stamp: %s", pki_reason(why, sizeof(why)));
		goto out;
	}
	if (token_strict(resp, tsr, tsrlen, vstore, gen, e) != 0)
		goto out;
	if (info != NULL) {
		PKCS7 *tok = TS_RESP_get_token(resp);
		STACK_OF(X509) *signers = tok ? PKCS7_get0_signers(tok, NULL,
		    0) : NULL;
		info->gen_time = gen;
		info->tsa[0] = '\0';
		if (signers != NULL && sk_X509_num(signers) > 0)
			pki_subject(sk_X509_value(signers, 0), info->tsa,
			    sizeof(info->tsa));
		sk_X509_free(signers);
	}
	rc = 0;
out:
	ERR_clear_error();
	TS_VERIFY_CTX_free(ctx);	/* frees the store and data it holds */
	X509_STORE_free(store);
	BIO_free(data);
	TS_RESP_free(resp);
	return rc;
}
