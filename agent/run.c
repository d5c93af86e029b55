/*
 * run.c: the daily run (see run.h).
 *
 * MUST rules:
 *  - every disposition is announced in the journal (disposition-start)
 *    before anything is destroyed, and closed (disposition-complete or
 *    -fail) after; a start with neither is resumed by the next run before
 *    anything new is begun;
 *  - what a disposition did is written to state_dir/work/ID/record before
 *    disposition-complete is journaled, so a certificate can always be
 *    issued from it, exactly once, even after a crash;
 *  - a failed disposition is never certified;
 *  - a dry run takes no lock, opens no journal and changes nothing: it asks
 *    the same scheduler and the same locator, and only counts.
 */
#include "run.h"
#include "base/strmap.h"

#include "decide.h"
#include "plan/reappear.h"

#include "certify/cert.h"
#include "certify/certify.h"
#include "certify/checkpoint.h"
#include "conf/config.h"
#include "deliver/deliver.h"
#include "dispose/dispose.h"
#include "state/durable.h"
#include "plan/events.h"
#include "state/journal.h"
#include "state/lock.h"
#include "deliver/letters.h"
#include "conf/policy.h"
#include "certify/record.h"
#include "plan/sched.h"
#include "base/secmem.h"
#include "base/strbuf.h"
#include "state/space.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct runner {
	const struct config *c;
	const struct policyset *ps;
	const struct run_opts *o;
	struct run_report *r;
	struct journal j;
	struct events ev;
	time_t now;
	struct decide d;	/* the plan, and how each row is decided */
};

/* The journal's list of a disposition's datasets ("a,b,c"), whole: a
 * resumed disposition and the plan read it back.  malloc'd; NULL when out
 * of memory. */
static char *
ds_list(const struct agreement *a, const size_t *ds, size_t n)
{
	struct strbuf b = { 0 };

	strbuf_puts(&b, "");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strbuf_puts(&b, ",");
		strbuf_puts(&b, a->ds[ds[i]].name);
	}
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}


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
			/* For people only: the journal gets ds_list. */
			if (len > 4)
				memcpy(buf + (off < len - 4 ? off : len - 4),
				    "...", 4);
			break;
		}
		off += (size_t)w;
	}
}

static size_t
ds_index(const struct agreement *a, const char *name)
{
	for (size_t i = 0; i < a->nds; i++)
		if (strcmp(a->ds[i].name, name) == 0)
			return i;
	return (size_t)-1;
}

static void
progress_cb(uint64_t files, uint64_t nfiles, uint64_t bytes, uint64_t nbytes,
    void *arg)
{
	struct runner *rn = arg;

	if (rn->o->progress != NULL)
		rn->o->progress("destroying", files, nfiles, bytes, nbytes,
		    rn->o->arg);
}

/* The SHA-256 of the disposition's per-file record (work/ID/digests: the
 * size and digest of every file it overwrote, no names), which its last
 * journal line carries: the journal grows with dispositions, not files,
 * and still binds each file's record (SPEC §9).  "-" when there is none. */
static void
record_digest(const struct runner *rn, const char *id, char out[65])
{
	char path[4200], *text = NULL;
	size_t len = 0;
	struct err e;

	snprintf(out, 65, "-");
	if (snprintf(path, sizeof(path), "%s/work/%s/digests", rn->c->state_dir,
	    id) >= (int)sizeof(path) ||
	    slurp(path, SIZE_MAX / 4, &text, &len, &e) != 0)
		return;
	cert_sha256_hex(text, len, out);
	free(text);
}

/* Whether a disposition destroyed anything: then it is certified, as
 * partial if it failed (SPEC §5 "Every destroyed file is certified"). */
static int
destroyed_any(const struct dispose_out *o)
{
	return o->files + o->links + o->specials + o->sealed_files +
	    o->members + o->keys > 0;
}

/* Journals the failure of disposition id; when it destroyed something,
 * its record is written first and the line says partial=yes, so that it
 * is certified as partial.  Returns -1 only when the journal failed. */
/* A disposition that destroyed something and cannot write its record (a
 * full state disk): no outcome is journaled, so the next run resumes it
 * from work/ID and certifies all it destroyed (SPEC §5, §9).  Stops the
 * run. */
static int
left_open(struct runner *rn, const struct agreement *a, const char *id,
    const char *why)
{
	diag_add(&rn->r->errors, a->id, 0, "disposition %s: its record could "
	    "not be written (%s); it is left open, and the next run resumes it "
	    "and certifies what it destroyed", id, why);
	rn->r->failed++;
	return -1;
}

