/*
 * cmd_events.c: the admin's records (SPEC §4): `lethe terminate`,
 * `lethe directive add|list|show|cancel` (holds: cmd_hold.c).
 *
 * MUST rules:
 *  - everything is validated before anything is written: a usage or
 *    validation error exits 2 having changed nothing;
 *  - what is recorded is decided under the state lock and the journal
 *    lock, from a replay made under them (session.h);
 *  - a journal that fails the trust gate (certify_gate: it does not match
 *    its signed checkpoint) is refused before anything is written;
 *  - after recording, a trusted journal is sealed with a signed checkpoint
 *    (when [signing] is configured); an untrusted one never is;
 *  - a directive's file is kept (0600) before its journal line is written,
 *    so a recorded directive always has its copy for `directive show`.
 */
#include "cmd/cmd.h"
#include "cmd/session.h"
#include "conf/directive.h"
#include "state/durable.h"
#include "base/err.h"
#include "base/hex.h"
#include "plan/events.h"
#include "state/journal.h"
#include "plan/sched.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define DIRECTIVE_MAX 65536	/* bytes: a directive is a short form */

/* Prints s with control characters shown as '?'. */
static void
put_clean(const char *s)
{
	for (; *s; s++)
		putchar(((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t') ||
		    *s == 0x7f ? '?' : *s);
}

/* lethe terminate AGREEMENT DATE */
int
cmd_terminate(struct ctx *x, int argc, char **argv)
{
	static const char syn[] = "terminate AGREEMENT DATE";
	const struct ev_termination *t;
	const struct agreement *a;
	struct session s;
	char by[256], d1[11], d2[11];
	day_t date;
	int rc = EXIT_FAIL;

	if (argc != 3 || argv[1][0] == '-')
		return usage(syn);
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

static int
sha256_hex(const char *buf, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	if (EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return -1;
	hex_encode(md, 32, out);
	return 0;
}

static int
directive_add(struct ctx *x, const char *file, int force)
{
	struct directive dv = { 0 };
	struct diags d = { 0 };
	struct session s = { .lockfd = -1, .j = { .fd = -1 } };
	const struct ev_directive *dup;
	char *buf = NULL, sha[65], id[16], by[256], cats[512], path[4200];
	char rec[11], sch[11], dl[11];
	size_t len;
	struct err e;
	int rc = EXIT_USAGE, n, future;

	if (ctx_load(x) != 0)
		return EXIT_USAGE;
	if (directive_load(file, &x->ps, &x->cfg, &dv, &d) != 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.v[i]);
		warnx_("%s: directive not recorded", file);
		goto out;
	}
	{
		struct diags fd = { 0 };
		future = directive_check_received(&dv, policy_find(&x->ps,
		    dv.agreement), time(NULL), force ? &fd : &d) != 0;
		diag_free(&fd);
	}
	if (future && !force) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.v[i]);
		warnx_("%s: directive not recorded", file);
		goto out;
	}
	if (future)
		warnx_("%s: received %s is in the future; recorded as given "
		    "(--force)", file, date_format(dv.received, rec));
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.v[i]);
	if (slurp(file, DIRECTIVE_MAX, &buf, &len, &e) != 0) {
		warnx_("%s", e.msg);
		goto out;
	}
	if (sha256_hex(buf, len, sha) != 0) {
		warnx_("%s: SHA-256 unavailable", file);
		rc = EXIT_FAIL;
		goto out;
	}
	rc = EXIT_FAIL;
	if (session_begin(x, &s, 1) != 0 || session_refuse(x, &s) != 0)
		goto out;
	if ((dup = events_directive_by_sha(&s.ev, sha)) != NULL) {
		warnx_("%s: this directive was already recorded as %s", file,
		    dup->id);
		rc = EXIT_USAGE;
		goto out;
	}
	events_next_directive_id(&s.ev, id);
	n = snprintf(path, sizeof(path), "%s/directives", x->cfg.state_dir);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    mkdirs(path, 0700, &e) != 0) {
		warnx_("%s", n < 0 || (size_t)n >= sizeof(path) ?
		    "state_dir path too long" : e.msg);
		goto out;
	}
	n = snprintf(path, sizeof(path), "%s/directives/%s.ini",
	    x->cfg.state_dir, id);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    durable_write(path, buf, len, 0600, &e) != 0) {
		warnx_("%s", n < 0 || (size_t)n >= sizeof(path) ?
		    "state_dir path too long" : e.msg);
		goto out;
	}
	date_format(dv.received, rec);
	if (dv.schedule == DAY_NONE)
		snprintf(sch, sizeof(sch), "asap");
	else
		date_format(dv.schedule, sch);
	struct jfield f[] = {
		{ "id", id }, { "agreement", dv.agreement },
		{ "received", rec },
		{ "extent", dv.complete ? "complete" : "partial" },
		{ "categories", directive_categories(&dv, cats, sizeof(cats)) },
		{ "nature", dv.transfer ? "transfer" : "destroy" },
		{ "transfer_to", dv.transfer_to ? dv.transfer_to : "" },
		{ "schedule", sch }, { "requested_by", dv.requested_by },
		{ "sha256", sha }, { "by", cmd_whoami(by, sizeof(by)) },
		{ "forced", "received-in-future" },
	};
	/* forced= only when --force let a future date through */
	if (session_append(&s, "directive-add", f, sizeof(f) / sizeof(f[0]) -
	    (future ? 0 : 1)) != 0)
		goto out;
	date_format(sched_directive_deadline(policy_find(&x->ps, dv.agreement),
	    dv.received, dv.schedule), dl);
	printf("%s: directive for %s recorded (received %s, %s %s, "
	    "deadline %s)\n", id, dv.agreement, rec,
	    dv.complete ? "complete" : "partial",
	    dv.transfer ? "transfer" : "destruction", dl);
	rc = session_seal(x, &s, 1) == 0 ? EXIT_OK : EXIT_FAIL;
