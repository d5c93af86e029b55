/* check_strict.c: StrictModes (agent/conf/strict.c) on real files: as
 * root, a file and every directory above it must be owned by root and not
 * writable by group or others, links followed to their targets. */
#include "testutil.h"

#include "base/err.h"
#include "conf/strict.h"

#include <fcntl.h>

#define OTHER 65534	/* nobody */

static char *top;	/* a root-owned 0755 directory for each test */

static void
setup(void)
{
	top = tu_tmpdir();
	ck_assert_int_eq(chmod(top, 0755), 0);
}

static void
teardown(void)
{
	tu_rmtree(top);
}

static char *
P(const char *rel)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/%s", top, rel), 0);
	return p;
}

static void
mk(const char *rel, mode_t mode, int dir)
{
	char *p = P(rel);

	if (dir)
		ck_assert_int_eq(mkdir(p, mode), 0);
	else
		free(tu_write(top, rel, "x\n"));
	ck_assert_int_eq(chmod(p, mode), 0);
	free(p);
}

/* The diagnostics joined, for messages and searches. */
static char *
joined(const struct diags *d)
{
	char *all = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&all, &len);

	for (size_t i = 0; i < d->n; i++)
		fprintf(f, "%s\n", d->v[i]);
	fclose(f);
	return all;
}

/* Fails unless some diagnostic starts with "TOP/rel: " and has needle. */
static void
names(const struct diags *d, const char *rel, const char *needle)
{
	char *want = P(rel), *all = joined(d);
	size_t n = strlen(want);

	for (size_t i = 0; i < d->n; i++)
		if (strncmp(d->v[i], want, n) == 0 &&
		    strncmp(d->v[i] + n, ": ", 2) == 0 &&
		    strstr(d->v[i], needle) != NULL) {
			free(want);
			free(all);
			return;
		}
	ck_abort_msg("no '%s: ...%s...' in:\n%s", want, needle, all);
}

