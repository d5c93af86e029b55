/*
 * run_exec.c: one disposition of the run, from its journaled start to its
 * outcome (see run_int.h).
 *
 * MUST rules (run.h's, for one disposition):
 *  - its start is journaled (disposition-start) before anything is
 *    destroyed, and its outcome (disposition-complete or -fail) after;
 *  - what it did is written to state_dir/work/ID/record before
 *    disposition-complete is journaled, so its certificate can always be
 *    issued from it, exactly once, even after a crash;
 *  - a disposition that destroyed data it could not record journals no
 *    outcome: the next run resumes it and certifies all it destroyed;
 *  - a failed disposition is never certified as complete: when it
 *    destroyed something, as partial.
 */
#include "run/run_int.h"

#include "base/strbuf.h"
#include "certify/cert.h"
#include "certify/record.h"
#include "conf/config.h"
#include "conf/policy.h"
#include "dispose/dispose.h"
#include "plan/reappear.h"
#include "state/durable.h"
#include "state/space.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The items a disposition destroyed, as its journal lines count them
 * (keys are not items). */
static uint64_t
destroyed_items(const struct dispose_out *o)
{
	return o->files + o->links + o->specials + o->sealed_files +
	    o->members;
}

/* Whether a disposition destroyed anything: then it is certified, as
 * partial if it failed (SPEC §5 "Every destroyed file is certified"). */
static int
destroyed_any(const struct dispose_out *o)
{
	return destroyed_items(o) + o->keys > 0;
}

/* A disposition that destroyed something and cannot write its record (a
 * full state disk): no outcome is journaled, so the next run resumes it
 * from work/ID and certifies all it destroyed (SPEC §5, §9).  Stops the
 * run. */
static int
left_open(struct runner *rn, const struct run_disp *dp, const char *why)
{
	diag_add(&rn->r->errors, dp->a->id, 0, "disposition %s: its record "
	    "could not be written (%s); it is left open, and the next run "
	    "resumes it and certifies what it destroyed", dp->id, why);
	rn->r->failed++;
	return -1;
}

/* Journals the failure of the disposition; when it destroyed something,
 * its record is written first and the line says partial=yes, so that it
 * is certified as partial.  Returns -1 only when the journal failed (or
 * the disposition was left open). */
static int
failed(struct runner *rn, const struct run_disp *dp, struct record *rec,
    const struct dispose_out *out, const char *why)
{
	struct err e, je;
	char files[32], digests[65];
	int partial = 0, rc;

	/* Stopped before it could count what it destroyed (data overwritten,
	 * its names not recorded): treated like a killed run. */
	if (rec != NULL && out->unrecorded)
		return left_open(rn, dp, why);
	diag_add(&rn->r->errors, dp->a->id, 0, "disposition %s (%s) failed: %s",
	    dp->id, dp->trigger, why);
	rn->r->failed++;
	if (rec != NULL && destroyed_any(out)) {
		rec->partial = 1;
		if (record_write(rn->c->state_dir, rec, &e) == 0)
			partial = 1;
		else
			return left_open(rn, dp, e.msg);
	}
	snprintf(files, sizeof(files), "%" PRIu64, destroyed_items(out));
	record_digest(rn, dp->id, digests);
	if (partial)
		rc = journal_appendv(&rn->j, &je, "disposition-fail", "id",
		    dp->id, "reason", why, "partial", "yes", "files", files,
		    "digests_sha256", digests, NULL);
	else
		rc = journal_appendv(&rn->j, &je, "disposition-fail", "id",
		    dp->id, "reason", why, NULL);
	return rc != 0 ? -1 : 0;
}

/* Journals disposition-complete and says what was done.  Returns -1 only
 * when the journal failed. */
