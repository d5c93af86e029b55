/*
 * cmd_plan.c: `lethe plan [--now DATE] [--tsv]`: every agreement's
 * triggers and their state (SPEC §4, §5).
 *
 * MUST rules: plan changes nothing.  It reads the journal without taking
 * the lock (creating the lock file would be a write), opens no dataset
 * file for writing, and decides through decide.c exactly as `lethe run`
 * does: for each row due now, the preflight of its certificate and its
 * scope (conflicts, refusals), whose reasons go into the note.
 */
#include "cmd/cmd.h"
#include "certify/certify.h"
#include "certify/checkpoint.h"
#include "base/err.h"
#include "plan/events.h"
#include "plan/sched.h"
#include "run/decide.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NCOLS 7

static const char *const head_people[NCOLS] = {
	"AGREEMENT", "TRIGGER", "START", "DUE-FROM", "DEADLINE", "STATE", "NOTE",
};
static const char *const head_tsv[NCOLS] = {
	"agreement", "trigger", "start", "due_from", "deadline", "state", "note",
};

/* Copies s into buf with control characters (tabs, newlines, escapes)
 * replaced by '?': notes may quote text an operator typed. */
static const char *
clean(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	for (; *s && i + 1 < len; s++)
		buf[i++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	buf[i] = '\0';
	return buf;
}

struct cells {
	char c[NCOLS][600];
};

static void
fill_cells(const struct plan_row *r, struct cells *k)
{
	char d[11];

	clean(r->a->id, k->c[0], sizeof(k->c[0]));
	clean(r->trigger, k->c[1], sizeof(k->c[1]));
	snprintf(k->c[2], sizeof(k->c[2]), "%s", date_format(r->start, d));
	snprintf(k->c[3], sizeof(k->c[3]), "%s", date_format(r->due_from, d));
	snprintf(k->c[4], sizeof(k->c[4]), "%s", date_format(r->deadline, d));
	snprintf(k->c[5], sizeof(k->c[5]), "%s", plan_state_name(r->state));
	clean(r->note[0] ? r->note : "-", k->c[6], sizeof(k->c[6]));
}

static void
print_plan(const struct plan *p, int tsv)
{
	size_t w[NCOLS] = { 0 };
	struct cells *k = calloc(p->n + 1, sizeof(*k));

	if (k == NULL) {
		warnx_("out of memory");
		return;
	}
	for (size_t i = 0; i < p->n; i++)
		fill_cells(&p->rows[i], &k[i]);
	if (tsv) {
		for (int c = 0; c < NCOLS; c++)
			printf("%s%c", head_tsv[c], c + 1 < NCOLS ? '\t' : '\n');
		for (size_t i = 0; i < p->n; i++)
			for (int c = 0; c < NCOLS; c++)
				printf("%s%c", k[i].c[c],
				    c + 1 < NCOLS ? '\t' : '\n');
		free(k);
		return;
	}
	for (int c = 0; c < NCOLS; c++)
		w[c] = strlen(head_people[c]);
	for (size_t i = 0; i < p->n; i++)
		for (int c = 0; c < NCOLS; c++)
			if (strlen(k[i].c[c]) > w[c])
				w[c] = strlen(k[i].c[c]);
	for (int c = 0; c < NCOLS - 1; c++)
		printf("%-*s  ", (int)w[c], head_people[c]);
	printf("%s\n", head_people[NCOLS - 1]);
	for (size_t i = 0; i < p->n; i++) {
		for (int c = 0; c < NCOLS - 1; c++)
			printf("%-*s  ", (int)w[c], k[i].c[c]);
		printf("%s\n", k[i].c[NCOLS - 1]);
	}
	free(k);
}

int
cmd_plan(struct ctx *x, int argc, char **argv)
{
	struct events ev = { 0 };
	struct decide d;
	struct err e;
	day_t today = DAY_NONE;
	int tsv = 0, rc = EXIT_USAGE;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tsv") == 0) {
			tsv = 1;
		} else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
			if (date_parse(argv[++i], &today) != 0) {
				warnx_("--now '%s' is not a date (YYYY-MM-DD)",
				    argv[i]);
				return EXIT_USAGE;
			}
		} else {
			return cmd_usage("plan");
		}
	}
	memset(&d, 0, sizeof(d));
	if (ctx_load(x) != 0)
		return EXIT_USAGE;
	if (events_load(x->cfg.state_dir, &ev, &e) != 0) {
		warnx_("%s", e.msg);
		rc = EXIT_FAIL;
		goto out;
	}
	if (ev.torn > 0)
		warnx_("warning: %s/journal: a torn last line (%llu bytes, an "
		    "interrupted write) is not counted; the next command that "
		    "records state removes it", x->cfg.state_dir,
		    (unsigned long long)ev.torn);
	{
		/* plan shows what run will do: run refuses such a journal. */
		struct gate_report g;
		if (certify_gate(&x->cfg, NULL, &g, &e) != 0)
			warnx_("warning: %s; `lethe run` and every other command "
			    "that records state refuse this journal until it is "
			    "accepted (`lethe journal accept`)", e.msg);
	}
	if (decide_open(&d, &x->cfg, &x->ps, &ev, time(NULL), today, &e) != 0 ||
	    decide_walk(&d, 0, &e) != 0) {
		warnx_("%s", e.msg);
		rc = EXIT_FAIL;
		goto out;
	}
	print_plan(&d.plan, tsv);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		warnx_("writing the plan: output error");
		rc = EXIT_FAIL;
		goto out;
	}
	rc = plan_overdue(&d.plan) ? EXIT_OVERDUE : EXIT_OK;
out:
	decide_close(&d);
	events_free(&ev);
	return rc;
}
