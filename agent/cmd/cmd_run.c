/*
 * cmd_run.c: `lethe run [--verbose] [--dry-run [--now DATE]]` (SPEC §4,
 * §5).  Prints what failed always, what was done on a terminal or with
 * --verbose (a dry run with --verbose lists every object it would destroy
 * or keep, and why), and progress on a terminal only, so that cron mails nothing
 * but problems.  Exit: 0 all well, 1 something
 * failed (the rest was still done), 2 usage or config error (nothing was
 * done), 3 nothing failed but something is still overdue.
 */
#include "cmd/cmd.h"
#include "base/err.h"
#include "run/run.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct prog {
	int on;
	time_t last, start;
	int shown;
};


static void
show_progress(const char *what, uint64_t files, uint64_t nfiles,
    uint64_t bytes, uint64_t nbytes, void *arg)
{
	struct prog *p = arg;
	time_t now = time(NULL);
	char b[32], nb[32], rate[32];

	if (!p->on || (now == p->last && files < nfiles))
		return;
	if (p->start == 0)
		p->start = now;
	p->last = now;
	cmd_human_bytes(bytes, b, sizeof(b));
	cmd_human_bytes(nbytes, nb, sizeof(nb));
	cmd_human_bytes(now > p->start ? bytes / (uint64_t)(now - p->start) : bytes,
	    rate, sizeof(rate));
	fprintf(stderr, "\r%s: %" PRIu64 "/%" PRIu64 " files, %s of %s, %s/s   ",
	    what, files, nfiles, b, nb, rate);
	p->shown = 1;
}

int
cmd_run(struct ctx *x, int argc, char **argv)
{
	struct run_opts o;
	struct run_report r;
	struct prog p = { 0 };
	struct err e = { { 0 } };
	int rc, verbose = 0;

	memset(&o, 0, sizeof(o));
	o.today = DAY_NONE;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0 || strcmp(argv[i], "-n") == 0)
			o.dry_run = 1;
		else if (strcmp(argv[i], "--verbose") == 0 ||
		    strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
			if (date_parse(argv[++i], &o.today) != 0) {
				warnx_("--now: '%s' is not a date (YYYY-MM-DD)",
				    argv[i]);
				return EXIT_USAGE;
			}
		} else
			return cmd_usage("run");
	}
	if (o.today != DAY_NONE && !o.dry_run) {
		warnx_("--now is only for --dry-run: what is destroyed and "
		    "certified is dated by the clock");
		return EXIT_USAGE;
	}
	if (ctx_load(x) != 0)
		return EXIT_USAGE;
	o.list = o.dry_run && verbose;
	p.on = x->interactive && !o.dry_run;
	o.progress = show_progress;
	o.arg = &p;
	memset(&r, 0, sizeof(r));
	rc = run_all(&x->cfg, &x->ps, &o, &r, &e);
	if (p.shown)
		fputc('\n', stderr);
	for (size_t i = 0; i < r.msgs.n; i++)
		if (o.dry_run || x->interactive || verbose)
			printf("%s\n", r.msgs.v[i]);
	for (size_t i = 0; i < r.errors.n; i++)
		fprintf(stderr, "lethe: %s\n", r.errors.v[i]);
	for (size_t i = 0; i < r.overdue_msgs.n; i++)
		fprintf(stderr, "lethe: %s\n", r.overdue_msgs.v[i]);
	if (rc != 0) {
		warnx_("%s", e.msg);
		run_report_free(&r);
		return EXIT_FAIL;
	}
	if (o.dry_run && r.msgs.n == 0)
		printf("nothing to do\n");
	rc = r.failed || r.errors.n ? EXIT_FAIL : r.overdue ? EXIT_OVERDUE :
	    EXIT_OK;
	run_report_free(&r);
	return rc;
}
