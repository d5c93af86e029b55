/*
 * cmd_verify.c: `lethe verify [--ca FILE] [--tsa-ca FILE] [--manifest FILE]
 * [-q] CERT...` (SPEC §8).
 *
 * For each CERT (the path of ID.cert; ID.cert.p7s and ID.cert.tsr are
 * looked for beside it) one line per check, "ok   ..." or "FAIL ...":
 * signature and chain as of the certificate's issue time (the signer
 * carrying keyUsage digitalSignature and extendedKeyUsage emailProtection),
 * every field present, the file named ID.cert after the certificate's own
 * id, dates consistent, deadline_met true to the dates, the manifest
 * (with --manifest, or ID.manifest when it lies beside the certificate),
 * and the time-stamp when there is one.  Needs no configuration: --ca is
 * then required.  Exit 0 only when every check of every CERT passed.
 */
#include "certify/cert.h"
#include "certify/manifest.h"
#include "cmd/cmd.h"
#include "base/date.h"
#include "state/durable.h"
#include "base/err.h"
#include "certify/sign.h"
#include "certify/tsa.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define CERT_FILE_MAX (1024 * 1024)
#define MANIFEST_MAX ((size_t)1 << 31)

static const char synopsis[] =
    "verify [--ca FILE] [--tsa-ca FILE] [--manifest FILE] [-q] CERT...";

struct vopts {
	const struct sign_trust *trust;
	const char *tsa_ca;
	const char *manifest;	/* NULL: ID.manifest beside CERT, if any */
	int quiet;		/* print failures only */
};

