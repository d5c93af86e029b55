/*
 * deliver.h: the outbox (SPEC §8 "Delivery").
 *
 * A message to send is a file state_dir/outbox/ID.eml (0600), written once,
 * after its size and SHA-256 are journaled (message-queued, msglog.h): the
 * journal is the trusted record, the outbox only storage.  Every flush
 * checks each outbox message against that record and hands a checked copy
 * to the configured sendmail(8) command (sendmail.h), run without a shell
 * as
 *     SENDMAIL [ARGS...] -i -f FROM -- TO
 * with the copy as its standard input.  Exit 0 means accepted: the attempt
 * is journaled (ok=yes), a receipt state_dir/sent/ID.receipt is written and
 * the message moves to state_dir/sent/ID.eml.  Anything else (non-zero
 * exit, a signal, no exit within the time limit, a command that cannot
 * run) is journaled (ok=no) and the message stays for the next run.
 *
 * A message that is damaged (its size or digest is not the journaled one,
 * or it was never journaled) or lost (journaled, never accepted, gone from
 * the outbox) is never sent and never marked delivered: the flush reports
 * it as failed (it->damaged) and journals that (ok=no) on every run until
 * it is rebuilt, by `lethe cert resend` for a certificate and by queueing
 * it again (deliver_enqueue) for a notice.
 *
 * IDs: a certificate's id, or NOTICE-AGREEMENT-DATE for the prior notice of
 * a termination disposal (DATE the termination date); a re-send asked by an
 * admin is ID+rN.  Journal events:
 *     delivery-attempt cert=ID ok=yes|no msgid=<...> detail=TEXT
 *     delivery-attempt notice=ID ok=yes|no msgid=<...> detail=TEXT
 * (plus copy=rN for a re-send).  detail is e.g. "sendmail exited 75".
 *
 * Never sent twice in normal operation: a message leaves the outbox only
 * after its acceptance is journaled, and a flush first finishes the move of
 * any outbox message whose Message-ID the journal already records as
 * accepted (a run killed between the journal and the move).  One window
 * remains, documented honestly: if the agent dies after sendmail accepted
 * a message but before the journal record is on disk (one fsync), the next
 * run sends it again, with the same Message-ID, so the LEA's mail system
 * can drop the duplicate.  At least once, never lost.
 *
 * The .eml files carry the manifest, which names students' files: once a
 * checked message carrying it was accepted, sent/ID.eml and the vendor's
 * certificates/ID.manifest must be sanitized by the overwrite engine; the
 * flush report lists the accepted ids, and whether each carried the
 * manifest, for exactly that.  sent/ID.receipt (no student data) remains
 * as the record.
 */
#ifndef LETHE_DELIVER_H
#define LETHE_DELIVER_H

#include <stddef.h>
#include <time.h>

#include "deliver/ids.h"
#include "deliver/outbox.h"	/* deliver_ids_free */

struct config;
struct diags;
struct err;
struct journal;

/* Queues msg (len bytes, a message mime.c built) as state_dir/outbox/
 * ID.eml: journals message-queued in j (its digest; manifest: whether msg
 * carries the certificate's manifest), then writes the file durably (mode
 * 0600, temp file, fsync, no-replace rename, fsync of the directory),
 * creating outbox/ 0700.  Returns 0 when queued; 1, writing nothing, when
 * ID was already sent, or is queued and intact (so a resumed run may call
 * it again); 2 when a queued message of ID was damaged, lost or never
 * journaled and msg replaced it (*e then says what was wrong with it; the
 * damaged file is overwritten before it goes, as it may carry the
 * manifest); -1 with *e set on error.  Queueing a notice NOTICE-A-DATE
 * also withdraws (journaled, file removed) every other notice of agreement
 * A still queued or lost and never accepted: it announced a termination
 * date no longer in effect. */
int deliver_enqueue(const char *state_dir, struct journal *j, const char *id,
    const char *msg, size_t len, int manifest, struct err *e);

