/* check_policy.c: policies (agent/policy.c), categories (agent/category.c)
 * and `lethe check` (agent/cmd_check.c). */
#include "testutil.h"

#include "conf/category.h"
#include "cmd/cmd.h"
#include "conf/config.h"
#include "base/err.h"
#include "conf/policy.h"

#include <fcntl.h>

/* The config every test uses: roots /srv/edtech and /backups. */
static struct config cfg;

static void
setup(void)
{
	struct diags d = { 0 };
	char *path = tu_data("config_example_roots.conf");

	ck_assert_int_eq(config_load(path, &cfg, &d), 0);
	diag_free(&d);
	free(path);
}

static void
teardown(void)
{
	config_free(&cfg);
}

/* Loads one fixture; returns policy_load_file's result. */
static int
load(const char *fixture, struct policyset *ps, struct diags *d, char **path)
{
	*path = tu_data(fixture);
	return policy_load_file(*path, &cfg, ps, d);
}

static const struct dataset *
find_ds(const struct agreement *a, const char *name)
{
	for (size_t i = 0; i < a->nds; i++)
		if (strcmp(a->ds[i].name, name) == 0)
			return &a->ds[i];
	ck_abort_msg("no dataset %s in %s", name, a->id);
	return NULL;
}

START_TEST(the_three_example_policies_load_clean_against_the_example_roots)
{
	struct policyset ps = { 0 };
	struct diags d = { 0 };
	const struct agreement *a;
	const struct dataset *ds;
	char *dir = NULL, buf[256];
	const char *top = getenv("LETHE_TOP");
	size_t nds = 0;

	ck_assert_int_ge(asprintf(&dir, "%s/policies", top ? top : "."), 0);
	ck_assert_int_eq(policy_load_dir(dir, &cfg, &ps, &d), 0);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.v[i]);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_uint_eq(ps.n, 3);
	for (size_t i = 0; i < ps.n; i++)
		nds += ps.a[i].nds;
	ck_assert_uint_eq(nds, 15);

	/* OSDE DSA 2.7: 30 days after termination, notice within 10. */
	ck_assert_ptr_nonnull(a = policy_find(&ps, "osde-2024"));
	ck_assert_int_eq(a->after_termination.n, 30);
	ck_assert_int_eq(a->after_termination.unit, 'd');
	ck_assert_int_eq(a->certify_within.n, 10);
	ck_assert_int_eq(a->notice_before.n, 0);
	ck_assert_str_eq(a->timezone, "America/Chicago");
	ds = find_ds(a, "nightly-backups");
	ck_assert_ptr_null(ds->path);
	ck_assert_str_eq(ds->archive, "/backups/edtech-*.tar.gz");
	ck_assert_str_eq(ds->members, "exports/osde/**");
	ds = find_ds(a, "research");
	ck_assert_int_eq(ds->deidentified, 1);
	ck_assert_uint_eq(ds->categories, 0);
	ck_assert_ptr_nonnull(ds->exempt_reason);

	/* NDPA IV.6: 60 days after a request; prior notice on termination. */
	ck_assert_ptr_nonnull(a = policy_find(&ps, "ndpa-reachmyteach"));
	ck_assert_int_eq(a->after_request.n, 60);
	ck_assert_int_eq(a->notice_before.n, 14);
	ck_assert_int_eq(a->after_termination.n, 30);
	ds = find_ds(a, "messages");
	ck_assert_str_eq(category_format(ds->categories, buf, sizeof(buf)),
	    "Communications, Student work");
	ck_assert_int_eq(dataset_verify(a, find_ds(a, "access-logs")),
	    VERIFY_SAMPLE);
	ck_assert_int_eq(dataset_method(a, find_ds(a, "rosters")),
	    METHOD_OVERWRITE);
	ck_assert_int_eq(dataset_method(a, ds), METHOD_AUTO);

	/* SchoolMint IV.5: 30 days after termination. */
	ck_assert_ptr_nonnull(a = policy_find(&ps, "schoolmint-2024"));
	ck_assert_int_eq(a->after_termination.n, 30);
	ck_assert_int_eq(dataset_pattern(a, find_ds(a, "applications")),
	    PATTERN_RANDOM);
	ck_assert_int_eq(dataset_method(a, find_ds(a, "documents")),
	    METHOD_CRYPTO);
	ck_assert_ptr_null(policy_find(&ps, "no-such-agreement"));
	policy_free(&ps);
	diag_free(&d);
	free(dir);
}
END_TEST