static void
line(const struct vopts *o, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
line(const struct vopts *o, int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok && o->quiet)
		return;
	fputs(ok ? "ok   " : "FAIL ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

/* path + suffix into buf.  Returns 0, or -1 if it does not fit. */
static int
beside(char *buf, size_t len, const char *path, const char *suffix)
{
	int n = snprintf(buf, len, "%s%s", path, suffix);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* ID.manifest for ".../ID.cert", when it exists. */
static int
manifest_beside(char *buf, size_t len, const char *path)
{
	size_t n = strlen(path);
	struct stat st;

	if (n < 5 || strcmp(path + n - 5, ".cert") != 0 || n + 4 >= len)
		return -1;
	memcpy(buf, path, n - 5);
	memcpy(buf + n - 5, ".manifest", 10);
	return lstat(buf, &st) == 0 ? 0 : -1;
}

/* The last component of path. */
static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

/* Whether path's file name is exactly ID.cert. */
static int
named_by_id(const char *path, const char *id)
{
	const char *b = base_name(path);
	size_t n = strlen(id);

	return strncmp(b, id, n) == 0 && strcmp(b + n, ".cert") == 0;
}

/* Verifies one certificate, printing a line per check.  Returns the
 * number of failed checks. */
int
cmd_verify_one(const char *path, const struct sign_trust *trust,
    const char *tsa_ca, const char *manifest, int quiet)
{
	struct vopts o = { trust, tsa_ca, manifest, quiet };
	char p7s[4200], tsr[4200], man[4200], when[32], c1[16], c2[16];
	char *text = NULL, *sig = NULL, *mtext = NULL, *tok = NULL;
	size_t tlen = 0, slen = 0, mlen = 0, toklen = 0;
	struct sign_info si;
	struct tsa_info ti;
	struct cert c;
	struct err e = { "" };
	int fails = 0, parsed = 0;
	time_t at;

	cert_init(&c);
	if (slurp(path, CERT_FILE_MAX, &text, &tlen, &e) != 0) {
		line(&o, 0, "certificate: %s", e.msg);
		fails++;
		goto out;
	}
	if (cert_parse(path, text, tlen, &c, &e) == 0)
		parsed = 1;
	/* 1. Signature and chain, as of the issue time it signs. */
	at = parsed && c.issued != (time_t)-1 ? c.issued : time(NULL);
	if (beside(p7s, sizeof(p7s), path, ".p7s") != 0 ||
	    slurp(p7s, CERT_FILE_MAX, &sig, &slen, &e) != 0) {
		line(&o, 0, "signature: %s", e.msg[0] ? e.msg : "path too long");
		fails++;
	} else if (sign_verify_trust(trust, text, tlen, sig, slen, at, &si,
	    &e) != 0) {
		const char *m = e.msg;
		if (strncmp(m, "signature: ", 11) == 0)
			m += 11;
		line(&o, 0, "signature and chain (CA %s): %s", trust->cafile, m);
		fails++;
	} else {
		line(&o, 1, "signature and chain (CA %s; signer %s; as of %s)",
		    trust->cafile, si.subject, time_format_utc(at, when));
	}
	/* 2-4. The fields. */
	if (!parsed) {
		line(&o, 0, "certificate format: %s", e.msg);
		fails++;
		goto tsr;
	}
	if (cert_check_fields(&c, &e) != 0) {
		line(&o, 0, "every field present: %s", e.msg);
		fails++;
		goto manifest;
	}
	line(&o, 1, "every field present (certificate %s, agreement %s)",
	    c.id, c.agreement);
	/* The name binds: a certificate copied to another name (B.cert,
	 * B.cert.p7s) must not pass as certificate B. */
	if (!named_by_id(path, c.id)) {
		line(&o, 0, "file name: %s is not named after its id %s (it "
		    "must be %s.cert)", base_name(path), c.id, c.id);
		fails++;
	} else
		line(&o, 1, "file name is its id (%s.cert)", c.id);
	if (cert_partial(&c))
		line(&o, 1, "result = partial: it confirms what a failed "
		    "disposition destroyed; %llu matches remained (see "
		    "exceptions)", (unsigned long long)c.remaining_matches);
	/* Not a check: what the agent's admin accepted is for the reader. */
	if (c.journal_accepted != NULL && !quiet)
		printf("note issued after the agent's journal was accepted "
		    "despite not matching its signed checkpoint: %s\n",
		    c.journal_accepted);
	if (cert_check_dates(&c, &e) != 0) {
		line(&o, 0, "dates consistent: %s", e.msg);
		fails++;
	} else {
		line(&o, 1, "dates consistent (started <= completed <= issued; "
		    "trigger %s <= deadline %s)", date_format(c.trigger_date,
		    c1), date_format(c.deadline, c2));
		if (cert_check_deadline(&c, &e) != 0) {
			line(&o, 0, "deadline_met: %s", e.msg);
			fails++;
		} else {
			line(&o, 1, "deadline_met = %s (completed %s in %s; "
			    "deadline %s)", c.deadline_met ? "yes" : "no",
			    date_format(tz_date_at(c.timezone, c.completed),
			    c1), c.timezone, date_format(c.deadline, c2));
		}
	}
manifest:
	/* 5. The manifest. */
	if (manifest == NULL && manifest_beside(man, sizeof(man), path) == 0)
		manifest = man;
	if (manifest != NULL) {
		if (slurp(manifest, MANIFEST_MAX, &mtext, &mlen, &e) != 0) {
			line(&o, 0, "manifest: %s", e.msg);
			fails++;
		} else if (cert_manifest_check(&c, mtext, mlen, &e) != 0) {
			line(&o, 0, "manifest %s: %s", manifest, e.msg);
			fails++;
		} else {
			line(&o, 1, "manifest %s (SHA-256 matches; %llu file%s, "
			    "%llu bytes)", manifest,
			    (unsigned long long)c.files, c.files == 1 ? "" : "s",
			    (unsigned long long)c.bytes);
		}
	}
tsr:
	/* 6. The time-stamp, when there is one. */
	if (beside(tsr, sizeof(tsr), path, ".tsr") == 0 &&
	    access(tsr, F_OK) == 0) {
		if (sig == NULL) {
			line(&o, 0, "time-stamp: no signature to check it "
			    "against");
			fails++;
		} else if (slurp(tsr, CERT_FILE_MAX, &tok, &toklen, &e) != 0 ||
		    tsa_verify((unsigned char *)tok, toklen, sig, slen, tsa_ca,
		    &ti, &e) != 0) {
			line(&o, 0, "time-stamp %s: %s", tsr, e.msg);
			fails++;
		} else {
			line(&o, 1, "time-stamp (TSA %s; %s)", ti.tsa,
			    time_format_utc(ti.gen_time, when));
		}
	}
out:
	if (mtext != NULL) {
		/* It names students' files. */
		OPENSSL_cleanse(mtext, mlen);
		free(mtext);
	}
	free(text);
	free(sig);
	free(tok);
	cert_free(&c);
	return fails;
}

int
cmd_verify(struct ctx *x, int argc, char **argv)
{
	const char *ca = NULL, *tsa_ca = NULL, *manifest = NULL;
	struct sign_trust trust = { 0 };
	struct err e = { "" };
	char **certs;
	int ncerts = 0, quiet = 0, bad = 0, rc = EXIT_USAGE;

	if ((certs = calloc((size_t)argc, sizeof(*certs))) == NULL) {
		warnx_("out of memory");
		return EXIT_FAIL;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--ca") == 0 && i + 1 < argc)
			ca = argv[++i];
		else if (strcmp(a, "--tsa-ca") == 0 && i + 1 < argc)
			tsa_ca = argv[++i];
		else if (strcmp(a, "--manifest") == 0 && i + 1 < argc)
			manifest = argv[++i];
		else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
			quiet = 1;
		else if (strcmp(a, "--") == 0) {
			while (++i < argc)
				certs[ncerts++] = argv[i];
		} else if (a[0] == '-' && a[1] != '\0') {
			warnx_("verify: unknown option %s", a);
			goto usage;
		} else
			certs[ncerts++] = argv[i];
	}
	if (ncerts == 0)
		goto usage;
	if (manifest != NULL && ncerts > 1) {
		warnx_("verify: --manifest goes with a single CERT");
		goto usage;
	}
	if (ca == NULL) {
		/* The auditor's case needs no configuration; the vendor's may
		 * name the chain in [signing]. */
		if (access(x->conf_path, R_OK) != 0) {
			warnx_("verify: --ca FILE is required (no configuration "
			    "at %s)", x->conf_path);
			goto usage;
		}
		if (ctx_load_config(x) != 0)
			goto out;
		ca = x->cfg.sign_chain;
		if (ca == NULL) {
			warnx_("verify: --ca FILE is required ([signing] chain is "
			    "not set in %s)", x->conf_path);
			goto usage;
		}
	}
	if (tsa_ca == NULL)
		tsa_ca = ca;
	if (sign_trust_load(ca, &trust, &e) != 0) {
		warnx_("%s", e.msg);
		goto out;
	}
	for (int i = 0; i < ncerts; i++) {
		int f;
		if (ncerts > 1 && !quiet)
			printf("%s%s:\n", i ? "\n" : "", certs[i]);
		f = cmd_verify_one(certs[i], &trust, tsa_ca, manifest, quiet);
		if (f > 0) {
			bad++;
			if (quiet)
				printf("FAIL %s\n", certs[i]);
		}
	}
	if (ncerts > 1 || quiet)
		printf("%s%d certificate%s: %d valid, %d invalid\n",
		    quiet ? "" : "\n", ncerts, ncerts == 1 ? "" : "s",
		    ncerts - bad, bad);
	else
		printf("%s\n", bad ? "INVALID" : "VALID");
	rc = bad ? EXIT_FAIL : EXIT_OK;
	goto out;
usage:
	rc = usage(synopsis);
out:
	sign_trust_free(&trust);
	free(certs);
	return rc;
}