static int
failed(struct runner *rn, const struct agreement *a, const char *id,
    const char *trigger, struct record *rec, const struct dispose_out *out,
    const char *why)
{
	struct err e, je;
	char files[32], digests[65];
	int partial = 0, rc;

	/* Stopped before it could count what it destroyed (data overwritten,
	 * its names not recorded): treated like a killed run. */
	if (rec != NULL && out->unrecorded)
		return left_open(rn, a, id, why);
	diag_add(&rn->r->errors, a->id, 0, "disposition %s (%s) failed: %s",
	    id, trigger, why);
	rn->r->failed++;
	if (rec != NULL && destroyed_any(out)) {
		rec->partial = 1;
		if (record_write(rn->c->state_dir, rec, &e) == 0)
			partial = 1;
		else
			return left_open(rn, a, id, e.msg);
	}
	snprintf(files, sizeof(files), "%" PRIu64, out->files + out->links +
	    out->specials + out->sealed_files + out->members);
	record_digest(rn, id, digests);
	if (partial)
		rc = journal_appendv(&rn->j, &je, "disposition-fail", "id", id,
		    "reason", why, "partial", "yes", "files", files,
		    "digests_sha256", digests, NULL);
	else
		rc = journal_appendv(&rn->j, &je, "disposition-fail", "id", id,
		    "reason", why, NULL);
	return rc != 0 ? -1 : 0;
}

/* A record another lethe appended during the run: only `lethe hold` may
 * (every other state writer waits for the run's lock).  Its hold is
 * applied to what the run knows; anything else waits for the next replay. */
static int
apply_hold(const struct jrec *r, void *arg)
{
	struct runner *rn = arg;
	struct err e;

	if (strcmp(r->event, "hold") != 0)
		return 0;
	if (events_apply(&rn->ev, r, &e) != 0) {
		diag_add(&rn->r->errors, "journal", 0, "%s", e.msg);
		return -1;
	}
	return 0;
}

/* dispose_req.sync: holds recorded since the run began, before each
 * destructive step. */
static int
sync_holds(void *arg, struct err *e)
{
	struct runner *rn = arg;

	return journal_sync(&rn->j, apply_hold, rn, e);
}

/* Carries out one disposition whose start is already journaled, writes its
 * record and journals the outcome. */
static int
execute(struct runner *rn, const struct agreement *a, const char *id,
    const char *trigger, const char *of, day_t trigger_date, day_t deadline,
    const size_t *ds, size_t nds, const char *transfer_to, int resume,
    time_t started)
{
	struct dispose_req rq = {
		.cfg = rn->c, .sx = &rn->d.sx, .a = a, .id = id, .ds = ds,
		.nds = nds, .transfer_to = transfer_to, .resume = resume,
		.j = &rn->j, .progress = progress_cb, .arg = rn,
		.problems = &rn->r->errors, .started = started,
		.sync = sync_holds, .sync_arg = rn,
	};
	struct dispose_out out;
	struct record rec;
	struct reappear rp;
	struct scope_ctx sx;
	struct err e = { { 0 } }, je;
	char files[32], bytes[32], rem[32];
	int rc;

	memset(&out, 0, sizeof(out));
	/* Data that reappeared: only the same data is in scope. */
	if (decide_reappeared(&rn->d, a, of, &sx, &rp, &e) != 0)
		return failed(rn, a, id, trigger, NULL, &out, e.msg);
	rq.sx = &sx;
	if (resume && record_read(rn->c->state_dir, id, &rec, &e) == 0) {
		/* The killed run had finished and written the record, and
		 * died before journaling the outcome: journal it from the
		 * record.  Running the disposition again would find nothing
		 * and replace the record with an empty one, and the
		 * certificate would say nothing was overwritten. */
		out = rec.out;
		reappear_free(&rp);
		/* A partial record: journaled as partial again, with its
		 * counts, so that its certificate covers what it destroyed. */
		if (rec.partial)
			return failed(rn, a, id, trigger, &rec, &out,
			    out.exceptions[0] ? out.exceptions : "interrupted");
		goto complete;
	}
	rc = dispose_run(&rq, &out, &e);
	reappear_free(&rp);
	record_from(&rec, rn->c, a, id, trigger, trigger_date, deadline, ds,
	    nds, &rn->ev, &out);
	if (nds == 0 && strncmp(trigger, "D-", 2) == 0) {
		/* Nothing in scope: the certificate still names what the LEA
		 * asked for. */
		const struct ev_directive *dv = events_directive(&rn->ev,
		    trigger);
		if (dv != NULL)
			rec.categories = dv->categories;
	}
	if (rc != 0)
		return failed(rn, a, id, trigger, &rec, &out, e.msg);
	if (record_write(rn->c->state_dir, &rec, &e) != 0)
		return destroyed_any(&out) ? left_open(rn, a, id, e.msg) :
		    failed(rn, a, id, trigger, NULL, &out, e.msg);
complete:
	snprintf(files, sizeof(files), "%" PRIu64, out.files + out.links +
	    out.specials + out.sealed_files + out.members);
	snprintf(bytes, sizeof(bytes), "%" PRIu64, out.bytes + out.member_bytes);
	snprintf(rem, sizeof(rem), "%" PRIu64, out.remaining);
	{
		char *names = ds_list(a, ds, nds), digests[65];
		record_digest(rn, id, digests);
		rc = names == NULL ? err_set(&je, "out of memory") :
		    journal_appendv(&rn->j, &je, "disposition-complete", "id",
		    id, "files", files, "bytes", bytes, "remaining", rem,
		    "datasets", names, "digests_sha256", digests, NULL);
		free(names);
		if (rc != 0) {
			diag_add(&rn->r->errors, a->id, 0, "%s", je.msg);
			return -1;
		}
	}
	rn->r->dispositions++;
	diag_add(&rn->r->msgs, a->id, 0, "%s: %s: destroyed %s items, %s bytes "
	    "(disposition %s)", trigger, resume ? "resumed" : "done", files,
	    bytes, id);
	return 0;
}

