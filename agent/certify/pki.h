/*
 * pki.h: the X.509 rules that signing (sign.c), verifying (sign_verify.c)
 * and time-stamps (tsa.c) share, so that each is written once.  Internal
 * to certify/.
 */
#ifndef LETHE_PKI_H
#define LETHE_PKI_H

#include <stddef.h>
#include <time.h>

#include <openssl/types.h>
#include <openssl/x509.h>

struct err;

/* The most telling OpenSSL error in the queue, as "reason: data" (a chain
 * that does not verify says so, with why), into buf; clears the queue.
 * Returns buf. */
const char *pki_reason(char *buf, size_t len);

/* The profile certs/mkca issues, required of every signer, when signing
 * and when verifying: keyUsage present with digitalSignature, and
 * extendedKeyUsage present with emailProtection.  (X509_check_purpose
 * alone lets a certificate without either extension pass, as "any use".)
 * Returns 0, or -1 with *e set naming who (a file or "signature"). */
int pki_signer_profile(X509 *x, const char *who, struct err *e);

/* Verifies every certificate in certs against the trusted store as of
 * `at` (chains built from certs itself): a carried certificate with a
 * byte changed is refused, not ignored.  what begins the error
 * ("signature", "time-stamp").  Returns 0, or -1 with *e set ("WHAT:
 * carried certificate N does not verify: REASON"). */
int pki_verify_each(X509_STORE *store, STACK_OF(X509) *certs, time_t at,
    const char *what, struct err *e);

/* x's subject, RFC 2253, into buf (len bytes; cut to fit; "" when it
 * cannot be printed). */
void pki_subject(X509 *x, char *buf, size_t len);

#endif
