/*
 * session.h: a command that records state (cmd_terminate.c,
 * cmd_directive.c, cmd_hold.c, cmd_cert.c resend):
 * the state lock (not for hold), the journal opened and locked (a torn last
 * line repaired), a replay made under the journal lock, and the trust gate's
 * verdict; after recording, the seal.
 */
#ifndef LETHE_SESSION_H
#define LETHE_SESSION_H

#include <stddef.h>

#include "base/err.h"
#include "certify/checkpoint.h"
#include "plan/events.h"
#include "state/journal.h"

struct ctx;
struct jfield;

struct session {
	int lockfd;
	struct events ev;
	struct journal j;
	int jlocked;
	int trusted;		/* the journal passed the trust gate */
	struct gate_report g;
	struct err why;		/* what the gate found, when not trusted */
	int unreplayable;	/* (hold only) the journal does not replay:
				 * ev is empty, and the journal untrusted */
	struct err replay_error;
};

/* Begins: the state lock when state_lock (exits at once if another lethe
 * holds it), the journal, the journal lock, a fresh replay, the trust gate
 * (s->trusted, s->why).  Without state_lock (a hold), a journal that does
 * not replay is not an error: s->unreplayable is set, s->ev is empty and
 * the journal counts as untrusted.  Returns 0, or -1 after printing why; either way
 * session_end must follow.  An untrusted journal is the caller's to
 * refuse (session_refuse) or, for a hold, to warn about. */
int session_begin(struct ctx *x, struct session *s, int state_lock);
/* Refuses an untrusted journal: prints what does not match and the way out
 * (`lethe journal accept`).  Returns 0 when trusted, else -1. */
int session_refuse(struct ctx *x, const struct session *s);
/* Appends one event.  Returns 0, or -1 after printing why. */
int session_append(struct session *s, const char *event,
    const struct jfield *f, size_t nf);
/* Seals what was recorded with a signed checkpoint when the journal is
 * trusted and [signing] is configured (an untrusted journal is never
 * sealed).  lifts: the record lifts protection or adds a trigger
 * (terminate, directive, release), which the trust gate refuses unsealed:
 * a failure to seal it is said as an error and returns -1 (the record is
 * made all the same); for any other record it is a warning.  Returns 0
 * otherwise. */
int session_seal(struct ctx *x, struct session *s, int lifts);
/* Says that opening j repaired a torn last line, if it did. */
void session_said_repair(const struct journal *j);
/* Unlocks and closes everything; s may be from a failed session_begin or
 * zeroed with lockfd = -1 and j.fd = -1. */
void session_end(struct session *s);

#endif
