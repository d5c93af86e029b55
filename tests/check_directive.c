/* check_directive.c: reading Exhibit D directives (tests/data/directive_*). */
#include "testutil.h"

#include "conf/config.h"
#include "conf/directive.h"
#include "base/err.h"
#include "conf/policy.h"

static struct agreement agr;
static struct policyset ps;
static struct config cfg;
static char *roots[] = { "/srv/edtech", "/backups" };

static void
setup(void)
{
	memset(&agr, 0, sizeof(agr));
	agr.id = "osde-2024";
	agr.terminated = DAY_NONE;
	ps.a = &agr;
	ps.n = 1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = "lethe.conf";
	cfg.roots = roots;
	cfg.nroots = 2;
}

/* Loads fixture name; returns the diagnostics joined by newlines. */
static char *
load(const char *name, struct directive *dv, int want_rc)
{
	char *path = tu_data(name), *all = NULL;
	struct diags d = { 0 };
	size_t len = 0;
	FILE *f = open_memstream(&all, &len);
	int rc;

	rc = directive_load(path, &ps, &cfg, dv, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(f, "%s\n", d.v[i]);
	fclose(f);
	ck_assert_msg(rc == want_rc, "%s: rc %d, diagnostics:\n%s", name, rc,
	    all);
	if (want_rc == 0)
		ck_assert_msg(diag_errors(&d) == 0, "%s", all);
	diag_free(&d);
	free(path);
	return all;
}

static void
has(const char *all, const char *needle)
{
	ck_assert_msg(strstr(all, needle) != NULL, "no '%s' in:\n%s", needle,
	    all);
}

static day_t
D(const char *s)
{
	day_t d;
	ck_assert(date_parse(s, &d) == 0);
	return d;
}

START_TEST(a_partial_destruction_directive_reads_back_exactly)
{
	struct directive dv;
	char *all = load("directive_partial_destroy.ini", &dv, 0), buf[256];

	ck_assert_str_eq(dv.agreement, "osde-2024");
	ck_assert_int_eq(dv.received, D("2026-11-02"));
	ck_assert(!dv.complete);
	ck_assert(!dv.transfer);
	ck_assert_ptr_null(dv.transfer_to);
	ck_assert_int_eq(dv.schedule, DAY_NONE);
	ck_assert_str_eq(dv.requested_by, "J. Smith, Data Privacy Officer");
	ck_assert_uint_eq(dv.categories, 1u << category_find("Assessment") |
	    1u << category_find("Attendance"));
	ck_assert_str_eq(directive_categories(&dv, buf, sizeof(buf)),
	    category_format(dv.categories, (char[256]){ 0 }, 256));
	directive_free(&dv);
	free(all);
}
END_TEST

START_TEST(a_complete_transfer_with_a_date_reads_back_exactly)
{
	struct directive dv;
	char *all = load("directive_complete_transfer.ini", &dv, 0), buf[8];

	ck_assert(dv.complete);
	ck_assert(dv.transfer);
	ck_assert_str_eq(dv.transfer_to, "/srv/edtech/handoff/osde");
	ck_assert_int_eq(dv.schedule, D("2026-11-20"));
	ck_assert_str_eq(directive_categories(&dv, buf, sizeof(buf)), "");
	directive_free(&dv);
	free(all);
}
END_TEST

START_TEST(a_misspelt_category_gets_a_suggestion_at_its_line)
{
	struct directive dv;
	char *all = load("directive_misspelt_category.ini", &dv, -1);

	has(all, "directive_misspelt_category.ini:5: ");
	has(all, "did you mean 'Attendance'?");
	directive_free(&dv);
	free(all);
}
END_TEST

START_TEST(a_partial_directive_needs_categories)
{
	struct directive dv;
	char *all = load("directive_partial_without_categories.ini", &dv, -1);

	has(all, ":4: a partial directive needs 'categories'");
	directive_free(&dv);
	free(all);
}
END_TEST

START_TEST(a_complete_directive_refuses_categories)
{
	struct directive dv;
	char *all = load("directive_complete_with_categories.ini", &dv, -1);

	has(all, ":5: categories given but extent is complete");
	directive_free(&dv);
	free(all);
}
END_TEST

START_TEST(an_unknown_agreement_is_named_with_a_suggestion)
{
	struct directive dv;
	char *all = load("directive_unknown_agreement.ini", &dv, -1);

	has(all, ":2: unknown agreement 'osde-2042'; did you mean 'osde-2024'?");
	directive_free(&dv);
	free(all);
}
END_TEST

START_TEST(a_transfer_must_land_inside_the_allowed_roots)
{
	struct directive dv;
	char *all = load("directive_transfer_outside_roots.ini", &dv, -1);

	has(all, ":6: transfer_to '/tmp/elsewhere' is not inside allowed_roots "
	    "(/srv/edtech /backups)");
	ck_assert_msg(strstr(all, "lethe.conf") == NULL, "%s", all);
	directive_free(&dv);
	free(all);
	all = load("directive_transfer_relative.ini", &dv, -1);
	has(all, ":6: transfer_to 'handoff/osde' must be an absolute path");
	directive_free(&dv);
	free(all);
	all = load("directive_transfer_without_destination.ini", &dv, -1);
	has(all, "missing 'transfer_to'");
	directive_free(&dv);
	free(all);
}
END_TEST

START_TEST(every_mistake_in_a_file_is_reported_at_once)
{
	struct directive dv;
	char *all = load("directive_many_mistakes.ini", &dv, -1);

	has(all, ":3: unknown key 'recieved'; did you mean 'received'?");
	has(all, ":4: extent 'some' must be partial or complete");
	has(all, ":5: nature 'shred' must be destroy or transfer");
	has(all, ":6: schedule 'tomorrow' must be asap or a date");
	has(all, "missing 'received'");
	has(all, "missing 'requested_by'");
	directive_free(&dv);
	free(all);
}
END_TEST

START_TEST(an_impossible_date_and_a_missing_requester_are_errors)
{
	struct directive dv;
	char *all = load("directive_missing_requested_by.ini", &dv, -1);

	has(all, ":3: received '2026-02-30' is not a date");
	has(all, "missing 'requested_by'");
	directive_free(&dv);
	free(all);
}
END_TEST

START_TEST(an_unknown_section_is_an_error)
{
	struct directive dv;
	char *all = load("directive_extra_section.ini", &dv, -1);

	has(all, ":8: unknown section [notes]");
	directive_free(&dv);
	free(all);
}
END_TEST

START_TEST(an_over_long_line_is_an_error_never_truncated)
{
	struct directive dv;
	char *all = load("directive_line_too_long.ini", &dv, -1);

	has(all, "directive_line_too_long.ini:6:");
	directive_free(&dv);
	free(all);
}
END_TEST

START_TEST(a_schedule_before_receipt_is_refused)
{
	struct directive dv;
	char *all = load("directive_schedule_before_received.ini", &dv, -1);

	has(all, ":6: schedule 2026-10-01 is before the directive was received");
	directive_free(&dv);
	free(all);
}
END_TEST

START_TEST(a_missing_file_is_named)
{
	struct directive dv;
	struct diags d = { 0 };

	ck_assert(directive_load("/nonexistent/d.ini", &ps, &cfg, &dv, &d) ==
	    -1);
	ck_assert_uint_ge(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.v[0], "/nonexistent/d.ini"));
	diag_free(&d);
	directive_free(&dv);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("directive");
	TCase *t = tcase_create("directive");

	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, a_partial_destruction_directive_reads_back_exactly);
	tcase_add_test(t, a_complete_transfer_with_a_date_reads_back_exactly);
	tcase_add_test(t, a_misspelt_category_gets_a_suggestion_at_its_line);
	tcase_add_test(t, a_partial_directive_needs_categories);
	tcase_add_test(t, a_complete_directive_refuses_categories);
	tcase_add_test(t, an_unknown_agreement_is_named_with_a_suggestion);
	tcase_add_test(t, a_transfer_must_land_inside_the_allowed_roots);
	tcase_add_test(t, every_mistake_in_a_file_is_reported_at_once);
	tcase_add_test(t, an_impossible_date_and_a_missing_requester_are_errors);
	tcase_add_test(t, an_unknown_section_is_an_error);
	tcase_add_test(t, an_over_long_line_is_an_error_never_truncated);
	tcase_add_test(t, a_schedule_before_receipt_is_refused);
	tcase_add_test(t, a_missing_file_is_named);
	suite_add_tcase(s, t);
	return tu_run(s);
}