/* Queues a deliberate second copy of a sent message (`lethe cert resend`):
 * msg should be newly built (a new Message-ID), and is journaled and queued
 * as ID+rN with the first free N.  Returns 0, or -1 with *e set (also when
 * ID was never sent: then it is either pending already or unknown). */
int deliver_enqueue_copy(const char *state_dir, struct journal *j,
    const char *id, const char *msg, size_t len, int manifest,
    struct err *e);

struct deliver_item {
	char id[160];		/* the message's file stem (ID or ID+rN) */
	char cert[160];		/* ID without any +rN */
	int kind;		/* enum deliver_kind */
	int ok;			/* 1 accepted (now in sent/), 0 still queued */
	int recovered;		/* accepted by an earlier, interrupted run */
	int damaged;		/* not sent: damaged, unjournaled or lost */
	int manifest;		/* accepted, and it carried the manifest */
	char detail[256];	/* as journaled */
};

struct deliver_report {
	struct deliver_item *v;	/* in the order attempted (sorted by id) */
	size_t n;
	size_t accepted, failed;
};

struct deliver_opts {
	int timeout_s;		/* per attempt; <= 0: [notify] sendmail_timeout */
	const char *only;	/* flush only this id (and its copies), or NULL */
};

/* Hands every outbox message (sorted by id) to c->sendmail as described
 * above, journaling each attempt in j.  A failed message is counted in
 * r->failed and the flush goes on.  Returns 0 when every attempt was made
 * and journaled (some may have failed: see *r), or -1 with *e set when the
 * outbox cannot be read or the journal cannot be written (then it stops at
 * once: an unjournaled delivery is worse than a late one).  *r is filled in
 * both cases; free it with deliver_report_free.  o may be NULL. */
int deliver_flush(const struct config *c, struct journal *j,
    const struct deliver_opts *o, struct deliver_report *r, struct err *e);
void deliver_report_free(struct deliver_report *r);

/* After a flush: for each accepted certificate message in *dr, sanitizes
 * the sent copy (sent/ID.eml) and, when that checked message carried the
 * manifest, the vendor's copies of the manifest (it names students:
 * certificates/ID.manifest, work/ID/manifest, names, manifest.final) with
 * the overwrite engine, journaling manifest-sanitized once all are gone
 * (never otherwise: the LEA would have no manifest at all).  Problems are
 * added to *errors.  Returns how many certificates were delivered. */
unsigned deliver_sanitize(const struct config *c,
    const struct deliver_report *dr, struct journal *j, struct diags *errors);

enum deliver_state { DELIVER_NONE, DELIVER_PENDING, DELIVER_SENT,
    DELIVER_DAMAGED, DELIVER_MISSING };

struct deliver_status {
	int state;		/* enum deliver_state */
	time_t at;		/* SENT: when it was accepted (-1 unknown) */
	char to[300];		/* SENT: to whom, from its receipt ("" unknown) */
	char why[256];		/* DAMAGED, MISSING: what is wrong */
	int manifest;		/* the journaled message carries the manifest */
};

/* Where message id stands, checked against the journal: not queued;
 * pending in the outbox, intact; sent (accepted: its receipt exists or
 * the journal says so); damaged (in the outbox, but not the journaled
 * bytes, or never journaled); or missing (journaled, never accepted nor
 * withdrawn, not in the outbox).  Fills *st.  Returns the state, or -1
 * with *e set.  Never writes anything. */
int deliver_status(const char *state_dir, const char *id,
    struct deliver_status *st, struct err *e);
/* deliver_status's state alone; *at (if not NULL) when sent. */
int deliver_state(const char *state_dir, const char *id, time_t *at,
    struct err *e);

/* The ids of the messages in outbox/ (which == DELIVER_PENDING) or of the
 * accepted messages whose sent/ID.eml still awaits sanitizing (which ==
 * DELIVER_SENT), sorted; *ids is a malloc'd array of malloc'd strings, free
 * with deliver_ids_free.  Returns 0, or -1 with *e set. */
int deliver_list(const char *state_dir, int which, char ***ids, size_t *n,
    struct err *e);

#endif
