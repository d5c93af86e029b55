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

/* One certificate being verified: what was read, what failed so far. */
struct vcert {
	struct vopts o;
	const char *path;
	char *text, *sig;
	size_t tlen, slen;
	struct cert c;
	int parsed;
	struct err e;	/* the last step's words (shared as they follow) */
	int fails;
};

/* 1. Signature and chain, as of the issue time it signs. */
static void
check_signature(struct vcert *v)
{
	char p7s[4200], when[32];
	struct sign_info si;
	time_t at;

	at = v->parsed && v->c.issued != (time_t)-1 ? v->c.issued : time(NULL);
	if (beside(p7s, sizeof(p7s), v->path, ".p7s") != 0 ||
	    slurp(p7s, CERT_FILE_MAX, &v->sig, &v->slen, &v->e) != 0) {
		line(&v->o, 0, "signature: %s", v->e.msg[0] ? v->e.msg :
		    "path too long");
		v->fails++;
	} else if (sign_verify_trust(v->o.trust, v->text, v->tlen, v->sig,
	    v->slen, at, &si, &v->e) != 0) {
		const char *m = v->e.msg;
		if (strncmp(m, "signature: ", 11) == 0)
			m += 11;
		line(&v->o, 0, "signature and chain (CA %s): %s",
		    v->o.trust->cafile, m);
		v->fails++;
	} else {
		line(&v->o, 1, "signature and chain (CA %s; signer %s; as of %s)",
		    v->o.trust->cafile, si.subject, time_format_utc(at, when));
	}
}

/* 3-4. Dates consistent, and deadline_met true to them. */
static void
check_dates(struct vcert *v)
{
	const struct cert *c = &v->c;
	char c1[16], c2[16];

	if (cert_check_dates(c, &v->e) != 0) {
		line(&v->o, 0, "dates consistent: %s", v->e.msg);
		v->fails++;
		return;
	}
	line(&v->o, 1, "dates consistent (started <= completed <= issued; "
	    "trigger %s <= deadline %s)", date_format(c->trigger_date, c1),
	    date_format(c->deadline, c2));
	if (cert_check_deadline(c, &v->e) != 0) {
		line(&v->o, 0, "deadline_met: %s", v->e.msg);
		v->fails++;
	} else {
		line(&v->o, 1, "deadline_met = %s (completed %s in %s; deadline "
		    "%s)", c->deadline_met ? "yes" : "no",
		    date_format(tz_date_at(c->timezone, c->completed), c1),
		    c->timezone, date_format(c->deadline, c2));
	}
}

/* 2-4. The fields, the name, the dates. */
static void
check_fields(struct vcert *v)
{
	const struct cert *c = &v->c;

	if (cert_check_fields(c, &v->e) != 0) {
		line(&v->o, 0, "every field present: %s", v->e.msg);
		v->fails++;
		return;
	}
	line(&v->o, 1, "every field present (certificate %s, agreement %s)",
	    c->id, c->agreement);
	/* The name binds: a certificate copied to another name (B.cert,
	 * B.cert.p7s) must not pass as certificate B. */
	if (!named_by_id(v->path, c->id)) {
		line(&v->o, 0, "file name: %s is not named after its id %s (it "
		    "must be %s.cert)", base_name(v->path), c->id, c->id);
		v->fails++;
	} else
		line(&v->o, 1, "file name is its id (%s.cert)", c->id);
	if (cert_partial(c))
		line(&v->o, 1, "result = partial: it confirms what a failed "
		    "disposition destroyed; %llu matches remained (see "
		    "exceptions)", (unsigned long long)c->remaining_matches);
	/* Not a check: what the agent's admin accepted is for the reader. */
	if (c->journal_accepted != NULL && !v->o.quiet)
		printf("note issued after the agent's journal was accepted "
		    "despite not matching its signed checkpoint: %s\n",
		    c->journal_accepted);
	check_dates(v);
}

/* 5. The manifest (NULL: ID.manifest beside the certificate, if any). */
static void
check_manifest(struct vcert *v, const char *manifest)
{
	char man[4200], *mtext = NULL;
	size_t mlen = 0;

	if (manifest == NULL && manifest_beside(man, sizeof(man),
	    v->path) == 0)
		manifest = man;
	if (manifest == NULL)
		return;
	if (slurp(manifest, MANIFEST_MAX, &mtext, &mlen, &v->e) != 0) {
		line(&v->o, 0, "manifest: %s", v->e.msg);
		v->fails++;
	} else if (cert_manifest_check(&v->c, mtext, mlen, &v->e) != 0) {
		line(&v->o, 0, "manifest %s: %s", manifest, v->e.msg);
		v->fails++;
	} else {
		line(&v->o, 1, "manifest %s (SHA-256 matches; %llu file%s, %llu "
		    "bytes)", manifest, (unsigned long long)v->c.files,
		    v->c.files == 1 ? "" : "s", (unsigned long long)v->c.bytes);
	}
	if (mtext != NULL) {
		/* It names students' files. */
		OPENSSL_cleanse(mtext, mlen);
		free(mtext);
	}
}

/* 6. The time-stamp, when there is one. */
static void
check_tsr(struct vcert *v)
{
	char tsr[4200], when[32], *tok = NULL;
	size_t toklen = 0;
	struct tsa_info ti;

	if (beside(tsr, sizeof(tsr), v->path, ".tsr") != 0 ||
	    access(tsr, F_OK) != 0)
		return;
	if (v->sig == NULL) {
		line(&v->o, 0, "time-stamp: no signature to check it against");
		v->fails++;
	} else if (slurp(tsr, CERT_FILE_MAX, &tok, &toklen, &v->e) != 0 ||
	    tsa_verify((unsigned char *)tok, toklen, v->sig, v->slen,
	    v->o.tsa_ca, &ti, &v->e) != 0) {
		line(&v->o, 0, "time-stamp %s: %s", tsr, v->e.msg);
		v->fails++;
	} else {
		line(&v->o, 1, "time-stamp (TSA %s; %s)", ti.tsa,
		    time_format_utc(ti.gen_time, when));
	}
	free(tok);
}

/* Verifies one certificate, printing a line per check.  Returns the
 * number of failed checks. */
int
cmd_verify_one(const char *path, const struct sign_trust *trust,
    const char *tsa_ca, const char *manifest, int quiet)
{
	struct vcert v;

	memset(&v, 0, sizeof(v));
	v.o = (struct vopts){ trust, tsa_ca, manifest, quiet };
	v.path = path;
	cert_init(&v.c);
	if (slurp(path, CERT_FILE_MAX, &v.text, &v.tlen, &v.e) != 0) {
		line(&v.o, 0, "certificate: %s", v.e.msg);
		v.fails++;
		goto out;
	}
	v.parsed = cert_parse(path, v.text, v.tlen, &v.c, &v.e) == 0;
	check_signature(&v);
	if (!v.parsed) {
		line(&v.o, 0, "certificate format: %s", v.e.msg);
		v.fails++;
	} else {
		check_fields(&v);
		check_manifest(&v, manifest);
	}
	check_tsr(&v);
out:
	free(v.text);
	free(v.sig);
	cert_free(&v.c);
	return v.fails;
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
	rc = cmd_usage("verify");
out:
	sign_trust_free(&trust);
	free(certs);
	return rc;
}
