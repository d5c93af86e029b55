/*
 * session.c: a command that records state (see session.h).
 *
 * MUST rules:
 *  - what is recorded is decided under the journal lock, from a replay
 *    made under it, so no other writer's line is missed (two holds at once
 *    never get the same id);
 *  - the trust gate (certify_gate) runs under that lock, before anything
 *    is written;
 *  - only a trusted journal is sealed: sealing an untrusted one would make
 *    a rewritten journal pass.
 */
#include "cmd/session.h"
#include "cmd/cmd.h"
#include "certify/certify.h"
#include "state/lock.h"

#include <string.h>

/* The state lock (unless hold), the journal (a torn last line repaired),
 * the journal lock, a fresh replay and the trust gate.  Returns 0, or -1
 * after printing why.  An untrusted journal is the caller's to refuse. */
int
session_begin(struct ctx *x, struct session *s, int state_lock)
{
	struct err e;

	memset(s, 0, sizeof(*s));
	s->lockfd = -1;
	s->j.fd = -1;
	if (state_lock &&
	    lock_acquire(x->cfg.state_dir, 0, &s->lockfd, &e) != 0) {
		warnx_("%s", e.msg);
		return -1;
	}
	if (journal_open(x->cfg.state_dir, &s->j, &e) != 0) {
		warnx_("%s", e.msg);
		return -1;
	}
	session_said_repair(&s->j);
	if (journal_lock(&s->j, &e) != 0) {
		warnx_("%s", e.msg);
		return -1;
	}
	s->jlocked = 1;
	if (events_load(x->cfg.state_dir, &s->ev, &e) != 0) {
		if (state_lock) {
			warnx_("%s", e.msg);
			return -1;
		}
		/* A hold is recorded even so (it only adds protection). */
		s->unreplayable = 1;
		s->replay_error = e;
		events_free(&s->ev);
	}
	s->trusted = certify_gate(&x->cfg, &s->j, &s->g, &s->why) == 0 &&
	    !s->unreplayable;
	if (s->unreplayable && s->g.state == GATE_OK)
		s->why = s->replay_error;
	return 0;
}

void
session_said_repair(const struct journal *j)
{
	if (j->repaired > 0)
		warnx_("%s: removed a torn last line (%llu bytes, an "
		    "interrupted write) and journaled the repair", j->path,
		    (unsigned long long)j->repaired);
}

/* Refuses an untrusted journal: exit 1, saying what does not match and
 * the way out.  Returns 0 when trusted. */
int
session_refuse(struct ctx *x, const struct session *s)
{
	if (s->trusted)
		return 0;
	warnx_("%s", s->why.msg);
	if (s->g.state == GATE_BROKEN || s->g.state == GATE_ERROR)
		warnx_("nothing was recorded");
	else
		warnx_("nothing was recorded: the journal is not trusted.  If "
		    "this is a restored backup or a repair you know of, record "
		    "it with `lethe -c %s journal accept --reason TEXT` (needs "
		    "the signing key)", x->conf_path);
	return -1;
}

/* Seals what was recorded with a signed checkpoint, when the journal is
 * trusted and [signing] is configured.  A hold that cannot be sealed is a
 * warning (a hold may stand unsealed); any other record is not trusted
 * until sealed, so that is said as a failure. */
int
session_seal(struct ctx *x, struct session *s, int lifts)
{
	struct err e;

	if (!s->trusted || !certify_can_sign(&x->cfg))
		return 0;
	if (certify_checkpoint(&x->cfg, &s->j, &e) == 0)
		return 0;
	if (!lifts) {
		warnx_("warning: recorded, but the journal was not sealed with "
		    "a signed checkpoint: %s", e.msg);
		return 0;
	}
	warnx_("recorded, but the journal could not be sealed with a signed "
	    "checkpoint (%s): an unsealed record is not trusted, so lethe "
	    "refuses to act until it is sealed: once the cause is fixed, "
	    "`lethe -c %s journal accept --reason TEXT` seals it", e.msg,
	    x->conf_path);
	return -1;
}

void
session_end(struct session *s)
{
	if (s->jlocked)
		journal_unlock(&s->j);
	s->jlocked = 0;
	journal_close(&s->j);
	events_free(&s->ev);
	lock_release(s->lockfd);
	s->lockfd = -1;
}

int
session_append(struct session *s, const char *event, const struct jfield *f,
    size_t nf)
{
	struct err e;

	if (journal_append(&s->j, event, f, nf, &e) != 0) {
		warnx_("%s", e.msg);
		return -1;
	}
	return 0;
}
