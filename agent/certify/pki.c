/*
 * pki.c: the X.509 rules that signing, verifying and time-stamps share
 * (see pki.h).  libcrypto only.
 */
#include "certify/pki.h"
#include "base/err.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

const char *
pki_reason(char *buf, size_t len)
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

int
pki_signer_profile(X509 *x, const char *who, struct err *e)
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
pki_verify_each(X509_STORE *store, STACK_OF(X509) *certs, time_t at,
    const char *what, struct err *e)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc = -1;

	if (ctx == NULL) {
		err_set(e, "%s: out of memory", what);
		goto out;
	}
	for (int i = 0; i < sk_X509_num(certs); i++) {
		if (X509_STORE_CTX_init(ctx, store, sk_X509_value(certs, i),
		    certs) != 1) {
			err_set(e, "%s: out of memory", what);
			goto out;
		}
		X509_STORE_CTX_set_time(ctx, 0, at);
		if (X509_verify_cert(ctx) != 1) {
			err_set(e, "%s: carried certificate %d does not verify: "
			    "%s", what, i + 1, X509_verify_cert_error_string(
			    X509_STORE_CTX_get_error(ctx)));
			goto out;
		}
		X509_STORE_CTX_cleanup(ctx);
	}
	rc = 0;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	return rc;
}

void
pki_subject(X509 *x, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	buf[0] = '\0';
	if (b != NULL && X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253) >= 0 && (n = BIO_get_mem_data(b, &p)) > 0) {
		size_t k = (size_t)n < len ? (size_t)n : len - 1;
		memcpy(buf, p, k);
		buf[k] = '\0';
	}
	BIO_free(b);
}
