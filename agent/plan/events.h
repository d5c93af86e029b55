/*
 * events.h: the journal replayed into what the scheduler needs (SPEC §5,
 * §9): terminations, Exhibit D directives, legal holds, notices sent,
 * dispositions and their certificates and deliveries.
 *
 * Replay is forward compatible: events it does not know are skipped.  A
 * known event that lacks a field it needs, or holds a value that does not
 * parse, is an error naming the journal line: the journal is written only
 * by lethe, so such a line is a bug or tampering, never to be guessed at.
 */
#ifndef LETHE_EVENTS_H
#define LETHE_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf/category.h"
#include "base/date.h"
#include "base/strmap.h"

struct agreement;
struct err;

/* `terminate agreement=A date=D by=U`: the latest one per agreement. */
struct ev_termination {
	char *agreement;
	day_t date;
	char *by;
	time_t at;		/* when it was recorded */
	uint64_t seq;
};

/* `directive-add ...`, maybe followed by `directive-cancel`. */
struct ev_directive {
	char id[16];		/* "D-0001" */
	char *agreement;
	day_t received;
	int complete;		/* extent: 1 complete, 0 partial */
	catset_t categories;	/* partial: the categories; complete: 0 */
	int transfer;		/* nature: 1 transfer, 0 destroy */
	char *transfer_to;	/* NULL unless transfer */
	day_t schedule;		/* DAY_NONE = asap */
	char *requested_by;
	char sha256[65];	/* of the directive file as given */
	char *by;
	time_t added;
	uint64_t seq;
	int cancelled;
	char *cancel_reason;	/* NULL unless cancelled */
	char *cancelled_by;
	time_t cancelled_at;
};

/* `hold ...`, maybe followed by `release`. */
struct ev_hold {
	char id[16];		/* "H-0001" */
	char *agreement;
	char *reason;
	char **datasets;	/* names given with --dataset, may be none */
	size_t ndatasets;
	char *categories;	/* the categories= text as given, or NULL */
	catset_t catset;	/* parsed; 0 when none given */
	int cat_unknown;	/* categories= did not parse: fail closed */
	char *by;
	time_t placed;
	uint64_t seq;
	int released;
	time_t released_at;
	char *released_by;
};

/* `notice-sent agreement=A trigger=T terminated=D planned=D to=E`. */
struct ev_notice {
	char *agreement;
	char *trigger;		/* "termination" */
	day_t terminated;	/* the termination date it announced; from a
				 * line without terminated= (older lethe), the
				 * latest `lethe terminate` before it, else
				 * DAY_NONE: the policy's own terminated= */
	day_t planned;
	char *to;
	time_t sent;
	uint64_t seq;
};

/* `disposition-start`, `-complete`, `-fail`, `certificate-issued`,
 * `delivery-attempt`, and the file lines counted. */
struct ev_disposition {
	char *id;		/* "AGREEMENT-YYYYMMDD-SEQ" */
	char *agreement;
	char *trigger;		/* "termination", "D-0001" or "reappeared" */
	char *of;		/* reappeared: the trigger whose data it is
				 * ("termination", "D-0001"), or NULL */
	char **datasets;	/* names from disposition-start */
	size_t ndatasets;
	day_t deadline;
	time_t started;
	uint64_t seq;		/* of disposition-start */
	time_t completed;	/* 0 until disposition-complete */
	char **done_datasets;	/* from disposition-complete (else start's) */
	size_t ndone_datasets;
	uint64_t files, bytes, remaining;
	time_t failed;		/* 0 unless disposition-fail (latest) */
	char *fail_reason;
	int partial;		/* failed after destroying something: it has
				 * a record and is certified as partial */
	uint64_t nintent, ndestroyed;	/* file-intent / file-destroyed lines */
	char *cert;		/* certificate id, NULL until issued */
	day_t certify_by;	/* DAY_NONE until the certificate is issued */
	time_t cert_issued;
	time_t delivered;	/* 0 until a delivery-attempt with ok=yes */
	unsigned attempts;	/* delivery attempts, failed ones included */
	char *last_detail;	/* detail= of the latest attempt */
};

/* `journal-accept ...`: an admin accepted a journal that did not match its
 * signed checkpoint (`lethe journal accept`); named on every later
 * certificate. */
