/*
 * cmd_terminate.c: `lethe terminate AGREEMENT DATE` (SPEC §4): the end of
 * a service agreement, from which its disposal deadline runs.
 *
 * MUST rules:
 *  - the date is validated before anything is written;
 *  - it is recorded under the state lock and the journal lock, from a
 *    replay made under them, on a journal that passes the trust gate
 *    (session.h), and sealed after.
 */
#include "cmd/cmd.h"
#include "cmd/session.h"
#include "base/err.h"
#include "plan/events.h"
#include "plan/sched.h"
#include "state/journal.h"

#include <stdio.h>

/* lethe terminate AGREEMENT DATE */
int
cmd_terminate(struct ctx *x, int argc, char **argv)
{
	const struct ev_termination *t;
	const struct agreement *a;
	struct session s;
	char by[256], d1[11], d2[11];
	day_t date;
	int rc = EXIT_FAIL;

	if (argc != 3 || argv[1][0] == '-')
		return cmd_usage("terminate");
	if (date_parse(argv[2], &date) != 0) {
		warnx_("termination date '%s' is not a date (YYYY-MM-DD)",
		    argv[2]);
		return EXIT_USAGE;
	}
	if (ctx_load(x) != 0)
		return EXIT_USAGE;
	if ((a = cmd_find_agreement(x, argv[1])) == NULL)
		return EXIT_USAGE;
	if (session_begin(x, &s, 1) != 0 || session_refuse(x, &s) != 0)
		goto out;
	t = events_termination(&s.ev, a->id);
	if (t != NULL && t->date == date) {
		printf("%s: termination on %s was already recorded\n", a->id,
		    argv[2]);
		rc = EXIT_OK;
		goto out;
	}
	struct jfield f[] = {
		{ "agreement", a->id }, { "date", date_format(date, d1) },
		{ "by", cmd_whoami(by, sizeof(by)) },
	};
	if (session_append(&s, "terminate", f, 3) != 0)
		goto out;
	printf("%s: terminated on %s%s; disposal deadline %s\n", a->id, d1,
	    t != NULL ? " (replaces the earlier record)" : "",
	    date_format(sched_termination_deadline(a, date), d2));
	rc = session_seal(x, &s, 1) == 0 ? EXIT_OK : EXIT_FAIL;
out:
	session_end(&s);
	return rc;
}
