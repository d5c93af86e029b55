/* check_cert.c: the certificate format, its checks, and issuing it. */
#include "testutil.h"

#include "certify/cert.h"
#include "certify/manifest.h"
#include "base/date.h"
#include "base/err.h"
#include "certify/issue.h"
#include "certify/sign.h"

#include <time.h>

static const char head[] =
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

static char manifest_hex[65];
static void manifest(struct cert_manifest *m);

/* A complete, consistent certificate dated relative to now. */
static void
sample(struct cert *c)
{
	time_t now = time(NULL);
	struct cert_manifest m;
	day_t today;

	manifest(&m);	/* sets manifest_hex */
	cert_manifest_free(&m);
	cert_init(c);
	c->id = "osde-2024-0001";
	c->issued = now;
	c->standard = CERT_STANDARD;
	c->tool = "lethe 0.1.0 (OpenSSL 3.0.13 30 Jan 2024)";
	c->host = "app-1";
	c->journal_seq = 42;
	c->journal_head = head;
	c->agreement = "osde-2024";
	c->lea = "Oklahoma State Department of Education";
	c->vendor = "Example Learning, Inc.";
	c->trigger = "directive D-0001";
	c->timezone = "America/Chicago";
	c->started = now - 3600;
	c->completed = now - 60;
	today = tz_date_at(c->timezone, c->completed);
	c->trigger_date = today - 10;
	c->deadline = today + 50;
	c->deadline_met = 1;
	c->nmedia = 2;
	for (int i = 0; i < 2; i++) {
		c->media[i].type = i ? "xfs" : "ext4";
		c->media[i].uuid = "2f1c3a52-5a7e-4d7e-9c1f-0c9d1f8e7a11";
		c->media[i].device = "/dev/nvme0n1p2";
		c->media[i].model = "Samsung SSD 980 PRO 1TB";
		c->media[i].serial = "S5GXNF0R123456";
		c->media[i].rotational = "no";
		c->media[i].source = i ? "nightly-backups" : "screener-exports";
	}
	c->performed_by = "lethe on app-1 (cron)";
	c->method_type = "Clear (file-level): flash wear-levelling may retain "
	    "copies outside the file's blocks";
	c->technique = "overwrite, archive-member-removal";
	c->method_details = "1 pass of zeros, fdatasync, page cache dropped, "
	    "names overwritten by rename, ext4 journal checkpointed and zeroed";
	c->verification = "full: every byte read back and compared, all zero";
	c->remaining_matches = 0;
	c->destination = "none (destroyed in place)";
	c->exceptions = "none";
	c->categories = "Assessment, Student Identifiers";
	c->files = 2;
	c->bytes = 300;
	c->bytes_overwritten = 200;
	c->manifest_sha256 = manifest_hex;
	c->retained = "research (de-identified)";
	c->holds = "none";
	c->certify_by = today + 10;
}

static char *
format_ok(const struct cert *c, size_t *len)
{
	struct err e = { "" };
	char *t = NULL;
	ck_assert_msg(cert_format(c, &t, len, &e) == 0, "%s", e.msg);
	return t;
}

