/*
 * cmd_journal.c: `lethe journal verify` (SPEC §9): checks the journal's
 * hash chain line by line and prints one line per check.  Read-only: it
 * takes no lock and writes nothing.
 */
#include "cmd.h"
#include "err.h"
#include "journal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int
journal_verify_cmd(struct ctx *x)
{
	struct journal_report r;
	struct err e;

	if (ctx_load_config(x) != 0)
		return EXIT_USAGE;
	if (journal_verify(x->cfg.state_dir, &r, &e) != 0) {
		printf("journal: BROKEN: %s\n", e.msg);
		if (r.bad_line > 0)
			printf("journal: lines 1-%" PRIu64 " intact, head %s; "
			    "line %" PRIu64 " and everything after it cannot "
			    "be trusted\n", r.lines, r.head, r.bad_line);
		return EXIT_FAIL;
	}
	if (r.lines == 0)
		printf("journal: 0 lines (nothing recorded yet), chain "
		    "intact\n");
	else
		printf("journal: %" PRIu64 " lines, chain intact, head %s\n",
		    r.lines, r.head);
	return EXIT_OK;
}

/* lethe journal verify */
int
cmd_journal(struct ctx *x, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "verify") == 0)
		return journal_verify_cmd(x);
	return usage("journal verify");
}
