/* check_sign.c: CMS detached signatures, against stock openssl. */
#include "testutil.h"

#include "certify/checkpoint.h"
#include "state/durable.h"
#include "base/err.h"
#include "state/journal.h"
#include "certify/sign.h"
#include "certify/tsa.h"
#include "base/spawn.h"

#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static const char content[] =
    "[certificate]\r\nid = C-0001\nissued = 2026-11-23T09:00:00Z\r\n"
    "standard = NIST SP 800-88 Rev. 2\n\n[data]\nfiles = 3\nbytes = 1234\n"
    "binary:\x01\x02\x7f\xff\r\r\n";

static void
load(const char *pki, struct signer *s)
{
	struct err e = { "" };
	char *k = tu_path(pki, "agent.key"), *c = tu_path(pki, "agent.pem"),
	    *ca = tu_path(pki, "ca.pem");
	ck_assert_msg(sign_load(k, c, ca, s, &e) == 0, "%s", e.msg);
	free(k); free(c); free(ca);
}

START_TEST(a_signature_is_accepted_by_stock_openssl_cms_verify)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL), *pem;
	char cmd[8192], *cf = tu_path(dir, "x.cert"), *sf = tu_path(dir, "x.cert.p7s");
	char *of = tu_path(dir, "out");
	struct signer s;
	struct err e = { "" };
	size_t plen;

	load(pki, &s);
	ck_assert_msg(sign_detached(&s, content, sizeof(content) - 1, &pem,
	    &plen, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(strlen(pem), plen);
	ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN CMS-----"));
	tu_write_bytes(cf, content, sizeof(content) - 1);
	tu_write_bytes(sf, pem, plen);
	snprintf(cmd, sizeof(cmd), "openssl cms -verify -binary -inform PEM "
	    "-in '%s' -content '%s' -CAfile '%s/ca.pem' -out '%s' 2>/dev/null",
	    sf, cf, pki, of);
	ck_assert_int_eq(system(cmd), 0);
	/* Binary mode: what openssl says was signed is byte for byte ours. */
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", cf, of);
	ck_assert_int_eq(system(cmd), 0);
	/* And stock openssl notices a changed byte too. */
	tu_write_bytes(cf, "X", 1);
	snprintf(cmd, sizeof(cmd), "openssl cms -verify -binary -inform PEM "
	    "-in '%s' -content '%s' -CAfile '%s/ca.pem' -out /dev/null "
	    "2>/dev/null", sf, cf, pki);
	ck_assert_int_ne(system(cmd), 0);
	free(pem); free(cf); free(sf); free(of); free(pki);
	sign_free(&s);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_good_signature_verifies_and_names_its_signer)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL), *pem;
	char *ca = tu_path(pki, "ca.pem");
	struct signer s;
	struct sign_info info;
	struct err e = { "" };
	size_t plen;
	time_t now = time(NULL);

	load(pki, &s);
	ck_assert_int_eq(sign_detached(&s, content, sizeof(content) - 1, &pem,
	    &plen, &e), 0);
	ck_assert_msg(sign_verify(content, sizeof(content) - 1, pem, plen, ca,
	    now, &info, &e) == 0, "%s", e.msg);
	ck_assert_msg(strstr(info.subject, "CN=app-1") != NULL, "%s",
	    info.subject);
	ck_assert_msg(strstr(info.subject, "OU=lethe agent") != NULL, "%s",
	    info.subject);
	ck_assert(info.signing_time >= now - 60 && info.signing_time <= now + 60);
	free(pem); free(ca); free(pki);
	sign_free(&s);
	tu_rmtree(dir);
}
END_TEST

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

START_TEST(every_changed_byte_of_content_or_signature_is_rejected)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL), *pem;
	char *ca = tu_path(pki, "ca.pem"), buf[sizeof(content)];
	struct signer s;
	struct sign_trust t;
	struct err e = { "" };
	size_t plen, n = sizeof(content) - 1, tried = 0;
	time_t now = time(NULL);

	load(pki, &s);
	ck_assert_int_eq(sign_detached(&s, content, n, &pem, &plen, &e), 0);
	ck_assert_int_eq(sign_trust_load(ca, &t, &e), 0);
	ck_assert_int_eq(sign_verify_trust(&t, content, n, pem, plen, now,
	    NULL, &e), 0);
	for (size_t i = 0; i < n; i++) {
		memcpy(buf, content, n);
		buf[i] ^= 0x20;
		ck_assert_msg(sign_verify_trust(&t, buf, n, pem, plen, now,
		    NULL, &e) == -1, "content byte %zu changed, accepted", i);
		tried++;
	}
	/* Every position of the PEM, two ways: a bit flip, and a swap for
	 * another valid base64 character (which still decodes). */
	char *alt = malloc(plen + 1);
	ck_assert_ptr_nonnull(alt);
	for (size_t i = 0; i < plen; i++) {
		for (int way = 0; way < 2; way++) {
			memcpy(alt, pem, plen + 1);
			if (way == 0) {
				alt[i] ^= 0x01;
			} else {
				const char *p = strchr(b64, pem[i]);
				if (pem[i] == '\0' || p == NULL)
					continue;
				alt[i] = b64[(size_t)(p - b64 + 1) % 64];
			}
			ck_assert_msg(sign_verify_trust(&t, content, n, alt,
			    plen, now, NULL, &e) == -1,
			    "signature byte %zu (way %d) changed, accepted", i,
			    way);
			tried++;
		}
	}
	/* Truncated or extended signature files. */
	ck_assert_int_eq(sign_verify_trust(&t, content, n, pem, plen - 1, now,
	    NULL, &e), -1);
	memcpy(alt, pem, plen);
	alt[plen] = '\n';
	ck_assert_int_eq(sign_verify_trust(&t, content, n, alt, plen + 1, now,
	    NULL, &e), -1);
	ck_assert_uint_gt(tried, 2000);
	free(alt); free(pem); free(ca); free(pki);
	sign_trust_free(&t);
	sign_free(&s);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_signature_under_another_ca_is_rejected)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL);
	char *other = tu_mkca(dir, "other", NULL), *pem;
	char *ca2 = tu_path(other, "ca.pem"), *ca1 = tu_path(pki, "ca.pem");
	struct signer s;
	struct err e = { "" };
	size_t plen;

	load(pki, &s);
	ck_assert_int_eq(sign_detached(&s, content, 10, &pem, &plen, &e), 0);
	ck_assert_int_eq(sign_verify(content, 10, pem, plen, ca1, time(NULL),
	    NULL, &e), 0);
	ck_assert_int_eq(sign_verify(content, 10, pem, plen, ca2, time(NULL),
	    NULL, &e), -1);
	ck_assert_msg(strstr(e.msg, "certificate") != NULL, "%s", e.msg);
	free(pem); free(ca1); free(ca2); free(pki); free(other);
	sign_free(&s);
	tu_rmtree(dir);
}
END_TEST