START_TEST(a_minimal_policy_gets_the_documented_defaults)
{
	struct policyset ps = { 0 };
	struct diags d = { 0 };
	const struct agreement *a;
	char *path;

	ck_assert_int_eq(load("policy_minimal.ini", &ps, &d, &path), 0);
	ck_assert_uint_eq(ps.n, 1);
	a = &ps.a[0];
	ck_assert_str_eq(a->file, path);
	ck_assert_str_eq(a->id, "minimal");
	ck_assert_int_eq(a->line, 1);
	ck_assert_int_eq(a->line_id, 2);
	ck_assert_int_eq(a->terminated, DAY_NONE);
	ck_assert_int_eq(a->after_termination.n, 30);
	ck_assert_int_eq(a->after_request.n, 60);
	ck_assert_int_eq(a->certify_within.n, 10);
	ck_assert_int_eq(a->notice_before.n, 0);
	ck_assert_ptr_null(a->timezone);
	ck_assert_int_eq(a->method, METHOD_AUTO);
	ck_assert_int_eq(a->verify, VERIFY_FULL);
	ck_assert_int_eq(a->pattern, PATTERN_ZERO);
	ck_assert_uint_eq(a->nds, 1);
	ck_assert_int_eq(a->ds[0].line, 6);
	ck_assert_int_eq(a->ds[0].method, METHOD_INHERIT);
	ck_assert_uint_eq(a->ds[0].categories, (catset_t)1 << 22);
	ck_assert_str_eq(method_name(dataset_method(a, &a->ds[0])), "auto");
	policy_free(&ps);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(a_300_byte_line_is_reported_at_its_line_and_parsing_goes_on)
{
	struct policyset ps = { 0 };
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("policy_line_too_long.ini", &ps, &d, &path), -1);
	tu_expect(&d, path, 4, "line is 300 bytes; the limit is 199");
	tu_expect(&d, path, 6, "dispose_after_termination 'soon' is not a "
	    "duration (Nd, Nw, Nm or Ny, e.g. 30d)");
	ck_assert_uint_eq(d.n, 2);
	/* The keys after the long line were read. */
	ck_assert_str_eq(ps.a[0].contact, "dpo@long.example");
	policy_free(&ps);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(a_misspelt_category_suggests_the_nearest)
{
	struct policyset ps = { 0 };
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("policy_misspelt_category.ini", &ps, &d, &path),
	    -1);
	tu_expect(&d, path, 8, "unknown category 'Atendance'; did you mean "
	    "'Attendance'?");
	tu_expect(&d, path, 12, "unknown category 'Lunch Menu' (not in the NDPA "
	    "Exhibit B schedule)");
	tu_expect(&d, path, 16, "empty category in list");
	ck_assert_uint_eq(d.n, 3);
	policy_free(&ps);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(unknown_keys_and_sections_are_errors_with_suggestions)
{
	struct policyset ps = { 0 };
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("policy_unknown_keys.ini", &ps, &d, &path), -1);
	tu_expect(&d, path, 6, "unknown key 'dispose_after_terminaton' in "
	    "[agreement]; did you mean 'dispose_after_termination'?");
	tu_expect(&d, path, 7, "unknown key 'path' in [agreement]; it belongs in "
	    "a [dataset \"NAME\"] section");
	tu_expect(&d, path, 8, "unknown key 'colour' in [agreement]");
	tu_expect(&d, path, 10, "unknown section [agreemnt]; did you mean "
	    "[agreement]?");
	tu_expect(&d, path, 16, "unknown key 'timezone' in [dataset \"files\"]; it "
	    "belongs in [agreement]");
	/* "id = typo" under the unknown section is not also reported. */
	ck_assert_uint_eq(d.n, 5);
	ck_assert_str_eq(ps.a[0].id, "unknown-keys");
	policy_free(&ps);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(bad_values_are_each_reported_at_their_line)
{
	struct policyset ps = { 0 };
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("policy_bad_values.ini", &ps, &d, &path), -1);
	tu_expect(&d, path, 2, "agreement id 'Bad_Values' must match "
	    "[a-z0-9][a-z0-9-]* and be at most 34 bytes (certificate ids add "
	    "a date and a sequence number to it, and are at most 64)");
	tu_expect(&d, path, 4, "contact 'dpo at bad.example' is not an e-mail "
	    "address");
	tu_expect(&d, path, 5, "terminated '2026-02-30' is not a date "
	    "(YYYY-MM-DD)");
	tu_expect(&d, path, 6, "dispose_after_termination '30' is not a duration "
	    "(Nd, Nw, Nm or Ny, e.g. 30d)");
	tu_expect(&d, path, 7, "dispose_after_request '60 days' is not a duration "
	    "(Nd, Nw, Nm or Ny, e.g. 30d)");
	tu_expect(&d, path, 8, "certify_within '-1d' is not a duration (Nd, Nw, "
	    "Nm or Ny, e.g. 30d)");
	tu_expect(&d, path, 9, "notice_before '2wk' is not a duration (Nd, Nw, Nm "
	    "or Ny, e.g. 30d)");
	tu_expect(&d, path, 10, "unknown timezone 'America/Chicgo'");
	tu_expect(&d, path, 11, "method 'shred' is not one of overwrite, "
	    "crypto-shred, auto");
	tu_expect(&d, path, 12, "verify 'most' is not full or sample");
	tu_expect(&d, path, 13, "pattern 'ones' is not zero or random");
	tu_expect(&d, path, 18, "deidentified 'maybe' is not yes or no");
	ck_assert_uint_eq(d.n, 12);
	ck_assert_int_eq(ps.a[0].terminated, DAY_NONE);
	policy_free(&ps);
	diag_free(&d);
	free(path);
}
END_TEST

