/*
 * testutil.h: the helpers the Check unit tests share (tests/README says
 * when to write which kind of test).  Everything here reads and writes
 * with plain stdio, the shell and stock tools, never through the code
 * under test, so that a test cannot agree with a bug.
 *
 *   tu_tmpdir, tu_rmtree       a fresh directory per test (root: under
 *                              /var/lib/lethe-tests, as StrictModes want)
 *   tu_path, tu_data           paths: DIR/NAME, tests/data/NAME
 *   tu_write, tu_write_bytes,  files in and out, and edited by hand
 *   tu_readall, tu_exists,
 *   tu_tmpfd, tu_count,
 *   tu_replace
 *   tu_shq, TU_SH              a shell command run in a directory
 *   tu_sha256_hex              a digest computed by OpenSSL, not by lethe
 *   tu_expect                  "FILE:LINE: msg" is among the diagnostics
 *   tu_mkca                    a signing CA and agent key (certs/mkca)
 *   tu_host_*                  a whole vendor host on disk, as
 *                              tests/e2e/lib.sh's mkhost makes one
 *   tu_run                     runs a suite; main() returns it
 */
#ifndef LETHE_TESTUTIL_H
#define LETHE_TESTUTIL_H

#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base/err.h"
#include "conf/config.h"
#include "conf/policy.h"

/* A fresh temporary directory for one test; removed by tu_rmtree.  As
 * root it lies under a root-owned 0755 base ($LETHE_TEST_BASE, default
 * /var/lib/lethe-tests), not /tmp: lethe's StrictModes refuse anything
 * below a directory others can write (as tests/e2e/lib.sh does). */
static inline char *
tu_tmpdir(void)
{
	const char *base = getenv("LETHE_TEST_BASE");
	char *p;

	if (geteuid() != 0)
		base = "/tmp";
	else if (base == NULL || *base == '\0')
		base = "/var/lib/lethe-tests";
	if (geteuid() == 0 && mkdir(base, 0755) != 0)
		ck_assert_msg(errno == EEXIST, "cannot make %s", base);
	ck_assert_int_ge(asprintf(&p, "%s/lethe-unit.XXXXXX", base), 0);
	ck_assert_ptr_nonnull(mkdtemp(p));
	return p;
}

static inline void
tu_rmtree(char *p)
{
	char cmd[4200];
	if (p == NULL)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", p);
	free(p);
}

/* "dir/name", malloc'd. */
static inline char *
tu_path(const char *dir, const char *name)
{
	char *p;
	ck_assert_int_ge(asprintf(&p, "%s/%s", dir, name), 0);
	return p;
}

/* Writes text to dir/name (mode 0644) and returns the malloc'd path. */
static inline char *
tu_write(const char *dir, const char *name, const char *text)
{
	char *path;
	FILE *f;
	ck_assert_int_ge(asprintf(&path, "%s/%s", dir, name), 0);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* Writes len bytes to path (created or truncated). */
static inline void
tu_write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* The whole file, malloc'd and NUL-terminated (its length in *len when
 * len is not NULL), or NULL when it cannot be opened. */
static inline char *
tu_readall(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	size_t cap = 0, n = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			p = realloc(p, cap);
			ck_assert_ptr_nonnull(p);
		}
		size_t r = fread(p + n, 1, 4096, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	p[n] = '\0';
	if (len)
		*len = n;
	return p;
}

/* Rewrites the file at path with its first `from` replaced by `to`
 * (an edit by hand: tampering, damage); fails the test when there is no
 * `from`. */
static inline void
tu_replace(const char *path, const char *from, const char *to)
{
	char *text = tu_readall(path, NULL), *p;
	FILE *f;

	ck_assert_msg(text != NULL, "cannot read %s", path);
	p = strstr(text, from);
	ck_assert_msg(p != NULL, "%s has no '%s'", path, from);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
	ck_assert_int_eq(fclose(f), 0);
	free(text);
}

/* Whether dir/name exists (a link is not followed). */
static inline int
tu_exists(const char *dir, const char *name)
{
	char *p = tu_path(dir, name);
	struct stat st;
	int r = lstat(p, &st) == 0;
	free(p);
	return r;
}