START_TEST(verification_is_as_of_the_given_time)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", "--days 1"), *pem;
	char *ca = tu_path(pki, "ca.pem");
	struct signer s;
	struct err e = { "" };
	size_t plen;
	time_t now = time(NULL);

	load(pki, &s);
	ck_assert_int_eq(sign_detached(&s, content, 10, &pem, &plen, &e), 0);
	ck_assert_int_eq(sign_verify(content, 10, pem, plen, ca, now, NULL,
	    &e), 0);
	ck_assert_int_eq(sign_verify(content, 10, pem, plen, ca,
	    now + 3 * 86400, NULL, &e), -1);
	ck_assert_msg(strstr(e.msg, "expired") != NULL, "%s", e.msg);
	ck_assert_int_eq(sign_verify(content, 10, pem, plen, ca,
	    now - 2 * 86400, NULL, &e), -1);
	free(pem); free(ca); free(pki);
	sign_free(&s);
	tu_rmtree(dir);
}
END_TEST

/* Re-issues pki/agent.pem valid from now-10d to now-5d, signed by the CA. */
static X509 *
expired_copy(const char *pki)
{
	char *c = tu_path(pki, "agent.pem"), *k = tu_path(pki, "ca.key");
	FILE *f;
	X509 *x;
	EVP_PKEY *cak;

	ck_assert_ptr_nonnull(f = fopen(c, "r"));
	ck_assert_ptr_nonnull(x = PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);
	ck_assert_ptr_nonnull(f = fopen(k, "r"));
	ck_assert_ptr_nonnull(cak = PEM_read_PrivateKey(f, NULL, NULL, NULL));
	fclose(f);
	/* The CA must have been valid then too: backdate it as well. */
	char *cap = tu_path(pki, "ca.pem");
	X509 *cax;
	ck_assert_ptr_nonnull(f = fopen(cap, "r"));
	ck_assert_ptr_nonnull(cax = PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(cax),
	    -30L * 86400));
	ck_assert_int_gt(X509_sign(cax, cak, EVP_sha256()), 0);
	ck_assert_ptr_nonnull(f = fopen(cap, "w"));
	ck_assert_int_eq(PEM_write_X509(f, cax), 1);
	fclose(f);
	X509_free(cax);
	free(cap);
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(x),
	    -10L * 86400));
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(x),
	    -5L * 86400));
	ck_assert_int_gt(X509_sign(x, cak, EVP_sha256()), 0);
	EVP_PKEY_free(cak);
	free(c); free(k);
	return x;
}

