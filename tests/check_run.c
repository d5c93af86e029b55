/*
 * check_run.c: the daily run (run.h, run_all) on a whole host made on
 * disk: config, policies, CA and a sendmail stand-in (testutil.h's
 * tu_host, as tests/e2e/lib.sh's mkhost).  What a user cares about: a due
 * termination is carried out once, certified and mailed once, and a
 * second run does nothing; what is not due, held, or refused is kept
 * whole; a disposition with a refusal is never certified as complete; a
 * dry run writes nothing at all.
 */
#include "testutil.h"

#include "base/date.h"
#include "certify/certify.h"
#include "run/run.h"
#include "state/journal.h"

#include <time.h>

static struct tu_host h;

/* YYYY-MM-DD, n days before today (UTC). */
static const char *
days_ago(int n, char buf[11])
{
	return date_format(tz_date_at("UTC", time(NULL)) - n, buf);
}

static void
setup(void)
{
	char t40[11];

	tu_host_init(&h);
	/* acme ended 40 days ago with 30 days to dispose: due (overdue).
	 * beta has not ended: nothing of it is due. */
	tu_host_policy(&h, "acme", "terminated = %s\n"
	    "dispose_after_termination = 30d\nmethod = overwrite\n\n"
	    "[dataset \"all\"]\npath = %s/srv/acme/**\n"
	    "categories = Assessment\n", days_ago(40, t40), h.top);
	tu_host_policy(&h, "beta", "dispose_after_termination = 30d\n"
	    "method = overwrite\n\n"
	    "[dataset \"all\"]\npath = %s/srv/beta/**\n"
	    "categories = Assessment\n", h.top);
	TU_SH(h.top, "mkdir -p srv/acme srv/beta && "
	    "for f in srv/acme/a.csv srv/acme/b.csv srv/beta/c.csv; do "
	    "seq 1 2000 | sed \"s|^|$f |\" > $f; done");
	tu_host_load(&h);
}

static void
teardown(void)
{
	tu_host_free(&h);
}

/* run_all, as `lethe run` calls it; the report in *r (free it). */
static int
run(struct run_report *r, int dry)
{
	struct run_opts o;
	struct err e = { "" };
	int rc;

	memset(&o, 0, sizeof(o));
	memset(r, 0, sizeof(*r));
	o.dry_run = dry;
	o.today = DAY_NONE;
	rc = run_all(&h.cfg, &h.ps, &o, r, &e);
	for (size_t i = 0; i < r->errors.n; i++)
		fprintf(stderr, "  run error: %s\n", r->errors.v[i]);
	for (size_t i = 0; getenv("TU_VERBOSE") && i < r->msgs.n; i++)
		fprintf(stderr, "  run: %s\n", r->msgs.v[i]);
	ck_assert_msg(rc == 0, "run_all: %s", e.msg);
	return rc;
}

/* How many files in top/rel (a directory) match the shell pattern. */
static int
count(const char *rel, const char *pattern)
{
	char *out = tu_path(h.top, "count.out"), *text;
	int n;

	TU_SH(h.top, "ls %s/%s 2>/dev/null | wc -l > count.out || true", rel,
	    pattern);
	text = tu_readall(out, NULL);
	n = atoi(text);
	free(text);
	free(out);
	return n;
}

/* How many journal lines record event (" EVENT "). */
static int
journaled(const char *event)
{
	char *p = tu_path(h.state, "journal"), needle[64];
	int n;

	snprintf(needle, sizeof(needle), " %s ", event);
	n = tu_count(p, needle);
	free(p);
	return n;
}

/* Records a journal event as the command layer would, and seals the
 * journal with a checkpoint (`lethe hold` and `release` do). */
static void
record(const char *event, const char *k1, const char *v1, const char *k2,
    const char *v2, const char *k3, const char *v3)
{
	struct journal j;
	struct err e = { "" };

	ck_assert_msg(journal_open(h.state, &j, &e) == 0, "%s", e.msg);
	ck_assert_msg(journal_appendv(&j, &e, event, k1, v1, k2, v2, k3, v3,
	    "by", "root", NULL) == 0, "%s", e.msg);
	ck_assert_msg(certify_checkpoint(&h.cfg, &j, &e) == 0, "%s", e.msg);
	journal_close(&j);
}