/* An anonymous file in dir (already unlinked), open for reading and
 * writing at offset 0. */
static inline int
tu_tmpfd(const char *dir)
{
	char *p;
	int fd;

	ck_assert_int_ge(asprintf(&p, "%s/t.XXXXXX", dir), 0);
	fd = mkstemp(p);
	ck_assert_int_ge(fd, 0);
	unlink(p);
	free(p);
	return fd;
}

/* How many times needle occurs in the file at path (0 when it cannot be
 * read). */
static inline int
tu_count(const char *path, const char *needle)
{
	char *text = tu_readall(path, NULL);
	int n = 0;

	for (const char *p = text; p != NULL && (p = strstr(p, needle)) != NULL;
	    p += strlen(needle))
		n++;
	free(text);
	return n;
}

/* Runs a shell command (printf-style) in dir; returns its exit status
 * (255 when it did not exit). */
__attribute__((format(printf, 2, 3))) static inline int
tu_shq(const char *dir, const char *fmt, ...)
{
	char cmd[8192], full[8400];
	va_list ap;
	int n, st;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ck_assert(n > 0 && (size_t)n < sizeof(cmd));
	n = snprintf(full, sizeof(full), "cd '%s' && { %s\n}", dir, cmd);
	ck_assert(n > 0 && (size_t)n < sizeof(full));
	st = system(full);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

/* Fails the test unless the command succeeds in dir. */
#define TU_SH(dir, ...) ck_assert_msg(tu_shq((dir), __VA_ARGS__) == 0, \
	"command failed: %s", #__VA_ARGS__)

/* Lowercase hex SHA-256 of buf, by OpenSSL's EVP (not lethe's code). */
static inline void
tu_sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n;
	ck_assert_int_eq(EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL), 1);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Fails unless d holds exactly "FILE:LINE: msg" (line 0: "FILE: msg"). */
static inline void
tu_expect(const struct diags *d, const char *file, int line, const char *msg)
{
	char want[2048];
	int n;

	if (line > 0)
		n = snprintf(want, sizeof(want), "%s:%d: %s", file, line, msg);
	else
		n = snprintf(want, sizeof(want), "%s: %s", file, msg);
	ck_assert(n > 0 && (size_t)n < sizeof(want));
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i], want) == 0)
			return;
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "  got: %s\n", d->v[i]);
	ck_abort_msg("missing diagnostic: %s", want);
}

/* Path of a fixture in tests/data. */
static inline char *
tu_data(const char *name)
{
	char *path;
	const char *top = getenv("LETHE_TOP");
	ck_assert_int_ge(asprintf(&path, "%s/tests/data/%s", top ? top : ".",
	    name), 0);
	return path;
}

/* A throwaway signing CA and agent key in dir/sub (certs/mkca, vendor
 * "Test Vendor, Inc.", host app-1, plus extra options or NULL): ca.pem,
 * agent.key (0600), agent.pem.  Returns the malloc'd dir/sub. */
static inline char *
tu_mkca(const char *dir, const char *sub, const char *extra)
{
	char cmd[8192], *out;
	const char *top = getenv("LETHE_TOP");

	ck_assert_int_ge(asprintf(&out, "%s/%s", dir, sub), 0);
	ck_assert_int_lt(snprintf(cmd, sizeof(cmd),
	    "'%s/certs/mkca' --vendor 'Test Vendor, Inc.' --host app-1 %s "
	    "'%s' 2>/dev/null", top ? top : ".", extra ? extra : "", out),
	    (int)sizeof(cmd));
	ck_assert_int_eq(system(cmd), 0);
	return out;
}

/* A vendor host on disk, as tests/e2e/lib.sh's mkhost makes one: in
 * top, lethe.conf (allowed root top/srv, state top/state, policies
 * top/policies.d, host test-host), a CA and agent key in top/certs, and a
 * sendmail stand-in that keeps each message it accepts as
 * top/mail/N.eml.  Policies are added with tu_host_policy; tu_host_load
 * then loads config and policies as every command does, failing the
 * test on any diagnostic. */
