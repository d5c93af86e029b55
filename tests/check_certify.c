/*
 * check_certify.c: issuing a certificate from a disposition's record
 * (certify/certify.h, certify()), on a host made on disk.  What the LEA
 * gets must be true and checkable with stock tools: the counts are the
 * manifest's rows, the signature verifies with stock openssl against the
 * vendor CA and fails on any changed byte, a partial disposition says
 * partial and never "deadline met", and a run that crashed after writing
 * the certificate never issues or queues it twice.
 */
#include "testutil.h"

#include "base/date.h"
#include "certify/cert.h"
#include "certify/manifest.h"
#include "certify/certify.h"
#include "certify/record.h"
#include "certify/sign.h"
#include "deliver/letters.h"
#include "dispose/dispose.h"
#include "plan/events.h"
#include "state/journal.h"

#include <time.h>

static struct tu_host h;
static const char *const ID = "osde-20261123-4";

/* A disposition's manifest: two files overwritten (names, sizes, the
 * digests of their content before destruction) and a symbolic link
 * removed without reading it ("-"). */
static const char manifest_rows[] =
    "/srv/exports/Jordan_Alvarez.csv\t1200\t"
    "1f0b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9\n"
    "/srv/exports/Amara Okafor.csv\t34\t"
    "aa0b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9\n"
    "/srv/exports/latest.csv\t0\t-\n";

static void
setup(void)
{
	tu_host_init(&h);
	tu_host_policy(&h, "osde", "certify_within = 10d\n\n"
	    "[dataset \"exports\"]\npath = %s/srv/exports/**\n"
	    "categories = Assessment\n", h.top);
	tu_host_load(&h);
}

static void
teardown(void)
{
	tu_host_free(&h);
}

static day_t
today(void)
{
	return tz_date_at(NULL, time(NULL));
}

/* What a run leaves before certify(): work/ID/manifest.final, the record
 * (partial or not), and the journal's disposition-start and -complete (or
 * -fail partial=yes) lines.  Returns the replayed events in *ev. */