START_TEST(a_root_owned_file_under_root_owned_directories_is_trusted)
{
	struct diags d = { 0 };
	char *p;

	mk("etc", 0755, 1);
	mk("etc/lethe.conf", 0644, 0);
	p = P("etc/lethe.conf");
	ck_assert_int_eq(strict_path(p, "the configuration", 0, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	/* A path that does not exist yet is checked as far as it exists. */
	free(p);
	p = P("etc/state/kek");
	ck_assert_int_eq(strict_path(p, "the KEK", 0, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	free(p);
}
END_TEST

START_TEST(a_world_writable_file_or_one_in_a_world_writable_directory_is_named)
{
	struct diags d = { 0 };
	char *p;

	mk("bin", 0755, 1);
	mk("bin/sendmail", 0777, 0);
	p = P("bin/sendmail");
	ck_assert_int_eq(strict_path(p, "sendmail", 0, &d), -1);
	names(&d, "bin/sendmail", "sendmail is writable by group and others "
	    "(mode 0777)");
	free(p);
	diag_free(&d);

	mk("open", 0777, 1);
	mk("open/sendmail", 0755, 0);
	p = P("open/sendmail");
	ck_assert_int_eq(strict_path(p, "sendmail", 0, &d), -1);
	names(&d, "open", "writable by group and others (mode 0777), and it "
	    "is above sendmail");
	ck_assert_uint_eq(d.n, 1);
	free(p);
	diag_free(&d);
}
END_TEST

START_TEST(a_file_owned_by_another_user_is_refused_even_at_mode_0600)
{
	struct diags d = { 0 };
	char *p;

	mk("agent.key", 0600, 0);
	p = P("agent.key");
	ck_assert_int_eq(chown(p, OTHER, OTHER), 0);
	ck_assert_int_eq(strict_path(p, "the signing key", 0, &d), -1);
	names(&d, "agent.key", "the signing key is owned by");
	names(&d, "agent.key", "(uid 65534), not root");
	free(p);
	diag_free(&d);
}
END_TEST

START_TEST(a_directory_owned_by_another_user_anywhere_above_is_refused)
{
	struct diags d = { 0 };
	char *p, *q;

	mk("state", 0700, 1);
	mk("state/deep", 0700, 1);
	q = P("state");
	ck_assert_int_eq(chown(q, OTHER, OTHER), 0);
	p = P("state/deep");
	ck_assert_int_eq(strict_path(p, "state_dir", 0, &d), -1);
	names(&d, "state", "and it is above state_dir");
	free(p);
	free(q);
	diag_free(&d);
}
END_TEST

START_TEST(a_sticky_world_writable_directory_is_not_an_exception)
{
	struct diags d = { 0 };
	char *p;

	mk("tmp", 01777, 1);
	mk("tmp/mine", 0700, 1);
	mk("tmp/mine/lethe.conf", 0600, 0);
	p = P("tmp/mine/lethe.conf");
	ck_assert_int_eq(strict_path(p, "the configuration", 0, &d), -1);
	names(&d, "tmp", "writable by group and others (mode 1777)");
	free(p);
	diag_free(&d);
}
END_TEST

START_TEST(a_link_is_followed_and_its_targets_directories_are_checked)
{
	struct diags d = { 0 };
	char *p, *t;

	/* etc/lethe/sendmail -> ../../open/x/sendmail: the link lives in a
	 * safe place, its target does not. */
	mk("etc", 0755, 1);
	mk("etc/lethe", 0755, 1);
	mk("open", 0777, 1);
	mk("open/x", 0755, 1);
	mk("open/x/sendmail", 0755, 0);
	p = P("etc/lethe/sendmail");
	ck_assert_int_eq(symlink("../../open/x/sendmail", p), 0);
	ck_assert_int_eq(strict_path(p, "sendmail", 0, &d), -1);
	names(&d, "open", "above sendmail");
	names(&d, "open", "(through a symbolic link)");
	diag_free(&d);
	/* An absolute link to a safe target is fine. */
	mk("safe", 0755, 1);
	mk("safe/sendmail", 0755, 0);
	t = P("safe/sendmail");
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(symlink(t, p), 0);
	ck_assert_int_eq(strict_path(p, "sendmail", 0, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	/* A directory link whose target lies in an open directory. */
	free(p);
	p = P("etc/d");
	free(t);
	t = P("open/x");
	ck_assert_int_eq(symlink(t, p), 0);
	free(p);
	p = P("etc/d/sendmail");
	ck_assert_int_eq(strict_path(p, "sendmail", 0, &d), -1);
	names(&d, "open", "above sendmail");
	free(p);
	free(t);
	diag_free(&d);
}
END_TEST

START_TEST(a_link_loop_is_refused_not_followed_forever)
{
	struct diags d = { 0 };
	char *a = P("a"), *b = P("b"), *x = P("a/x");

	ck_assert_int_eq(symlink(b, a), 0);
	ck_assert_int_eq(symlink(a, b), 0);
	ck_assert_int_eq(strict_path(x, "the policy", 0, &d), -1);
	ck_assert_ptr_nonnull(strstr(d.v[0], "too many symbolic links"));
	free(a);
	free(b);
	free(x);
	diag_free(&d);
}
END_TEST

START_TEST(each_bad_directory_is_reported_once)
{
	struct diags d = { 0 };
	char *p1, *p2;

	mk("open", 0777, 1);
	mk("open/a", 0644, 0);
	mk("open/b", 0644, 0);
	p1 = P("open/a");
	p2 = P("open/b");
	ck_assert_int_eq(strict_path(p1, "the signing key", 0, &d), -1);
	ck_assert_int_eq(strict_path(p2, "the signing certificate", 0, &d),
	    -1);
	ck_assert_uint_eq(d.n, 1);
	free(p1);
	free(p2);
	diag_free(&d);
}
END_TEST

START_TEST(not_running_as_root_nothing_is_checked)
{
	struct diags d = { 0 };
	char *p;

	mk("open", 0777, 1);
	p = P("open");
	ck_assert_int_eq(strict_path(p, "state_dir", 1000, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	free(p);
}
END_TEST

START_TEST(strict_stat_checks_the_open_file)
{
	struct diags d = { 0 };
	struct stat st;
	char *p;
	int fd;

	mk("x.ini", 0664, 0);
	p = P("x.ini");
	fd = open(p, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	close(fd);
	ck_assert_int_eq(strict_stat(p, "the policy", &st, 0, &d), -1);
	names(&d, "x.ini", "the policy is writable by group (mode 0664)");
	free(p);
	diag_free(&d);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("strict");
	TCase *tc = tcase_create("strict");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, not_running_as_root_nothing_is_checked);
	if (geteuid() == 0) {
		/* The rest need files owned by root, or by nobody, under a
		 * root-owned base (testutil.h). */
		tcase_add_test(tc, a_root_owned_file_under_root_owned_directories_is_trusted);
		tcase_add_test(tc, a_link_loop_is_refused_not_followed_forever);
		tcase_add_test(tc, a_world_writable_file_or_one_in_a_world_writable_directory_is_named);
		tcase_add_test(tc, a_file_owned_by_another_user_is_refused_even_at_mode_0600);
		tcase_add_test(tc, a_directory_owned_by_another_user_anywhere_above_is_refused);
		tcase_add_test(tc, a_sticky_world_writable_directory_is_not_an_exception);
		tcase_add_test(tc, a_link_is_followed_and_its_targets_directories_are_checked);
		tcase_add_test(tc, each_bad_directory_is_reported_once);
		tcase_add_test(tc, strict_stat_checks_the_open_file);
	} else
		fprintf(stderr, "check_strict: not root, 9 tests left out\n");
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(suite());
}