struct tu_host {
	char *top, *srv, *state, *conf, *mail;
	struct config cfg;
	struct policyset ps;
	int loaded;
};

static inline void
tu_host_init(struct tu_host *h)
{
	char *certs, *text;

	memset(h, 0, sizeof(*h));
	h->top = tu_tmpdir();
	h->srv = tu_path(h->top, "srv");
	h->state = tu_path(h->top, "state");
	h->conf = tu_path(h->top, "lethe.conf");
	h->mail = tu_path(h->top, "mail");
	TU_SH(h->top, "mkdir -p srv policies.d mail bin && chmod 0755 . srv "
	    "policies.d bin");
	certs = tu_mkca(h->top, "certs", NULL);
	free(certs);
	ck_assert_int_ge(asprintf(&text, "#!/bin/sh\n"
	    "n=$(ls '%s' | wc -l)\n"
	    "cat > '%s'/$((n + 1)).eml\n", h->mail, h->mail), 0);
	free(tu_write(h->top, "bin/sendmail", text));
	free(text);
	TU_SH(h->top, "chmod 0755 bin/sendmail");
	ck_assert_int_ge(asprintf(&text,
	    "[agent]\n"
	    "state_dir = %1$s/state\n"
	    "policy_dir = %1$s/policies.d\n"
	    "allowed_roots = %1$s/srv\n"
	    "host = test-host\n"
	    "[vendor]\n"
	    "name = Example Learning, Inc.\n"
	    "contact = privacy@example.com\n"
	    "[signing]\n"
	    "key = %1$s/certs/agent.key\n"
	    "cert = %1$s/certs/agent.pem\n"
	    "chain = %1$s/certs/ca.pem\n"
	    "[notify]\n"
	    "sendmail = %1$s/bin/sendmail\n"
	    "from = privacy@example.com\n", h->top), 0);
	free(tu_write(h->top, "lethe.conf", text));
	free(text);
}

/* Writes top/policies.d/ID.ini: an [agreement] with id, lea "District
 * ID", contact dpo@ID.example, then the rest, printf-style: more keys, a
 * blank line, the [dataset "NAME"] sections (as lib.sh's mkpolicy). */
__attribute__((format(printf, 3, 4))) static inline void
tu_host_policy(struct tu_host *h, const char *id, const char *fmt, ...)
{
	char *rest, *text, name[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&rest, fmt, ap);
	va_end(ap);
	ck_assert_int_ge(n, 0);
	ck_assert_int_ge(asprintf(&text, "[agreement]\nid = %s\n"
	    "lea = District %s\ncontact = dpo@%s.example\n%s", id, id, id,
	    rest), 0);
	snprintf(name, sizeof(name), "policies.d/%s.ini", id);
	free(tu_write(h->top, name, text));
	free(text);
	free(rest);
}

/* Loads lethe.conf and the policies (again, after a change). */
static inline void
tu_host_load(struct tu_host *h)
{
	struct diags d = { 0 };
	int rc;

	if (h->loaded) {
		policy_free(&h->ps);
		config_free(&h->cfg);
	}
	rc = config_load(h->conf, &h->cfg, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "  %s\n", d.v[i]);
	ck_assert_msg(rc == 0 && d.n == 0, "%s does not load", h->conf);
	rc = policy_load_dir(h->cfg.policy_dir, &h->cfg, &h->ps, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "  %s\n", d.v[i]);
	ck_assert_msg(rc == 0 && d.n == 0, "the policies do not load");
	diag_free(&d);
	h->loaded = 1;
}

static inline void
tu_host_free(struct tu_host *h)
{
	if (h->loaded) {
		policy_free(&h->ps);
		config_free(&h->cfg);
	}
	free(h->srv);
	free(h->state);
	free(h->conf);
	free(h->mail);
	if (getenv("LETHE_KEEP_TMP") != NULL) {
		fprintf(stderr, "kept %s\n", h->top);
		free(h->top);
	} else
		tu_rmtree(h->top);
	memset(h, 0, sizeof(*h));
}

/* Runs a suite and returns the process exit status. */
static inline int
tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int nf;
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