START_TEST(an_expired_agent_certificate_still_verifies_as_of_its_issue_time)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL), *pem;
	char *ca = tu_path(pki, "ca.pem"), *k = tu_path(pki, "agent.key");
	char *c = tu_path(dir, "expired.pem");
	struct signer s, refused;
	struct err e = { "" };
	size_t plen;
	time_t now = time(NULL);
	FILE *f;

	load(pki, &s);
	X509_free(s.cert);
	s.cert = expired_copy(pki);
	sk_X509_pop_free(s.chain, X509_free);	/* the CA changed */
	s.chain = NULL;
	/* sign_load itself refuses to sign with it ... */
	ck_assert_ptr_nonnull(f = fopen(c, "w"));
	ck_assert_int_eq(PEM_write_X509(f, s.cert), 1);
	fclose(f);
	ck_assert_int_eq(sign_load(k, c, NULL, &refused, &e), -1);
	ck_assert_msg(strstr(e.msg, "expired") != NULL, "%s", e.msg);
	/* ... but what it signed while valid stays valid. */
	ck_assert_int_eq(sign_detached(&s, content, 10, &pem, &plen, &e), 0);
	ck_assert_msg(sign_verify(content, 10, pem, plen, ca, now - 7 * 86400,
	    NULL, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(sign_verify(content, 10, pem, plen, ca, now, NULL, &e),
	    -1);
	ck_assert_msg(strstr(e.msg, "expired") != NULL, "%s", e.msg);
	free(pem); free(ca); free(pki); free(k); free(c);
	sign_free(&s);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_key_readable_by_others_is_refused_with_its_mode)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL);
	char *k = tu_path(pki, "agent.key"), *c = tu_path(pki, "agent.pem");
	struct signer s;
	struct err e = { "" };

	ck_assert_int_eq(chmod(k, 0644), 0);
	ck_assert_int_eq(sign_load(k, c, NULL, &s, &e), -1);
	ck_assert_msg(strstr(e.msg, "0644") != NULL, "%s", e.msg);
	ck_assert_int_eq(chmod(k, 0640), 0);
	ck_assert_int_eq(sign_load(k, c, NULL, &s, &e), -1);
	ck_assert_int_eq(chmod(k, 0400), 0);
	ck_assert_msg(sign_load(k, c, NULL, &s, &e) == 0, "%s", e.msg);
	sign_free(&s);
	free(k); free(c); free(pki);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_symlinked_key_is_refused)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL);
	char *k = tu_path(pki, "agent.key"), *c = tu_path(pki, "agent.pem");
	char *l = tu_path(dir, "link.key");
	struct signer s;
	struct err e = { "" };

	ck_assert_int_eq(symlink(k, l), 0);
	ck_assert_int_eq(sign_load(l, c, NULL, &s, &e), -1);
	ck_assert_msg(strstr(e.msg, "symlink") != NULL, "%s", e.msg);
	free(k); free(c); free(l); free(pki);
	tu_rmtree(dir);
}
END_TEST

static void
refused_key(const char *genopts, const char *want)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL);
	char *k = tu_path(dir, "bad.key"), *c = tu_path(pki, "agent.pem");
	char cmd[4096];
	struct signer s;
	struct err e = { "" };

	snprintf(cmd, sizeof(cmd), "umask 077; openssl genpkey %s -out '%s' "
	    "2>/dev/null", genopts, k);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(sign_load(k, c, NULL, &s, &e), -1);
	ck_assert_msg(strstr(e.msg, want) != NULL, "%s", e.msg);
	free(k); free(c); free(pki);
	tu_rmtree(dir);
}

START_TEST(an_ed25519_key_is_refused_with_a_clear_message)
{
	refused_key("-algorithm ED25519", "Ed25519");
}
END_TEST

START_TEST(a_small_rsa_key_is_refused)
{
	refused_key("-algorithm RSA -pkeyopt rsa_keygen_bits:2048", "2048 bits");
}
END_TEST

START_TEST(a_p384_key_is_refused)
{
	refused_key("-algorithm EC -pkeyopt ec_paramgen_curve:P-384",
	    "secp384r1");
}
END_TEST

START_TEST(a_certificate_that_does_not_match_the_key_is_refused)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL);
	char *k = tu_path(pki, "ca.key"), *c = tu_path(pki, "agent.pem");
	struct signer s;
	struct err e = { "" };

	ck_assert_int_eq(sign_load(k, c, NULL, &s, &e), -1);
	ck_assert_msg(strstr(e.msg, "does not match") != NULL, "%s", e.msg);
	free(k); free(c); free(pki);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_certificate_without_email_protection_is_refused)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL);
	char *k = tu_path(pki, "ca.key"), *c = tu_path(pki, "ca.pem");
	struct signer s;
	struct err e = { "" };

	/* The CA's own key and certificate match, but may only sign certs. */
	ck_assert_int_eq(sign_load(k, c, NULL, &s, &e), -1);
	ck_assert_msg(strstr(e.msg, "emailProtection") != NULL, "%s", e.msg);
	free(k); free(c); free(pki);
	tu_rmtree(dir);
}
END_TEST

/* A P-256 signer under pki's CA with the extension lines ext (may be ""),
 * as dir/NAME.key and dir/NAME.pem. */
