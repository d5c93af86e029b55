/*
 * check_locate.c: finding a dataset's files beneath an allowed root, and
 * the path resolution under it.  Every walk test runs twice: with openat2
 * (_i == 0) and with the O_NOFOLLOW component walk (_i == 1).
 */
#include "testutil.h"

#include "base/err.h"
#include "locate/locate.h"
#include "locate/resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>

static void
mk(const char *top, const char *rel)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	ck_assert_msg(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s",
	    path);
}

static void
put(const char *top, const char *rel)
{
	free(tu_write(top, rel, "student data\n"));
}

static char *
glob_of(const char *top, const char *rel)
{
	char *g;

	ck_assert_int_ge(asprintf(&g, "%s/%s", top, rel), 0);
	return g;
}

/* Whether l holds rel (and of which kind). */
static int
has(const struct foundlist *l, const char *rel, int kind)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].rel, rel) == 0)
			return l->v[i].kind == kind;
	return 0;
}

/* Runs locate with the single root top. */
static int
run(const char *top, const char *rel, struct foundlist *l, struct err *e)
{
	const char *roots[1] = { top };
	char *g = glob_of(top, rel);
	int rc = locate(roots, 1, g, l, e);

	free(g);
	return rc;
}

START_TEST(locate_finds_nested_matches_at_every_depth)
{
	char *top = tu_tmpdir();
	struct foundlist l = { 0 };
	struct err e = { "" };

	resolve_force_walk(_i);
	mk(top, "exports");
	mk(top, "exports/osde");
	mk(top, "exports/osde/2026");
	mk(top, "exports/osde/2026/fall");
	mk(top, "exports/other");
	put(top, "exports/osde/a.csv");
	put(top, "exports/osde/2026/b.csv");
	put(top, "exports/osde/2026/fall/c.csv");
	put(top, "exports/osde/2026/fall/c.txt");
	put(top, "exports/osde/.hidden.csv");
	put(top, "exports/other/d.csv");
	ck_assert_int_eq(run(top, "exports/osde/**/*.csv", &l, &e), 0);
	ck_assert_uint_eq(l.n, 4);
	ck_assert(has(&l, "exports/osde/a.csv", FOUND_FILE));
	ck_assert(has(&l, "exports/osde/2026/b.csv", FOUND_FILE));
	ck_assert(has(&l, "exports/osde/2026/fall/c.csv", FOUND_FILE));
	ck_assert(has(&l, "exports/osde/.hidden.csv", FOUND_FILE));
	ck_assert_uint_eq(l.bytes, 4 * strlen("student data\n"));
	ck_assert_int_eq(l.v[0].root, 0);
	ck_assert_uint_eq(l.v[0].nlink, 1);
	foundlist_free(&l);
	resolve_force_walk(0);
	tu_rmtree(top);
}
END_TEST

