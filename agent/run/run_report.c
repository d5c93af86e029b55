/*
 * run_report.c: what the run says (see run_int.h): the dry run's account
 * of each row, rows that wait or are blocked, what is still overdue, and
 * data that reappeared.  It decides nothing (decide.c does) and writes
 * nothing but the report.
 */
#include "run/run_int.h"

#include "base/text.h"
#include "conf/config.h"
#include "conf/policy.h"
#include "dispose/dispose.h"
#include "plan/reappear.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "a,b,c", for people only (cut with "..."): the journal gets the whole
 * list (run_exec.c). */
static void
ds_names(const struct agreement *a, const size_t *ds, size_t n, char *buf,
    size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%s", i ? "," : "",
		    a->ds[ds[i]].name);
		if (w < 0 || (size_t)w >= len - off) {
			if (len > 4)
				memcpy(buf + (off < len - 4 ? off : len - 4),
				    "...", 4);
			break;
		}
		off += (size_t)w;
	}
}

int
run_report_waits(struct runner *rn, const struct plan_row *row)
{
	if (row->nwaiting > 0)
		diag_add(&rn->r->msgs, row->a->id, 0, "%s: %s", row->trigger,
		    row->note);
	if (!row->blocked)
		return 0;
	diag_add(&rn->r->errors, row->a->id, 0, "%s: not started: %s",
	    row->trigger, row->note);
	rn->r->failed++;
	return 1;
}

void
run_report_overdue(struct runner *rn, const struct plan *p)
{
	rn->r->overdue = plan_overdue(p);
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_row *row = &p->rows[i];
		char dl[11], cb[11];
		if (row->state == PS_OVERDUE)
			diag_add(&rn->r->overdue_msgs, row->a->id, 0, "%s: "
			    "overdue: the deadline was %s%s%s", row->trigger,
			    date_format(row->deadline, dl),
			    row->note[0] ? "; " : "", row->note);
		else if (row->state == PS_DELIVERY_OVERDUE)
			diag_add(&rn->r->overdue_msgs, row->a->id, 0, "%s: "
			    "certificate not delivered by %s", row->trigger,
			    date_format(row->certify_by, cb));
	}
}

int64_t
run_reappeared(struct runner *rn, const struct plan_row *row, size_t **scope,
    size_t *n)
{
	struct dispose_preview p;
	struct reappear rp;
	struct scope_ctx sx;
	struct err e;
	int rc;

	*n = 0;
	*scope = calloc(row->nscope + 1, sizeof(**scope));
	if (*scope == NULL)
		return -1;
	for (size_t i = 0; i < row->nscope; i++) {
		int held = 0;
		for (size_t k = 0; k < row->nheld; k++)
			held |= row->held[k] == row->scope[i];
		if (!held)
			(*scope)[(*n)++] = row->scope[i];
	}
	memset(&p, 0, sizeof(p));
	if (*n == 0 || decide_reappeared(&rn->d, row->a, row->trigger_id, &sx,
	    &rp, &e) != 0)
		return 0;
	rc = dispose_preview(&sx, row->a, *scope, *n, &p, NULL, &e);
	reappear_free(&rp);
	if (rc != 0)
		return 0;
	if (p.kept > 0)
		/* The same data, back, under a hold (or another agreement's
		 * protection): kept, and said, never invisible. */
		diag_add(&rn->r->msgs, row->a->id, 0, "%s: %" PRIu64 " files "
		    "reappeared after disposition and are kept while a hold "
		    "(or another agreement's protection) covers them; they are "
		    "destroyed once it ends", row->trigger, p.kept);
	if (p.refused > 0) {
		/* Reappeared data that cannot be destroyed is no less due:
		 * said on every run until it is fixed. */
		diag_add(&rn->r->errors, row->a->id, 0, "%s: reappeared data "
		    "not destroyed: %s", row->trigger, p.first_refusal);
		rn->r->failed++;
	}
	return (int64_t)dispose_preview_objects(&p);
}

