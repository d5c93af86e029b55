/*
 * fuzz_cert.c: cert_parse, cert_check and cert_manifest_check
 * (agent/certify/) on arbitrary bytes.
 *
 * The input is a certificate, optionally followed by a line
 * "%%MANIFEST%%" and a manifest.  Invariants besides "no crash, no leak,
 * no UB":
 *   - a parsed certificate that passes cert_check formats (cert_format
 *     refuses only values it cannot write, never a checked certificate's
 *     numbers or dates), every line it writes is under 200 bytes, and the
 *     text parses back to a certificate that formats to the same bytes;
 *   - cert_manifest_check accepts a manifest only when its SHA-256 is the
 *     certificate's; it is run a second time with the certificate's
 *     digest replaced by the manifest's own, so the row parser is reached;
 *   - a manifest built by cert_manifest_add from any names (here: the
 *     manifest part cut at NUL bytes, control characters and all) passes
 *     cert_manifest_check.
 */
#include "fuzz_util.h"

#include "certify/cert.h"
#include "certify/manifest.h"
#include "base/err.h"

#define SEP "%%MANIFEST%%\n"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void
check_round_trip(const struct cert *c)
{
	struct cert c2;
	struct err e;
	char *t1 = NULL, *t2 = NULL;
	size_t l1 = 0, l2 = 0;

	if (cert_format(c, &t1, &l1, &e) != 0) {
		/* Only a string value the format cannot carry is refused. */
		FZ_CHECK(strstr(e.msg, "value") != NULL ||
		    strstr(e.msg, "wrapped") != NULL, "a checked certificate "
		    "does not format: %s", e.msg);
		return;
	}
	FZ_CHECK(strlen(t1) == l1, "NUL in formatted text");
	for (const char *p = t1; *p != '\0';) {
		size_t n = strcspn(p, "\n");

		FZ_CHECK(n < 200, "formatted line of %zu bytes: %.60s", n, p);
		p += n;
		if (*p == '\n')
			p++;
	}
	FZ_CHECK(cert_parse("formatted", t1, l1, &c2, &e) == 0,
	    "formatted certificate does not parse: %s\n%s", e.msg, t1);
	FZ_CHECK(cert_check(&c2, &e) == 0, "formatted certificate fails its "
	    "checks: %s", e.msg);
	FZ_CHECK(cert_format(&c2, &t2, &l2, &e) == 0, "reparsed certificate "
	    "does not format: %s", e.msg);
	FZ_CHECK(l1 == l2 && memcmp(t1, t2, l1) == 0,
	    "format(parse(format(c))) differs from format(c):\n%s\n----\n%s",
	    t1, t2);
	cert_free(&c2);
	free(t1);
	free(t2);
}

/* Builds a manifest from the NUL-separated names in m and checks it. */
static void
check_manifest_add(const uint8_t *m, size_t len)
{
	static const char *const digests[] = { "-", "unavailable",
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" };
	struct cert_manifest man;
	struct cert c;
	struct err e;
	char hex[65];
	size_t pos = 0, i = 0;

	FZ_CHECK(cert_manifest_init(&man, &e) == 0, "init: %s", e.msg);
	while (pos < len) {
		const uint8_t *z = memchr(m + pos, '\0', len - pos);
		size_t n = z != NULL ? (size_t)(z - (m + pos)) : len - pos;
		char *name = fz_strndup(m + pos, n);

		if (n > 0) {
			FZ_CHECK(cert_manifest_add(&man, name, (uint64_t)n * 7,
			    digests[i % 3], &e) == 0, "add: %s", e.msg);
			i++;
		}
		free(name);
		pos += n + 1;
	}
	FZ_CHECK(man.files == i, "files %llu, added %zu",
	    (unsigned long long)man.files, i);
	cert_init(&c);
	cert_sha256_hex(man.text, man.len, hex);
	c.manifest_sha256 = hex;
	c.files = man.files;
	c.bytes = man.bytes;
	FZ_CHECK(cert_manifest_check(&c, man.text, man.len, &e) == 0,
	    "a manifest cert_manifest_add wrote fails the check: %s", e.msg);
	cert_manifest_free(&man);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = memmem(data, size, SEP, strlen(SEP));
	size_t clen = sep != NULL ? (size_t)(sep - data) : size;
	const char *man = sep != NULL ? (const char *)sep + strlen(SEP) : "";
	size_t mlen = sep != NULL ? size - clen - strlen(SEP) : 0;
	struct cert c, alt;
	struct err e;
	char hex[65];
	int parsed, checked = -1;

	/* A copy, so ASan sees any read past the certificate's end. */
	char *text = malloc(clen ? clen : 1);
	FZ_SETUP(text != NULL);
	memcpy(text, data, clen);
	parsed = cert_parse("fuzz.cert", text, clen, &c, &e);
	if (parsed != 0)
		FZ_CHECK(e.msg[0] != '\0', "failed without a message");
	if (parsed == 0) {
		checked = cert_check(&c, &e);
		if (checked == 0)
			check_round_trip(&c);
	}

	char *mtext = malloc(mlen ? mlen : 1);
	FZ_SETUP(mtext != NULL);
	memcpy(mtext, man, mlen);
	cert_sha256_hex(mtext, mlen, hex);
	if (cert_manifest_check(&c, mtext, mlen, &e) == 0)
		FZ_CHECK(c.manifest_sha256 != NULL &&
		    strcmp(c.manifest_sha256, hex) == 0,
		    "manifest accepted with the wrong digest");
	alt = c;
	alt.manifest_sha256 = hex;
	(void)cert_manifest_check(&alt, mtext, mlen, &e);
	check_manifest_add((const uint8_t *)mtext, mlen);

	cert_free(&c);
	free(text);
	free(mtext);
	return 0;
}