struct ev_accept {
	uint64_t seq;		/* the acceptance's own line */
	time_t at;
	char *kind;		/* "mismatch", "short", "no-checkpoint", "forged" */
	char *reason;
	char *by;
};

struct events {
	struct ev_termination *term;
	size_t nterm;
	struct ev_directive *dir;
	size_t ndir;
	struct ev_hold *hold;
	size_t nhold;
	struct ev_notice *notice;
	size_t nnotice;
	struct ev_disposition *disp;
	size_t ndisp;
	struct ev_accept *accept;
	size_t naccept;
	uint64_t lines;		/* journal lines replayed */
	uint64_t seq;		/* last sequence number (0: empty journal) */
	char head[65];		/* hash of the last line */
	uint64_t torn;		/* bytes of a torn last line skipped (not yet
				 * repaired: the next writer does), 0 if none */
	/* Indexes, so that replay and lookups stay linear in the journal:
	 * term by agreement, disp by id, disp by certificate id. */
	struct strmap by_term, by_disp, by_cert;
};

/* Replays state_dir/journal (chain checked) into *ev.  A missing journal
 * gives empty events.  Returns 0, or -1 with *e naming the journal line;
 * *ev is always freeable.  Never writes anything. */
int events_load(const char *state_dir, struct events *ev, struct err *e);
void events_free(struct events *ev);
/* Applies one more journal record to a loaded *ev, as replay would: what
 * journal_sync passes during a run (a hold recorded meanwhile).  A record
 * at or below ev->seq is already in *ev and is skipped, so applying after
 * a reload is harmless.  Moves ev's arrays (realloc): pointers into them,
 * plan rows' included, must be taken again.  Returns 0, or -1 with *e
 * naming the line; on -1 *ev is still freeable, but its state is not to
 * be trusted (reload it). */
struct jrec;
int events_apply(struct events *ev, const struct jrec *r, struct err *e);

/* The effective termination date of a: the latest `lethe terminate`, else
 * the policy's own `terminated =`, else DAY_NONE. */
day_t events_terminated(const struct events *ev, const struct agreement *a);
/* The latest recorded termination of agreement id, or NULL. */
const struct ev_termination *events_termination(const struct events *ev,
    const char *agreement);
/* The latest prior notice of agreement a for trigger ("termination") that
 * announced the termination date term, or NULL.  A notice announces one
 * date: one sent for another date (a termination recorded again with a
 * new date) does not count. */
const struct ev_notice *events_notice(const struct events *ev,
    const struct agreement *a, const char *trigger, day_t term);
/* Whether notice n is of agreement a for trigger and announced the
 * termination of day term (a line without terminated= announced the
 * policy's own terminated=): the one rule of which notice counts. */
int events_notice_announces(const struct ev_notice *n,
    const struct agreement *a, const char *trigger, day_t term);
/* The directive with this id ("D-0001"), or NULL. */
const struct ev_directive *events_directive(const struct events *ev,
    const char *id);
/* The hold with this id ("H-0001"), or NULL. */
const struct ev_hold *events_hold(const struct events *ev, const char *id);
/* The disposition with this id, or NULL. */
const struct ev_disposition *events_disposition(const struct events *ev,
    const char *id);
/* The first disposition with trigger= trigger ("D-0001") that may have
 * destroyed something no certificate covers yet: one interrupted (started,
 * neither completed nor failed: its files are recorded in work/ID, not in
 * the journal), or one that destroyed something (files > 0, or
 * file-destroyed lines of an older journal) and has no certificate
 * (complete, or partial for a failed one), unless it is a failed one from
 * before partial certificates that a later disposition of the same trigger
 * finished (completed, with a certificate).  NULL when there is none: the
 * trigger's destructions are all on certificates (SPEC §5: a directive
 * cannot be cancelled before). */
const struct ev_disposition *events_uncertified(const struct events *ev,
    const char *trigger);
/* The next free directive / hold id into buf (at least 16 bytes):
 * "D-0001", "D-0002", ... one global sequence each. */
char *events_next_directive_id(const struct events *ev, char *buf);
char *events_next_hold_id(const struct events *ev, char *buf);
/* The directive whose file had this SHA-256 (hex), or NULL: the same
 * directive is not added twice. */
const struct ev_directive *events_directive_by_sha(const struct events *ev,
    const char *sha256);

#endif
