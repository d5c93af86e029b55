/* check_spawn.c: running sendmail and the TSA (agent/base/spawn.c): the
 * command-line rule, no shell, the time limit over the whole process
 * group, no leaked descriptors or environment, no deadlock. */
#include "testutil.h"

#include "base/err.h"
#include "base/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static char **
parse_ok(const char *cmd, int n)
{
	struct err e = { "" };
	char **argv = NULL;
	int k = 0;

	ck_assert_msg(spawn_parse(cmd, "tsa_command", &argv, &e) == 0,
	    "%s: %s", cmd, e.msg);
	while (argv[k] != NULL)
		k++;
	ck_assert_int_eq(k, n);
	return argv;
}

static void
parse_bad(const char *cmd, const char *why)
{
	struct err e = { "" };
	char **argv = (char **)1;

	ck_assert_int_eq(spawn_parse(cmd, "tsa_command", &argv, &e), -1);
	ck_assert_ptr_null(argv);
	ck_assert_msg(strstr(e.msg, why) != NULL, "%s: '%s' has no '%s'", cmd,
	    e.msg, why);
	ck_assert_msg(strncmp(e.msg, "tsa_command", 11) == 0, "%s", e.msg);
}

START_TEST(a_command_line_splits_into_words_by_the_documented_rule)
{
	char **v;

	v = parse_ok("/usr/sbin/sendmail  -oi\t-t", 3);
	ck_assert_str_eq(v[0], "/usr/sbin/sendmail");
	ck_assert_str_eq(v[1], "-oi");
	ck_assert_str_eq(v[2], "-t");
	spawn_argv_free(v);
	v = parse_ok("/usr/bin/curl -H 'Content-Type: application/"
	    "timestamp-query' --data-binary @- https://tsa.example/tsr", 6);
	ck_assert_str_eq(v[2], "Content-Type: application/timestamp-query");
	spawn_argv_free(v);
	v = parse_ok("'/opt/my tsa/run' \"a \\\"b\\\" \\\\ \\x\" c\\ d '' x'y'\"z\"",
	    5);
	ck_assert_str_eq(v[0], "/opt/my tsa/run");
	ck_assert_str_eq(v[1], "a \"b\" \\ \\x");
	ck_assert_str_eq(v[2], "c d");
	ck_assert_str_eq(v[3], "");
	ck_assert_str_eq(v[4], "xyz");
	spawn_argv_free(v);
	/* Shell characters are fine inside quotes: they are data. */
	v = parse_ok("/bin/echo '$HOME; rm -rf / | x' \"a&b\"", 3);
	ck_assert_str_eq(v[1], "$HOME; rm -rf / | x");
	spawn_argv_free(v);
}
END_TEST

START_TEST(shell_syntax_and_relative_programs_are_refused_with_where)
{
	parse_bad("/bin/tsa | /bin/cat", "unquoted '|' at character 10");
	parse_bad("/bin/tsa; reboot", "unquoted ';'");
	parse_bad("/bin/tsa > /tmp/x", "unquoted '>'");
	parse_bad("/bin/tsa $URL", "unquoted '$'");
	parse_bad("/bin/tsa `id`", "unquoted '`'");
	parse_bad("/bin/tsa *.pem", "unquoted '*'");
	parse_bad("/bin/tsa ~/x", "unquoted '~'");
	parse_bad("/bin/tsa 'open", "quote ' at character 10 is never closed");
	parse_bad("/bin/tsa \"open", "never closed");
	parse_bad("/bin/tsa x\\", "escapes nothing");
	parse_bad("tsa-client --url x", "must start with an absolute path");
	parse_bad("   ", "no program named");
	parse_bad("/bin/tsa\x01", "control character");
}
END_TEST

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

