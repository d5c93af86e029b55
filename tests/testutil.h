/* testutil.h: small helpers shared by the Check unit tests. */
#ifndef LETHE_TESTUTIL_H
#define LETHE_TESTUTIL_H

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