/* Journals a new disposition's start and carries it out. */
static int
begin(struct runner *rn, const struct agreement *a, const char *trigger_id,
    const char *of, day_t trigger_date, day_t deadline, const size_t *ds,
    size_t nds, const char *transfer_to)
{
	char id[160], dl[11], td[11], ymd[11], *names;
	struct err e;
	int y, m, d, rc;

	/* Room for its journal lines and records first: a full state disk
	 * must not tear the journal halfway through (SPEC §9). */
	if (state_space_ok(rn->c->state_dir, state_space_need(0), &e) != 0) {
		diag_add(&rn->r->errors, a->id, 0, "%s: %s", trigger_id, e.msg);
		rn->r->failed++;
		return 0;
	}
	date_to_ymd(tz_date_at(NULL, rn->now), &y, &m, &d);
	snprintf(ymd, sizeof(ymd), "%04d%02d%02d", y, m, d);
	if (snprintf(id, sizeof(id), "%s-%s-%" PRIu64, a->id, ymd,
	    rn->j.seq + 1) >= (int)sizeof(id))
		return err_set(&e, "id too long"), -1;
	if ((names = ds_list(a, ds, nds)) == NULL)
		return -1;
	if (strlen(names) > DECIDE_DS_LIST_MAX) {
		diag_add(&rn->r->errors, a->id, 0, "%s: not started: its %zu "
		    "datasets' names take %zu bytes, more than a journal line "
		    "holds (%d); split the agreement's datasets, or merge "
		    "overlapping ones", trigger_id, nds, strlen(names),
		    DECIDE_DS_LIST_MAX);
		rn->r->failed++;
		free(names);
		return 0;
	}
	if (of != NULL)
		rc = journal_appendv(&rn->j, &e, "disposition-start", "id", id,
		    "agreement", a->id, "trigger", trigger_id, "of", of,
		    "datasets", names, "trigger_date",
		    date_format(trigger_date, td), "deadline",
		    date_format(deadline, dl), NULL);
	else
		rc = journal_appendv(&rn->j, &e, "disposition-start", "id", id,
		    "agreement", a->id, "trigger", trigger_id, "datasets",
		    names, "trigger_date", date_format(trigger_date, td),
		    "deadline", date_format(deadline, dl), NULL);
	free(names);
	if (rc != 0) {
		diag_add(&rn->r->errors, a->id, 0, "%s", e.msg);
		return -1;
	}
	return execute(rn, a, id, trigger_id, of, trigger_date, deadline, ds,
	    nds, transfer_to, 0, time(NULL));
}

