/*
 * cmd_demo.c: `lethe demo [DIR]`, a self-contained walk-through.  It
 * builds a small vendor host in DIR (a config, two agreements, generated
 * student-like data and a backup, a throwaway CA made by certs/mkca, and a
 * sendmail stand-in that drops messages in DIR/mail), then runs the real
 * commands against it, printing each before its output:
 * check → plan → terminate → directive → hold → run → verify.
 * Nothing outside DIR is touched.
 */
#include "cmd/cmd.h"
#include "base/date.h"
#include "state/durable.h"
#include "base/err.h"
#include "conf/strict.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char self[PATH_MAX];

static int
put(const char *dir, const char *name, mode_t mode, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes DIR/NAME (creating its directories) from a format. */
static int
put(const char *dir, const char *name, mode_t mode, const char *fmt, ...)
{
	char path[PATH_MAX], *text = NULL, *slash;
	struct err e;
	va_list ap;
	int n, rc;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		return -1;
	slash = strrchr(path, '/');
	*slash = '\0';
	if (mkdirs(path, 0755, &e) != 0) {
		warnx_("%s", e.msg);
		return -1;
	}
	*slash = '/';
	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	rc = durable_write(path, text, (size_t)n, mode, &e);
	if (rc != 0)
		warnx_("%s", e.msg);
	free(text);
	return rc;
}

/* Runs argv, printing it first as a shell line would show it. */
static int
show(const char *conf, const char *const *args)
{
	const char *argv[24];
	size_t n = 0;
	pid_t pid;
	int st;

	printf("\n$ lethe");
	for (size_t i = 0; args[i] != NULL; i++)
		printf(strpbrk(args[i], " ;:") ? " '%s'" : " %s", args[i]);
	printf("\n");
	fflush(stdout);
	argv[n++] = "lethe";
	argv[n++] = "-c";
	argv[n++] = conf;
	for (size_t i = 0; args[i] != NULL && n < 23; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	if (pid == -1)
		return -1;
	if (pid == 0) {
		dup2(STDOUT_FILENO, STDERR_FILENO);
		execv(self, (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(st))
		return -1;
	if (WEXITSTATUS(st) != 0)
		printf("(exit %d)\n", WEXITSTATUS(st));
	return WEXITSTATUS(st);
}

static int
sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
	char *cmd = NULL;
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	rc = system(cmd);
	free(cmd);
	return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Where certs/mkca is: $LETHE_MKCA, beside a build tree, or installed. */
static const char *
find_mkca(char *buf, size_t len)
{
	const char *env = getenv("LETHE_MKCA");
	char dir[PATH_MAX], *slash;

	if (env != NULL && access(env, X_OK) == 0)
		return env;
	snprintf(dir, sizeof(dir), "%s", self);
	slash = strrchr(dir, '/');
	if (slash != NULL) {
		*slash = '\0';
		/* build/lethe or build/san/lethe in a source tree */
		if (snprintf(buf, len, "%s/../certs/mkca", dir) < (int)len &&
		    access(buf, X_OK) == 0)
			return buf;
		if (snprintf(buf, len, "%s/../../certs/mkca", dir) < (int)len &&
		    access(buf, X_OK) == 0)
			return buf;
		if (snprintf(buf, len, "%s/lethe-mkca", dir) < (int)len &&
		    access(buf, X_OK) == 0)
			return buf;
	}
	return NULL;
}

static const char *first[] = { "Jordan", "Amara", "Luis", "Mei", "Noah",
    "Priya", "Tariq", "Sofia" };
static const char *last[] = { "Alvarez", "Okafor", "Nguyen", "Smith",
    "Haddad", "Kowalski", "Reyes", "Tanaka" };

static int
make_data(const char *dir)
{
	for (int i = 0; i < 8; i++) {
		char name[256];
		snprintf(name, sizeof(name), "srv/edtech/exports/osde/2026/%s_%s"
		    "_screener.csv", first[i], last[i]);
		if (put(dir, name, 0640, "student_id,name,score\n%d,%s %s,%d\n",
		    40010 + i, first[i], last[i], 60 + i * 4) != 0)
			return -1;
		snprintf(name, sizeof(name), "srv/edtech/attendance/ndpa/%s_%s"
		    ".csv", last[i], first[i]);
		if (put(dir, name, 0640, "date,present\n2026-09-0%d,yes\n",
		    i + 1) != 0)
			return -1;
		snprintf(name, sizeof(name), "srv/edtech/assessment/ndpa/%s_%s"
		    "_ela.csv", last[i], first[i]);
		if (put(dir, name, 0640, "item,score\nELA-%d,%d\n", i, 3) != 0)
			return -1;
	}
	if (put(dir, "srv/edtech/research/osde/aggregate.csv", 0640,
	    "grade,mean_score\n3,72.5\n4,74.1\n") != 0)
		return -1;
	return 0;
}

/* The demo's directory: DIR (made 0700 if need be), or a new temporary
 * one; never one that already holds a demo, nor (as root) one that
 * StrictModes would refuse.  Returns EXIT_OK, or an exit code after
 * saying why. */
static int
demo_dir(int argc, char **argv, char dir[PATH_MAX])
{
	struct diags d = { 0 };
	char probe[PATH_MAX + 16];
	struct stat st;

	if (argc == 2) {
		struct err e;
		if (mkdirs(argv[1], 0700, &e) != 0) {
			warnx_("%s", e.msg);
			return EXIT_USAGE;
		}
		if (realpath(argv[1], dir) == NULL) {
			warnx_("%s: cannot resolve", argv[1]);
			return EXIT_USAGE;
		}
	} else {
		/* As root, StrictModes refuse anything below /tmp. */
		snprintf(dir, PATH_MAX, "%s/lethe-demo.XXXXXX",
		    geteuid() == 0 ? "/var/lib" : "/tmp");
		if (mkdtemp(dir) == NULL) {
			warnx_("cannot make a temporary directory");
			return EXIT_FAIL;
		}
	}
	/* Said now, rather than by each step of the demo. */
	if (strict_path(dir, "the demo directory", geteuid(), &d) != 0) {
		cmd_print_diags(&d);
		warnx_("as root, give the demo a directory that only root can "
		    "write, such as /root/tour");
		diag_free(&d);
		return EXIT_USAGE;
	}
	diag_free(&d);
	snprintf(probe, sizeof(probe), "%s/etc", dir);
	if (lstat(probe, &st) == 0) {
		warnx_("%s already holds a demo; give an empty or new directory",
		    dir);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* The demo host in dir: its config, two agreements, a sendmail
 * stand-in, an Exhibit D form received on recv, and generated data.
 * Returns 0, or -1 after saying why. */
static int
write_host(const char *dir, const char *recv)
{
	if (put(dir, "etc/lethe.conf", 0644,
	    "; the demo host's configuration (see lethe.conf(5))\n"
	    "[agent]\nstate_dir = %s/state\npolicy_dir = %s/etc/policies.d\n"
	    "allowed_roots = %s/srv/edtech %s/backups\nhost = demo-app-1\n\n"
	    "[vendor]\nname = Example Learning, Inc.\n"
	    "contact = privacy@example-learning.test\n\n"
	    "[signing]\nkey = %s/certs/agent.key\ncert = %s/certs/agent.pem\n"
	    "chain = %s/certs/ca.pem\n\n[notify]\nsendmail = %s/bin/sendmail\n"
	    "from = privacy@example-learning.test\n",
	    dir, dir, dir, dir, dir, dir, dir, dir) != 0)
		return -1;
	if (put(dir, "etc/policies.d/osde-2024.ini", 0644,
	    "; State DSA 2.7: \"within thirty (30) days destroy all PII\"; "
	    "written notice\n; of the date and method within ten (10) days.\n"
	    "[agreement]\nid = osde-2024\n"
	    "lea = Oklahoma State Department of Education\n"
	    "contact = privacy@sde.example\ndispose_after_termination = 30d\n"
	    "certify_within = 10d\ntimezone = America/Chicago\n"
	    "method = overwrite\n\n[dataset \"screener-exports\"]\n"
	    "path = %s/srv/edtech/exports/osde/**/*.csv\n"
	    "categories = Assessment, Student Identifiers, Student Name\n\n"
	    "[dataset \"research\"]\npath = %s/srv/edtech/research/osde/**\n"
	    "deidentified = yes\n", dir, dir) != 0)
		return -1;
	if (put(dir, "etc/policies.d/ndpa-nh.ini", 0644,
	    "; NDPA IV.6: dispose \"within sixty (60) days of the date of said "
	    "request\";\n; on termination, \"after providing the LEA with "
	    "reasonable prior notice\".\n[agreement]\nid = ndpa-nh\n"
	    "lea = Example School District (NH)\ncontact = dpo@district.example\n"
	    "dispose_after_request = 60d\ndispose_after_termination = 60d\n"
	    "notice_before = 14d\ncertify_within = 10d\n"
	    "timezone = America/New_York\nmethod = overwrite\n\n"
	    "[dataset \"attendance\"]\npath = %s/srv/edtech/attendance/ndpa/*.csv\n"
	    "categories = Attendance\n\n[dataset \"assessment\"]\n"
	    "path = %s/srv/edtech/assessment/ndpa/*.csv\ncategories = Assessment\n",
	    dir, dir) != 0)
		return -1;
	if (put(dir, "bin/sendmail", 0755, "#!/bin/sh\n# demo stand-in for "
	    "sendmail(8): keeps each message in %s/mail\nmkdir -p %s/mail\n"
	    "cat > \"%s/mail/$(date +%%s%%N).eml\"\n", dir, dir, dir) != 0)
		return -1;
	if (put(dir, "exhibit-d.ini", 0644, "; NDPA Exhibit D: Directive for "
	    "Disposition of Data, as the district sent it\n[directive]\n"
	    "agreement = ndpa-nh\nreceived = %s\nextent = partial\n"
	    "categories = Assessment, Attendance\nnature = destroy\nschedule = asap\n"
	    "requested_by = J. Smith, Data Privacy Officer\n", recv) != 0)
		return -1;
	if (make_data(dir) != 0 ||
	    put(dir, "backups/README", 0644, "nightly backups land here\n") != 0)
		return -1;
	return 0;
}

/* Runs the commands of the tour against the demo host, printing each
 * before its output.  Returns 0, or -1 when `lethe check` fails. */
static int
tour(const char *conf, const char *dir, const char *term)
{
	const char *a1[] = { "check", NULL };
	const char *a2[] = { "plan", NULL };
	const char *a3[] = { "terminate", "osde-2024", term, NULL };
	char exd[PATH_MAX + 32];
	const char *a4[] = { "directive", "add", exd, NULL };
	const char *a5[] = { "hold", "ndpa-nh", "--reason",
	    "litigation hold: records request 2026-114", "--category",
	    "Attendance", NULL };
	const char *a6[] = { "run", "--dry-run", NULL };
	const char *a7[] = { "run", "--verbose", NULL };
	const char *a8[] = { "cert", "list", NULL };
	const char *a9[] = { "journal", "verify", NULL };

	snprintf(exd, sizeof(exd), "%s/exhibit-d.ini", dir);
	if (show(conf, a1) != 0)
		return -1;
	show(conf, a2);
	printf("\n# The OSDE contract ended 20 days ago; the district's "
	    "privacy officer sent an\n# Exhibit D directive 3 days ago "
	    "for Assessment and Attendance data; legal put a hold on\n# Attendance "
	    "records.\n");
	show(conf, a3);
	show(conf, a4);
	show(conf, a5);
	show(conf, a2);
	show(conf, a6);
	show(conf, a7);
	show(conf, a2);
	show(conf, a8);
	show(conf, a9);
	return 0;
}

/* What an auditor and the admin see afterwards: stock openssl verifying
 * each certificate, and what is left on disk. */
static void
epilogue(const char *dir)
{
	printf("\n# An auditor verifies a certificate with nothing but stock "
	    "openssl:\n");
	fflush(stdout);
	sh("cd '%s/state/certificates' 2>/dev/null && for c in *.cert; do "
	    "[ -e \"$c\" ] || continue; echo \"$ openssl cms -verify -binary "
	    "-inform PEM -in $c.p7s -content $c -CAfile ca.pem -out "
	    "/dev/null\"; openssl cms -verify -binary -inform PEM -in "
	    "\"$c.p7s\" -content \"$c\" -CAfile '%s/certs/ca.pem' -out "
	    "/dev/null; echo \"$ lethe verify --ca ca.pem $c\"; '%s' verify "
	    "--ca '%s/certs/ca.pem' \"$c\"; done", dir, dir, self, dir);
	printf("\n# What is left on disk: the research file (de-identified, "
	    "retained) and the\n# attendance files (on hold); the exports and "
	    "assessment files are gone.\n");
	fflush(stdout);
	sh("cd '%s' && find srv -type f | sort", dir);
}

int
cmd_demo(struct ctx *x, int argc, char **argv)
{
	char dir[PATH_MAX], conf[PATH_MAX + 32], mkca_buf[PATH_MAX];
	char term[11], recv[11];
	const char *mkca;
	ssize_t n;
	time_t now = time(NULL);
	int rc;

	(void)x;
	if (argc > 2)
		return cmd_usage("demo");
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		warnx_("cannot find my own executable");
		return EXIT_FAIL;
	}
	self[n] = '\0';
	if ((rc = demo_dir(argc, argv, dir)) != EXIT_OK)
		return rc;
	mkca = find_mkca(mkca_buf, sizeof(mkca_buf));
	if (mkca == NULL) {
		warnx_("cannot find certs/mkca (set LETHE_MKCA)");
		return EXIT_FAIL;
	}
	date_format(tz_date_at("America/Chicago", now) - 20, term);
	date_format(tz_date_at("America/New_York", now) - 3, recv);
	snprintf(conf, sizeof(conf), "%s/etc/lethe.conf", dir);
	printf("lethe demo: a small vendor host in %s\n", dir);
	if (write_host(dir, recv) != 0)
		return EXIT_FAIL;
	printf("generated: 8 screener exports (OSDE), 8 attendance and 8 "
	    "assessment files (NDPA district), 1 de-identified research file\n");
	printf("\n$ certs/mkca %s/certs    # a throwaway vendor CA and agent key\n",
	    dir);
	fflush(stdout);
	if (sh("'%s' --vendor 'Example Learning, Inc.' --host demo-app-1 "
	    "'%s/certs' >/dev/null", mkca, dir) != 0) {
		warnx_("certs/mkca failed");
		return EXIT_FAIL;
	}
	if (tour(conf, dir, term) != 0)
		return EXIT_FAIL;
	epilogue(dir);
	printf("\nThe demo host stays in %s; LETHE_CONF=%s lethe plan\n", dir,
	    conf);
	return EXIT_OK;
}