/* Lists the objects of a scope for --verbose dry runs: each path
 * (escaped), and why it is kept or refused. */
static void
list_scope(struct runner *rn, const struct agreement *a,
    const struct scope *s)
{
	for (size_t k = 0; k < s->n; k++) {
		const struct scope_obj *o = &s->v[k];
		for (size_t n = 0; n < o->nnames; n++) {
			char path[4200], why[512];
			size_t off = (size_t)snprintf(path, sizeof(path), "%s/",
			    rn->c->roots[o->names[n].root]);
			if (off < sizeof(path))
				text_shown(o->names[n].rel, path + off,
				    sizeof(path) - off);
			scope_why(o, why, sizeof(why));
			diag_add(&rn->r->msgs, a->id, 0, "  %s %s%s%s",
			    o->verdict == SV_DESTROY ? "destroy" : "keep",
			    path, o->verdict == SV_DESTROY ? "" : ": ",
			    o->verdict == SV_DESTROY ? "" : why);
		}
	}
}

/* What a row that acts would destroy, kept and refused. */
static void
dry_acts(struct runner *rn, size_t i)
{
	const struct plan_row *row = &rn->d.plan.rows[i];
	const struct agreement *a = row->a;
	const struct dispose_preview *p = &rn->d.pv[i];
	const char *to = decide_transfer_of(row);
	char dl[11], names[1024];

	ds_names(a, row->todo, row->ntodo, names, sizeof(names));
	diag_add(&rn->r->msgs, a->id, 0, "%s: would destroy %" PRIu64 " files "
	    "(%" PRIu64 " bytes), %" PRIu64 " links, %" PRIu64 " archives, %"
	    PRIu64 " sealed files in %s%s%s (deadline %s); %" PRIu64 " kept",
	    row->trigger, p->files, p->bytes, p->links + p->specials,
	    p->archives, p->sealed, names[0] ? names : "no dataset",
	    to ? ", after transfer to " : "", to ? to : "",
	    date_format(row->deadline, dl), p->kept);
	if (p->refused > 0) {
		diag_add(&rn->r->errors, a->id, 0, "%s: %s: would be kept, and "
		    "the disposition certified as partial", row->trigger,
		    p->first_refusal);
		rn->r->failed++;
	}
	if (rn->o->list && rn->d.walked[i])
		list_scope(rn, a, &rn->d.scopes[i]);
	rn->r->dispositions++;
}

int
run_report_dry_row(struct runner *rn, size_t i)
{
	const struct plan_row *row = &rn->d.plan.rows[i];
	const struct agreement *a = row->a;
	size_t *scope;
	size_t n;

	if (decide_notice_now(row)) {
		char disp[11];
		diag_add(&rn->r->msgs, a->id, 0, "%s: would send the prior "
		    "notice to %s (disposal planned %s)", row->trigger,
		    a->contact, date_format(row->notice_planned, disp));
		rn->r->notices++;
	}
	if (run_report_waits(rn, row))
		return 0;
	if (decide_row_acts(row)) {
		if (row->kind == TRIG_REAPPEARED &&
		    dispose_preview_objects(&rn->d.pv[i]) == 0)
			return 0;	/* as run: nothing left to retry */
		dry_acts(rn, i);
	}
	if (decide_row_finished(row)) {
		int64_t found = run_reappeared(rn, row, &scope, &n);
		if (found < 0)
			return -1;
		if (found > 0) {
			diag_add(&rn->r->msgs, a->id, 0, "%s: %" PRId64 " files "
			    "reappeared after disposition: would destroy them "
			    "and issue a supplementary certificate",
			    row->trigger, found);
			rn->r->reappeared++;
		}
		free(scope);
	}
	return 0;
}

void
run_report_free(struct run_report *r)
{
	diag_free(&r->msgs);
	diag_free(&r->errors);
	diag_free(&r->overdue_msgs);
}