/* A policy with the given agreement id and dataset name, in a temporary
 * file; returns policy_load_file's result. */
static int
load_named(const char *id, const char *ds, struct policyset *ps,
    struct diags *d, char **dir, char **path)
{
	char text[1024];

	*dir = tu_tmpdir();
	snprintf(text, sizeof(text), "[agreement]\nid = %s\nlea = LEA\n"
	    "contact = dpo@lea.example\n\n[dataset \"%s\"]\n"
	    "path = /srv/edtech/x/**\ncategories = Other\n", id, ds);
	*path = tu_write(*dir, "p.ini", text);
	return policy_load_file(*path, &cfg, ps, d);
}

START_TEST(ids_and_dataset_names_are_bounded_so_every_certificate_id_fits)
{
	/* 34 bytes: with "-YYYYMMDD-" and a 20-digit journal sequence the
	 * certificate id is exactly 64 bytes, its limit. */
	static const char id34[] = "a234567890123456789012345678901234";
	static const char id35[] = "a2345678901234567890123456789012345";
	/* [dataset "NAME"] must fit inih's 49-byte section names. */
	char ds39[40], ds40[41], *dir, *path, certid[128];
	struct policyset ps = { 0 };
	struct diags d = { 0 };

	memset(ds39, 'd', 39);
	ds39[39] = '\0';
	memset(ds40, 'd', 40);
	ds40[40] = '\0';
	int rc = load_named(id34, ds39, &ps, &d, &dir, &path);
	ck_assert_msg(rc == 0 && d.n == 0, "%s", d.n ? d.v[0] : "");
	ck_assert_int_eq(snprintf(certid, sizeof(certid), "%s-%s-%s", ps.a[0].id,
	    "20261231", "18446744073709551615"), 64);
	policy_free(&ps);
	diag_free(&d);
	tu_rmtree(dir);
	free(path);

	memset(&ps, 0, sizeof(ps));
	ck_assert_int_eq(load_named(id35, "ok", &ps, &d, &dir, &path), -1);
	tu_expect(&d, path, 2, "agreement id 'a2345678901234567890123456789012345' "
	    "must match [a-z0-9][a-z0-9-]* and be at most 34 bytes (certificate "
	    "ids add a date and a sequence number to it, and are at most 64)");
	policy_free(&ps);
	diag_free(&d);
	tu_rmtree(dir);
	free(path);

	memset(&ps, 0, sizeof(ps));
	ck_assert_int_eq(load_named("ok", ds40, &ps, &d, &dir, &path), -1);
	tu_expect(&d, path, 6, "section name is 50 bytes; the limit is 49");
	policy_free(&ps);
	diag_free(&d);
	tu_rmtree(dir);
	free(path);
}
END_TEST

