/*
 * cmd_events.c: the admin's records (SPEC §4): `lethe terminate`,
 * `lethe directive add|list|show|cancel`, `lethe hold`, `lethe release`.
 *
 * MUST rules:
 *  - everything is validated before anything is written: a usage or
 *    validation error exits 2 having changed nothing;
 *  - every write happens under the state lock (lock.h), and what is
 *    recorded is decided after the lock is taken, from a fresh replay;
 *  - a directive's file is kept (0600) before its journal line is written,
 *    so a recorded directive always has its copy for `directive show`.
 */
#include "cmd/cmd.h"
#include "conf/directive.h"
#include "state/durable.h"
#include "base/err.h"
#include "plan/events.h"
#include "conf/iniread.h"
#include "state/journal.h"
#include "state/lock.h"
#include "plan/sched.h"

#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define DIRECTIVE_MAX 65536	/* bytes: a directive is a short form */

/* Who is recording: $SUDO_USER when set, else our login name or uid. */
static const char *
whoami(char *buf, size_t len)
{
	const char *s = getenv("SUDO_USER");
	struct passwd *pw;

	if (s != NULL && *s != '\0') {
		snprintf(buf, len, "%s", s);
		return buf;
	}
	pw = getpwuid(geteuid());
	if (pw != NULL && pw->pw_name != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "uid %ld", (long)geteuid());
	return buf;
}