static void
disposition_done(int partial, struct journal *j, struct events *ev)
{
	const struct agreement *a = policy_find(&h.ps, "osde");
	char *work, td[11], dl[11];
	size_t ds[] = { 0 };
	struct dispose_out out;
	struct record r;
	struct err e = { "" };
	time_t now = time(NULL);

	ck_assert_ptr_nonnull(a);
	TU_SH(h.top, "mkdir -p -m 0700 state/work/%s", ID);
	work = tu_path(h.state, "work/osde-20261123-4/manifest.final");
	{
		char *text;
		ck_assert_int_ge(asprintf(&text, "%s%s", CERT_MANIFEST_HEADER,
		    manifest_rows), 0);
		tu_write_bytes(work, text, strlen(text));
		free(text);
	}
	memset(&out, 0, sizeof(out));
	out.started = now - 30;
	out.completed = now - 5;
	out.files = 2;
	out.links = 1;
	out.bytes = 1234;
	out.overwritten_bytes = 1234;
	out.verified_bytes = 1234;
	out.techniques = DT_OVERWRITE;
	out.categories = a->ds[0].categories;
	if (partial) {
		out.remaining = 1;
		out.nexceptions = 1;
		snprintf(out.exceptions, sizeof(out.exceptions), "a file of "
		    "dataset exports could not be destroyed");
	}
	snprintf(out.manifest_path, sizeof(out.manifest_path), "%s", work);
	memset(ev, 0, sizeof(*ev));
	record_from(&r, &h.cfg, a, ID, "termination", today() - 40,
	    today() + 5, ds, 1, ev, &out);
	r.partial = partial;
	ck_assert_msg(record_write(h.state, &r, &e) == 0, "%s", e.msg);
	ck_assert_msg(journal_open(h.state, j, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(journal_appendv(j, &e, "disposition-start", "id", ID,
	    "agreement", "osde", "trigger", "termination", "datasets",
	    "exports", "trigger_date", date_format(today() - 40, td),
	    "deadline", date_format(today() + 5, dl), NULL), 0);
	if (partial)
		ck_assert_int_eq(journal_appendv(j, &e, "disposition-fail",
		    "id", ID, "reason", "1 problem", "partial", "yes", "files",
		    "3", NULL), 0);
	else
		ck_assert_int_eq(journal_appendv(j, &e, "disposition-complete",
		    "id", ID, "files", "3", "bytes", "1234", "remaining", "0",
		    "datasets", "exports", NULL), 0);
	ck_assert_msg(events_load(h.state, ev, &e) == 0, "%s", e.msg);
	free(work);
}

/* What run does for a finished disposition: certify() on ID, its message
 * queued, then certificate-issued journaled; fails the test unless each
 * succeeds. */
static void
issue(struct journal *j, const struct events *ev)
{
	const struct ev_disposition *dp = events_disposition(ev, ID);
	struct certified ci;
	struct err e = { "" };

	ck_assert_ptr_nonnull(dp);
	ck_assert_msg(certify(&h.cfg, &h.ps, ev, dp, j, &ci, &e) == 0,
	    "certify: %s", e.msg);
	ck_assert_str_eq(ci.id, ID);
	ck_assert_msg(deliver_cert(&h.cfg, j, ci.id, ci.to, &e) == 0,
	    "deliver_cert: %s", e.msg);
	ck_assert_msg(certify_issued(j, dp, &ci, &e) == 0, "certify_issued: %s",
	    e.msg);
}

/* Parses state/certificates/ID.cert into *c (its text in *text). */
static void
parsed(struct cert *c, char **text)
{
	char *path = tu_path(h.state, "certificates/osde-20261123-4.cert");
	size_t len;
	struct err e = { "" };

	*text = tu_readall(path, &len);
	ck_assert_msg(*text != NULL, "no certificate %s", path);
	cert_init(c);
	ck_assert_msg(cert_parse(path, *text, len, c, &e) == 0, "%s", e.msg);
	free(path);
}

/* Stock openssl's verdict on the certificate: 0 when it verifies. */
static int
stock_verify(void)
{
	return tu_shq(h.state, "cd certificates && openssl cms -verify -binary "
	    "-inform PEM -in %1$s.cert.p7s -content %1$s.cert -CAfile "
	    "../../certs/ca.pem -out /dev/null 2>/dev/null", ID);
}

START_TEST(the_certificate_counts_what_the_manifest_lists_and_verifies)
{
	struct journal j;
	struct events ev;
	struct cert c;
	struct err e = { "" };
	char *text, *mpath, *mtext, sha[65];
	size_t mlen;
	uint64_t rows = 0, bytes = 0;

	disposition_done(0, &j, &ev);
	issue(&j, &ev);
	parsed(&c, &text);
	/* The manifest sent with it, counted here, not by lethe. */
	mpath = tu_path(h.state, "certificates/osde-20261123-4.manifest");
	mtext = tu_readall(mpath, &mlen);
	ck_assert_ptr_nonnull(mtext);
	for (const char *p = strchr(mtext, '\n'); p && p[1]; p = strchr(p + 1,
	    '\n')) {
		rows++;
		bytes += strtoull(strchr(p + 1, '\t') + 1, NULL, 10);
	}
	ck_assert_uint_eq(rows, 3);
	ck_assert_uint_eq(c.files, rows);
	ck_assert_uint_eq(c.bytes, bytes);
	tu_sha256_hex(mtext, mlen, sha);
	ck_assert_str_eq(c.manifest_sha256, sha);
	ck_assert_msg(cert_manifest_check(&c, mtext, mlen, &e) == 0, "%s",
	    e.msg);
	/* What the LEA reads. */
	ck_assert_str_eq(c.id, ID);
	ck_assert_str_eq(c.agreement, "osde");
	ck_assert_str_eq(c.lea, "District osde");
	ck_assert_str_eq(c.vendor, "Example Learning, Inc.");
	ck_assert_str_eq(c.result, "complete");
	ck_assert_int_eq(c.deadline_met, 1);
	ck_assert_str_eq(c.exceptions, "none");
	ck_assert_msg(cert_check(&c, &e) == 0, "lethe verify would say: %s",
	    e.msg);
	ck_assert_int_eq(stock_verify(), 0);
	/* Journaled once, and queued for the agreement's contact. */
	{
		char *jp = tu_path(h.state, "journal"), *ob;
		ck_assert_int_eq(tu_count(jp, " certificate-issued id=" "osde-"
		    "20261123-4 "), 1);
		ob = tu_path(h.state, "outbox/osde-20261123-4.eml");
		ck_assert_int_eq(tu_count(ob, "To: dpo@osde.example"), 1);
		free(jp);
		free(ob);
	}
	cert_free(&c);
	free(text);
	free(mtext);
	free(mpath);
	journal_close(&j);
	events_free(&ev);
}
END_TEST

START_TEST(a_partial_disposition_is_certified_as_partial_never_deadline_met)
{
	struct journal j;
	struct events ev;
	struct cert c;
	struct err e = { "" };
	char *text;

	disposition_done(1, &j, &ev);
	ck_assert_int_eq(events_disposition(&ev, ID)->partial, 1);
	issue(&j, &ev);
	parsed(&c, &text);
	ck_assert_str_eq(c.result, "partial");
	ck_assert_int_eq(cert_partial(&c), 1);
	/* Completed before its deadline, and still not met: it is not
	 * finished. */
	ck_assert_int_eq(c.deadline_met, 0);
	ck_assert_msg(strncmp(c.exceptions, "PARTIAL: ", 9) == 0, "%s",
	    c.exceptions);
	ck_assert_msg(strstr(c.exceptions, "a file of dataset exports could "
	    "not be destroyed") != NULL, "%s", c.exceptions);
	ck_assert_uint_eq(c.files, 3);	/* what it did destroy */
	ck_assert_msg(cert_check(&c, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(stock_verify(), 0);
	cert_free(&c);
	free(text);
	journal_close(&j);
	events_free(&ev);
}
END_TEST

/* Replaces the first `from` in file rel (below state/) by `to`. */
static void
edit(const char *rel, const char *from, const char *to)
{
	char *path = tu_path(h.state, rel);

	tu_replace(path, from, to);
	free(path);
}

START_TEST(a_tampered_certificate_or_manifest_fails_verification)
{
	struct journal j;
	struct events ev;
	struct cert c;
	struct err e = { "" };
	char *text, *sig, *ca = tu_path(h.top, "certs/ca.pem");
	char *sp = tu_path(h.state, "certificates/osde-20261123-4.cert.p7s");
	char *mp = tu_path(h.state, "certificates/osde-20261123-4.manifest");
	char *mtext;
	size_t slen, mlen;
	struct sign_info si;

	disposition_done(0, &j, &ev);
	issue(&j, &ev);
	ck_assert_int_eq(stock_verify(), 0);
	/* One more file claimed: stock openssl and lethe both refuse it. */
	edit("certificates/osde-20261123-4.cert", "\nfiles = 3\n",
	    "\nfiles = 4\n");
	ck_assert_int_ne(stock_verify(), 0);
	parsed(&c, &text);
	sig = tu_readall(sp, &slen);
	ck_assert_ptr_nonnull(sig);
	ck_assert_int_eq(sign_verify(text, strlen(text), sig, slen, ca,
	    time(NULL), &si, &e), -1);
	cert_free(&c);
	free(text);
	/* Put back, it verifies again; a row dropped from the manifest does
	 * not match the certificate. */
	edit("certificates/osde-20261123-4.cert", "\nfiles = 4\n",
	    "\nfiles = 3\n");
	ck_assert_int_eq(stock_verify(), 0);
	parsed(&c, &text);
	ck_assert_int_eq(sign_verify(text, strlen(text), sig, slen, ca,
	    time(NULL), &si, &e), 0);
	edit("certificates/osde-20261123-4.manifest", "Amara Okafor",
	    "Amara Okafoe");
	mtext = tu_readall(mp, &mlen);
	ck_assert_int_eq(cert_manifest_check(&c, mtext, mlen, &e), -1);
	cert_free(&c);
	free(text);
	free(sig);
	free(mtext);
	free(ca);
	free(sp);
	free(mp);
	journal_close(&j);
	events_free(&ev);
}
END_TEST

START_TEST(a_run_that_crashed_after_issuing_issues_and_queues_nothing_twice)
{
	struct journal j;
	struct events ev;
	struct err e = { "" };
	char *cp = tu_path(h.state, "certificates/osde-20261123-4.cert");
	char *jp = tu_path(h.state, "journal"), *before, *after, *jtext;
	size_t blen, alen, jlen;

	disposition_done(0, &j, &ev);
	issue(&j, &ev);
	before = tu_readall(cp, &blen);
	ck_assert_ptr_nonnull(before);
	journal_close(&j);
	events_free(&ev);
	/* Killed before its certificate-issued line reached the disk: the
	 * journal ends before it, the files and the queued message stay. */
	jtext = tu_readall(jp, &jlen);
	{
		char *last = strstr(jtext, " certificate-issued ");
		ck_assert_ptr_nonnull(last);
		while (last > jtext && last[-1] != '\n')
			last--;
		tu_write_bytes(jp, jtext, (size_t)(last - jtext));
	}
	ck_assert_int_eq(tu_count(jp, " certificate-issued "), 0);
	ck_assert_msg(journal_open(h.state, &j, &e) == 0, "%s", e.msg);
	ck_assert_msg(events_load(h.state, &ev, &e) == 0, "%s", e.msg);
	ck_assert_ptr_null(events_disposition(&ev, ID)->cert);
	sleep(1);		/* a rewrite would show in the issue time */
	issue(&j, &ev);
	after = tu_readall(cp, &alen);
	ck_assert_uint_eq(alen, blen);
	ck_assert_msg(memcmp(before, after, blen) == 0, "re-issued");
	ck_assert_int_eq(tu_count(jp, " certificate-issued "), 1);
	ck_assert_int_eq(tu_shq(h.state, "test $(ls outbox | wc -l) = 1"), 0);
	ck_assert_int_eq(tu_count(jp, " message-queued "), 1);
	free(before);
	free(after);
	free(jtext);
	free(cp);
	free(jp);
	journal_close(&j);
	events_free(&ev);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("certify");
	TCase *tc = tcase_create("certify");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, the_certificate_counts_what_the_manifest_lists_and_verifies);
	tcase_add_test(tc, a_partial_disposition_is_certified_as_partial_never_deadline_met);
	tcase_add_test(tc, a_tampered_certificate_or_manifest_fails_verification);
	tcase_add_test(tc, a_run_that_crashed_after_issuing_issues_and_queues_nothing_twice);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