/* Finishes dispositions that a killed run started. */
static int
resume_all(struct runner *rn)
{
	for (size_t i = 0; i < rn->ev.ndisp; i++) {
		const struct ev_disposition *dp = &rn->ev.disp[i];
		const struct agreement *a;
		size_t *ds, n = 0;
		struct err e;
		const char *transfer = NULL;
		day_t tdate = DAY_NONE;
		int rc;

		if (dp->completed != 0 || dp->failed != 0)
			continue;
		if (state_space_ok(rn->c->state_dir, state_space_need(0),
		    &e) != 0) {
			diag_add(&rn->r->errors, dp->agreement, 0, "disposition "
			    "%s not resumed: %s", dp->id, e.msg);
			rn->r->failed++;
			continue;
		}
		a = policy_find(rn->ps, dp->agreement);
		if (a == NULL) {
			diag_add(&rn->r->errors, dp->agreement, 0,
			    "disposition %s was interrupted, and its agreement "
			    "is no longer in the policies", dp->id);
			rn->r->failed++;
			if (journal_appendv(&rn->j, &e, "disposition-fail", "id",
			    dp->id, "reason", "agreement no longer in policies",
			    NULL) != 0)
				return -1;
			continue;
		}
		ds = calloc(dp->ndatasets + 1, sizeof(*ds));
		if (ds == NULL)
			return -1;
		for (size_t k = 0; k < dp->ndatasets; k++) {
			size_t x = ds_index(a, dp->datasets[k]);
			if (x != (size_t)-1)
				ds[n++] = x;
		}
		if (strncmp(dp->trigger, "D-", 2) == 0) {
			const struct ev_directive *dv =
			    events_directive(&rn->ev, dp->trigger);
			if (dv != NULL) {
				tdate = dv->received;
				if (dv->transfer)
					transfer = dv->transfer_to;
			}
		} else if (strcmp(dp->trigger, "termination") == 0) {
			tdate = events_terminated(&rn->ev, a);
		} else {
			tdate = tz_date_at(a->timezone, dp->started);
		}
		rn->r->resumed++;
		rc = execute(rn, a, dp->id, dp->trigger, dp->of, tdate,
		    dp->deadline, ds, n, transfer, 1, dp->started);
		free(ds);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Certifies every completed disposition that has no certificate yet. */
static int
certify_all(struct runner *rn)
{
	for (size_t i = 0; i < rn->ev.ndisp; i++) {
		const struct ev_disposition *dp = &rn->ev.disp[i];
		struct err e = { { 0 } };
		struct certified ci;

		if ((dp->completed == 0 && !dp->partial) || dp->cert != NULL)
			continue;
		/* The files, then the message queued, then the journal. */
		if (certify(rn->c, rn->ps, &rn->ev, dp, &rn->j, &ci, &e) != 0 ||
		    deliver_cert(rn->c, &rn->j, ci.id, ci.to, &e) != 0 ||
		    certify_issued(&rn->j, dp, &ci, &e) != 0) {
			diag_add(&rn->r->errors, dp->agreement, 0,
			    "certificate for %s not issued: %s", dp->id, e.msg);
			rn->r->failed++;
			continue;
		}
		rn->r->certified++;
		diag_add(&rn->r->msgs, dp->agreement, 0,
		    "%scertificate %s issued and queued for the LEA",
		    dp->partial ? "partial " : "", ci.id);
	}
	return 0;
}

static int
reload(struct runner *rn, struct err *e)
{
	events_free(&rn->ev);
	return events_load(rn->c->state_dir, &rn->ev, e);
}

/* Journals notice-sent for the prior notice of agreement a, which the mail
 * system has accepted: the notice period runs from this line (never from
 * queueing), and `planned` is the day it ends (the deadline if earlier).
 * terminated: the termination date the notice announced (YYYY-MM-DD); the
 * scheduler counts the notice only for that date. */
static int
notice_sent(struct runner *rn, const struct agreement *a,
    const char *terminated)
{
	day_t today = tz_date_at(a->timezone, time(NULL));
	day_t term;
	char planned[11];
	struct err e;

	if (date_parse(terminated, &term) != 0)
		return 0;	/* not a notice id lethe made */
	date_format(sched_notice_end(a, term, today, NULL), planned);
	if (journal_appendv(&rn->j, &e, "notice-sent", "agreement", a->id,
	    "trigger", "termination", "terminated", terminated, "planned",
	    planned, "to", a->contact, NULL) != 0) {
		diag_add(&rn->r->errors, a->id, 0, "%s", e.msg);
		return -1;
	}
	rn->r->notices++;
	diag_add(&rn->r->msgs, a->id, 0, "prior notice accepted for delivery "
	    "to %s; disposal no earlier than %s", a->contact, planned);
	return 0;
}

/* Sends the prior notice of a termination disposal (NDPA IV.6). */
static int
send_notice(struct runner *rn, const struct plan_row *row)
{
	const struct agreement *a = row->a;
	char term[11], disp[11], dl[11], cats[512], id[160];
	char retained[512];
	catset_t all = 0;
	size_t nds = 0, roff = 0;
	char *msg = NULL;
	size_t len;
	struct err e = { { 0 } };
	struct notice n;
	int q;

	for (size_t i = 0; i < row->nscope; i++) {
		all |= a->ds[row->scope[i]].categories;
		nds++;
	}
	retained[0] = '\0';
	for (size_t i = 0; i < a->nds; i++) {
		int w;
		if (!dataset_exempt(a, i))
			continue;
		w = snprintf(retained + roff, sizeof(retained) - roff,
		    "%s%s", roff ? ", " : "", a->ds[i].name);
		if (w < 0 || (size_t)w >= sizeof(retained) - roff)
			break;
		roff += (size_t)w;
	}
	category_format(all, cats, sizeof(cats));
	date_format(row->start, term);
	date_format(row->notice_planned, disp);
	date_format(row->deadline, dl);
	memset(&n, 0, sizeof(n));
	n.agreement = a->id;
	n.lea = a->lea;
	n.to = a->contact;
	n.terminated = term;
	n.disposal = disp;
	n.deadline = dl;
	n.categories = cats;
	n.ndatasets = nds;
	n.retained = retained;
	if (snprintf(id, sizeof(id), "NOTICE-%s-%s", a->id, term) >=
	    (int)sizeof(id))
		return -1;
	if (mime_notice_message(rn->c, &n, &msg, &len, &e) != 0 ||
	    (q = deliver_enqueue(rn->c->state_dir, &rn->j, id, msg, len, 0,
	    &e)) < 0) {
		free(msg);
		diag_add(&rn->r->errors, a->id, 0, "notice not queued: %s",
		    e.msg);
		rn->r->failed++;
		return 0;
	}
	free(msg);
	/* Already accepted by an earlier run that was killed before it could
	 * journal notice-sent: journal it now (the period then runs from
	 * today, later than the mail said, never earlier), or the row would
	 * wait for a notice that is never sent again. */
	if (q == 1 && deliver_state(rn->c->state_dir, id, NULL, &e) ==
	    DELIVER_SENT)
		return notice_sent(rn, a, term);
	if (q == 2)	/* a damaged or lost notice, rebuilt */
		diag_add(&rn->r->msgs, a->id, 0, "%s", e.msg);
	/* The notice counts as sent (and its period starts) only when the
	 * mail system accepted it: see notices_accepted(). */
	diag_add(&rn->r->msgs, a->id, 0, "prior notice of disposal on %s "
	    "queued for %s", disp, a->contact);
	return 0;
}

/* Journals notice-sent for each prior notice the mail system accepted in
 * this run: the notice period runs from acceptance, never from queueing. */
static int
notices_accepted(struct runner *rn, const struct deliver_report *dr)
{
	for (size_t i = 0; i < dr->n; i++) {
		const struct deliver_item *it = &dr->v[i];
		const struct agreement *a;
		char agr[160];
		size_t len;

		if (!it->ok || it->kind != DELIVER_NOTICE)
			continue;
		/* NOTICE-AGREEMENT-YYYY-MM-DD */
		len = strlen(it->cert);
		if (len < 7 + 1 + 11 || strncmp(it->cert, "NOTICE-", 7) != 0)
			continue;
		snprintf(agr, sizeof(agr), "%.*s", (int)(len - 7 - 11),
		    it->cert + 7);
		a = policy_find(rn->ps, agr);
		if (a == NULL)
			continue;
		if (notice_sent(rn, a, it->cert + len - 10) != 0)
			return -1;
	}
	return 0;
}

/* Data that reappeared in a finished row's datasets (a restore, a late
 * sync), looked for in every scope dataset that is not held.  Returns the
 * number of objects found (0: nothing, or nothing to look in), with the
 * datasets in *scope (malloc'd, *n of them; free it), or -1 when out of
 * memory.  Dry and real runs both ask this. */
static int64_t
reappeared(struct runner *rn, const struct plan_row *row, size_t **scope,
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
	if (p.refused > 0) {
		/* Reappeared data that cannot be destroyed is no less due:
		 * said on every run until it is fixed. */
		diag_add(&rn->r->errors, row->a->id, 0, "%s: reappeared data "
		    "not destroyed: %s", row->trigger, p.first_refusal);
		rn->r->failed++;
	}
	return (int64_t)(p.files + p.links + p.specials + p.archives +
	    p.sealed);
}

static int
row_finished(const struct plan_row *row)
{
	return row->kind != TRIG_REAPPEARED && (row->state == PS_DONE ||
	    row->state == PS_CERTIFIED || row->state == PS_DELIVERED ||
	    row->state == PS_DELIVERY_OVERDUE);
}

static const char *
row_transfer(const struct plan_row *row)
{
	if (row->kind == TRIG_DIRECTIVE && row->dir != NULL &&
	    row->dir->transfer)
		return row->dir->transfer_to;
	return NULL;
}

/* A row decided blocked (decide.c): said on every run, as a failure, so
 * that cron mails it until it is fixed. */
static void
report_blocked(struct runner *rn, const struct plan_row *row)
{
	diag_add(&rn->r->errors, row->a->id, 0, "%s: not started: %s",
	    row->trigger, row->note);
	rn->r->failed++;
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
			for (const unsigned char *c = (const unsigned char *)
			    o->names[n].rel; *c && off + 5 < sizeof(path); c++)
				off += (size_t)(*c < 0x20 || *c == 0x7f ||
				    *c == '\\' ? snprintf(path + off,
				    sizeof(path) - off, "\\x%02x", *c) :
				    snprintf(path + off, sizeof(path) - off,
				    "%c", *c));
			scope_why(o, why, sizeof(why));
			diag_add(&rn->r->msgs, a->id, 0, "  %s %s%s%s",
			    o->verdict == SV_DESTROY ? "destroy" : "keep",
			    path, o->verdict == SV_DESTROY ? "" : ": ",
			    o->verdict == SV_DESTROY ? "" : why);
		}
	}
}

