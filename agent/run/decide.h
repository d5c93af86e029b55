/*
 * decide.h: what `run` will do with each row of the plan, and why, decided
 * in one place for `lethe plan`, `lethe run --dry-run` and `lethe run`
 * (SPEC §5):
 *   1. the scheduler's rows (plan/sched.c): triggers, deadlines, holds,
 *      notices, and the wait for an unfinished transfer of the same data;
 *   2. for each row due now, the preflight of its certificate
 *      (certify_preflight): a row that could not be certified is blocked,
 *      and nothing of it is destroyed;
 *   3. with decide_walk, each due row's scope (plan/scope.c), in the order
 *      run carries rows out, each leaving out what an earlier one takes:
 *      what it would destroy, keep and refuse.  A row whose scope has
 *      refusals and nothing to destroy is blocked.
 * The reasons go into each row's note, so `plan` shows what run acts on.
 */
#ifndef LETHE_DECIDE_H
#define LETHE_DECIDE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/date.h"
#include "conf/own.h"
#include "dispose/dispose.h"
#include "plan/scope.h"
#include "plan/sched.h"

struct config;
struct err;
struct events;
struct policyset;

struct decide {
	const struct config *c;
	const struct policyset *ps;
	const struct events *ev;
	struct own own;
	struct scope_index *index;	/* every dataset by its prefix */
	struct plan plan;
	struct scope_ctx sx;
	/* Per row, after decide_walk: what it would do. */
	struct dispose_preview *pv;
	struct scope *scopes;	/* when kept (decide_walk's keep) */
	int *walked;
	struct scope_set gone;	/* what earlier rows take */
};

/* Passes in which run carries rows out: retries of failed reappeared
 * dispositions, then directives (a transfer above all), then terminations,
 * so that the LEA's own request is what certifies the data it names. */
#define DECIDE_PASSES 3
/* The most bytes of dataset names one disposition's journal lines hold:
 * room for the line's other fields under the journal's line limit. */
#define DECIDE_DS_LIST_MAX 49152
/* The pass (0 .. DECIDE_PASSES - 1) in which row r is carried out. */
int decide_pass(const struct plan_row *r);

/* Whether the row starts a disposition when run now (due or overdue, not
 * blocked, with datasets to do or an empty scope to certify as such). */
int decide_row_acts(const struct plan_row *r);
/* Whether the row's prior notice goes out now: it is needed, and the row
 * is due for it (or for the disposal, on the deadline day). */
int decide_notice_now(const struct plan_row *r);
/* Whether the row's disposition is finished (done, certified or
 * delivered), so that data reappearing in its datasets is looked for. */
int decide_row_finished(const struct plan_row *r);
/* Where a transfer directive's row packs the data first, or NULL. */
const char *decide_transfer_of(const struct plan_row *r);
/* The id of a disposition of agreement begun at `now` as journal line
 * seq + 1 ("AGREEMENT-YYYYMMDD-SEQ", the host's date).  0, or -1 when it
 * does not fit in buf. */
int decide_disp_id(const char *agreement, time_t now, uint64_t seq,
    char *buf, size_t len);

/* Steps 1 and 2.  now is the clock; today overrides "today" (--now) or is
 * DAY_NONE.  Returns 0, or -1 with *e set; *d is always freeable. */
int decide_open(struct decide *d, const struct config *c,
    const struct policyset *ps, const struct events *ev, time_t now,
    day_t today, struct err *e);
/* Step 3 for every row that acts, in pass order; keep: hold on to each
 * row's scope (for listing its objects).  A row whose walk fails is
 * blocked with the reason.  Returns 0, or -1 when out of memory. */
int decide_walk(struct decide *d, int keep, struct err *e);
/* Frees everything d holds (the plan, scopes, previews); d is zeroed. */
void decide_close(struct decide *d);

struct reappear;
/* The scope context for a supplementary disposition of data that
 * reappeared after trigger `of` of agreement a finished: d's, with only
 * the same data in scope (plan/reappear.h).  of NULL (a journal from
 * before this was recorded): d's as it is.  *r must be freed with
 * reappear_free.  Returns 0, or -1 with *e set. */
int decide_reappeared(const struct decide *d, const struct agreement *a,
    const char *of, struct scope_ctx *sx, struct reappear *r, struct err *e);
/* The trigger a reappeared row's data belongs to, or NULL. */
const char *decide_reappeared_of(const struct decide *d,
    const struct plan_row *r);

#endif