/* Prints s with control characters shown as '?'. */
static void
put_clean(const char *s)
{
	for (; *s; s++)
		putchar(((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t') ||
		    *s == 0x7f ? '?' : *s);
}

/* The agreement named id, or NULL after an error with a suggestion. */
static const struct agreement *
find_agreement(struct ctx *x, const char *id)
{
	const struct agreement *a = policy_find(&x->ps, id);
	const char **ids;
	const char *s = NULL;

	if (a != NULL)
		return a;
	ids = calloc(x->ps.n + 1, sizeof(*ids));
	if (ids != NULL) {
		for (size_t i = 0; i < x->ps.n; i++)
			ids[i] = x->ps.a[i].id;
		s = iniread_suggest(id, ids, x->ps.n);
	}
	if (s != NULL)
		warnx_("unknown agreement '%s'; did you mean '%s'?", id, s);
	else
		warnx_("unknown agreement '%s': no policy in %s has that id",
		    id, x->cfg.policy_dir);
	free(ids);
	return NULL;
}

/* A writer's session: the lock, a fresh replay and the open journal. */
struct session {
	int lockfd;
	struct events ev;
	struct journal j;
	int open;
};

static int
session_begin(struct ctx *x, struct session *s)
{
	struct err e;

	memset(s, 0, sizeof(*s));
	s->lockfd = -1;
	s->j.fd = -1;
	if (lock_acquire(x->cfg.state_dir, 0, &s->lockfd, &e) != 0) {
		warnx_("%s", e.msg);
		return -1;
	}
	if (journal_open(x->cfg.state_dir, &s->j, &e) != 0 ||
	    events_load(x->cfg.state_dir, &s->ev, &e) != 0) {
		warnx_("%s", e.msg);
		return -1;
	}
	s->open = 1;
	return 0;
}

static void
session_end(struct session *s)
{
	journal_close(&s->j);
	events_free(&s->ev);
	lock_release(s->lockfd);
	s->lockfd = -1;
}

static int
append(struct session *s, const char *event, const struct jfield *f,
    size_t nf)
{
	struct err e;

	if (journal_append(&s->j, event, f, nf, &e) != 0) {
		warnx_("%s", e.msg);
		return -1;
	}
	return 0;
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
	if ((a = find_agreement(x, argv[1])) == NULL)
		return EXIT_USAGE;
	if (session_begin(x, &s) != 0)
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
		{ "by", whoami(by, sizeof(by)) },
	};
	if (append(&s, "terminate", f, 3) != 0)
		goto out;
	printf("%s: terminated on %s%s; disposal deadline %s\n", a->id, d1,
	    t != NULL ? " (replaces the earlier record)" : "",
	    date_format(date_add(date, a->after_termination), d2));
	rc = EXIT_OK;
out:
	session_end(&s);
	return rc;
}

static int
sha256_hex(const char *buf, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int n = 0;

	if (EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return -1;
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

static day_t
directive_deadline(const struct agreement *a, day_t received, day_t schedule)
{
	day_t limit = date_add(received, a->after_request);

	return schedule != DAY_NONE && schedule < limit ? schedule : limit;
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
	if (session_begin(x, &s) != 0)
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
		{ "sha256", sha }, { "by", whoami(by, sizeof(by)) },
		{ "forced", "received-in-future" },
	};
	/* forced= only when --force let a future date through */
	if (append(&s, "directive-add", f, sizeof(f) / sizeof(f[0]) -
	    (future ? 0 : 1)) != 0)
		goto out;
	date_format(directive_deadline(policy_find(&x->ps, dv.agreement),
	    dv.received, dv.schedule), dl);
	printf("%s: directive for %s recorded (received %s, %s %s, "
	    "deadline %s)\n", id, dv.agreement, rec,
	    dv.complete ? "complete" : "partial",
	    dv.transfer ? "transfer" : "destruction", dl);
	rc = EXIT_OK;
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
	if (session_begin(x, &s) != 0)
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
		{ "reason", reason }, { "by", whoami(by, sizeof(by)) },
	};
	if (append(&s, "directive-cancel", f, 4) != 0)
		goto out;
	printf("%s: cancelled\n", id);
	rc = EXIT_OK;
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

/* Appends ",name" (or "name") to list; -1 if it does not fit. */
static int
list_add(char *list, size_t len, const char *name)
{
	size_t n = strlen(list);
	int w = snprintf(list + n, len - n, "%s%s", n ? "," : "", name);

	return w < 0 || (size_t)w >= len - n ? -1 : 0;
}

/* Whether the comma-separated list holds name. */
static int
list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		if (len == n && strncmp(p, name, n) == 0)
			return 1;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* lethe hold AGREEMENT --reason TEXT [--dataset NAME]... [--category C]... */
int
cmd_hold(struct ctx *x, int argc, char **argv)
{
	static const char syn[] = "hold AGREEMENT --reason TEXT "
	    "[--dataset NAME]... [--category C]...";
	struct session s = { .lockfd = -1, .j = { .fd = -1 } };
	const struct agreement *a = NULL;
	const char *agr = NULL, *reason = NULL;
	char names[2048] = "", cats[1024] = "", msg[256], by[256], id[16];
	catset_t set = 0;
	int rc = EXIT_USAGE, matched = 0;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (strcmp(o, "--reason") == 0 || strcmp(o, "--dataset") == 0 ||
		    strcmp(o, "--category") == 0) {
			if (i + 1 >= argc)
				return usage(syn);
			i++;
		}
		if (strcmp(o, "--reason") == 0)
			reason = argv[i];
		else if (strcmp(o, "--dataset") == 0 || strcmp(o, "--category") == 0)
			continue;	/* checked once the policies are loaded */
		else if (o[0] == '-' || agr != NULL)
			return usage(syn);
		else
			agr = o;
	}
	if (agr == NULL || reason == NULL || reason[0] == '\0') {
		if (agr != NULL)
			warnx_("a hold needs --reason TEXT (it is listed on the "
			    "certificate)");
		return usage(syn);
	}
	if (ctx_load(x) != 0)
		return EXIT_USAGE;
	if ((a = find_agreement(x, agr)) == NULL)
		return EXIT_USAGE;
	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--dataset") == 0) {
			const char *n = argv[++i];
			size_t k = 0;
			while (k < a->nds && strcmp(a->ds[k].name, n) != 0)
				k++;
			if (k == a->nds) {
				warnx_("agreement %s has no dataset '%s'", a->id,
				    n);
				return EXIT_USAGE;
			}
			if (list_has(names, n))
				continue;
			if (strchr(n, ',') != NULL ||
			    list_add(names, sizeof(names), n) != 0) {
				warnx_("dataset '%s': name cannot be recorded "
				    "in a hold", n);
				return EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "--category") == 0) {
			catset_t c;
			if (category_parse_list(argv[++i], &c, msg,
			    sizeof(msg)) != 0) {
				warnx_("%s", msg);
				return EXIT_USAGE;
			}
			set |= c;
		} else if (strcmp(argv[i], "--reason") == 0) {
			i++;
		}
	}
	if (set != 0) {
		category_format(set, cats, sizeof(cats));
		for (size_t k = 0; k < a->nds; k++)
			if (a->ds[k].categories & set)
				matched = 1;
		if (!matched)
			warnx_("warning: no dataset of %s holds %s: the hold "
			    "freezes the whole agreement (holds fail closed)",
			    a->id, cats);
	}
	rc = EXIT_FAIL;
	if (session_begin(x, &s) != 0)
		goto out;
	events_next_hold_id(&s.ev, id);
	struct jfield f[6] = {
		{ "id", id }, { "agreement", a->id }, { "reason", reason },
	};
	size_t nf = 3;
	if (names[0] != '\0')
		f[nf++] = (struct jfield){ "datasets", names };
	if (cats[0] != '\0')
		f[nf++] = (struct jfield){ "categories", cats };
	f[nf++] = (struct jfield){ "by", whoami(by, sizeof(by)) };
	if (append(&s, "hold", f, nf) != 0)
		goto out;
	printf("%s: legal hold on %s", id, a->id);
	if (names[0] != '\0' || cats[0] != '\0') {
		printf(" (");
		if (names[0] != '\0')
			printf("datasets %s%s", names, cats[0] ? "; " : "");
		if (cats[0] != '\0')
			printf("categories %s", cats);
		printf(")");
	}
	printf(" recorded: nothing it covers is destroyed until `lethe "
	    "release %s`\n", a->id);
	rc = EXIT_OK;
