/*
 * tsa.h: optional RFC 3161 time-stamps over certificate signatures
 * (SPEC §8, `[signing] tsa_command`).  The token proves the signature
 * existed at the TSA's time, independent of the vendor's own clock.
 *
 * The message imprint is the SHA-256 of the signature file's bytes
 * (ID.cert.p7s as written), so stock openssl checks a stored token with
 *   openssl ts -verify -in ID.cert.tsr -data ID.cert.p7s -CAfile tsa-ca.pem
 */
#ifndef LETHE_TSA_H
#define LETHE_TSA_H

#include <stddef.h>
#include <time.h>

struct err;

/* Runs command (split into words by spawn_parse: no shell; see spawn.h)
 * with a DER TimeStampReq (SHA-256 imprint of sig, a random nonce, certReq
 * set) on its stdin, and reads a DER TimeStampResp from its stdout (at
 * most 1 MiB, within timeout_s seconds, 60 when 0; then its process group
 * is killed).  The command must exit 0 and the response be granted and
 * answer this request (version, imprint, nonce); its signature is checked
 * by tsa_verify.  On success *tsr is malloc'd.  Returns 0, or -1 with *e
 * set (including the command's first line of stderr). */
int tsa_stamp(const char *command, int timeout_s, const void *sig,
    size_t siglen, unsigned char **tsr, size_t *tsrlen, struct err *e);

/* What a good token said. */
struct tsa_info {
	time_t gen_time;	/* the TSA's time */
	char tsa[256];		/* the TSA signer's subject, RFC 2253 */
};

/* Verifies a stored TimeStampResp over sig: granted, imprint SHA-256 of
 * sig, signed by a TSA certificate (extendedKeyUsage timeStamping) that
 * chains to a CA in cafile as of the token's own time.  Returns 0 with
 * *info filled (when not NULL), or -1 with *e set. */
int tsa_verify(const unsigned char *tsr, size_t tsrlen, const void *sig,
    size_t siglen, const char *cafile, struct tsa_info *info, struct err *e);

#endif