START_TEST(a_due_termination_is_carried_out_once_and_a_second_run_does_nothing)
{
	struct run_report r;
	char *beta = tu_path(h.top, "srv/beta/c.csv"), *before, *after;

	before = tu_readall(beta, NULL);
	run(&r, 0);
	ck_assert_uint_eq(r.dispositions, 1);
	ck_assert_uint_eq(r.certified, 1);
	ck_assert_uint_eq(r.delivered, 1);
	ck_assert_uint_eq(r.failed, 0);
	ck_assert_uint_eq(r.errors.n, 0);
	ck_assert_int_eq(r.overdue, 0);
	run_report_free(&r);
	/* acme's data is gone; beta's, not due, is whole. */
	ck_assert(!tu_exists(h.top, "srv/acme/a.csv"));
	ck_assert(!tu_exists(h.top, "srv/acme/b.csv"));
	after = tu_readall(beta, NULL);
	ck_assert_ptr_nonnull(after);
	ck_assert_str_eq(after, before);
	free(after);
	/* One certificate, for both files, mailed to acme's contact. */
	ck_assert_int_eq(count("state/certificates", "acme-*.cert"), 1);
	ck_assert_int_eq(count("state/certificates", "beta-*"), 0);
	ck_assert_int_eq(tu_shq(h.top, "grep -qx 'files = 2' "
	    "state/certificates/acme-*.cert"), 0);
	ck_assert_int_eq(count("mail", "*.eml"), 1);
	ck_assert_int_eq(tu_shq(h.top, "grep -q '^To: dpo@acme.example' "
	    "mail/1.eml"), 0);
	ck_assert_int_eq(journaled("disposition-start"), 1);
	ck_assert_int_eq(journaled("disposition-complete"), 1);
	ck_assert_int_eq(journaled("certificate-issued"), 1);

	/* The next day's run: nothing more to do, nothing done twice. */
	run(&r, 0);
	ck_assert_uint_eq(r.dispositions, 0);
	ck_assert_uint_eq(r.certified, 0);
	ck_assert_uint_eq(r.delivered, 0);
	ck_assert_uint_eq(r.resumed, 0);
	ck_assert_uint_eq(r.failed, 0);
	run_report_free(&r);
	ck_assert_int_eq(journaled("disposition-start"), 1);
	ck_assert_int_eq(journaled("certificate-issued"), 1);
	ck_assert_int_eq(count("state/certificates", "*.cert"), 1);
	ck_assert_int_eq(count("mail", "*.eml"), 1);
	after = tu_readall(beta, NULL);
	ck_assert_str_eq(after, before);
	free(after);
	free(before);
	free(beta);
}
END_TEST

START_TEST(a_hold_keeps_the_data_until_it_is_released)
{
	struct run_report r;

	record("hold", "id", "H-0001", "agreement", "acme", "reason",
	    "litigation: Doe v. District");
	run(&r, 0);
	ck_assert_uint_eq(r.dispositions, 0);
	ck_assert_uint_eq(r.certified, 0);
	ck_assert_int_eq(r.overdue, 0);		/* held is never overdue */
	run_report_free(&r);
	ck_assert(tu_exists(h.top, "srv/acme/a.csv"));
	ck_assert(tu_exists(h.top, "srv/acme/b.csv"));
	ck_assert_int_eq(journaled("disposition-start"), 0);
	ck_assert_int_eq(count("state/certificates", "*.cert"), 0);

	/* Released: the same run now carries it out. */
	record("release", "id", "H-0001", NULL, NULL, NULL, NULL);
	run(&r, 0);
	ck_assert_uint_eq(r.dispositions, 1);
	ck_assert_uint_eq(r.certified, 1);
	run_report_free(&r);
	ck_assert(!tu_exists(h.top, "srv/acme/a.csv"));
	ck_assert_int_eq(count("state/certificates", "acme-*.cert"), 1);
	/* The certificate names the hold that delayed it. */
	ck_assert_int_eq(tu_shq(h.top, "grep -q '^holds = H-0001 (litigation: "
	    "Doe v. District) placed .*, released ' "
	    "state/certificates/acme-*.cert"), 0);
}
END_TEST

START_TEST(a_refused_file_makes_the_certificate_partial_never_complete)
{
	struct run_report r;

	/* shared.csv has a second name outside every dataset. */
	TU_SH(h.top, "mkdir -p srv/elsewhere && seq 1 500 > srv/acme/shared.csv "
	    "&& ln srv/acme/shared.csv srv/elsewhere/copy.csv");
	run(&r, 0);
	ck_assert_uint_ge(r.failed, 1);
	ck_assert_uint_eq(r.dispositions, 0);
	ck_assert_uint_eq(r.certified, 1);	/* what it did destroy */
	ck_assert_msg(r.errors.n > 0, "the failure is not said");
	run_report_free(&r);
	ck_assert(!tu_exists(h.top, "srv/acme/a.csv"));
	ck_assert(tu_exists(h.top, "srv/acme/shared.csv"));
	ck_assert_int_eq(tu_shq(h.top, "seq 1 500 | cmp -s - "
	    "srv/elsewhere/copy.csv"), 0);
	ck_assert_int_eq(journaled("disposition-complete"), 0);
	ck_assert_int_eq(journaled("disposition-fail"), 1);
	ck_assert_int_eq(tu_shq(h.top, "grep -qx 'result = partial' "
	    "state/certificates/acme-*.cert && grep -qx 'deadline_met = no' "
	    "state/certificates/acme-*.cert && grep -qx 'files = 2' "
	    "state/certificates/acme-*.cert"), 0);
}
END_TEST

START_TEST(a_dry_run_says_what_it_would_do_and_writes_nothing)
{
	struct run_report r;
	int said = 0;

	TU_SH(h.top, "find srv -printf '%%p %%s %%T@\\n' | sort > before");
	run(&r, 1);
	ck_assert_uint_eq(r.dispositions, 1);
	for (size_t i = 0; i < r.msgs.n; i++)
		said |= strstr(r.msgs.v[i], "would destroy 2 files") != NULL;
	ck_assert_msg(said, "the dry run does not say what it would destroy");
	run_report_free(&r);
	ck_assert(!tu_exists(h.top, "state"));
	ck_assert_int_eq(count("mail", "*"), 0);
	ck_assert_int_eq(tu_shq(h.top, "find srv -printf '%%p %%s %%T@\\n' | "
	    "sort | cmp -s - before"), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("run");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_due_termination_is_carried_out_once_and_a_second_run_does_nothing);
	tcase_add_test(tc, a_hold_keeps_the_data_until_it_is_released);
	tcase_add_test(tc, a_refused_file_makes_the_certificate_partial_never_complete);
	tcase_add_test(tc, a_dry_run_says_what_it_would_do_and_writes_nothing);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
