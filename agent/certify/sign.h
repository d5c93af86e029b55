/*
 * sign.h: CMS detached signatures over certificates and checkpoints
 * (SPEC §8, §9).  Signatures are SignedData, SHA-256, binary mode, PEM,
 * carrying the signer certificate and its chain, so that stock
 *   openssl cms -verify -binary -inform PEM -in X.p7s -content X -CAfile ca.pem
 * accepts them with no lethe installed.
 */
#ifndef LETHE_SIGN_H
#define LETHE_SIGN_H

#include <stddef.h>
#include <time.h>

#include <openssl/types.h>

struct err;

struct signer {
	EVP_PKEY *key;
	X509 *cert;
	struct stack_st_X509 *chain;	/* may be NULL */
	const char *tsa_command;	/* optional, set by the caller: see tsa.h */
	int tsa_timeout;		/* seconds; 0 = tsa.h's default */
};

/* Loads the signing key, its certificate and an optional chain file (PEM,
 * one or more certificates; NULL or "" for none).  Refuses: a key file that
 * is a symlink, not regular, or group/world-accessible (the message gives
 * its mode); keys other than ECDSA P-256 and RSA >= 3072 (Ed25519 cannot
 * sign CMS in OpenSSL 3.0); a certificate that does not match the key, is
 * not valid now, or lacks keyUsage digitalSignature / extendedKeyUsage
 * emailProtection.  Returns 0, or -1 with *e set and *s empty.  The key
 * file's bytes are cleansed before returning. */
int sign_load(const char *key, const char *cert, const char *chain,
    struct signer *s, struct err *e);
/* Frees (and so cleanses) everything in *s; *s may be empty or partial. */
void sign_free(struct signer *s);

/* Signs data: CMS SignedData, detached, binary, SHA-256, with a signing
 * time attribute, the signer certificate and the chain.  On success *pem is
 * a malloc'd NUL-terminated PEM text of *pemlen bytes (free() it).  Returns
 * 0, or -1 with *e set. */
int sign_detached(const struct signer *s, const void *data, size_t len,
    char **pem, size_t *pemlen, struct err *e);

/* Trusted CA certificates for verifying, loaded once (a PEM file with one
 * or more certificates). */
struct sign_trust {
	X509_STORE *store;
	char *cafile;
};
/* Returns 0, or -1 with *e set. */
int sign_trust_load(const char *cafile, struct sign_trust *t, struct err *e);
void sign_trust_free(struct sign_trust *t);

/* What a good signature said about itself. */
struct sign_info {
	char subject[256];	/* the signer's subject, RFC 2253, escaped */
	time_t signing_time;	/* its signing-time attribute, or -1 */
};

/* Verifies a detached PEM signature over data, and the signer's chain to
 * a CA in *t as of the instant `at` (not now: a certificate signed while
 * the agent certificate was valid stays valid after it expires).  The
 * signer certificate must carry keyUsage digitalSignature and
 * extendedKeyUsage emailProtection, both present (the profile certs/mkca
 * issues; a certificate without the extensions is refused, though stock
 * openssl would take it).  Fills *info when not NULL.  Returns 0, or -1
 * with *e saying why. */
int sign_verify_trust(const struct sign_trust *t, const void *data,
    size_t len, const char *pem, size_t pemlen, time_t at,
    struct sign_info *info, struct err *e);
/* The same, loading cafile for this one call. */
int sign_verify(const void *data, size_t len, const char *pem, size_t pemlen,
    const char *cafile, time_t at, struct sign_info *info, struct err *e);

#endif