static void
mksigner(const char *dir, const char *pki, const char *name, const char *ext)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd),
	    "cd '%s' && umask 077 && openssl genpkey -algorithm EC "
	    "-pkeyopt ec_paramgen_curve:P-256 -out %s.key 2>/dev/null && "
	    "openssl req -new -key %s.key -subj /CN=%s -out %s.csr && "
	    "printf 'basicConstraints=CA:false\\n%s' >%s.ext && "
	    "openssl x509 -req -in %s.csr -CA '%s/ca.pem' -CAkey '%s/ca.key' "
	    "-set_serial 0x%04x -days 30 -extfile %s.ext -out %s.pem "
	    "2>/dev/null", dir, name, name, name, name, ext, name, name, pki,
	    pki, (unsigned)(strlen(name) * 77 + strlen(ext)), name, name);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(a_signer_without_key_usage_or_email_protection_never_verifies)
{
	/* stock: whether stock openssl cms -verify accepts the signature:
	 * an absent extension means "any use" to it. */
	static const struct {
		const char *name, *ext, *why, *vwhy;
		int stock;
	} v[] = {
		{ "bare", "", "no keyUsage extension", "no keyUsage extension",
		    1 },
		{ "kuonly", "keyUsage=critical,digitalSignature\\n",
		    "no extendedKeyUsage extension",
		    "no extendedKeyUsage extension", 1 },
		{ "server", "keyUsage=critical,digitalSignature\\n"
		    "extendedKeyUsage=serverAuth\\n",
		    "emailProtection", "unsuitable certificate purpose", 0 },
		{ "encipher", "keyUsage=critical,keyEncipherment\\n"
		    "extendedKeyUsage=emailProtection\\n",
		    "digitalSignature", "unsuitable certificate purpose", 0 },
	};
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL);
	char *ca = tu_path(pki, "ca.pem"), cmd[8192];
	struct signer s;
	struct err e = { "" };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *k, *c, *pem;
		size_t plen;

		mksigner(dir, pki, v[i].name, v[i].ext);
		k = tu_path(dir, v[i].name);
		c = NULL;
		ck_assert_int_ge(asprintf(&c, "%s.pem", k), 0);
		free(k);
		ck_assert_int_ge(asprintf(&k, "%s/%s.key", dir, v[i].name), 0);
		/* lethe refuses to sign with it... */
		ck_assert_int_eq(sign_load(k, c, ca, &s, &e), -1);
		ck_assert_msg(strstr(e.msg, v[i].why) != NULL, "%s: %s",
		    v[i].name, e.msg);
		/* ...and a signature made with it by stock openssl, which
		 * openssl itself accepts, does not verify. */
		snprintf(cmd, sizeof(cmd), "cd '%s' && printf 'content\\n' "
		    ">%s.txt && openssl cms -sign -binary -md sha256 "
		    "-nosmimecap -in %s.txt -signer %s.pem -inkey %s.key "
		    "-certfile '%s' -outform PEM -out %s.p7s && "
		    "openssl cms -verify -binary -inform PEM -in %s.p7s "
		    "-content %s.txt -CAfile '%s' -out /dev/null 2>/dev/null",
		    dir, v[i].name, v[i].name, v[i].name, v[i].name, ca,
		    v[i].name, v[i].name, v[i].name, ca);
		ck_assert_int_eq(system(cmd) == 0, v[i].stock);
		free(c);
		ck_assert_int_ge(asprintf(&c, "%s/%s.p7s", dir, v[i].name), 0);
		ck_assert_int_eq(slurp(c, 1 << 20, &pem, &plen, &e), 0);
		ck_assert_int_eq(sign_verify("content\n", 8, pem, plen, ca,
		    time(NULL), NULL, &e), -1);
		ck_assert_msg(strstr(e.msg, v[i].vwhy) != NULL, "%s: %s",
		    v[i].name, e.msg);
		free(pem);
		free(k);
		free(c);
	}
	free(ca);
	free(pki);
	tu_rmtree(dir);
}
END_TEST