START_TEST(missing_required_keys_are_reported_at_their_section)
{
	struct policyset ps = { 0 };
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("policy_missing_required.ini", &ps, &d, &path),
	    -1);
	tu_expect(&d, path, 1, "missing required key 'lea' in [agreement]");
	tu_expect(&d, path, 1, "missing required key 'contact' in [agreement]");
	tu_expect(&d, path, 5, "dataset 'nothing' needs 'path' or 'archive'");
	tu_expect(&d, path, 5, "dataset 'nothing' needs 'categories' (NDPA "
	    "Exhibit B) unless deidentified = yes");
	tu_expect(&d, path, 8, "dataset 'archive-only' needs 'members': what to "
	    "remove from each archive");
	tu_expect(&d, path, 14, "members is only for archive datasets; "
	    "'members-only' has no 'archive'");
	tu_expect(&d, path, 19, "dataset 'both' has both 'path' and 'archive'; "
	    "use one");
	tu_expect(&d, path, 26, "exempt_reason is only for datasets with "
	    "deidentified = yes");
	ck_assert_uint_eq(d.n, 8);
	/* In line order, although some are found only at the end. */
	ck_assert_ptr_nonnull(strstr(d.v[6], ":19: "));
	policy_free(&ps);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(an_agreement_needs_a_dataset_and_a_file_needs_an_agreement)
{
	struct policyset ps = { 0 };
	struct diags d = { 0 };
	char *p1, *p2;

	ck_assert_int_eq(load("policy_no_dataset.ini", &ps, &d, &p1), -1);
	ck_assert_int_eq(load("policy_no_agreement.ini", &ps, &d, &p2), -1);
	tu_expect(&d, p1, 1, "no [dataset \"NAME\"] section: an agreement must "
	    "name the data it covers");
	tu_expect(&d, p2, 0, "no [agreement] section");
	ck_assert_uint_eq(d.n, 2);
	policy_free(&ps);
	diag_free(&d);
	free(p1);
	free(p2);
}
END_TEST

START_TEST(a_policy_over_1_mib_gets_one_clear_error_and_nothing_else)
{
	struct policyset ps = { 0 };
	struct diags d = { 0 };
	char *dir = tu_tmpdir(), *path, want[4300];
	FILE *f;

	ck_assert_int_ge(asprintf(&path, "%s/huge.ini", dir), 0);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("[agreement]\nid = huge\n", f);
	for (int i = 0; i < 20000; i++)
		fprintf(f, "; padding line %05d ......................................"
		    "...\n", i);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(policy_load_file(path, &cfg, &ps, &d), -1);
	snprintf(want, sizeof(want), "%s: larger than 1 MiB; not a plausible "
	    "configuration, so nothing in it was read", path);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.v[0], want);
	ck_assert_uint_eq(ps.n, 0);
	policy_free(&ps);
	diag_free(&d);
	free(path);
	tu_rmtree(dir);
}
END_TEST

