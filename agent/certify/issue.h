/*
 * issue.h: issuing one certificate of sanitization: writing its files,
 * signed (sign.h) and, when configured, time-stamped (tsa.h).  certify.h
 * decides what the certificate says; this writes it, once.
 */
#ifndef LETHE_ISSUE_H
#define LETHE_ISSUE_H

#include <stddef.h>

struct cert;
struct err;
struct signer;

/* Issues the certificate: writes state_dir/certificates/ID.manifest (0600),
 * ID.cert.p7s (0644), ID.cert.tsr (0644, when s->tsa_command is set) and
 * last ID.cert (0644), each durably.  Refuses if ID.cert exists: a
 * certificate is issued exactly once.  manifest must hash to
 * c->manifest_sha256 and pass cert_manifest_check.  Returns 0, or -1 with
 * *e set (ID.cert is then absent, and a retry may write everything
 * again). */
int cert_write_files(const char *state_dir, const struct cert *c,
    const char *manifest, size_t mlen, const struct signer *s,
    struct err *e);

#endif