START_TEST(an_rsa_3072_key_signs_and_verifies)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL), *pem;
	char cmd[8192];
	struct signer s;
	struct err e = { "" };
	size_t plen;
	char *k = tu_path(dir, "rsa.key"), *c = tu_path(dir, "rsa.pem");
	char *ca = tu_path(pki, "ca.pem");

	snprintf(cmd, sizeof(cmd),
	    "cd '%s' && umask 077 && openssl genpkey -algorithm RSA "
	    "-pkeyopt rsa_keygen_bits:3072 -out rsa.key 2>/dev/null && "
	    "openssl req -new -key rsa.key -subj /CN=rsa-host -out rsa.csr && "
	    "printf 'keyUsage=critical,digitalSignature\\n"
	    "extendedKeyUsage=emailProtection\\n' >ext && "
	    "openssl x509 -req -in rsa.csr -CA '%s/ca.pem' -CAkey '%s/ca.key' "
	    "-set_serial 7 -days 30 -extfile ext -out rsa.pem 2>/dev/null",
	    dir, pki, pki);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_msg(sign_load(k, c, ca, &s, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(sign_detached(&s, content, 10, &pem, &plen, &e), 0);
	ck_assert_msg(sign_verify(content, 10, pem, plen, ca, time(NULL), NULL,
	    &e) == 0, "%s", e.msg);
	free(pem); free(k); free(c); free(ca); free(pki);
	sign_free(&s);
	tu_rmtree(dir);
}
END_TEST


/* ---- signed journal checkpoints ---- */

static void
journal_lines(const char *dir, int n, char head[65], uint64_t *seq)
{
	static int calls;
	char agr[32];

	snprintf(agr, sizeof(agr), "agreement-%d", ++calls);
	struct journal j;
	struct err e = { "" };

	ck_assert_msg(journal_open(dir, &j, &e) == 0, "%s", e.msg);
	for (int i = 0; i < n; i++)
		ck_assert_msg(journal_appendv(&j, &e, "terminate", "agreement",
		    agr, "date", "2026-10-15", NULL) == 0, "%s", e.msg);
	memcpy(head, j.head, 65);
	*seq = j.seq;
	journal_close(&j);
}

START_TEST(a_checkpoint_seals_the_journal_and_stock_openssl_verifies_it)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL);
	char *ca = tu_path(pki, "ca.pem"), head[65], cmd[8192];
	struct checkpoint_report r;
	struct signer s;
	struct err e = { "" };
	uint64_t seq;

	ck_assert_int_eq(checkpoint_verify(dir, ca, &r, &e), 1);
	load(pki, &s);
	journal_lines(dir, 3, head, &seq);
	ck_assert_uint_eq(seq, 3);
	ck_assert_msg(checkpoint_write(dir, seq, head, &s, &e) == 0, "%s",
	    e.msg);
	ck_assert_msg(checkpoint_verify(dir, ca, &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.seq, 3);
	ck_assert_uint_eq(r.unsealed, 0);
	ck_assert_ptr_nonnull(strstr(r.signer, "CN=app-1"));
	journal_lines(dir, 2, head, &seq);
	ck_assert_msg(checkpoint_verify(dir, ca, &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.unsealed, 2);
	ck_assert_uint_eq(r.journal_seq, 5);
	snprintf(cmd, sizeof(cmd), "cd '%s' && openssl cms -verify -binary "
	    "-inform PEM -in checkpoint.p7s -content checkpoint -CAfile "
	    "pki/ca.pem -out /dev/null 2>/dev/null", dir);
	ck_assert_int_eq(system(cmd), 0);
	sign_free(&s);
	free(ca); free(pki);
	tu_rmtree(dir);
}
END_TEST

static void
rewrite(const char *path, const char *from, const char *to)
{
	struct err e = { "" };
	char *t, *at, *out;
	size_t len;

	ck_assert_int_eq(slurp(path, 1 << 20, &t, &len, &e), 0);
	ck_assert_ptr_nonnull(at = strstr(t, from));
	ck_assert_int_ge(asprintf(&out, "%.*s%s%s", (int)(at - t), t, to,
	    at + strlen(from)), 0);
	ck_assert_int_eq(durable_write(path, out, strlen(out), 0644, &e), 0);
	free(t);
	free(out);
}

START_TEST(a_forged_or_outdated_checkpoint_is_rejected)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL);
	char *other = tu_mkca(dir, "other", NULL), *ca = tu_path(pki, "ca.pem");
	char *ckpt = tu_path(dir, "checkpoint"), *jpath = tu_path(dir, "journal");
	char head[65], cmd[8192];
	struct checkpoint_report r;
	struct signer s, s2;
	struct err e = { "" };
	uint64_t seq;

	load(pki, &s);
	load(other, &s2);
	journal_lines(dir, 4, head, &seq);
	/* Claims another line: the signature no longer matches. */
	ck_assert_int_eq(checkpoint_write(dir, seq, head, &s, &e), 0);
	rewrite(ckpt, "seq 4", "seq 3");
	ck_assert_int_eq(checkpoint_verify(dir, ca, &r, &e), -1);
	ck_assert_msg(strstr(e.msg, "forged") != NULL, "%s", e.msg);
	/* Signed under a CA that is not trusted. */
	ck_assert_int_eq(checkpoint_write(dir, seq, head, &s2, &e), 0);
	ck_assert_int_eq(checkpoint_verify(dir, ca, &r, &e), -1);
	/* A journal rewritten from scratch (a valid chain of other lines). */
	ck_assert_int_eq(checkpoint_write(dir, seq, head, &s, &e), 0);
	ck_assert_int_eq(checkpoint_verify(dir, ca, &r, &e), 0);
	ck_assert_int_eq(unlink(jpath), 0);
	journal_lines(dir, 4, head, &seq);
	ck_assert_int_eq(checkpoint_verify(dir, ca, &r, &e), -1);
	ck_assert_msg(strstr(e.msg, "rewritten") != NULL, "%s", e.msg);
	/* Lines removed after sealing. */
	ck_assert_int_eq(checkpoint_write(dir, seq, head, &s, &e), 0);
	snprintf(cmd, sizeof(cmd), "sed -i '$d' '%s'", jpath);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(checkpoint_verify(dir, ca, &r, &e), -1);
	ck_assert_msg(strstr(e.msg, "removed") != NULL, "%s", e.msg);
	sign_free(&s);
	sign_free(&s2);
	free(ca); free(pki); free(other); free(ckpt); free(jpath);
	tu_rmtree(dir);
}
END_TEST

/* ---- the trust gate ---- */

static void
append_event(const char *dir, const char *event, char head[65], uint64_t *seq)
{
	struct journal j;
	struct err e = { "" };

	ck_assert_msg(journal_open(dir, &j, &e) == 0, "%s", e.msg);
	ck_assert_msg(journal_appendv(&j, &e, event, "id", "x", NULL) == 0,
	    "%s", e.msg);
	memcpy(head, j.head, 65);
	*seq = j.seq;
	journal_close(&j);
}

