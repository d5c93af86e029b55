/*
 * issue.c: issuing one certificate: its files, signed and time-stamped
 * (see issue.h).
 *
 * MUST rules:
 *  - a certificate is issued once: ID.cert is written last and never
 *    replaced, so its presence means everything else is in place;
 *  - the manifest (it names students' files) is written 0600, and only
 *    when it is the one the certificate's manifest_sha256 and counts
 *    describe;
 *  - every file is written durably (durable.h) before the next.
 */
#include "certify/issue.h"
#include "certify/cert.h"
#include "certify/manifest.h"
#include "certify/sign.h"
#include "certify/tsa.h"
#include "state/durable.h"
#include "base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
cert_write_files(const char *state_dir, const struct cert *c,
    const char *manifest, size_t mlen, const struct signer *s, struct err *e)
{
	char dir[4096], name[128], hex[65], *text = NULL, *pem = NULL;
	unsigned char *tsr = NULL;
	size_t tlen = 0, plen = 0, tsrlen = 0;
	struct stat st;
	int dfd = -1, rc = -1, n;

	if (c->id == NULL || !cert_id_ok(c->id))
		return err_set(e, "certificate id '%s' is not a valid id",
		    c->id ? c->id : "");
	n = snprintf(dir, sizeof(dir), "%s/certificates", state_dir);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return err_set(e, "%s: path too long", state_dir);
	if (mkdirs(dir, 0700, e) != 0)
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd == -1)
		return err_sys(e, "%s", dir);
	snprintf(name, sizeof(name), "%s.cert", c->id);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		err_set(e, "%s/%s: certificate %s was already issued; it is "
		    "never issued twice", dir, name, c->id);
		goto out;
	}
	if (errno != ENOENT) {
		err_sys(e, "%s/%s", dir, name);
		goto out;
	}
	cert_sha256_hex(manifest, mlen, hex);
	if (c->manifest_sha256 == NULL || strcmp(hex, c->manifest_sha256) != 0) {
		err_set(e, "certificate %s: manifest_sha256 does not match the "
		    "manifest given", c->id);
		goto out;
	}
	if (cert_manifest_check(c, manifest, mlen, e) != 0)
		goto out;
	if (cert_format(c, &text, &tlen, e) != 0)
		goto out;
	if (sign_detached(s, text, tlen, &pem, &plen, e) != 0)
		goto out;
	if (s->tsa_command != NULL && *s->tsa_command != '\0' &&
	    tsa_stamp(s->tsa_command, s->tsa_timeout, pem, plen, &tsr, &tsrlen,
	    e) != 0)
		goto out;
	/* The manifest, the signature, the token, and the certificate last:
	 * its presence means everything else is in place. */
	{
		const struct { const char *ext; const void *p; size_t n;
		    mode_t mode; } f[] = {
			{ ".manifest", manifest, mlen, 0600 },
			{ ".cert.p7s", pem, plen, 0644 },
			{ ".cert.tsr", tsr, tsrlen, 0644 },
			{ ".cert", text, tlen, 0644 },
		};
		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
			char inner[sizeof(e->msg)];
			if (f[i].p == NULL)
				continue;	/* no token asked for */
			snprintf(name, sizeof(name), "%s%s", c->id, f[i].ext);
			if (durable_write_at(dfd, name, f[i].p, f[i].n,
			    f[i].mode, e) == 0)
				continue;
			snprintf(inner, sizeof(inner), "%s", e->msg);
			err_set(e, "%s/%s", dir, inner);
			goto out;
		}
	}
	rc = 0;
out:
	if (dfd != -1)
		close(dfd);
	free(text);
	free(pem);
	free(tsr);
	return rc;
}
