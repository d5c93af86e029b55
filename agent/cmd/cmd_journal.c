/*
 * cmd_journal.c: `lethe journal verify [--ca FILE]` and `lethe journal
 * accept --reason TEXT` (SPEC §9).
 *
 * verify checks the journal's hash chain line by line, then the trust
 * gate (the latest signed checkpoint against the vendor CA, or its
 * absence where runs were recorded), and prints one line per check and
 * every acceptance on record.  Read-only: it writes nothing, and takes
 * only a shared journal lock so that it never sees a line or a checkpoint
 * half-written.  A journal it cannot read is "cannot read", never BROKEN.
 *
 * accept is the admin's deliberate way out of a journal that fails the
 * gate (a restored backup, a known repair): it needs the signing key,
 * records what did not match as a journal-accept event (named on every
 * later certificate) and seals the journal with a fresh checkpoint.  It
 * cannot mend a broken chain (journal verify names the line; restore the
 * journal from a backup, then accept).
 */
#include "cmd/cmd.h"
#include "cmd/session.h"
#include "base/date.h"
#include "base/err.h"
#include "base/text.h"
#include "certify/certify.h"
#include "certify/checkpoint.h"
#include "certify/sign.h"
#include "plan/events.h"
#include "state/journal.h"
#include "state/lock.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Prints each journal-accept line ("journal: accepted ..."). */
static int
print_accept(const struct jrec *r, void *arg)
{
	const char *why, *kind, *by;
	char when[32];

	(void)arg;
	if (strcmp(r->event, "journal-accept") != 0)
		return 0;
	why = jrec_get(r, "reason");
	kind = jrec_get(r, "kind");
	by = jrec_get(r, "by");
	printf("journal: line %" PRIu64 ": accepted on %s by %s (%s): ",
	    r->seq, time_format_utc(r->time, when), by ? by : "?",
	    kind ? kind : "?");
	for (const char *p = why ? why : ""; *p; p++)
		putchar((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
	putchar('\n');
	return 0;
}

static int
journal_verify_cmd(struct ctx *x, const char *ca)
{
	struct journal_report r;
	struct gate_report g;
	struct err e;
	char when[32];
	int rc;

	if (ctx_load_config(x) != 0)
		return EXIT_USAGE;
	if (ca == NULL)
		ca = x->cfg.sign_chain;
	if (journal_verify(x->cfg.state_dir, &r, &e) != 0) {
		if (r.read_errno != 0) {
			warnx_("%s", e.msg);
			return EXIT_FAIL;
		}
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
	if (r.torn > 0)
		printf("journal: torn last line (%" PRIu64 " bytes without a "
		    "newline: an interrupted write) not counted; the next "
		    "command that records state removes it and journals the "
		    "repair\n", r.torn);
	/* The signed checkpoint ties the chain to the agent's key: without
	 * it, someone who can write state_dir could rewrite the whole chain. */
	rc = checkpoint_gate(x->cfg.state_dir, ca, NULL, &g, &e);
	if (journal_read(x->cfg.state_dir, print_accept, NULL, &e) != 0 &&
	    rc == 0)
		return EXIT_FAIL;
	if (rc != 0) {
		switch (g.state) {
		case GATE_NO_CHECKPOINT:
			printf("checkpoint: MISSING: %s\n", e.msg);
			return EXIT_FAIL;
		case GATE_FORGED:
		case GATE_MISMATCH:
		case GATE_SHORT:
		case GATE_UNSEALED:
			printf("checkpoint: FORGED OR MISMATCHED: %s\n", e.msg);
			return EXIT_FAIL;
		case GATE_BROKEN:
			printf("journal: BROKEN: %s\n", e.msg);
			return EXIT_FAIL;
		default:
			if (ca == NULL) {
				printf("checkpoint: not checked: no CA (give "
				    "--ca FILE or set [signing] chain)\n");
				return EXIT_OK;
			}
			warnx_("%s", e.msg);
			return EXIT_FAIL;
		}
	}
	if (!g.have_ckpt) {
		printf("checkpoint: none yet (the first run writes one); %"
		    PRIu64 " lines not yet sealed\n", g.lines);
		return EXIT_OK;
	}
	printf("checkpoint: signed by %s at %s, seals lines 1-%" PRIu64 "\n",
	    g.signer, time_format_utc(g.ckpt_time, when), g.seq);
	if (g.unsealed > 0)
		printf("journal: %" PRIu64 " lines after the checkpoint are "
		    "not yet sealed\n", g.unsealed);
	return EXIT_OK;
}

/* Before anything is opened: the reason can go onto certificates, and the
 * signing key loads (it is what makes an acceptance more than an edit).
 * Returns EXIT_OK, or an exit code after saying why. */
static int
accept_preflight(struct ctx *x, const char *reason)
{
	struct signer s;
	struct err e;
	char msg[256];

	if (text_reason_check(reason, msg, sizeof(msg)) != 0) {
		warnx_("journal accept: %s; nothing was recorded", msg);
		return EXIT_USAGE;
	}
	if (ctx_load_config(x) != 0)
		return EXIT_USAGE;
	if (!certify_can_sign(&x->cfg) || x->cfg.sign_chain == NULL) {
		warnx_("%s: journal accept needs the signing key, its "
		    "certificate and the CA ([signing] key, cert, chain); "
		    "nothing was recorded", x->conf_path);
		return EXIT_USAGE;
	}
	memset(&s, 0, sizeof(s));
	if (sign_load(x->cfg.sign_key, x->cfg.sign_cert, x->cfg.sign_chain,
	    &s, &e) != 0) {
		warnx_("%s; nothing was recorded", e.msg);
		return EXIT_USAGE;
	}
	sign_free(&s);
	return EXIT_OK;
}

/* Whether the journal, as the gate found it (g, why), may be accepted: it
 * replays, and its chain is intact.  Says why not. */
static int
acceptable(struct ctx *x, const struct gate_report *g, const struct err *why)
{
	struct events ev;
	struct err e;
	int bad;

	/* Accepting a journal that does not replay would leave every
	 * command refusing it all the same. */
	bad = events_load(x->cfg.state_dir, &ev, &e) != 0;
	events_free(&ev);
	if (bad) {
		warnx_("%s", e.msg);
		warnx_("the journal does not replay, so it cannot be accepted; "
		    "nothing was recorded (put back an intact journal, e.g. "
		    "from a backup, then accept it)");
		return 0;
	}
	if (g->state == GATE_BROKEN || g->state == GATE_ERROR) {
		warnx_("%s", why->msg);
		warnx_("journal accept takes a journal whose chain is intact; "
		    "nothing was recorded%s", g->state == GATE_BROKEN ? " (put "
		    "back an intact journal, e.g. from a backup, then accept "
		    "it)" : "");
		return 0;
	}
	return 1;
}

/* Journals the acceptance of what the gate found, and seals it with a new
 * checkpoint.  Returns an exit code. */
static int
accept_record(struct ctx *x, struct journal *j, const struct gate_report *g,
    const struct err *why, const char *reason)
{
	char by[256], lines[24], seq[24], when[32];
	struct err e;

	snprintf(lines, sizeof(lines), "%" PRIu64, g->lines);
	snprintf(seq, sizeof(seq), "%" PRIu64, g->seq);
	const struct jfield f[] = {
		{ "kind", checkpoint_gate_name(g->state) },
		{ "lines", lines },
		{ "head", g->head },
		{ "seq", seq },
		{ "expected", g->expected[0] ? g->expected : "none" },
		{ "found", g->found[0] ? g->found : "none" },
		{ "checkpoint_time", g->ckpt_time != (time_t)-1 ?
		    time_format_utc(g->ckpt_time, when) : "none" },
		{ "detail", why->msg },
		{ "reason", reason },
		{ "by", cmd_whoami(by, sizeof(by)) },
	};
	if (journal_append(j, "journal-accept", f, sizeof(f) / sizeof(f[0]),
	    &e) != 0) {
		warnx_("%s", e.msg);
		return EXIT_FAIL;
	}
	if (certify_checkpoint(&x->cfg, j, &e) != 0) {
		warnx_("the acceptance is journaled (line %" PRIu64 "), but the "
		    "new checkpoint could not be written: %s; run `lethe "
		    "journal accept` again", j->seq, e.msg);
		return EXIT_FAIL;
	}
	printf("journal: accepted: %s\n", why->msg);
	printf("journal: recorded as line %" PRIu64 " (journal-accept) and "
	    "sealed by a new signed checkpoint; every certificate issued from "
	    "now on names this acceptance\n", j->seq);
	return EXIT_OK;
}

static int
journal_accept_cmd(struct ctx *x, const char *reason)
{
	struct journal j = { .fd = -1 };
	struct gate_report g;
	struct err e, why;
	int lockfd = -1, rc;

	if ((rc = accept_preflight(x, reason)) != EXIT_OK)
		return rc;
	rc = EXIT_FAIL;
	if (lock_acquire(x->cfg.state_dir, 0, &lockfd, &e) != 0 ||
	    journal_open(x->cfg.state_dir, &j, &e) != 0) {
		warnx_("%s", e.msg);
		goto out;
	}
	session_said_repair(&j);
	if (journal_lock(&j, &e) != 0) {
		warnx_("%s", e.msg);
		goto out;
	}
	if (checkpoint_gate(x->cfg.state_dir, x->cfg.sign_chain, &j, &g,
	    &why) == 0) {
		printf("journal: chain intact and the signed checkpoint matches "
		    "(%" PRIu64 " lines); nothing to accept\n", g.lines);
		rc = EXIT_OK;
	} else if (acceptable(x, &g, &why))
		rc = accept_record(x, &j, &g, &why, reason);
	journal_unlock(&j);
out:
	journal_close(&j);
	lock_release(lockfd);
	return rc;
}

/* lethe journal verify [--ca FILE] | accept --reason TEXT */
int
cmd_journal(struct ctx *x, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "verify") == 0)
		return journal_verify_cmd(x, NULL);
	if (argc == 4 && strcmp(argv[1], "verify") == 0 &&
	    strcmp(argv[2], "--ca") == 0)
		return journal_verify_cmd(x, argv[3]);
	if (argc == 4 && strcmp(argv[1], "accept") == 0 &&
	    strcmp(argv[2], "--reason") == 0)
		return journal_accept_cmd(x, argv[3]);
	if (argc >= 2 && strcmp(argv[1], "accept") == 0)
		warnx_("journal accept needs --reason TEXT (it is journaled and "
		    "named on every later certificate)");
	return cmd_usage("journal");
}