START_TEST(globs_must_be_absolute_normalised_and_inside_an_allowed_root)
{
	struct policyset ps = { 0 };
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("policy_globs_outside_roots.ini", &ps, &d, &path),
	    -1);
	tu_expect(&d, path, 7, "path '/etc/passwd' is not inside an allowed root "
	    "(/srv/edtech /backups)");
	tu_expect(&d, path, 11, "path '/srv/**/*.csv' is not inside an allowed "
	    "root (/srv/edtech /backups)");
	tu_expect(&d, path, 15, "path '/srv/edtech/../../etc/*' has a '..' "
	    "component; globs must be normalised");
	tu_expect(&d, path, 19, "archive 'backups/*.tar.gz' must be absolute");
	tu_expect(&d, path, 24, "path '/srv/edtech//x/*' has an empty component "
	    "('//')");
	tu_expect(&d, path, 28, "path '/srv/edtech*/x' is not inside an allowed "
	    "root (/srv/edtech /backups)");
	tu_expect(&d, path, 33, "members '../etc/**' has a '..' component");
	/* The last dataset, under /backups/restore, is inside: no error. */
	ck_assert_uint_eq(d.n, 7);
	policy_free(&ps);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(syntax_errors_are_each_reported_at_their_line)
{
	struct policyset ps = { 0 };
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("policy_syntax_errors.ini", &ps, &d, &path), -1);
	tu_expect(&d, path, 5, "expected 'name = value', '[section]' or a "
	    "comment");
	tu_expect(&d, path, 6, "section header has no closing ']'");
	tu_expect(&d, path, 8, "missing name before '='");
	/* The path under the broken header is not taken as the agreement's. */
	ck_assert_uint_eq(d.n, 3);
	ck_assert_uint_eq(ps.a[0].nds, 1);
	ck_assert_str_eq(ps.a[0].ds[0].name, "fine");
	policy_free(&ps);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(duplicate_keys_datasets_and_agreements_in_a_file_are_errors)
{
	struct policyset ps = { 0 };
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("policy_duplicates.ini", &ps, &d, &path), -1);
	tu_expect(&d, path, 5, "duplicate key 'lea' (first at line 3)");
	tu_expect(&d, path, 10, "duplicate key 'categories' (first at line 9)");
	tu_expect(&d, path, 12, "duplicate dataset 'files' (first at line 7)");
	tu_expect(&d, path, 16, "second [agreement] section (first at line 1); "
	    "one agreement per file");
	ck_assert_uint_eq(d.n, 4);
	ck_assert_str_eq(ps.a[0].lea, "Duplicates District");
	ck_assert_str_eq(ps.a[0].id, "duplicates");
	policy_free(&ps);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(bad_section_headers_are_errors_and_their_keys_are_ignored)
{
	struct policyset ps = { 0 };
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("policy_bad_sections.ini", &ps, &d, &path), -1);
	tu_expect(&d, path, 1, "key 'id' is outside any section");
	tu_expect(&d, path, 7, "dataset section needs a name: [dataset \"NAME\"]");
	tu_expect(&d, path, 10, "dataset name must be in double quotes: "
	    "[dataset \"NAME\"]");
	tu_expect(&d, path, 13, "dataset name 'has space' must be letters, "
	    "digits, '.', '_' or '-', at most 39 bytes");
	ck_assert_uint_eq(d.n, 4);
	ck_assert_uint_eq(ps.a[0].nds, 1);
	policy_free(&ps);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(a_nul_byte_is_reported_at_its_line)
{
	struct policyset ps = { 0 };
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("policy_nul_byte.ini", &ps, &d, &path), -1);
	tu_expect(&d, path, 3, "NUL byte in line");
	ck_assert_ptr_null(ps.a[0].lea);
	policy_free(&ps);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(a_duplicate_id_across_files_is_reported_at_both_places)
{
	struct policyset ps = { 0 };
	struct diags d = { 0 };
	char *dir = tu_data("policies_duplicate_id"), *a, *b;

	ck_assert_int_ge(asprintf(&a, "%s/a-first.ini", dir), 0);
	ck_assert_int_ge(asprintf(&b, "%s/b-second.ini", dir), 0);
	ck_assert_int_eq(policy_load_dir(dir, &cfg, &ps, &d), -1);
	/* README is not a policy; the two .ini files are read in order. */
	ck_assert_uint_eq(ps.n, 2);
	ck_assert_str_eq(ps.a[0].file, a);
	ck_assert_str_eq(ps.a[1].file, b);
	ck_assert_uint_eq(d.n, 2);
	{
		char m1[4200], m2[4200];

		snprintf(m1, sizeof(m1), "duplicate agreement id 'same' (also "
		    "in %s:2)", a);
		snprintf(m2, sizeof(m2), "duplicate agreement id 'same' (also "
		    "in %s:4)", b);
		tu_expect(&d, b, 4, m1);
		tu_expect(&d, a, 2, m2);
	}
	policy_free(&ps);
	diag_free(&d);
	free(a);
	free(b);
	free(dir);
}
END_TEST