START_TEST(a_certificate_survives_format_and_parse_unchanged)
{
	struct cert c, p;
	struct err e = { "" };
	size_t len, len2;
	char *t, *t2;

	sample(&c);
	t = format_ok(&c, &len);
	ck_assert_ptr_nonnull(strstr(t, "\n[media]\ntype = ext4\n"));
	ck_assert_ptr_nonnull(strstr(t, "\n[media 2]\ntype = xfs\n"));
	ck_assert_ptr_nonnull(strstr(t, "deadline_met = yes\n"));
	ck_assert_ptr_nonnull(strstr(t, "standard = NIST SP 800-88 Rev. 2\n"));
	ck_assert_msg(cert_parse("x.cert", t, len, &p, &e) == 0, "%s", e.msg);
	ck_assert_msg(cert_check(&p, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(p.id, c.id);
	ck_assert_str_eq(p.lea, c.lea);
	ck_assert_str_eq(p.method_type, c.method_type);
	ck_assert_str_eq(p.media[1].source, "nightly-backups");
	ck_assert_int_eq(p.issued, c.issued);
	ck_assert_int_eq(p.completed, c.completed);
	ck_assert_int_eq(p.deadline, c.deadline);
	ck_assert_int_eq(p.certify_by, c.certify_by);
	ck_assert_uint_eq(p.journal_seq, 42);
	ck_assert_uint_eq(p.nmedia, 2);
	ck_assert_ptr_nonnull(strstr(t, "\nbytes = 300\nbytes_overwritten = "
	    "200\n"));
	ck_assert_uint_eq(p.bytes_overwritten, 200);
	t2 = format_ok(&p, &len2);
	ck_assert_uint_eq(len, len2);
	ck_assert_mem_eq(t, t2, len);
	free(t); free(t2);
	cert_free(&p);
}
END_TEST

static void
assert_lines_short(const char *t)
{
	for (const char *l = t; *l; ) {
		const char *nl = strchr(l, '\n');
		ck_assert_ptr_nonnull(nl);
		ck_assert_msg(nl - l < 199, "line of %d bytes", (int)(nl - l));
		l = nl + 1;
	}
}

START_TEST(every_line_stays_under_200_bytes_even_with_long_values)
{
	struct cert c, p;
	struct err e = { "" };
	char details[6000], lea[700];
	size_t len, n = 0;
	char *t;

	sample(&c);
	while (n < sizeof(details) - 40)
		n += (size_t)snprintf(details + n, sizeof(details) - n,
		    "pass %zu of zeros verified; ", n);
	details[n - 1] = '\0';	/* no trailing blank */
	memset(lea, 'x', sizeof(lea));
	for (size_t i = 150; i < sizeof(lea); i += 151)
		lea[i] = ' ';
	lea[sizeof(lea) - 1] = '\0';
	c.method_details = details;
	c.lea = lea;
	t = format_ok(&c, &len);
	assert_lines_short(t);
	ck_assert_ptr_nonnull(strstr(t, "\nmethod_details_2 = "));
	ck_assert_ptr_nonnull(strstr(t, "\nlea_4 = "));
	ck_assert_msg(cert_parse("x.cert", t, len, &p, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(p.method_details, details);
	ck_assert_str_eq(p.lea, lea);
	free(t);
	cert_free(&p);
}
END_TEST

START_TEST(a_value_an_ini_reader_would_misread_is_refused)
{
	struct cert c;
	struct err e = { "" };
	char word[200], *t = NULL;
	size_t len;

	sample(&c);
	c.exceptions = "none ; really";
	ck_assert_int_eq(cert_format(&c, &t, &len, &e), -1);
	ck_assert_msg(strstr(e.msg, "[sanitization] exceptions") != NULL, "%s",
	    e.msg);
	sample(&c);
	c.host = "app-1\nissued = 1970-01-01T00:00:00Z";
	ck_assert_int_eq(cert_format(&c, &t, &len, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "control character"));
	sample(&c);
	memset(word, 'w', sizeof(word) - 1);
	word[sizeof(word) - 1] = '\0';
	c.method_details = word;
	ck_assert_int_eq(cert_format(&c, &t, &len, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "without a space"));
	sample(&c);
	c.holds = "";
	ck_assert_int_eq(cert_format(&c, &t, &len, &e), -1);
}
END_TEST

/* Removes line number `which` (0-based) of t. */
static char *
drop_line(const char *t, int which, size_t *len)
{
	char *out = malloc(strlen(t) + 1), *o = out;
	int ln = 0;

	for (const char *l = t; *l; ln++) {
		const char *nl = strchr(l, '\n');
		size_t n = (size_t)(nl - l) + 1;
		if (ln != which) {
			memcpy(o, l, n);
			o += n;
		}
		l += n;
	}
	*o = '\0';
	*len = (size_t)(o - out);
	return out;
}

START_TEST(a_journal_acceptance_is_named_when_there_is_one_and_optional)
{
	struct cert c, p;
	struct err e = { "" };
	size_t len;
	char *t, *at, *acc;

	/* None: no key at all, as in every certificate before the field. */
	sample(&c);
	t = format_ok(&c, &len);
	ck_assert_ptr_null(strstr(t, "journal_accepted"));
	free(t);
	/* One or more: after journal_head, wrapped like any long value, and
	 * read back whole. */
	ck_assert_int_ge(asprintf(&acc, "line 57 on 2026-11-20T08:00:00Z by "
	    "root (restored state_dir from the backup of 2026-11-19, ticket "
	    "4711), line 90 on 2026-11-22T08:00:00Z by admin (journal put back "
	    "after a disk swap, Müller)"), 0);
	c.journal_accepted = acc;
	t = format_ok(&c, &len);
	at = strstr(t, "journal_head = ");
	ck_assert_ptr_nonnull(at);
	ck_assert_ptr_nonnull(strstr(at, "\njournal_accepted = line 57 on "));
	ck_assert_ptr_nonnull(strstr(at, "\njournal_accepted_2 = "));
	ck_assert_msg(cert_parse("x.cert", t, len, &p, &e) == 0, "%s", e.msg);
	ck_assert_msg(cert_check(&p, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(p.journal_accepted, acc);
	cert_free(&p);
	free(t);
	free(acc);
}
END_TEST

START_TEST(every_missing_field_is_rejected)
{
	struct cert c, p;
	struct err e = { "" };
	size_t len, dl;
	int lines = 0, keys = 0;
	char *t;

	sample(&c);
	t = format_ok(&c, &len);
	for (const char *s = t; *s; s++)
		lines += *s == '\n';
	for (int i = 0; i < lines; i++) {
		char *d = drop_line(t, i, &dl);
		const char *l = t;
		for (int k = 0; k < i; k++)
			l = strchr(l, '\n') + 1;
		if (*l == ';' || *l == '\n') {	/* comments and blanks */
			free(d);
			continue;
		}
		if (strncmp(l, "bytes_overwritten = ", 20) == 0) {
			/* Optional: certificates from before it was counted
			 * verify without it. */
			ck_assert_int_eq(cert_parse("x.cert", d, dl, &p, &e), 0);
			ck_assert_msg(cert_check(&p, &e) == 0, "%s", e.msg);
			ck_assert_uint_eq(p.bytes_overwritten, CERT_UNSET);
			cert_free(&p);
			free(d);
			continue;
		}
		keys++;
		int parsed = cert_parse("x.cert", d, dl, &p, &e) == 0;
		ck_assert_msg(!parsed || cert_check(&p, &e) != 0,
		    "line %d removed, still accepted: %.40s", i + 1, l);
		if (parsed && *l != '[')
			ck_assert_msg(strstr(e.msg, "missing") != NULL, "%s",
			    e.msg);
		cert_free(&p);
		free(d);
	}
	ck_assert_int_gt(keys, 45);
	free(t);
}
END_TEST

static int
parse_text(const char *t, struct cert *p, struct err *e)
{
	int rc = cert_parse("t.cert", t, strlen(t), p, e);
	return rc;
}

static char *
replace(const char *t, const char *from, const char *to)
{
	const char *at = strstr(t, from);
	char *out;
	ck_assert_ptr_nonnull(at);
	ck_assert_int_ge(asprintf(&out, "%.*s%s%s", (int)(at - t), t, to,
	    at + strlen(from)), 0);
	return out;
}

START_TEST(more_bytes_overwritten_than_bytes_is_rejected)
{
	struct cert c;
	struct err e = { "" };
	char *t = NULL;
	size_t len;

	sample(&c);
	c.bytes_overwritten = c.bytes + 1;
	ck_assert_int_eq(cert_format(&c, &t, &len, &e), -1);
	ck_assert_msg(strstr(e.msg, "bytes_overwritten 301 exceeds bytes 300")
	    != NULL, "%s", e.msg);
	free(t);
}
END_TEST

START_TEST(deadline_met_contradicting_the_dates_is_rejected)
{
	struct cert c, p;
	struct err e = { "" };
	size_t len;
	char *t, *bad;

	sample(&c);
	c.deadline_met = 0;	/* but completion was well before */
	ck_assert_int_eq(cert_format(&c, &t, &len, &e), -1);
	ck_assert_msg(strstr(e.msg, "deadline_met") != NULL, "%s", e.msg);
	sample(&c);
	t = format_ok(&c, &len);
	bad = replace(t, "deadline_met = yes", "deadline_met = no");
	ck_assert_int_eq(parse_text(bad, &p, &e), 0);
	ck_assert_int_eq(cert_check_fields(&p, &e), 0);
	ck_assert_int_eq(cert_check_dates(&p, &e), 0);
	ck_assert_int_eq(cert_check_deadline(&p, &e), -1);
	ck_assert_msg(strstr(e.msg, "on or before") != NULL, "%s", e.msg);
	cert_free(&p);
	free(t); free(bad);
}
END_TEST

START_TEST(the_deadline_is_judged_in_the_agreements_time_zone)
{
	struct cert c;
	struct err e = { "" };
	day_t d;

	/* 03:00 UTC on 2 March is still 1 March in Chicago. */
	sample(&c);
	ck_assert_int_eq(time_parse_utc("2026-03-02T03:00:00Z", &c.completed),
	    0);
	c.started = c.completed - 60;
	c.issued = c.completed + 60;
	ck_assert_int_eq(date_parse("2026-03-01", &d), 0);
	c.deadline = d;
	c.trigger_date = d - 30;
	c.certify_by = d + 10;
	c.deadline_met = 1;
	ck_assert_msg(cert_check(&c, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(cert_deadline_met("America/Chicago", c.completed, d), 1);
	c.timezone = "UTC";
	ck_assert_int_eq(cert_deadline_met("UTC", c.completed, d), 0);
	ck_assert_int_eq(cert_check(&c, &e), -1);
	c.deadline_met = 0;
	ck_assert_msg(cert_check(&c, &e) == 0, "%s", e.msg);
}
END_TEST

START_TEST(dates_out_of_order_are_rejected)
{
	struct cert c;
	struct err e = { "" };

	sample(&c);
	c.started = c.completed + 1;
	ck_assert_int_eq(cert_check(&c, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "started"));
	sample(&c);
	c.issued = c.completed - 1;
	ck_assert_int_eq(cert_check(&c, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "issued"));
	sample(&c);
	c.trigger_date = c.deadline + 1;
	ck_assert_int_eq(cert_check(&c, &e), -1);
	sample(&c);
	c.certify_by = tz_date_at(c.timezone, c.completed) - 1;
	ck_assert_int_eq(cert_check(&c, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "certify_by"));
	sample(&c);
	c.remaining_matches = 3;
	ck_assert_int_eq(cert_check(&c, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "remaining_matches"));
	sample(&c);
	c.timezone = "Mars/Olympus_Mons";
	ck_assert_int_eq(cert_check(&c, &e), -1);
	sample(&c);
	c.technique = "overwrite, shredding";
	ck_assert_int_eq(cert_check(&c, &e), -1);
	sample(&c);
	c.trigger = "whim";
	ck_assert_int_eq(cert_check(&c, &e), -1);
}
END_TEST

START_TEST(unknown_repeated_or_misplaced_keys_are_rejected)
{
	struct cert c, p;
	struct err e = { "" };
	size_t len;
	char *t, *bad;

	sample(&c);
	t = format_ok(&c, &len);
	bad = replace(t, "host = app-1\n", "host = app-1\nhots = app-1\n");
	ck_assert_int_eq(parse_text(bad, &p, &e), -1);
	ck_assert_msg(strstr(e.msg, "t.cert:") && strstr(e.msg, "unknown key"),
	    "%s", e.msg);
	cert_free(&p); free(bad);
	bad = replace(t, "host = app-1\n", "host = app-1\nhost = app-2\n");
	ck_assert_int_eq(parse_text(bad, &p, &e), -1);
	cert_free(&p); free(bad);
	bad = replace(t, "host = app-1\n", "host = app-1\nhost_3 = x\n");
	ck_assert_int_eq(parse_text(bad, &p, &e), -1);
	cert_free(&p); free(bad);
	bad = replace(t, "[delivery]", "[deliveries]");
	ck_assert_int_eq(parse_text(bad, &p, &e), -1);
	cert_free(&p); free(bad);
	bad = replace(t, "[media 2]", "[media 3]");
	ck_assert_int_eq(parse_text(bad, &p, &e), -1);
	cert_free(&p); free(bad);
	bad = replace(t, "[data]", "[certificate]");
	ck_assert_int_eq(parse_text(bad, &p, &e), -1);
	cert_free(&p); free(bad);
	bad = replace(t, "files = 2", "files = -2");
	ck_assert_int_eq(parse_text(bad, &p, &e), -1);
	cert_free(&p); free(bad);
	free(t);
}
END_TEST

static void
manifest(struct cert_manifest *m)
{
	struct err e = { "" };
	char h[65];

	ck_assert_int_eq(cert_manifest_init(m, &e), 0);
	cert_sha256_hex("a", 1, h);
	ck_assert_int_eq(cert_manifest_add(m, "/srv/edtech/exports/osde/a.csv",
	    100, h, &e), 0);
	ck_assert_int_eq(cert_manifest_add(m, "/srv/edtech/odd\tname\nx\\y",
	    200, h, &e), 0);
	ck_assert_uint_eq(m->files, 2);
	ck_assert_uint_eq(m->bytes, 300);
	cert_sha256_hex(m->text, m->len, manifest_hex);
}

START_TEST(a_manifest_that_differs_from_the_certificate_is_rejected)
{
	struct cert_manifest m;
	struct cert c;
	struct err e = { "" };

	manifest(&m);
	sample(&c);
	ck_assert_ptr_nonnull(strstr(m.text, "odd\\tname\\nx\\\\y\t200\t"));
	ck_assert_msg(cert_manifest_check(&c, m.text, m.len, &e) == 0, "%s",
	    e.msg);
	for (size_t i = 0; i < m.len; i++) {
		m.text[i] ^= 0x01;
		ck_assert_int_eq(cert_manifest_check(&c, m.text, m.len, &e), -1);
		m.text[i] ^= 0x01;
	}
	ck_assert_int_eq(cert_manifest_check(&c, m.text, m.len - 1, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "SHA-256"));
	c.files = 3;
	ck_assert_int_eq(cert_manifest_check(&c, m.text, m.len, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "lists 2 files"));
	cert_manifest_free(&m);
}
END_TEST

START_TEST(issuing_writes_three_files_once_and_stock_openssl_accepts_them)
{
	char *dir = tu_tmpdir(), cmd[8192], path[4200];
	struct cert_manifest m;
	struct signer s;
	struct cert c;
	struct err e = { "" };
	struct stat st;

	free(tu_mkca(dir, "pki", NULL));
	snprintf(cmd, sizeof(cmd), "%s/pki/agent.key", dir);
	snprintf(path, sizeof(path), "%s/pki/agent.pem", dir);
	ck_assert_int_eq(sign_load(cmd, path, NULL, &s, &e), 0);
	manifest(&m);
	sample(&c);
	ck_assert_msg(cert_write_files(dir, &c, m.text, m.len, &s, &e) == 0,
	    "%s", e.msg);
	snprintf(path, sizeof(path), "%s/certificates/%s.cert", dir, c.id);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0644);
	snprintf(path, sizeof(path), "%s/certificates/%s.cert.p7s", dir, c.id);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0644);
	snprintf(path, sizeof(path), "%s/certificates/%s.manifest", dir, c.id);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	snprintf(cmd, sizeof(cmd), "cd '%s/certificates' && openssl cms -verify "
	    "-binary -inform PEM -in %s.cert.p7s -content %s.cert -CAfile "
	    "../pki/ca.pem -out /dev/null 2>/dev/null", dir, c.id, c.id);
	ck_assert_int_eq(system(cmd), 0);
	/* Issued exactly once. */
	ck_assert_int_eq(cert_write_files(dir, &c, m.text, m.len, &s, &e), -1);
	ck_assert_msg(strstr(e.msg, "already issued") != NULL, "%s", e.msg);
	/* A manifest that is not the one certified is refused. */
	c.id = "osde-2024-0002";
	m.text[m.len - 2] ^= 1;
	ck_assert_int_eq(cert_write_files(dir, &c, m.text, m.len, &s, &e), -1);
	snprintf(path, sizeof(path), "%s/certificates/%s.cert", dir, c.id);
	ck_assert_int_eq(stat(path, &st), -1);
	/* And an id that could escape the directory is refused. */
	c.id = "../evil";
	ck_assert_int_eq(cert_write_files(dir, &c, m.text, m.len, &s, &e), -1);
	cert_manifest_free(&m);
	sign_free(&s);
	tu_rmtree(dir);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("cert");
	TCase *tc = tcase_create("cert");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_certificate_survives_format_and_parse_unchanged);
	tcase_add_test(tc, every_line_stays_under_200_bytes_even_with_long_values);
	tcase_add_test(tc, a_value_an_ini_reader_would_misread_is_refused);
	tcase_add_test(tc, a_journal_acceptance_is_named_when_there_is_one_and_optional);
	tcase_add_test(tc, every_missing_field_is_rejected);
	tcase_add_test(tc, more_bytes_overwritten_than_bytes_is_rejected);
	tcase_add_test(tc, deadline_met_contradicting_the_dates_is_rejected);
	tcase_add_test(tc, the_deadline_is_judged_in_the_agreements_time_zone);
	tcase_add_test(tc, dates_out_of_order_are_rejected);
	tcase_add_test(tc, unknown_repeated_or_misplaced_keys_are_rejected);
	tcase_add_test(tc, a_manifest_that_differs_from_the_certificate_is_rejected);
	tcase_add_test(tc,
	    issuing_writes_three_files_once_and_stock_openssl_accepts_them);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(suite());
}