static int
completed(struct runner *rn, const struct run_disp *dp,
    const struct dispose_out *out)
{
	char files[32], bytes[32], rem[32], digests[65], *names;
	struct err je;
	int rc;

	snprintf(files, sizeof(files), "%" PRIu64, destroyed_items(out));
	snprintf(bytes, sizeof(bytes), "%" PRIu64, out->bytes +
	    out->member_bytes);
	snprintf(rem, sizeof(rem), "%" PRIu64, out->remaining);
	names = ds_list(dp->a, dp->ds, dp->nds);
	record_digest(rn, dp->id, digests);
	rc = names == NULL ? err_set(&je, "out of memory") :
	    journal_appendv(&rn->j, &je, "disposition-complete", "id", dp->id,
	    "files", files, "bytes", bytes, "remaining", rem, "datasets", names,
	    "digests_sha256", digests, NULL);
	free(names);
	if (rc != 0) {
		diag_add(&rn->r->errors, dp->a->id, 0, "%s", je.msg);
		return -1;
	}
	rn->r->dispositions++;
	diag_add(&rn->r->msgs, dp->a->id, 0, "%s: %s: destroyed %s items, %s "
	    "bytes (disposition %s)", dp->trigger, dp->resume ? "resumed" :
	    "done", files, bytes, dp->id);
	return 0;
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

int
run_sync_holds(void *arg, struct err *e)
{
	struct runner *rn = arg;

	return journal_sync(&rn->j, apply_hold, rn, e);
}

int
run_execute(struct runner *rn, const struct run_disp *dp)
{
	struct dispose_req rq = {
		.cfg = rn->c, .sx = &rn->d.sx, .a = dp->a, .id = dp->id,
		.ds = dp->ds, .nds = dp->nds, .transfer_to = dp->transfer_to,
		.resume = dp->resume, .j = &rn->j, .progress = progress_cb,
		.arg = rn, .problems = &rn->r->errors, .started = dp->started,
		.sync = run_sync_holds, .sync_arg = rn,
	};
	struct dispose_out out;
	struct record rec;
	struct reappear rp;
	struct scope_ctx sx;
	struct err e = { { 0 } };
	int rc;

	memset(&out, 0, sizeof(out));
	/* Data that reappeared: only the same data is in scope. */
	if (decide_reappeared(&rn->d, dp->a, dp->of, &sx, &rp, &e) != 0)
		return failed(rn, dp, NULL, &out, e.msg);
	rq.sx = &sx;
	if (dp->resume && record_read(rn->c->state_dir, dp->id, &rec,
	    &e) == 0) {
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
			return failed(rn, dp, &rec, &out, out.exceptions[0] ?
			    out.exceptions : "interrupted");
		return completed(rn, dp, &out);
	}
	rc = dispose_run(&rq, &out, &e);
	reappear_free(&rp);
	record_from(&rec, rn->c, dp->a, dp->id, dp->trigger, dp->trigger_date,
	    dp->deadline, dp->ds, dp->nds, &rn->ev, &out);
	if (dp->nds == 0 && strncmp(dp->trigger, "D-", 2) == 0) {
		/* Nothing in scope: the certificate still names what the LEA
		 * asked for. */
		const struct ev_directive *dv = events_directive(&rn->ev,
		    dp->trigger);
		if (dv != NULL)
			rec.categories = dv->categories;
	}
	if (rc != 0)
		return failed(rn, dp, &rec, &out, e.msg);
	if (record_write(rn->c->state_dir, &rec, &e) != 0)
		return destroyed_any(&out) ? left_open(rn, dp, e.msg) :
		    failed(rn, dp, NULL, &out, e.msg);
	return completed(rn, dp, &out);
}

int
run_begin(struct runner *rn, struct run_disp *dp)
{
	const struct agreement *a = dp->a;
	char id[160], dl[11], td[11], *names;
	struct err e;
	int rc;

	/* Room for its journal lines and records first: a full state disk
	 * must not tear the journal halfway through (SPEC §9). */
	if (state_space_ok(rn->c->state_dir, state_space_need(0), &e) != 0) {
		diag_add(&rn->r->errors, a->id, 0, "%s: %s", dp->trigger, e.msg);
		rn->r->failed++;
		return 0;
	}
	if (decide_disp_id(a->id, rn->now, rn->j.seq, id, sizeof(id)) != 0)
		return -1;
	if ((names = ds_list(a, dp->ds, dp->nds)) == NULL)
		return -1;
	if (strlen(names) > DECIDE_DS_LIST_MAX) {
		diag_add(&rn->r->errors, a->id, 0, "%s: not started: its %zu "
		    "datasets' names take %zu bytes, more than a journal line "
		    "holds (%d); split the agreement's datasets, or merge "
		    "overlapping ones", dp->trigger, dp->nds, strlen(names),
		    DECIDE_DS_LIST_MAX);
		rn->r->failed++;
		free(names);
		return 0;
	}
	if (dp->of != NULL)
		rc = journal_appendv(&rn->j, &e, "disposition-start", "id", id,
		    "agreement", a->id, "trigger", dp->trigger, "of", dp->of,
		    "datasets", names, "trigger_date",
		    date_format(dp->trigger_date, td), "deadline",
		    date_format(dp->deadline, dl), NULL);
	else
		rc = journal_appendv(&rn->j, &e, "disposition-start", "id", id,
		    "agreement", a->id, "trigger", dp->trigger, "datasets",
		    names, "trigger_date", date_format(dp->trigger_date, td),
		    "deadline", date_format(dp->deadline, dl), NULL);
	free(names);
	if (rc != 0) {
		diag_add(&rn->r->errors, a->id, 0, "%s", e.msg);
		return -1;
	}
	dp->id = id;
	dp->started = time(NULL);
	rc = run_execute(rn, dp);
	dp->id = NULL;
	return rc;
}