START_TEST(locate_matches_wildcards_in_the_middle_of_a_glob)
{
	char *top = tu_tmpdir();
	struct foundlist l = { 0 };
	struct err e = { "" };

	resolve_force_walk(_i);
	mk(top, "lea-1");
	mk(top, "lea-1/reports");
	mk(top, "lea-2");
	mk(top, "lea-2/reports");
	mk(top, "other");
	mk(top, "other/reports");
	put(top, "lea-1/reports/r.pdf");
	put(top, "lea-2/reports/r.pdf");
	put(top, "other/reports/r.pdf");
	ck_assert_int_eq(run(top, "lea-?/reports/r.pdf", &l, &e), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert(has(&l, "lea-1/reports/r.pdf", FOUND_FILE));
	ck_assert(has(&l, "lea-2/reports/r.pdf", FOUND_FILE));
	foundlist_free(&l);
	resolve_force_walk(0);
	tu_rmtree(top);
}
END_TEST

START_TEST(locate_never_follows_a_symlinked_directory)
{
	char *top = tu_tmpdir(), *outside = tu_tmpdir(), link[4200];
	struct foundlist l = { 0 };
	struct err e = { "" };

	resolve_force_walk(_i);
	mk(top, "data");
	put(top, "data/in.csv");
	put(outside, "secret.csv");
	mk(outside, "deeper");
	put(outside, "deeper/secret2.csv");
	snprintf(link, sizeof(link), "%s/data/escape", top);
	ck_assert_int_eq(symlink(outside, link), 0);
	ck_assert_int_eq(run(top, "data/**/*.csv", &l, &e), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert(has(&l, "data/in.csv", FOUND_FILE));
	foundlist_free(&l);
	/* "**" alone reports the link itself, as a link to be removed. */
	ck_assert_int_eq(run(top, "data/**", &l, &e), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert(has(&l, "data/escape", FOUND_SYMLINK));
	foundlist_free(&l);
	resolve_force_walk(0);
	tu_rmtree(top);
	tu_rmtree(outside);
}
END_TEST

START_TEST(locate_refuses_a_literal_prefix_through_a_symlink)
{
	char *top = tu_tmpdir(), *outside = tu_tmpdir(), link[4200];
	struct foundlist l = { 0 };
	struct err e = { "" };

	resolve_force_walk(_i);
	put(outside, "secret.csv");
	snprintf(link, sizeof(link), "%s/exports", top);
	ck_assert_int_eq(symlink(outside, link), 0);
	ck_assert_int_eq(run(top, "exports/*.csv", &l, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "symbolic link"));
	ck_assert_ptr_nonnull(strstr(e.msg, "exports"));
	ck_assert_uint_eq(l.n, 0);
	foundlist_free(&l);
	resolve_force_walk(0);
	tu_rmtree(top);
	tu_rmtree(outside);
}
END_TEST

START_TEST(locate_reports_a_symlink_to_a_file_as_a_symlink)
{
	char *top = tu_tmpdir(), *outside = tu_tmpdir(), link[4200], *target;
	struct foundlist l = { 0 };
	struct err e = { "" };

	resolve_force_walk(_i);
	target = tu_write(outside, "target.csv", "keep me\n");
	snprintf(link, sizeof(link), "%s/link.csv", top);
	ck_assert_int_eq(symlink(target, link), 0);
	ck_assert_int_eq(run(top, "*.csv", &l, &e), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert(has(&l, "link.csv", FOUND_SYMLINK));
	ck_assert_uint_eq(l.bytes, 0);
	foundlist_free(&l);
	/* A literal final component is probed, with the same result. */
	ck_assert_int_eq(run(top, "link.csv", &l, &e), 0);
	ck_assert(has(&l, "link.csv", FOUND_SYMLINK));
	foundlist_free(&l);
	free(target);
	resolve_force_walk(0);
	tu_rmtree(top);
	tu_rmtree(outside);
}
END_TEST

START_TEST(locate_reports_a_fifo_as_other_without_opening_it)
{
	char *top = tu_tmpdir(), path[4200];
	struct foundlist l = { 0 };
	struct err e = { "" };

	resolve_force_walk(_i);
	snprintf(path, sizeof(path), "%s/pipe.csv", top);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	alarm(5);	/* opening the FIFO would block forever */
	ck_assert_int_eq(run(top, "*.csv", &l, &e), 0);
	alarm(0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert(has(&l, "pipe.csv", FOUND_OTHER));
	foundlist_free(&l);
	resolve_force_walk(0);
	tu_rmtree(top);
}
END_TEST

START_TEST(a_glob_outside_every_root_is_an_error)
{
	char *top = tu_tmpdir();
	const char *roots[2] = { top, "/nonexistent/lethe-root" };
	struct foundlist l = { 0 };
	struct err e = { "" };

	ck_assert_int_eq(locate(roots, 2, "/etc/*.conf", &l, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "/etc/*.conf"));
	ck_assert_ptr_nonnull(strstr(e.msg, "allowed"));
	ck_assert_uint_eq(l.n, 0);
	/* A prefix of a root's name is not inside it. */
	char *g = NULL;
	ck_assert_int_ge(asprintf(&g, "%sx/*.csv", top), 0);
	ck_assert_int_eq(locate(roots, 1, g, &l, &e), -1);
	free(g);
	/* Nor is a wildcard over the root's own components. */
	ck_assert_int_eq(locate(roots, 1, "/tmp/*/x.csv", &l, &e), -1);
	foundlist_free(&l);
	tu_rmtree(top);
}
END_TEST

START_TEST(a_glob_climbing_out_with_dotdot_is_an_error)
{
	char *top = tu_tmpdir();
	struct foundlist l = { 0 };
	struct err e = { "" };

	ck_assert_int_eq(run(top, "../*", &l, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, ".."));
	ck_assert_int_eq(run(top, "a/../../x", &l, &e), -1);
	ck_assert_uint_eq(l.n, 0);
	tu_rmtree(top);
}
END_TEST

START_TEST(a_missing_literal_prefix_is_zero_matches)
{
	char *top = tu_tmpdir();
	struct foundlist l = { 0 };
	struct err e = { "" };

	resolve_force_walk(_i);
	ck_assert_int_eq(run(top, "not/there/**/*.csv", &l, &e), 0);
	ck_assert_uint_eq(l.n, 0);
	resolve_force_walk(0);
	tu_rmtree(top);
}
END_TEST

START_TEST(the_longest_containing_root_is_chosen)
{
	char *top = tu_tmpdir(), *inner, *g;
	struct foundlist l = { 0 };
	struct err e = { "" };

	mk(top, "inner");
	put(top, "inner/a.csv");
	inner = glob_of(top, "inner");
	const char *roots[2] = { top, inner };
	g = glob_of(top, "inner/*.csv");
	ck_assert_int_eq(locate(roots, 2, g, &l, &e), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(l.v[0].root, 1);
	ck_assert_str_eq(l.v[0].rel, "a.csv");
	foundlist_free(&l);
	free(g);
	free(inner);
	tu_rmtree(top);
}
END_TEST

START_TEST(locate_never_enters_a_mount_point)
{
	char *top = tu_tmpdir(), path[4200];
	struct foundlist l = { 0 };
	struct err e = { "" };

	resolve_force_walk(_i);
	mk(top, "data");
	mk(top, "data/mnt");
	put(top, "data/a.csv");
	snprintf(path, sizeof(path), "%s/data/mnt", top);
	if (mount("lethe-test", path, "tmpfs", 0, "size=1m") == -1) {
		fprintf(stderr, "SKIPPED: cannot mount a tmpfs (%s)\n",
		    strerror(errno));
		tu_rmtree(top);
		return;
	}
	put(top, "data/mnt/b.csv");
	ck_assert_int_eq(run(top, "data/**/*.csv", &l, &e), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert(has(&l, "data/a.csv", FOUND_FILE));
	ck_assert_uint_eq(l.skipped_mounts, 1);
	foundlist_free(&l);
	/* A literal prefix through the mount is an error, not zero. */
	ck_assert_int_eq(run(top, "data/mnt/*.csv", &l, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "mount point"));
	ck_assert_int_eq(umount(path), 0);
	resolve_force_walk(0);
	tu_rmtree(top);
}
END_TEST

START_TEST(a_glob_naming_a_directory_is_an_error_not_zero_matches)
{
	char *top = tu_tmpdir();
	struct foundlist l = { 0 };
	struct err e = { "" };

	resolve_force_walk(_i);
	mk(top, "acme");
	mk(top, "acme/x");
	put(top, "acme/x/a.csv");
	ck_assert_int_eq(run(top, "acme", &l, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "names the directory"));
	ck_assert_ptr_nonnull(strstr(e.msg, "acme/**"));
	ck_assert_int_eq(run(top, "acme/x/", &l, &e), -1);
	ck_assert_int_eq(run(top, "*/x", &l, &e), -1);
	ck_assert_int_eq(run(top, "acme/*", &l, &e), 0);	/* wild: fine */
	ck_assert_uint_eq(l.n, 0);
	foundlist_free(&l);
	resolve_force_walk(0);
	tu_rmtree(top);
}
END_TEST

START_TEST(a_nested_root_on_its_own_mount_is_walked_from_its_root)
{
	char *top = tu_tmpdir(), *inner, *g, path[4200];
	struct foundlist l = { 0 };
	struct err e = { "" };

	resolve_force_walk(_i);
	mk(top, "data");
	mk(top, "data/mnt");
	put(top, "data/a.csv");
	snprintf(path, sizeof(path), "%s/data/mnt", top);
	if (mount("lethe-test", path, "tmpfs", 0, "size=1m") == -1) {
		fprintf(stderr, "SKIPPED: cannot mount a tmpfs (%s)\n",
		    strerror(errno));
		tu_rmtree(top);
		return;
	}
	mk(top, "data/mnt/deep");
	put(top, "data/mnt/deep/b.csv");
	inner = glob_of(top, "data/mnt");
	{
		const char *roots[2] = { top, inner };
		g = glob_of(top, "data/**/*.csv");
		ck_assert_int_eq(locate(roots, 2, g, &l, &e), 0);
	}
	ck_assert_uint_eq(l.n, 2);
	ck_assert_uint_eq(l.skipped_mounts, 0);
	for (size_t i = 0; i < l.n; i++)
		if (strcmp(l.v[i].rel, "deep/b.csv") == 0)
			ck_assert_int_eq(l.v[i].root, 1);
		else
			ck_assert_str_eq(l.v[i].rel, "data/a.csv");
	foundlist_free(&l);
	ck_assert_int_eq(umount(path), 0);
	free(g);
	free(inner);
	resolve_force_walk(0);
	tu_rmtree(top);
}
END_TEST

START_TEST(an_unreadable_directory_is_an_error_naming_it)
{
	char *top = tu_tmpdir(), path[4200];
	struct foundlist l = { 0 };
	struct err e = { "" };

	ck_assert_int_eq(chmod(top, 0777), 0);
	if (geteuid() == 0) {
		/* root reads everything; drop to nobody for this check. */
		if (chown(top, 65534, 65534) == -1 || setgid(65534) == -1 ||
		    setuid(65534) == -1) {
			fprintf(stderr, "SKIPPED: cannot drop privileges\n");
			tu_rmtree(top);
			return;
		}
	}
	mk(top, "locked");
	put(top, "locked/a.csv");
	snprintf(path, sizeof(path), "%s/locked", top);
	ck_assert_int_eq(chmod(path, 0), 0);
	ck_assert_int_eq(run(top, "**/*.csv", &l, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "locked"));
	ck_assert_int_eq(chmod(path, 0755), 0);
	foundlist_free(&l);
	tu_rmtree(top);
}
END_TEST

START_TEST(sorting_drops_duplicate_matches_of_two_globs)
{
	char *top = tu_tmpdir();
	struct foundlist l = { 0 };
	struct err e = { "" };

	mk(top, "s");
	put(top, "s/b.csv");
	put(top, "s/a.csv");
	ck_assert_int_eq(run(top, "s/*.csv", &l, &e), 0);
	ck_assert_int_eq(run(top, "s/**", &l, &e), 0);
	ck_assert_uint_eq(l.n, 4);
	foundlist_sort(&l);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.v[0].rel, "s/a.csv");
	ck_assert_str_eq(l.v[1].rel, "s/b.csv");
	ck_assert_uint_eq(l.bytes, 2 * strlen("student data\n"));
	ck_assert_uint_eq(foundlist_links(&l, l.v[0].dev, l.v[0].ino), 1);
	foundlist_free(&l);
	tu_rmtree(top);
}
END_TEST

START_TEST(a_large_directory_is_found_whole_with_every_fact)
{
	char *top = tu_tmpdir(), name[64];
	struct foundlist l = { 0 };
	struct err e = { "" };
	struct stat st;

	resolve_force_walk(_i);
	mk(top, "big");
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "big/f%03d.%s", i,
		    i % 3 ? "csv" : "txt");
		put(top, name);
	}
	ck_assert_int_eq(run(top, "big/*.csv", &l, &e), 0);
	ck_assert_uint_eq(l.n, 200);
	ck_assert_uint_eq(l.bytes, 200 * strlen("student data\n"));
	foundlist_sort(&l);
	ck_assert_str_eq(l.v[0].rel, "big/f001.csv");
	snprintf(name, sizeof(name), "%s/big/f001.csv", top);
	ck_assert_int_eq(stat(name, &st), 0);
	ck_assert_uint_eq(l.v[0].ino, st.st_ino);
	ck_assert_uint_eq(l.v[0].dev, st.st_dev);
	ck_assert_uint_eq(l.v[0].nlink, 1);
	ck_assert_int_eq(l.v[0].size, (off_t)strlen("student data\n"));
	foundlist_free(&l);
	resolve_force_walk(0);
	tu_rmtree(top);
}
END_TEST

START_TEST(nostat_counts_the_same_matches_from_directory_entries)
{
	char *top = tu_tmpdir(), path[4200];
	const char *roots[1] = { top };
	struct foundlist a = { 0 }, b = { 0 };
	struct err e = { "" };
	char *g;

	mk(top, "d");
	mk(top, "d/sub");
	put(top, "d/a.csv");
	put(top, "d/sub/b.csv");
	snprintf(path, sizeof(path), "%s/d/sub/l.csv", top);
	ck_assert_int_eq(symlink("/etc/passwd", path), 0);
	snprintf(path, sizeof(path), "%s/d/p.csv", top);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	g = glob_of(top, "d/**/*.csv");
	ck_assert_int_eq(locate(roots, 1, g, &a, &e), 0);
	ck_assert_int_eq(locate_ex(roots, 1, g, LOCATE_NOSTAT, &b, &e), 0);
	ck_assert_uint_eq(a.n, 4);
	ck_assert_uint_eq(b.n, 4);
	foundlist_sort(&a);
	foundlist_sort(&b);
	for (size_t i = 0; i < a.n; i++) {
		ck_assert_str_eq(a.v[i].rel, b.v[i].rel);
		ck_assert_int_eq(a.v[i].kind, b.v[i].kind);
		ck_assert_uint_eq(a.v[i].ino, b.v[i].ino);
		ck_assert_uint_eq(a.v[i].dev, b.v[i].dev);
	}
	ck_assert_uint_eq(b.bytes, 0);
	foundlist_free(&a);
	foundlist_free(&b);
	free(g);
	tu_rmtree(top);
}
END_TEST

START_TEST(resolve_parent_gives_the_directory_and_the_last_name)
{
	char *top = tu_tmpdir(), *outside = tu_tmpdir(), link[4200];
	struct rootdir r;
	struct err e = { "" };
	const char *base = NULL;
	struct stat st;
	int fd;

	resolve_force_walk(_i);
	mk(top, "a");
	mk(top, "a/b");
	put(top, "a/b/f.csv");
	ck_assert_int_eq(resolve_root(top, &r, &e), 0);
	fd = resolve_parent(&r, "a/b/f.csv", &base, &e);
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(base, "f.csv");
	ck_assert_int_eq(fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert(S_ISREG(st.st_mode));
	close(fd);
	fd = resolve_parent(&r, "top.csv", &base, &e);
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(base, "top.csv");
	close(fd);
	/* Through a symlinked directory: refused with ELOOP. */
	snprintf(link, sizeof(link), "%s/a/esc", top);
	ck_assert_int_eq(symlink(outside, link), 0);
	ck_assert_int_eq(resolve_parent(&r, "a/esc/x.csv", &base, &e), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(resolve_parent(&r, "a/../../x", &base, &e), -1);
	ck_assert_int_eq(resolve_parent(&r, "a/..", &base, &e), -1);
	ck_assert_int_eq(resolve_dir(&r, "a/b/f.csv", &e), -1);
	ck_assert_int_eq(errno, ENOTDIR);
	resolve_root_close(&r);
	resolve_force_walk(0);
	tu_rmtree(top);
	tu_rmtree(outside);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("locate");
	TCase *tc = tcase_create("locate");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, locate_finds_nested_matches_at_every_depth, 0, 2);
	tcase_add_loop_test(tc, locate_matches_wildcards_in_the_middle_of_a_glob,
	    0, 2);
	tcase_add_loop_test(tc, locate_never_follows_a_symlinked_directory, 0, 2);
	tcase_add_loop_test(tc, locate_refuses_a_literal_prefix_through_a_symlink,
	    0, 2);
	tcase_add_loop_test(tc, locate_reports_a_symlink_to_a_file_as_a_symlink,
	    0, 2);
	tcase_add_loop_test(tc, locate_reports_a_fifo_as_other_without_opening_it,
	    0, 2);
	tcase_add_test(tc, a_glob_outside_every_root_is_an_error);
	tcase_add_test(tc, a_glob_climbing_out_with_dotdot_is_an_error);
	tcase_add_loop_test(tc, a_missing_literal_prefix_is_zero_matches, 0, 2);
	tcase_add_test(tc, the_longest_containing_root_is_chosen);
	tcase_add_loop_test(tc, locate_never_enters_a_mount_point, 0, 2);
	tcase_add_loop_test(tc, a_glob_naming_a_directory_is_an_error_not_zero_matches, 0, 2);
	tcase_add_loop_test(tc, a_nested_root_on_its_own_mount_is_walked_from_its_root, 0, 2);
	tcase_add_test(tc, an_unreadable_directory_is_an_error_naming_it);
	tcase_add_test(tc, sorting_drops_duplicate_matches_of_two_globs);
	tcase_add_loop_test(tc, a_large_directory_is_found_whole_with_every_fact,
	    0, 2);
	tcase_add_test(tc, nostat_counts_the_same_matches_from_directory_entries);
	tcase_add_loop_test(tc,
	    resolve_parent_gives_the_directory_and_the_last_name, 0, 2);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