START_TEST(the_gate_trusts_a_fresh_host_and_a_hold_not_an_unsealed_termination)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL);
	char *ca = tu_path(pki, "ca.pem"), head[65];
	struct gate_report g;
	struct err e = { "" };
	uint64_t seq;

	ck_assert_msg(checkpoint_gate(dir, ca, NULL, &g, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(g.state, GATE_OK);
	ck_assert_int_eq(g.have_ckpt, 0);
	/* A hold only protects: trusted unsealed. */
	append_event(dir, "hold", head, &seq);
	ck_assert_msg(checkpoint_gate(dir, ca, NULL, &g, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(g.unsealed, 1);
	/* A termination starts destruction: the command that records it
	 * seals it, so one with no checkpoint at all was never sealed. */
	append_event(dir, "terminate", head, &seq);
	ck_assert_int_eq(checkpoint_gate(dir, ca, NULL, &g, &e), -1);
	ck_assert_int_eq(g.state, GATE_NO_CHECKPOINT);
	ck_assert_msg(strstr(e.msg, "(line 2: terminate)") != NULL, "%s",
	    e.msg);
	/* Without a CA there is nothing to check a checkpoint with. */
	ck_assert(checkpoint_gate(dir, NULL, NULL, &g, &e) == 0);
	free(ca); free(pki);
	tu_rmtree(dir);
}
END_TEST

START_TEST(the_gate_refuses_runs_or_certificates_without_a_checkpoint)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL);
	char *ca = tu_path(pki, "ca.pem"), *jpath = tu_path(dir, "journal");
	char *certs = tu_path(dir, "certificates"), head[65];
	struct gate_report g;
	struct signer s;
	struct err e = { "" };
	uint64_t seq;

	append_event(dir, "terminate", head, &seq);
	append_event(dir, "config-loaded", head, &seq);
	ck_assert_int_eq(checkpoint_gate(dir, ca, NULL, &g, &e), -1);
	ck_assert_int_eq(g.state, GATE_NO_CHECKPOINT);
	ck_assert_uint_eq(g.run_line, 2);
	ck_assert_msg(strstr(e.msg, "records a run (line 2: config-loaded) "
	    "but there is no signed checkpoint") != NULL, "%s", e.msg);
	/* Sealed, it passes; the journal removed with its checkpoint while
	 * certificates remain, it does not. */
	load(pki, &s);
	ck_assert_int_eq(checkpoint_write(dir, seq, head, &s, &e), 0);
	ck_assert_msg(checkpoint_gate(dir, ca, NULL, &g, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(g.have_ckpt, 1);
	ck_assert_uint_eq(g.seq, 2);
	ck_assert_int_eq(mkdir(certs, 0755), 0);
	free(tu_write(certs, "c-1.cert", "x\n"));
	ck_assert_int_eq(unlink(jpath), 0);
	{
		char *c1 = tu_path(dir, "checkpoint"), *c2 = tu_path(dir,
		    "checkpoint.p7s");
		ck_assert_int_eq(unlink(c1), 0);
		ck_assert_int_eq(unlink(c2), 0);
		free(c1); free(c2);
	}
	ck_assert_int_eq(checkpoint_gate(dir, ca, NULL, &g, &e), -1);
	ck_assert_int_eq(g.state, GATE_NO_CHECKPOINT);
	ck_assert_msg(strstr(e.msg, "certificates holds certificates") != NULL,
	    "%s", e.msg);
	sign_free(&s);
	free(ca); free(pki); free(jpath); free(certs);
	tu_rmtree(dir);
}
END_TEST

START_TEST(the_gate_names_the_line_and_both_hashes_of_a_rewritten_journal)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL);
	char *other = tu_mkca(dir, "other", NULL), *ca = tu_path(pki, "ca.pem");
	char *jpath = tu_path(dir, "journal"), head[65], h2[65], want[512];
	struct gate_report g;
	struct signer s, s2;
	struct err e = { "" };
	uint64_t seq;

	load(pki, &s);
	load(other, &s2);
	journal_lines(dir, 3, head, &seq);
	ck_assert_int_eq(checkpoint_write(dir, seq, head, &s, &e), 0);
	append_event(dir, "hold", h2, &seq);	/* unsealed: fine */
	ck_assert_msg(checkpoint_gate(dir, ca, NULL, &g, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(g.unsealed, 1);
	/* Rewritten from scratch: line 3 is another line. */
	ck_assert_int_eq(unlink(jpath), 0);
	journal_lines(dir, 4, h2, &seq);
	ck_assert_int_eq(checkpoint_gate(dir, ca, NULL, &g, &e), -1);
	ck_assert_int_eq(g.state, GATE_MISMATCH);
	ck_assert_str_eq(g.expected, head);
	ck_assert_str_ne(g.found, head);
	snprintf(want, sizeof(want), "seals line 3 with hash %s, but the "
	    "journal's line 3 has hash %s", head, g.found);
	ck_assert_msg(strstr(e.msg, want) != NULL, "%s", e.msg);
	/* Shorter than what was sealed. */
	ck_assert_int_eq(unlink(jpath), 0);
	journal_lines(dir, 2, h2, &seq);
	ck_assert_int_eq(checkpoint_gate(dir, ca, NULL, &g, &e), -1);
	ck_assert_int_eq(g.state, GATE_SHORT);
	ck_assert_msg(strstr(e.msg, "has 2 lines, but its signed checkpoint") !=
	    NULL, "%s", e.msg);
	/* Sealed with a key the CA did not issue. */
	ck_assert_int_eq(checkpoint_write(dir, seq, h2, &s2, &e), 0);
	ck_assert_int_eq(checkpoint_gate(dir, ca, NULL, &g, &e), -1);
	ck_assert_int_eq(g.state, GATE_FORGED);
	/* A checkpoint there, and no CA to check it: never trusted. */
	ck_assert_int_eq(checkpoint_gate(dir, NULL, NULL, &g, &e), -1);
	ck_assert_int_eq(g.state, GATE_ERROR);
	sign_free(&s);
	sign_free(&s2);
	free(ca); free(pki); free(other); free(jpath);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_checkpoint_interrupted_between_its_renames_is_still_good)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL);
	char *ca = tu_path(pki, "ca.pem"), *next = tu_path(dir, "checkpoint.next");
	char *sig = tu_path(dir, "checkpoint.p7s"), head[65], text[256], *pem;
	struct checkpoint_report r;
	struct gate_report g;
	struct signer s;
	struct err e = { "" };
	uint64_t seq;
	size_t plen;
	int n;

	load(pki, &s);
	journal_lines(dir, 2, head, &seq);
	ck_assert_int_eq(checkpoint_write(dir, seq, head, &s, &e), 0);
	journal_lines(dir, 2, head, &seq);
	/* Killed after checkpoint.next was written: the old pair stands. */
	{
		char when[32];
		time_t now = time(NULL);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
		n = snprintf(text, sizeof(text), "seq %llu\nhead %s\ntime "
		    "%s\n", (unsigned long long)seq, head, when);
	}
	tu_write_bytes(next, text, (size_t)n);
	ck_assert_msg(checkpoint_verify(dir, ca, &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.seq, 2);
	/* Killed after the new signature replaced the old: the signed
	 * checkpoint.next is the checkpoint. */
	ck_assert_int_eq(sign_detached(&s, text, (size_t)n, &pem, &plen, &e), 0);
	tu_write_bytes(sig, pem, plen);
	ck_assert_msg(checkpoint_verify(dir, ca, &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.seq, 4);
	ck_assert_msg(checkpoint_gate(dir, ca, NULL, &g, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(g.seq, 4);
	/* An unsigned checkpoint.next is never believed. */
	tu_write_bytes(next, "seq 1\nhead 00\ntime x\n", 21);
	ck_assert_int_eq(checkpoint_verify(dir, ca, &r, &e), -1);
	free(pem);
	sign_free(&s);
	free(ca); free(pki); free(next); free(sig);
	tu_rmtree(dir);
}
END_TEST

/* ---- RFC 3161 time-stamps ---- */

static char *
mktsa(const char *pki)
{
	char cmd[8192], *tsa;
	const char *top = getenv("LETHE_TOP");

	snprintf(cmd, sizeof(cmd), "'%s/tests/data/cert_mktsa.sh' '%s'",
	    top ? top : ".", pki);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_ge(asprintf(&tsa, "'%s/tsa-command'", pki), 0);
	return tsa;
}

START_TEST(a_time_stamp_from_a_local_tsa_is_kept_and_verified)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL);
	char *other = tu_mkca(dir, "other", NULL), *tsa = mktsa(pki);
	char *ca = tu_path(pki, "ca.pem"), *ca2 = tu_path(other, "ca.pem");
	char *pem, cmd[8192];
	unsigned char *tsr;
	size_t plen, tsrlen;
	struct tsa_info ti;
	struct signer s;
	struct err e = { "" };
	time_t now = time(NULL);

	load(pki, &s);
	ck_assert_int_eq(sign_detached(&s, content, 10, &pem, &plen, &e), 0);
	ck_assert_msg(tsa_stamp(tsa, 0, pem, plen, &tsr, &tsrlen, &e) == 0,
	    "%s", e.msg);
	ck_assert_msg(tsa_verify(tsr, tsrlen, pem, plen, ca, &ti, &e) == 0,
	    "%s", e.msg);
	ck_assert(ti.gen_time >= now - 60 && ti.gen_time <= now + 60);
	ck_assert_msg(strstr(ti.tsa, "test time-stamping authority") != NULL,
	    "%s", ti.tsa);
	/* Stock openssl agrees. */
	char *xp = tu_path(dir, "x.p7s"), *xt = tu_path(dir, "x.tsr");
	tu_write_bytes(xp, pem, plen);
	tu_write_bytes(xt, tsr, tsrlen);
	free(xp);
	free(xt);
	snprintf(cmd, sizeof(cmd), "cd '%s' && openssl ts -verify -in x.tsr "
	    "-data x.p7s -CAfile pki/ca.pem >/dev/null 2>&1", dir);
	ck_assert_int_eq(system(cmd), 0);
	/* Another signature, another CA, a changed token: rejected. */
	pem[40] ^= 1;
	ck_assert_int_eq(tsa_verify(tsr, tsrlen, pem, plen, ca, &ti, &e), -1);
	pem[40] ^= 1;
	ck_assert_int_eq(tsa_verify(tsr, tsrlen, pem, plen, ca2, &ti, &e), -1);
	for (size_t i = 0; i < tsrlen; i++) {
		tsr[i] ^= 0x10;
		ck_assert_msg(tsa_verify(tsr, tsrlen, pem, plen, ca, &ti,
		    &e) == -1, "token byte %zu changed, accepted", i);
		tsr[i] ^= 0x10;
	}
	free(tsr); free(pem); free(tsa); free(ca); free(ca2); free(pki);
	free(other);
	sign_free(&s);
	tu_rmtree(dir);
}
END_TEST

/* A TSA command: a script in dir (no shell reads tsa_command itself). */
static char *
tsa_script(const char *dir, const char *name, const char *body)
{
	char *text, *path;

	ck_assert_int_ge(asprintf(&text, "#!/bin/sh\n%s\n", body), 0);
	path = tu_write(dir, name, text);
	ck_assert_int_eq(chmod(path, 0755), 0);
	free(text);
	return path;
}

START_TEST(a_tsa_command_that_fails_or_answers_another_request_is_refused)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL);
	char *tsa = mktsa(pki), *pem, cmd[8192], *sh;
	unsigned char *tsr;
	size_t plen, tsrlen;
	struct signer s;
	struct err e = { "" };

	load(pki, &s);
	ck_assert_int_eq(sign_detached(&s, content, 10, &pem, &plen, &e), 0);
	sh = tsa_script(dir, "fails", "echo 'TSA unreachable' >&2; exit 3");
	ck_assert_int_eq(tsa_stamp(sh, 0, pem, plen, &tsr, &tsrlen, &e), -1);
	ck_assert_msg(strstr(e.msg, "exited 3") && strstr(e.msg,
	    "TSA unreachable"), "%s", e.msg);
	free(sh);
	ck_assert_int_eq(tsa_stamp("/bin/echo hello", 0, pem, plen, &tsr,
	    &tsrlen, &e), -1);
	ck_assert_int_eq(tsa_stamp("/bin/true", 0, pem, plen, &tsr, &tsrlen,
	    &e), -1);
	ck_assert_msg(strstr(e.msg, "printed nothing") != NULL, "%s", e.msg);
	/* Shell syntax is refused, never run. */
	ck_assert_int_eq(tsa_stamp("/bin/true; /bin/echo x", 0, pem, plen,
	    &tsr, &tsrlen, &e), -1);
	ck_assert_msg(strstr(e.msg, "unquoted ';'") != NULL, "%s", e.msg);
	/* A replayed answer to an earlier request. */
	ck_assert_int_eq(tsa_stamp(tsa, 0, pem, plen, &tsr, &tsrlen, &e), 0);
	char *old = tu_path(dir, "old.tsr");
	tu_write_bytes(old, tsr, tsrlen);
	free(old);
	free(tsr);
	snprintf(cmd, sizeof(cmd), "cat >/dev/null; cat '%s/old.tsr'", dir);
	sh = tsa_script(dir, "replay", cmd);
	ck_assert_int_eq(tsa_stamp(sh, 0, pem, plen, &tsr, &tsrlen, &e), -1);
	ck_assert_msg(strstr(e.msg, "does not answer") != NULL, "%s", e.msg);
	free(sh);
	free(pem); free(tsa); free(pki);
	sign_free(&s);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_tsa_command_that_hangs_with_its_pipes_closed_is_killed_in_time)
{
	char *dir = tu_tmpdir(), *pki = tu_mkca(dir, "pki", NULL), *pem, *sh;
	unsigned char *tsr = NULL;
	size_t plen, tsrlen;
	struct signer s;
	struct err e = { "" };
	time_t t0;

	load(pki, &s);
	ck_assert_int_eq(sign_detached(&s, content, 10, &pem, &plen, &e), 0);
	sh = tsa_script(dir, "hangs", "exec >&- 2>&- <&-; sleep 300");
	t0 = time(NULL);
	ck_assert_int_eq(tsa_stamp(sh, 1, pem, plen, &tsr, &tsrlen, &e), -1);
	ck_assert_msg(time(NULL) - t0 <= 1 + SPAWN_GRACE_S + 10, "took %ld s",
	    (long)(time(NULL) - t0));
	ck_assert_msg(strstr(e.msg, "no answer within 1 seconds") != NULL,
	    "%s", e.msg);
	free(sh);
	free(pem); free(pki);
	sign_free(&s);
	tu_rmtree(dir);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("sign");
	TCase *tc = tcase_create("sign");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_signature_is_accepted_by_stock_openssl_cms_verify);
	tcase_add_test(tc, a_good_signature_verifies_and_names_its_signer);
	tcase_add_test(tc, every_changed_byte_of_content_or_signature_is_rejected);
	tcase_add_test(tc, a_signature_under_another_ca_is_rejected);
	tcase_add_test(tc, verification_is_as_of_the_given_time);
	tcase_add_test(tc,
	    an_expired_agent_certificate_still_verifies_as_of_its_issue_time);
	tcase_add_test(tc, a_key_readable_by_others_is_refused_with_its_mode);
	tcase_add_test(tc, a_symlinked_key_is_refused);
	tcase_add_test(tc, an_ed25519_key_is_refused_with_a_clear_message);
	tcase_add_test(tc, a_small_rsa_key_is_refused);
	tcase_add_test(tc, a_p384_key_is_refused);
	tcase_add_test(tc, a_certificate_that_does_not_match_the_key_is_refused);
	tcase_add_test(tc, a_certificate_without_email_protection_is_refused);
	tcase_add_test(tc, an_rsa_3072_key_signs_and_verifies);
	tcase_add_test(tc,
	    a_signer_without_key_usage_or_email_protection_never_verifies);
	tcase_add_test(tc,
	    a_checkpoint_seals_the_journal_and_stock_openssl_verifies_it);
	tcase_add_test(tc, a_forged_or_outdated_checkpoint_is_rejected);
	tcase_add_test(tc, the_gate_trusts_a_fresh_host_and_a_hold_not_an_unsealed_termination);
	tcase_add_test(tc, the_gate_refuses_runs_or_certificates_without_a_checkpoint);
	tcase_add_test(tc, the_gate_names_the_line_and_both_hashes_of_a_rewritten_journal);
	tcase_add_test(tc, a_checkpoint_interrupted_between_its_renames_is_still_good);
	tcase_add_test(tc, a_time_stamp_from_a_local_tsa_is_kept_and_verified);
	tcase_add_test(tc,
	    a_tsa_command_that_fails_or_answers_another_request_is_refused);
	tcase_add_test(tc,
	    a_tsa_command_that_hangs_with_its_pipes_closed_is_killed_in_time);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(suite());
}
