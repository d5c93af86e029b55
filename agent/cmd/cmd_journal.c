/*
 * cmd_journal.c: `lethe journal verify [--ca FILE]` (SPEC §9): checks the
 * journal's hash chain line by line, then the latest signed checkpoint
 * against the vendor CA, and prints one line per check.  Read-only: it
 * takes no lock and writes nothing.
 */
#include "cmd/cmd.h"
#include "base/err.h"
#include "certify/checkpoint.h"
#include "base/date.h"
#include "state/journal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int
journal_verify_cmd(struct ctx *x, const char *ca)
{
	struct journal_report r;
	struct checkpoint_report cr;
	struct err e;
	int rc;

	if (ctx_load_config(x) != 0)
		return EXIT_USAGE;
	if (ca == NULL)
		ca = x->cfg.sign_chain;
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
	/* The signed checkpoint ties the chain to the agent's key: without
	 * it, someone who can write state_dir could rewrite the whole chain. */
	if (ca == NULL) {
		printf("checkpoint: not checked: no CA (give --ca FILE or set "
		    "[signing] chain)\n");
		return EXIT_OK;
	}
	memset(&cr, 0, sizeof(cr));
	rc = checkpoint_verify(x->cfg.state_dir, ca, &cr, &e);
	if (rc < 0) {
		printf("checkpoint: FORGED OR MISMATCHED: %s\n", e.msg);
		return EXIT_FAIL;
	}
	if (rc == 1) {
		printf("checkpoint: none yet (written at the end of each run); "
		    "%" PRIu64 " lines not yet sealed\n", r.lines);
		return EXIT_OK;
	}
	{
		char when[21];
		printf("checkpoint: signed by %s at %s, seals lines 1-%" PRIu64
		    "\n", cr.signer, time_format_utc(cr.time, when), cr.seq);
	}
	if (cr.unsealed > 0)
		printf("journal: %" PRIu64 " lines after the checkpoint are "
		    "not yet sealed\n", cr.unsealed);
	return EXIT_OK;
}

/* lethe journal verify */
int
cmd_journal(struct ctx *x, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "verify") == 0)
		return journal_verify_cmd(x, NULL);
	if (argc == 4 && strcmp(argv[1], "verify") == 0 &&
	    strcmp(argv[2], "--ca") == 0)
		return journal_verify_cmd(x, argv[3]);
	return usage("journal verify [--ca FILE]");
}