out:
	session_end(&s);
	return rc;
}

/* Says why `release agr [--id hid]` found no active hold to release. */
static void
release_nothing(struct ctx *x, const struct events *ev, const char *agr,
    const char *hid)
{
	const struct ev_hold *h = hid != NULL ? events_hold(ev, hid) : NULL;
	char ts[32];

	if (hid != NULL && h == NULL)
		warnx_("unknown hold '%s': none was recorded with that id", hid);
	else if (h != NULL && strcmp(h->agreement, agr) != 0)
		warnx_("hold %s is on agreement %s, not %s", hid, h->agreement,
		    agr);
	else if (h != NULL)
		warnx_("hold %s on %s was already released (%s)", hid, agr,
		    time_format_utc(h->released_at, ts));
	else {
		for (size_t i = 0; i < ev->nhold; i++)
			if (strcmp(ev->hold[i].agreement, agr) == 0) {
				warnx_("no active hold on %s", agr);
				return;
			}
		if (policy_find(&x->ps, agr) != NULL)
			warnx_("no active hold on %s", agr);
		else
			(void)find_agreement(x, agr);
	}
}

/* lethe release AGREEMENT [--id H-0001] */
int
cmd_release(struct ctx *x, int argc, char **argv)
{
	static const char syn[] = "release AGREEMENT [--id H-0001]";
	struct session s = { .lockfd = -1, .j = { .fd = -1 } };
	const char *agr = NULL, *hid = NULL;
	char by[256];
	int rc = EXIT_FAIL, found = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--id") == 0 && i + 1 < argc)
			hid = argv[++i];
		else if (argv[i][0] == '-' || agr != NULL)
			return usage(syn);
		else
			agr = argv[i];
	}
	if (agr == NULL)
		return usage(syn);
	/* The config is needed; the agreement may have left the policies
	 * since its hold was placed, and must still be releasable. */
	if (ctx_load(x) != 0)
		return EXIT_USAGE;
	if (session_begin(x, &s) != 0)
		goto out;
	whoami(by, sizeof(by));
	for (size_t i = 0; i < s.ev.nhold; i++) {
		const struct ev_hold *h = &s.ev.hold[i];
		if (h->released || strcmp(h->agreement, agr) != 0 ||
		    (hid != NULL && strcmp(h->id, hid) != 0))
			continue;
		found++;
		struct jfield f[] = {
			{ "id", h->id }, { "agreement", agr }, { "by", by },
		};
		if (append(&s, "release", f, 3) != 0)
			goto out;
		printf("%s: hold on %s released\n", h->id, agr);
	}
	if (found == 0) {
		release_nothing(x, &s.ev, agr, hid);
		rc = EXIT_USAGE;
		goto out;
	}
	rc = EXIT_OK;
out:
	session_end(&s);
	return rc;
}
