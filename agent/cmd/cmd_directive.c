/*
 * cmd_directive.c: `lethe directive add|list|show|cancel` (SPEC §3, §4):
 * Exhibit D directives as the admin records, reads and cancels them
 * (recording itself: directive_add.h).
 *
 * MUST rules:
 *  - everything is validated before anything is written: a usage or
 *    validation error exits 2 having changed nothing;
 *  - what is recorded is decided under the state lock and the journal
 *    lock, from a replay made under them (session.h);
 *  - a journal that fails the trust gate (certify_gate: it does not match
 *    its signed checkpoint) is refused before anything is written;
 *  - after recording, a trusted journal is sealed with a signed checkpoint
 *    (when [signing] is configured); an untrusted one never is.
 */
#include "cmd/cmd.h"
#include "cmd/session.h"
#include "base/err.h"
#include "conf/directive.h"
#include "run/directive_add.h"
#include "plan/events.h"
#include "plan/sched.h"
#include "state/durable.h"
#include "state/journal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Prints s with control characters shown as '?'. */
static void
put_clean(const char *s)
{
	for (; *s; s++)
		putchar(((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t') ||
		    *s == 0x7f ? '?' : *s);
}

/* lethe directive add [--force] FILE: validated (conf/directive.h), then
 * recorded (directive_add.h) under the session. */
static int
directive_add(struct ctx *x, const char *file, int force)
{
	struct directive dv = { 0 };
	struct directive_text t = { 0 };
	struct diags d = { 0 };
	struct session s = { .lockfd = -1, .j = { .fd = -1 } };
	char id[16], by[256], rec[11], dl[11];
	struct err e;
	int rc = EXIT_USAGE, future;

	if (ctx_load(x) != 0)
		return EXIT_USAGE;
	if (directive_load(file, &x->ps, &x->cfg, &dv, &d) != 0)
		goto refused;
	{
		struct diags fd = { 0 };
		future = directive_check_received(&dv, policy_find(&x->ps,
		    dv.agreement), time(NULL), force ? &fd : &d) != 0;
		diag_free(&fd);
	}
	if (future && !force)
		goto refused;
	if (future)
		warnx_("%s: received %s is in the future; recorded as given "
		    "(--force)", file, date_format(dv.received, rec));
	cmd_print_diags(&d);
	if (directive_add_read(file, &t, &e) != 0) {
		warnx_("%s", e.msg);
		goto out;
	}
	rc = EXIT_FAIL;
	if (session_begin(x, &s, 1) != 0 || session_refuse(x, &s) != 0)
		goto out;
	switch (directive_add_record(&x->cfg, &s.j, &s.ev, &dv, &t,
	    cmd_whoami(by, sizeof(by)), future, id, &e)) {
	case 0:
		break;
	case DIRECTIVE_ADD_DUP:
		warnx_("%s: this directive was already recorded as %s", file,
		    id);
		rc = EXIT_USAGE;
		goto out;
	default:
		warnx_("%s", e.msg);
		goto out;
	}
	date_format(sched_directive_deadline(policy_find(&x->ps, dv.agreement),
	    dv.received, dv.schedule), dl);
	printf("%s: directive for %s recorded (received %s, %s %s, "
	    "deadline %s)\n", id, dv.agreement, date_format(dv.received, rec),
	    dv.complete ? "complete" : "partial",
	    dv.transfer ? "transfer" : "destruction", dl);
	rc = session_seal(x, &s, 1) == 0 ? EXIT_OK : EXIT_FAIL;
	goto out;
refused:
	cmd_print_diags(&d);
	warnx_("%s: directive not recorded", file);
out:
	session_end(&s);
	diag_free(&d);
	directive_free(&dv);
	directive_add_text_free(&t);
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

/* The journal replayed and planned, read only (list, show). */
struct view {
	struct events ev;
	struct plan p;
};

/* Returns EXIT_OK, or an exit code after saying why; v is freeable. */
static int
view_load(struct ctx *x, struct view *v)
{
	struct err e;

	memset(v, 0, sizeof(*v));
	if (ctx_load(x) != 0)
		return EXIT_USAGE;
	if (events_load(x->cfg.state_dir, &v->ev, &e) != 0 ||
	    sched_plan(&x->ps, &v->ev, time(NULL), &v->p, &e) != 0) {
		warnx_("%s", e.msg);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static void
view_free(struct view *v)
{
	plan_free(&v->p);
	events_free(&v->ev);
}

/* Prints rows of 8 cells: aligned columns, or tab-separated (tsv). */
static void
print_table(char (*cell)[8][64], size_t rows, int tsv)
{
	int w[8] = { 0 };

	for (size_t i = 0; i < rows; i++)
		for (int c = 0; c < 8; c++)
			if ((int)strlen(cell[i][c]) > w[c])
				w[c] = (int)strlen(cell[i][c]);
	for (size_t i = 0; i < rows; i++)
		for (int c = 0; c < 8; c++) {
			if (tsv)
				printf("%s%c", cell[i][c], c < 7 ? '\t' : '\n');
			else if (c < 7)
				printf("%-*s  ", w[c], cell[i][c]);
			else
				printf("%s\n", cell[i][c]);
		}
}

static int
directive_list(struct ctx *x, int tsv)
{
	static const char *const hp[] = { "ID", "AGREEMENT", "RECEIVED",
	    "EXTENT", "NATURE", "SCHEDULE", "DEADLINE", "STATUS" };
	static const char *const ht[] = { "id", "agreement", "received",
	    "extent", "nature", "schedule", "deadline", "status" };
	struct view v;
	int rc;
	char (*cell)[8][64] = NULL;

	if ((rc = view_load(x, &v)) != EXIT_OK)
		goto out;
	cell = calloc(v.ev.ndir + 1, sizeof(*cell));
	if (cell == NULL) {
		warnx_("out of memory");
		rc = EXIT_FAIL;
		goto out;
	}
	for (int c = 0; c < 8; c++)
		snprintf(cell[0][c], 64, "%s", tsv ? ht[c] : hp[c]);
	for (size_t i = 0; i < v.ev.ndir; i++) {
		const struct ev_directive *d = &v.ev.dir[i];
		const struct plan_row *r;
		const char *st = directive_status(d, &v.p, &r);
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
	print_table(cell, v.ev.ndir + 1, tsv);
out:
	free(cell);
	view_free(&v);
	return rc;
}

/* `directive show`: what was recorded, and where it stands (row r). */
static void
show_fields(const struct ev_directive *d, const struct plan_row *r,
    const char *status)
{
	char b[11], cats[512], ts[32];

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
	printf("status        %s\n", status);
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
}

/* `directive show`: the copy kept of the form as received.  Returns an
 * exit code. */
static int
show_copy(struct ctx *x, const struct ev_directive *d)
{
	char path[4200], *buf = NULL;
	size_t len;
	struct err e;
	int n;

	n = snprintf(path, sizeof(path), "%s/directives/%s.ini",
	    x->cfg.state_dir, d->id);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    slurp(path, DIRECTIVE_MAX, &buf, &len, &e) != 0) {
		warnx_("%s", n < 0 || (size_t)n >= sizeof(path) ?
		    "state_dir path too long" : e.msg);
		return EXIT_FAIL;
	}
	printf("--- %s\n", path);
	put_clean(buf);
	if (len > 0 && buf[len - 1] != '\n')
		putchar('\n');
	free(buf);
	return EXIT_OK;
}

static int
directive_show(struct ctx *x, const char *id)
{
	const struct ev_directive *d;
	const struct plan_row *r;
	const char *status;
	struct view v;
	int rc;

	if ((rc = view_load(x, &v)) != EXIT_OK)
		goto out;
	if ((d = events_directive(&v.ev, id)) == NULL) {
		warnx_("unknown directive '%s': none was recorded with that id "
		    "(`lethe directive list` shows them)", id);
		rc = EXIT_USAGE;
		goto out;
	}
	status = directive_status(d, &v.p, &r);
	show_fields(d, r, status);
	rc = show_copy(x, d);
out:
	view_free(&v);
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
	return cmd_usage("directive");
}