START_TEST(a_deidentified_dataset_needs_no_categories_and_settings_inherit)
{
	struct policyset ps = { 0 };
	struct diags d = { 0 };
	const struct agreement *a;
	char *path;

	ck_assert_int_eq(load("policy_deidentified_only.ini", &ps, &d, &path),
	    0);
	ck_assert_uint_eq(d.n, 0);
	a = &ps.a[0];
	ck_assert_int_eq(a->ds[0].deidentified, 1);
	ck_assert_str_eq(a->ds[0].exempt_reason,
	    "de-identified data (NDPA IV.6)");
	ck_assert_int_eq(dataset_verify(a, &a->ds[0]), VERIFY_SAMPLE);
	ck_assert_int_eq(dataset_pattern(a, &a->ds[0]), PATTERN_RANDOM);
	ck_assert_int_eq(dataset_method(a, &a->ds[0]), METHOD_OVERWRITE);
	/* Categories match ignoring case and blanks. */
	ck_assert_uint_eq(a->ds[1].categories,
	    ((catset_t)1 << 2) | ((catset_t)1 << 19));
	ck_assert_int_eq(a->ds[1].deidentified, 0);
	ck_assert_int_eq(dataset_verify(a, &a->ds[1]), VERIFY_FULL);
	ck_assert_int_eq(dataset_method(a, &a->ds[1]), METHOD_CRYPTO);
	ck_assert_str_eq(method_name(METHOD_CRYPTO), "crypto-shred");
	ck_assert_str_eq(method_name(METHOD_OVERWRITE), "overwrite");
	policy_free(&ps);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(a_policy_directory_yields_only_its_ini_files_in_name_order)
{
	struct policyset ps = { 0 };
	struct diags d = { 0 };
	char *dir = tu_tmpdir(), *p[5];
	const char *body = "[agreement]\nid = %s\nlea = L\n"
	    "contact = a@b.example\n[dataset \"x\"]\npath = /srv/edtech/%s/*\n"
	    "categories = Other\n";
	char text[300];

	snprintf(text, sizeof(text), body, "zeta", "z");
	p[0] = tu_write(dir, "20-zeta.ini", text);
	snprintf(text, sizeof(text), body, "alpha", "a");
	p[1] = tu_write(dir, "10-alpha.ini", text);
	p[2] = tu_write(dir, "notes.txt", "not a policy");
	p[3] = tu_write(dir, ".hidden.ini", "not read either");
	p[4] = tu_write(dir, "old.ini~", "editor backup");
	ck_assert_int_eq(policy_load_dir(dir, &cfg, &ps, &d), 0);
	ck_assert_uint_eq(ps.n, 2);
	ck_assert_str_eq(ps.a[0].id, "alpha");
	ck_assert_str_eq(ps.a[1].id, "zeta");
	policy_free(&ps);
	diag_free(&d);
	for (int i = 0; i < 5; i++)
		free(p[i]);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_missing_policy_directory_is_an_error_and_an_empty_one_a_warning)
{
	struct policyset ps = { 0 };
	struct diags d = { 0 };
	char *dir = tu_tmpdir();

	ck_assert_int_eq(policy_load_dir("/nonexistent/policies.d", &cfg, &ps,
	    &d), -1);
	tu_expect(&d, "/nonexistent/policies.d", 0, "cannot open the policy "
	    "directory: No such file or directory");
	ck_assert_int_eq(policy_load_dir(dir, &cfg, &ps, &d), 0);
	tu_expect(&d, dir, 0, "warning: no policies (*.ini) here: nothing will "
	    "ever be disposed of");
	ck_assert_uint_eq(ps.n, 0);
	diag_free(&d);
	tu_rmtree(dir);
}
END_TEST

START_TEST(categories_are_the_23_of_exhibit_b_in_spec_order)
{
	static const char *spec[CATEGORY_COUNT] = {
	    "Application Technology Meta Data", "Application Use Statistics",
	    "Assessment", "Attendance", "Communications", "Conduct",
	    "Demographics", "Enrollment",
	    "Parent/Guardian Contact Information", "Parent/Guardian ID",
	    "Parent/Guardian Name", "Schedule", "Special Indicator",
	    "Student Contact Information", "Student Identifiers",
	    "Student Name", "Student In App Performance",
	    "Student Program Membership", "Student Survey Responses",
	    "Student work", "Transcript", "Transportation", "Other" };

	for (int i = 0; i < CATEGORY_COUNT; i++) {
		ck_assert_str_eq(category_name(i), spec[i]);
		ck_assert_int_eq(category_find(spec[i]), i);
	}
	ck_assert_ptr_null(category_name(CATEGORY_COUNT));
	ck_assert_ptr_null(category_name(-1));
	ck_assert_int_eq(category_find("  student WORK\t"), 19);
	ck_assert_int_eq(category_find("Student"), -1);
}
END_TEST

START_TEST(category_lists_parse_and_format_with_suggestions)
{
	catset_t set = 0;
	char msg[256], buf[256], small[20];

	ck_assert_int_eq(category_parse_list("Assessment, Student Identifiers",
	    &set, msg, sizeof(msg)), 0);
	ck_assert_str_eq(category_format(set, buf, sizeof(buf)),
	    "Assessment, Student Identifiers");
	ck_assert_int_eq(category_parse_list("Atendance", &set, msg,
	    sizeof(msg)), -1);
	ck_assert_str_eq(msg, "unknown category 'Atendance'; did you mean "
	    "'Attendance'?");
	ck_assert_int_eq(category_parse_list("Parent Guardian Name ", &set,
	    msg, sizeof(msg)), -1);
	ck_assert_str_eq(msg, "unknown category 'Parent Guardian Name'; did you "
	    "mean 'Parent/Guardian Name'?");
	ck_assert_int_eq(category_parse_list("", &set, msg, sizeof(msg)), -1);
	ck_assert_str_eq(msg, "no categories given");
	ck_assert_int_eq(category_parse_list("Other,", &set, msg, sizeof(msg)),
	    -1);
	ck_assert_str_eq(msg, "empty category in list");
	ck_assert_ptr_null(category_suggest("Lunch"));
	ck_assert_str_eq(category_suggest("transcripts"), "Transcript");
	/* Formatting never overflows: it ends with "..." instead. */
	set = ((catset_t)1 << CATEGORY_COUNT) - 1;
	category_format(set, small, sizeof(small));
	ck_assert_uint_lt(strlen(small), sizeof(small));
	ck_assert_ptr_nonnull(strstr(small, "..."));
	ck_assert_str_eq(category_format(0, buf, sizeof(buf)), "");
}
END_TEST

/* Runs cmd_check with stdout and stderr captured into out and err. */
static int
run_check(const char *conf, char *out, size_t outlen, char *err, size_t errlen)
{
	struct ctx x;
	char *argv[] = { "check", NULL };
	char *dir = tu_tmpdir(), *po, *pe;
	int so = dup(1), se = dup(2), fo, fe, rc;
	ssize_t n;

	ck_assert_int_ge(asprintf(&po, "%s/out", dir), 0);
	ck_assert_int_ge(asprintf(&pe, "%s/err", dir), 0);
	fo = open(po, O_RDWR | O_CREAT | O_TRUNC, 0600);
	fe = open(pe, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert(fo >= 0 && fe >= 0);
	fflush(stdout);
	fflush(stderr);
	dup2(fo, 1);
	dup2(fe, 2);
	memset(&x, 0, sizeof(x));
	x.conf_path = conf;
	rc = cmd_check(&x, 1, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	policy_free(&x.ps);
	config_free(&x.cfg);
	n = pread(fo, out, outlen - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	n = pread(fe, err, errlen - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(fo);
	close(fe);
	free(po);
	free(pe);
	tu_rmtree(dir);
	return rc;
}

/* A config in a temp dir whose policy_dir is given; returns its path. */
static char *
conf_for(const char *dir, const char *policy_dir, const char *extra)
{
	char text[1024];

	snprintf(text, sizeof(text), "[agent]\nstate_dir = %s/state\n"
	    "policy_dir = %s\nallowed_roots = /srv/edtech /backups\n%s", dir,
	    policy_dir, extra);
	return tu_write(dir, "lethe.conf", text);
}

START_TEST(lethe_check_of_the_examples_says_ok_and_exits_0)
{
	char out[4096], err[4096], *dir = tu_tmpdir(), *pol, *conf;
	const char *top = getenv("LETHE_TOP");

	ck_assert_int_ge(asprintf(&pol, "%s/policies", top ? top : "."), 0);
	conf = conf_for(dir, pol, "");
	ck_assert_int_eq(run_check(conf, out, sizeof(out), err, sizeof(err)),
	    EXIT_OK);
	ck_assert_str_eq(out, "lethe: 3 agreements, 15 datasets: OK\n");
	ck_assert_str_eq(err, "");
	free(pol);
	free(conf);
	tu_rmtree(dir);
}
END_TEST

START_TEST(lethe_check_prints_every_problem_and_exits_2)
{
	char out[4096], err[8192], *dir = tu_tmpdir(), *pol, *conf, want[4200];

	pol = tu_data("policies_duplicate_id");
	/* A config error too: policies are still checked. */
	conf = conf_for(dir, pol, "colour = blue\n[keys]\nkek = /backups/kek\n");
	ck_assert_int_eq(run_check(conf, out, sizeof(out), err, sizeof(err)),
	    EXIT_USAGE);
	ck_assert_str_eq(out, "lethe: 2 agreements, 2 datasets: 3 problems "
	    "(1 warning)\n");
	snprintf(want, sizeof(want), "%s:5: unknown key 'colour' in [agent]\n",
	    conf);
	ck_assert_ptr_nonnull(strstr(err, want));
	snprintf(want, sizeof(want), "%s:7: warning: the KEK must not be "
	    "inside a backed-up path", conf);
	ck_assert_ptr_nonnull(strstr(err, want));
	snprintf(want, sizeof(want), "%s/b-second.ini:4: duplicate agreement "
	    "id 'same'", pol);
	ck_assert_ptr_nonnull(strstr(err, want));
	snprintf(want, sizeof(want), "%s/a-first.ini:2: duplicate agreement "
	    "id 'same'", pol);
	ck_assert_ptr_nonnull(strstr(err, want));
	free(pol);
	free(conf);
	tu_rmtree(dir);
}
END_TEST

START_TEST(lethe_check_of_a_missing_config_reports_it_and_checks_nothing_else)
{
	char out[4096], err[4096];

	ck_assert_int_eq(run_check("/nonexistent/lethe.conf", out, sizeof(out),
	    err, sizeof(err)), EXIT_USAGE);
	ck_assert_str_eq(err, "/nonexistent/lethe.conf: cannot open the "
	    "configuration: No such file or directory\n");
	ck_assert_str_eq(out, "lethe: 0 agreements, 0 datasets: 1 problem\n");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("policy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, the_three_example_policies_load_clean_against_the_example_roots);
	tcase_add_test(tc, a_minimal_policy_gets_the_documented_defaults);
	tcase_add_test(tc, a_300_byte_line_is_reported_at_its_line_and_parsing_goes_on);
	tcase_add_test(tc, a_misspelt_category_suggests_the_nearest);
	tcase_add_test(tc, unknown_keys_and_sections_are_errors_with_suggestions);
	tcase_add_test(tc, bad_values_are_each_reported_at_their_line);
	tcase_add_test(tc, ids_and_dataset_names_are_bounded_so_every_certificate_id_fits);
	tcase_add_test(tc, missing_required_keys_are_reported_at_their_section);
	tcase_add_test(tc, an_agreement_needs_a_dataset_and_a_file_needs_an_agreement);
	tcase_add_test(tc, globs_must_be_absolute_normalised_and_inside_an_allowed_root);
	tcase_add_test(tc, syntax_errors_are_each_reported_at_their_line);
	tcase_add_test(tc, duplicate_keys_datasets_and_agreements_in_a_file_are_errors);
	tcase_add_test(tc, bad_section_headers_are_errors_and_their_keys_are_ignored);
	tcase_add_test(tc, a_nul_byte_is_reported_at_its_line);
	tcase_add_test(tc, a_duplicate_id_across_files_is_reported_at_both_places);
	tcase_add_test(tc, a_deidentified_dataset_needs_no_categories_and_settings_inherit);
	tcase_add_test(tc, a_policy_directory_yields_only_its_ini_files_in_name_order);
	tcase_add_test(tc, a_missing_policy_directory_is_an_error_and_an_empty_one_a_warning);
	tcase_add_test(tc, categories_are_the_23_of_exhibit_b_in_spec_order);
	tcase_add_test(tc, category_lists_parse_and_format_with_suggestions);
	tcase_add_test(tc, lethe_check_of_the_examples_says_ok_and_exits_0);
	tcase_add_test(tc, lethe_check_prints_every_problem_and_exits_2);
	tcase_add_test(tc, a_policy_over_1_mib_gets_one_clear_error_and_nothing_else);
	tcase_add_test(tc, lethe_check_of_a_missing_config_reports_it_and_checks_nothing_else);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