out:
	session_end(&s);
	diag_free(&d);
	directive_free(&dv);
	free(buf);
	return rc;
}

/* The plan row of directive id, or NULL. */
static const struct plan_row *
directive_row(const struct plan *p, const char *id)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->rows[i].dir != NULL && strcmp(p->rows[i].dir->id, id) == 0)
			return &p->rows[i];
	return NULL;
}

static const char *
directive_status(const struct ev_directive *d, const struct plan *p,
    const struct plan_row **rowp)
{
	const struct plan_row *r = directive_row(p, d->id);

	*rowp = r;
	if (d->cancelled)
		return "cancelled";
	if (r == NULL)
		return "agreement-not-in-policy";
	return plan_state_name(r->state);
}

static int
load_read_only(struct ctx *x, struct events *ev, struct plan *p)
{
	struct err e;

	if (ctx_load(x) != 0)
		return EXIT_USAGE;
	if (events_load(x->cfg.state_dir, ev, &e) != 0 ||
	    sched_plan(&x->ps, ev, time(NULL), p, &e) != 0) {
		warnx_("%s", e.msg);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int
directive_list(struct ctx *x, int tsv)
{
	static const char *const hp[] = { "ID", "AGREEMENT", "RECEIVED",
	    "EXTENT", "NATURE", "SCHEDULE", "DEADLINE", "STATUS" };
	static const char *const ht[] = { "id", "agreement", "received",
	    "extent", "nature", "schedule", "deadline", "status" };
	struct events ev = { 0 };
	struct plan p = { 0 };
	int rc, w[8] = { 0 };
	char (*cell)[8][64] = NULL;

	if ((rc = load_read_only(x, &ev, &p)) != EXIT_OK)
		goto out;
	cell = calloc(ev.ndir + 1, sizeof(*cell));
	if (cell == NULL) {
		warnx_("out of memory");
		rc = EXIT_FAIL;
		goto out;
	}
	for (int c = 0; c < 8; c++)
		snprintf(cell[0][c], 64, "%s", tsv ? ht[c] : hp[c]);
	for (size_t i = 0; i < ev.ndir; i++) {
		const struct ev_directive *d = &ev.dir[i];
		const struct plan_row *r;
		const char *st = directive_status(d, &p, &r);
		char (*k)[64] = cell[i + 1];
		snprintf(k[0], 64, "%s", d->id);
		snprintf(k[1], 64, "%s", d->agreement);
		date_format(d->received, k[2]);
		snprintf(k[3], 64, "%s", d->complete ? "complete" : "partial");
		snprintf(k[4], 64, "%s", d->transfer ? "transfer" : "destroy");
		if (d->schedule == DAY_NONE)
			snprintf(k[5], 64, "asap");
		else
			date_format(d->schedule, k[5]);
		date_format(r != NULL ? r->deadline : DAY_NONE, k[6]);
		snprintf(k[7], 64, "%s", st);
	}
	for (size_t i = 0; i <= ev.ndir; i++)
		for (int c = 0; c < 8; c++)
			if ((int)strlen(cell[i][c]) > w[c])
				w[c] = (int)strlen(cell[i][c]);
	for (size_t i = 0; i <= ev.ndir; i++)
		for (int c = 0; c < 8; c++) {
			if (tsv)
				printf("%s%c", cell[i][c], c < 7 ? '\t' : '\n');
			else if (c < 7)
				printf("%-*s  ", w[c], cell[i][c]);
			else
				printf("%s\n", cell[i][c]);
		}
	rc = EXIT_OK;
out:
	free(cell);
	plan_free(&p);
	events_free(&ev);
	return rc;
}

static int
directive_show(struct ctx *x, const char *id)
{
	const struct ev_directive *d;
	const struct plan_row *r;
	struct events ev = { 0 };
	struct plan p = { 0 };
	char path[4200], b[11], cats[512], *buf = NULL, ts[32];
	size_t len;
	struct err e;
	int rc, n;

	if ((rc = load_read_only(x, &ev, &p)) != EXIT_OK)
		goto out;
	if ((d = events_directive(&ev, id)) == NULL) {
		warnx_("unknown directive '%s': none was recorded with that id "
		    "(`lethe directive list` shows them)", id);
		rc = EXIT_USAGE;
		goto out;
	}
	printf("id            %s\n", d->id);
	printf("agreement     %s\n", d->agreement);
	printf("received      %s\n", date_format(d->received, b));
	printf("extent        %s\n", d->complete ? "complete" : "partial");
	if (!d->complete)
		printf("categories    %s\n",
		    category_format(d->categories, cats, sizeof(cats)));
	printf("nature        %s\n", d->transfer ? "transfer" : "destroy");
	if (d->transfer) {
		printf("transfer_to   ");
		put_clean(d->transfer_to);
		putchar('\n');
	}
	printf("schedule      %s\n", d->schedule == DAY_NONE ? "asap" :
	    date_format(d->schedule, b));
	printf("requested_by  ");
	put_clean(d->requested_by ? d->requested_by : "");
	printf("\nrecorded      %s by ", time_format_utc(d->added, ts));
	put_clean(d->by ? d->by : "?");
	printf("\nsha256        %s\n", d->sha256);
	printf("status        %s\n", directive_status(d, &p, &r));
	if (r != NULL) {
		printf("deadline      %s\n", date_format(r->deadline, b));
		if (r->note[0] != '\0') {
			printf("note          ");
			put_clean(r->note);
			putchar('\n');
		}
	}
	if (d->cancelled) {
		printf("cancelled     %s by ", time_format_utc(d->cancelled_at,
		    ts));
		put_clean(d->cancelled_by ? d->cancelled_by : "?");
		printf(": ");
		put_clean(d->cancel_reason ? d->cancel_reason : "");
		putchar('\n');
	}
	n = snprintf(path, sizeof(path), "%s/directives/%s.ini",
	    x->cfg.state_dir, d->id);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    slurp(path, DIRECTIVE_MAX, &buf, &len, &e) != 0) {
		warnx_("%s", n < 0 || (size_t)n >= sizeof(path) ?
		    "state_dir path too long" : e.msg);
		rc = EXIT_FAIL;
		goto out;
	}
	printf("--- %s\n", path);
	put_clean(buf);
	if (len > 0 && buf[len - 1] != '\n')
		putchar('\n');
	rc = EXIT_OK;
out:
	free(buf);
	plan_free(&p);
	events_free(&ev);
	return rc;
}

static int
directive_cancel(struct ctx *x, const char *id, const char *reason)
{
	struct session s = { .lockfd = -1, .j = { .fd = -1 } };
	const struct ev_directive *d;
	const struct ev_disposition *dp;
	char by[256];
	int rc = EXIT_FAIL;

	if (ctx_load(x) != 0)
		return EXIT_USAGE;
	if (session_begin(x, &s, 1) != 0 || session_refuse(x, &s) != 0)
		goto out;
	rc = EXIT_USAGE;
	if ((d = events_directive(&s.ev, id)) == NULL) {
		warnx_("unknown directive '%s': none was recorded with that id "
		    "(`lethe directive list` shows them)", id);
		goto out;
	}
	if (d->cancelled) {
		warnx_("directive %s was already cancelled", id);
		goto out;
	}
	/* Cancelling takes the directive off the plan: a disposition that
	 * destroyed something would never be finished and certified, and its
	 * destructions would be on no certificate (SPEC §5). */
	if ((dp = events_uncertified(&s.ev, id)) != NULL) {
		uint64_t n = dp->ndestroyed > dp->files ? dp->ndestroyed :
		    dp->files;
		const char *state = dp->completed != 0 ? "it completed; its "
		    "certificate is not issued yet" : dp->partial ? "it failed "
		    "and its partial certificate is not issued yet: " :
		    dp->failed != 0 ? "it failed: " : "it was interrupted";
		char what[64];
		if (n > 0)
			snprintf(what, sizeof(what), "destroyed %" PRIu64
			    " file%s", n, n == 1 ? "" : "s");
		else
			snprintf(what, sizeof(what), "may have destroyed files");
		warnx_("directive %s cannot be cancelled: its disposition %s "
		    "%s that no certificate covers yet (%s%s); once the next "
		    "`lethe run` has %s, the directive can be cancelled", id,
		    dp->id, what, state, dp->completed == 0 &&
		    dp->failed != 0 && dp->fail_reason ? dp->fail_reason : "",
		    dp->completed != 0 || dp->partial ? "issued its certificate" :
		    "finished it and issued its certificate");
		goto out;
	}
	rc = EXIT_FAIL;
	struct jfield f[] = {
		{ "id", id }, { "agreement", d->agreement },
		{ "reason", reason }, { "by", cmd_whoami(by, sizeof(by)) },
	};
	if (session_append(&s, "directive-cancel", f, 4) != 0)
		goto out;
	printf("%s: cancelled\n", id);
	rc = session_seal(x, &s, 1) == 0 ? EXIT_OK : EXIT_FAIL;
out:
	session_end(&s);
	return rc;
}

/* lethe directive add [--force] FILE | list [--tsv] | show ID |
 * cancel ID --reason T */
int
cmd_directive(struct ctx *x, int argc, char **argv)
{
	static const char syn[] = "directive add [--force] FILE | list [--tsv] "
	    "| show ID | cancel ID --reason TEXT";

	if (argc >= 2 && strcmp(argv[1], "add") == 0 && argc == 3 &&
	    argv[2][0] != '-')
		return directive_add(x, argv[2], 0);
	if (argc == 4 && strcmp(argv[1], "add") == 0 &&
	    (strcmp(argv[2], "--force") == 0 || strcmp(argv[3], "--force") == 0))
		return directive_add(x, strcmp(argv[2], "--force") == 0 ?
		    argv[3] : argv[2], 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0 && (argc == 2 ||
	    (argc == 3 && strcmp(argv[2], "--tsv") == 0)))
		return directive_list(x, argc == 3);
	if (argc == 3 && strcmp(argv[1], "show") == 0)
		return directive_show(x, argv[2]);
	if (argc == 5 && strcmp(argv[1], "cancel") == 0) {
		if (strcmp(argv[3], "--reason") == 0 && argv[4][0] != '\0')
			return directive_cancel(x, argv[2], argv[4]);
		if (strcmp(argv[2], "--reason") == 0 && argv[3][0] != '\0')
			return directive_cancel(x, argv[4], argv[3]);
	}
	if (argc >= 2 && strcmp(argv[1], "cancel") == 0)
		warnx_("directive cancel needs an id and --reason TEXT");
	return usage(syn);
}