/* The dry run: what run would do, through the same decisions. */
static int
dry_row(struct runner *rn, size_t i)
{
	const struct plan_row *row = &rn->d.plan.rows[i];
	const struct agreement *a = row->a;
	const struct dispose_preview *p = &rn->d.pv[i];
	char dl[11], names[1024];
	size_t *scope;
	size_t n;

	if (row->notice_needed && (row->state == PS_NOTICE_DUE ||
	    row->state == PS_DUE)) {
		char disp[11];
		diag_add(&rn->r->msgs, a->id, 0, "%s: would send the prior "
		    "notice to %s (disposal planned %s)", row->trigger,
		    a->contact, date_format(row->notice_planned, disp));
		rn->r->notices++;
	}
	if (row->nwaiting > 0)
		diag_add(&rn->r->msgs, a->id, 0, "%s: %s", row->trigger,
		    row->note);
	if (row->blocked) {
		report_blocked(rn, row);
		return 0;
	}
	if (decide_row_acts(row)) {
		uint64_t objs = p->files + p->links + p->specials +
		    p->archives + p->sealed;
		if (row->kind == TRIG_REAPPEARED && objs == 0)
			return 0;	/* as real_row: nothing left to retry */
		ds_names(a, row->todo, row->ntodo, names, sizeof(names));
		diag_add(&rn->r->msgs, a->id, 0, "%s: would destroy %" PRIu64
		    " files (%" PRIu64 " bytes), %" PRIu64 " links, %" PRIu64
		    " archives, %" PRIu64 " sealed files in %s%s%s (deadline "
		    "%s); %" PRIu64 " kept", row->trigger, p->files, p->bytes,
		    p->links + p->specials, p->archives, p->sealed,
		    names[0] ? names : "no dataset",
		    row_transfer(row) ? ", after transfer to " : "",
		    row_transfer(row) ? row_transfer(row) : "",
		    date_format(row->deadline, dl), p->kept);
		if (p->refused > 0) {
			diag_add(&rn->r->errors, a->id, 0, "%s: %s: would be "
			    "kept, and the disposition certified as partial",
			    row->trigger, p->first_refusal);
			rn->r->failed++;
		}
		if (rn->o->list && rn->d.walked[i])
			list_scope(rn, a, &rn->d.scopes[i]);
		rn->r->dispositions++;
	}
	if (row_finished(row)) {
		int64_t found = reappeared(rn, row, &scope, &n);
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

/* What a due row's scope holds now, just before it starts: 1 when there
 * is something to destroy (or an empty scope to certify), 0 when not
 * (said, when it is all refused), -1 when out of memory. */
static int
worth_starting(struct runner *rn, const struct plan_row *row)
{
	struct dispose_preview p;
	struct err e = { { 0 } };
	uint64_t objs;

	struct reappear rp;
	struct scope_ctx sx;
	int rc;

	if (row->ntodo == 0)
		return 1;	/* nothing in scope: certified as such */
	rc = decide_reappeared(&rn->d, row->a, decide_reappeared_of(&rn->d,
	    row), &sx, &rp, &e);
	if (rc == 0) {
		rc = dispose_preview(&sx, row->a, row->todo, row->ntodo, &p,
		    NULL, &e);
		reappear_free(&rp);
	}
	if (rc != 0) {
		diag_add(&rn->r->errors, row->a->id, 0, "%s: not started: %s",
		    row->trigger, e.msg);
		rn->r->failed++;
		return 0;
	}
	objs = p.files + p.links + p.specials + p.archives + p.sealed;
	if (objs == 0 && p.refused > 0) {
		diag_add(&rn->r->errors, row->a->id, 0, "%s: not started: %s",
		    row->trigger, p.first_refusal);
		rn->r->failed++;
		return 0;
	}
	/* A failed supplementary disposition is retried only while its
	 * data is still there, never as an empty certificate. */
	if (objs == 0 && row->kind == TRIG_REAPPEARED)
		return 0;
	return 1;
}

static int
real_row(struct runner *rn, const struct plan_row *row)
{
	const struct agreement *a = row->a;
	size_t *scope, n;
	int64_t found;
	int rc = 0;

	/* A notice still unsent on the deadline day goes out with the
	 * disposal (sched.c: the deadline wins); before that day it is all
	 * the run does for the row. */
	if (row->notice_needed && (row->state == PS_NOTICE_DUE ||
	    row->state == PS_DUE)) {
		if (send_notice(rn, row) != 0)
			return -1;
		if (row->state == PS_NOTICE_DUE)
			return 0;
	}
	if (row->nwaiting > 0)
		diag_add(&rn->r->msgs, a->id, 0, "%s: %s", row->trigger,
		    row->note);
	if (row->blocked) {
		report_blocked(rn, row);
		return 0;
	}
	if (decide_row_acts(row)) {
		if (!worth_starting(rn, row))
			return 0;
		if (row->kind == TRIG_REAPPEARED)
			rn->r->reappeared++;
		return begin(rn, a, row->trigger_id,
		    decide_reappeared_of(&rn->d, row), row->start,
		    row->deadline, row->todo, row->ntodo, row_transfer(row));
	}
	if (!row_finished(row))
		return 0;
	found = reappeared(rn, row, &scope, &n);
	if (found < 0)
		return -1;
	if (found > 0) {
		day_t today = tz_date_at(a->timezone, rn->now);
		rn->r->reappeared++;
		rc = begin(rn, a, "reappeared", row->trigger_id, today, today,
		    scope, n, NULL);
	}
	free(scope);
	return rc;
}

static int
config_event(struct runner *rn, struct err *e)
{
	char hex[65], np[32];
	char *buf = NULL;
	size_t len = 0;

	if (slurp(rn->c->path, 1 << 20, &buf, &len, e) != 0)
		return -1;
	cert_sha256_hex(buf, len, hex);
	free(buf);
	snprintf(np, sizeof(np), "%zu", rn->ps->n);
	return journal_appendv(&rn->j, e, "config-loaded", "conf_sha256", hex,
	    "policies", np, "host", rn->c->host, NULL);
}

/* What is still overdue after the run, one line each, so that a run which
 * exits 3 under cron says why. */
static void
overdue_lines(struct runner *rn, const struct plan *p)
{
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

static int
run_dry(struct runner *rn, struct err *e)
{
	if (events_load(rn->c->state_dir, &rn->ev, e) != 0)
		return -1;
	if (decide_open(&rn->d, rn->c, rn->ps, &rn->ev, rn->now, rn->o->today,
	    e) != 0 || decide_walk(&rn->d, rn->o->list, e) != 0)
		return -1;
	for (size_t i = 0; i < rn->ev.ndisp; i++) {
		const struct ev_disposition *dp = &rn->ev.disp[i];
		if (dp->completed == 0 && dp->failed == 0) {
			diag_add(&rn->r->msgs, dp->agreement, 0, "would resume "
			    "interrupted disposition %s", dp->id);
			rn->r->resumed++;
		} else if ((dp->completed != 0 || dp->partial) &&
		    dp->cert == NULL) {
			diag_add(&rn->r->msgs, dp->agreement, 0, "would issue "
			    "the %scertificate of %s", dp->partial ?
			    "partial " : "", dp->id);
		}
	}
	for (int pass = 0; pass < DECIDE_PASSES; pass++)
		for (size_t i = 0; i < rn->d.plan.n; i++)
			if (decide_pass(&rn->d.plan.rows[i]) == pass &&
			    dry_row(rn, i) != 0)
				return err_set(e, "out of memory");
	rn->r->overdue = plan_overdue(&rn->d.plan);
	overdue_lines(rn, &rn->d.plan);
	return 0;
}

/* Decides afresh from the journal as it is now. */
static int
redecide(struct runner *rn, time_t now, struct err *e)
{
	decide_close(&rn->d);
	if (reload(rn, e) != 0)
		return -1;
	return decide_open(&rn->d, rn->c, rn->ps, &rn->ev, now, DAY_NONE, e);
}

/* Whether row is one act_all has already acted on in this run. */
static int
acted_on(const struct strmap *acted, const struct plan_row *row, char *key,
    size_t len)
{
	size_t v;

	snprintf(key, len, "%s\t%s", row->a->id, row->trigger_id);
	return strmap_get(acted, key, &v) == 0;
}

/* Acts on every row, pass by pass.  A hold recorded while the run goes on
 * is decided before the next row begins (SPEC §5): the plan is decided
 * afresh and the passes start over, each row acted on at most once.
 * Returns 0, or -1 with *e set when the run cannot be recorded. */
static int
act_all(struct runner *rn, struct err *e)
{
	struct strmap acted = { 0 };
	char key[200];
	size_t holds;
	int rc = -1;

again:
	holds = rn->ev.nhold;
	for (int pass = 0; pass < DECIDE_PASSES; pass++)
		for (size_t i = 0; i < rn->d.plan.n; i++) {
			const struct plan_row *row = &rn->d.plan.rows[i];
			if (decide_pass(row) != pass ||
			    acted_on(&acted, row, key, sizeof(key)))
				continue;
			if (sync_holds(rn, e) != 0)
				goto out;
			if (rn->ev.nhold != holds) {
				if (redecide(rn, rn->now, e) != 0)
					goto out;
				goto again;
			}
			if (strmap_put(&acted, key, 1) != 0) {
				err_set(e, "out of memory");
				goto out;
			}
			if (real_row(rn, row) != 0) {
				err_set(e, "journal: cannot record the run; "
				    "stopped");
				goto out;
			}
		}
	rc = 0;
out:
	strmap_free(&acted);
	return rc;
}

/* Trusted only as far as signed (SPEC §9): the journal must pass the trust
 * gate before anything is done, and is sealed at once, so that a run
 * killed at any instant leaves a journal whose runs are signed. */
static int
run_trust(struct runner *rn, struct err *e)
{
	struct gate_report g;
	char why[sizeof(e->msg)];
	int rc = -1;

	if (rn->j.repaired > 0)
		diag_add(&rn->r->msgs, "journal", 0, "removed a torn last line "
		    "(%llu bytes, an interrupted write) and journaled the repair",
		    (unsigned long long)rn->j.repaired);
	if (journal_lock(&rn->j, e) != 0)
		return -1;
	if (certify_gate(rn->c, &rn->j, &g, e) != 0) {
		snprintf(why, sizeof(why), "%s", e->msg);
		err_set(e, "%s; nothing was done%s", why,
		    g.state == GATE_BROKEN || g.state == GATE_ERROR ? "" :
		    ".  If this is a restored backup or a repair you know of, "
		    "record it with `lethe journal accept --reason TEXT`");
	} else if (certify_checkpoint(rn->c, &rn->j, e) != 0) {
		snprintf(why, sizeof(why), "%s", e->msg);
		err_set(e, "run not started: blocked: preflight: the journal "
		    "cannot be sealed with a signed checkpoint before the run "
		    "(%s); nothing was done", why);
	} else {
		rc = 0;
	}
	journal_unlock(&rn->j);
	return rc;
}

static int
run_real(struct runner *rn, struct err *e)
{
	struct deliver_report dr;
	int rc = -1;

	if (journal_open(rn->c->state_dir, &rn->j, e) != 0)
		return -1;
	if (run_trust(rn, e) != 0)
		goto out;
	if (config_event(rn, e) != 0)
		goto out;
	if (events_load(rn->c->state_dir, &rn->ev, e) != 0 ||
	    decide_open(&rn->d, rn->c, rn->ps, &rn->ev, rn->now, DAY_NONE,
	    e) != 0)
		goto out;
	/* A killed run's work first: each file destroyed once, each
	 * certificate issued once. */
	if (resume_all(rn) != 0 || reload(rn, e) != 0)
		goto out;
	if (certify_all(rn) != 0 || redecide(rn, rn->now, e) != 0)
		goto out;
	if (act_all(rn, e) != 0)
		goto out;
	if (reload(rn, e) != 0 || certify_all(rn) != 0)
		goto out;
	memset(&dr, 0, sizeof(dr));
	if (deliver_flush(rn->c, &rn->j, NULL, &dr, e) != 0) {
		diag_add(&rn->r->errors, "delivery", 0, "%s", e->msg);
		rn->r->failed++;
	}
	rn->r->delivered += deliver_sanitize(rn->c, &dr, &rn->j, &rn->r->errors);
	for (size_t i = 0; i < dr.n; i++)
		if (dr.v[i].damaged) {
			/* Never sent: its detail says why and what to do. */
			diag_add(&rn->r->errors, dr.v[i].id, 0, "%s",
			    dr.v[i].detail);
			rn->r->failed++;
		} else if (!dr.v[i].ok) {
			/* Kept in the outbox and retried by the next run; said
			 * here so that cron mails it to the admin. */
			diag_add(&rn->r->errors, dr.v[i].id, 0, "not accepted "
			    "by %s: %s; kept in the outbox for the next run",
			    rn->c->sendmail, dr.v[i].detail);
			rn->r->failed++;
		}
	if (notices_accepted(rn, &dr) != 0) {
		deliver_report_free(&dr);
		goto out;
	}
	deliver_report_free(&dr);
	if (certify_checkpoint(rn->c, &rn->j, e) != 0) {
		diag_add(&rn->r->errors, "journal", 0, "checkpoint: %s", e->msg);
		rn->r->failed++;
	}
	if (redecide(rn, time(NULL), e) != 0)
		goto out;
	rn->r->overdue = plan_overdue(&rn->d.plan);
	overdue_lines(rn, &rn->d.plan);
	rc = 0;
out:
	decide_close(&rn->d);
	journal_close(&rn->j);
	return rc;
}

int
run_all(const struct config *c, const struct policyset *ps,
    const struct run_opts *o, struct run_report *r, struct err *e)
{
	struct runner rn;
	int lockfd = -1, rc;

	memset(&rn, 0, sizeof(rn));
	rn.c = c;
	rn.ps = ps;
	rn.o = o;
	rn.r = r;
	rn.j.fd = -1;
	rn.now = time(NULL);
	if (o->dry_run) {
		rc = run_dry(&rn, e);
		decide_close(&rn.d);
		events_free(&rn.ev);
		return rc;
	}
	if (o->today != DAY_NONE)
		return err_set(e, "--now is only for --dry-run: what is "
		    "destroyed is dated by the clock");
	/* A run may load the KEK and rotate it (crypto-shred): no core dump
	 * may ever hold key material. */
	if (secmem_no_core(e) != 0)
		return -1;
	if (lock_acquire(c->state_dir, 0, &lockfd, e) != 0)
		return -1;
	rc = run_real(&rn, e);
	events_free(&rn.ev);
	lock_release(lockfd);
	return rc;
}

void
run_report_free(struct run_report *r)
{
	diag_free(&r->msgs);
	diag_free(&r->errors);
	diag_free(&r->overdue_msgs);
}