START_TEST(a_megabyte_goes_in_and_out_without_deadlock)
{
	static unsigned char in[1 << 20];
	char *argv[] = { "/bin/cat", NULL };
	struct spawn_io io = { .infd = -1, .in = in, .inlen = sizeof(in),
	    .outmax = sizeof(in), .timeout_s = 20 };
	struct err e = { "" };

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 7 + i / 4096);
	ck_assert_msg(spawn_run(argv, &io, &e) == 0, "%s", e.msg);
	ck_assert(WIFEXITED(io.status) && WEXITSTATUS(io.status) == 0);
	ck_assert_int_eq(io.timed_out, 0);
	ck_assert_int_eq(io.out_over, 0);
	ck_assert_uint_eq(io.outlen, sizeof(in));
	ck_assert(memcmp(io.out, in, sizeof(in)) == 0);
	free(io.out);
	/* More than outmax: kept up to it, and said. */
	io.outmax = 1000;
	ck_assert_msg(spawn_run(argv, &io, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(io.out_over, 1);
	ck_assert_uint_eq(io.outlen, 1000);
	free(io.out);
}
END_TEST

START_TEST(a_program_that_closes_its_pipes_and_hangs_is_killed_with_its_group)
{
	char *dir = tu_tmpdir(), script[8400], pidf[4200];
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct spawn_io io = { .infd = -1, .outmax = 64, .timeout_s = 1 };
	struct err e = { "" };
	double t0, took;
	FILE *f;
	long pid = 0;

	/* A grandchild in the background, then every pipe closed: nothing
	 * for lethe to read or write, and no exit. */
	snprintf(pidf, sizeof(pidf), "%s/sleeper.pid", dir);
	snprintf(script, sizeof(script), "sleep 300 & echo $! > '%s'; "
	    "exec >&- 2>&- <&-; sleep 300", pidf);
	t0 = now_s();
	ck_assert_msg(spawn_run(argv, &io, &e) == 0, "%s", e.msg);
	took = now_s() - t0;
	ck_assert_int_eq(io.timed_out, 1);
	/* The limit and the grace, and slack for a loaded machine: far
	 * from the 300 s it would take unkilled. */
	ck_assert_msg(took < 1 + SPAWN_GRACE_S + 10, "took %.1f s", took);
	ck_assert(WIFSIGNALED(io.status));
	f = fopen(pidf, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	/* The background sleeper went with the group (it may linger a
	 * moment as a zombie of init). */
	for (int i = 0; i < 50; i++) {
		char st[64], path[64];
		FILE *s;

		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		if ((s = fopen(path, "r")) == NULL)
			break;
		st[0] = '\0';
		if (fgets(st, sizeof(st), s) == NULL)
			st[0] = '\0';
		fclose(s);
		if (strstr(st, ") Z") != NULL)
			break;
		ck_assert_msg(i < 49, "pid %ld still running: %s", pid, st);
		usleep(100000);
	}
	free(io.out);
	tu_rmtree(dir);
}
END_TEST

START_TEST(only_three_descriptors_and_a_path_only_environment_are_passed)
{
	/* ls lists its own descriptors: 0-2 as given, 3 the directory it
	 * reads; anything more came from lethe. */
	char *argv[] = { "/bin/sh", "-c",
	    "ls /proc/self/fd | tr '\\n' ' '; echo; env", NULL };
	struct spawn_io io = { .infd = -1, .outmax = 65536, .timeout_s = 10 };
	struct err e = { "" };
	char *out;
	int leak = open("/dev/null", O_RDONLY);	/* no O_CLOEXEC */

	ck_assert_int_ge(leak, 3);
	ck_assert_int_eq(setenv("LETHE_TEST_SECRET", "do-not-pass", 1), 0);
	ck_assert_msg(spawn_run(argv, &io, &e) == 0, "%s", e.msg);
	out = strndup((char *)io.out, io.outlen);
	ck_assert_msg(strncmp(out, "0 1 2 3 \n", 9) == 0, "descriptors: %s",
	    out);
	ck_assert_msg(strstr(out, "PATH=/usr/local/sbin:") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "LETHE_TEST_SECRET") == NULL, "%s", out);
	ck_assert_msg(strstr(out, "HOME=") == NULL, "%s", out);
	close(leak);
	free(out);
	free(io.out);
}
END_TEST

START_TEST(a_file_is_given_as_stdin_and_stderr_first_line_is_kept)
{
	char *dir = tu_tmpdir(), *msg = tu_write(dir, "m.eml", "hello\n");
	char *argv[] = { "/bin/sh", "-c", "cat; printf 'first\\001 line\\n"
	    "second\\n' >&2; exit 75", NULL };
	struct spawn_io io = { .outmax = 100, .timeout_s = 10 };
	struct err e = { "" };
	char how[256];

	io.infd = open(msg, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(io.infd, 0);
	ck_assert_msg(spawn_run(argv, &io, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(io.outlen, 6);
	ck_assert(memcmp(io.out, "hello\n", 6) == 0);
	ck_assert_str_eq(io.errline, "first? line");
	spawn_describe(&io, how, sizeof(how));
	ck_assert_str_eq(how, "exited 75: first? line");
	close(io.infd);
	free(io.out);
	free(msg);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_program_that_cannot_run_exits_127_and_says_why)
{
	char *argv[] = { "/nonexistent/tsa", NULL };
	struct spawn_io io = { .infd = -1, .in = "x", .inlen = 1,
	    .outmax = 10, .timeout_s = 5 };
	struct err e = { "" };
	char how[256];

	ck_assert_msg(spawn_run(argv, &io, &e) == 0, "%s", e.msg);
	spawn_describe(&io, how, sizeof(how));
	ck_assert_str_eq(how, "exited 127: cannot execute: No such file or "
	    "directory");
	free(io.out);
}
END_TEST

START_TEST(a_program_that_does_not_read_its_input_does_not_kill_lethe)
{
	static unsigned char in[1 << 20];
	char *argv[] = { "/bin/true", NULL };
	struct spawn_io io = { .infd = -1, .in = in, .inlen = sizeof(in),
	    .outmax = 10, .timeout_s = 10 };
	struct err e = { "" };

	ck_assert_msg(spawn_run(argv, &io, &e) == 0, "%s", e.msg);
	ck_assert(WIFEXITED(io.status) && WEXITSTATUS(io.status) == 0);
	free(io.out);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("spawn");
	TCase *tc = tcase_create("spawn");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_command_line_splits_into_words_by_the_documented_rule);
	tcase_add_test(tc, shell_syntax_and_relative_programs_are_refused_with_where);
	tcase_add_test(tc, a_megabyte_goes_in_and_out_without_deadlock);
	tcase_add_test(tc, a_program_that_closes_its_pipes_and_hangs_is_killed_with_its_group);
	tcase_add_test(tc, only_three_descriptors_and_a_path_only_environment_are_passed);
	tcase_add_test(tc, a_file_is_given_as_stdin_and_stderr_first_line_is_kept);
	tcase_add_test(tc, a_program_that_cannot_run_exits_127_and_says_why);
	tcase_add_test(tc, a_program_that_does_not_read_its_input_does_not_kill_lethe);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(suite());
}
