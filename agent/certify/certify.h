/*
 * certify.h: turning a completed disposition into a signed certificate
 * (SPEC §8), and sealing each run's journal with a signed checkpoint
 * (SPEC §9).  Its message to the LEA is deliver/'s (deliver_cert), queued
 * between certify() and certify_issued().
 */
#ifndef LETHE_CERTIFY_H
#define LETHE_CERTIFY_H

#include <stddef.h>

#include "base/date.h"

struct agreement;
struct config;
struct ev_disposition;
struct events;
struct gate_report;
struct journal;
struct policyset;
struct err;

/* A certificate certify() issued, or found issued by an earlier run. */
struct certified {
	char id[160];		/* the certificate id */
	const char *to;		/* the agreement's contact: its message goes
				 * there (deliver_cert) */
	char certify_by[11];	/* YYYY-MM-DD, from the certificate as issued */
};

/* Issues the certificate of a completed disposition (or of a failed one
 * that destroyed something: result = partial) from its record: writes
 * ID.manifest, ID.cert.p7s, ID.cert.tsr (with a TSA) and last ID.cert
 * (issue.h), unless ID.cert exists (an earlier run issued it and was
 * killed before journaling: it is never issued twice).  Fills *ci from the certificate.  Journals nothing: the
 * caller queues its message, then journals it with certify_issued.
 * Returns 0, or -1 with *e set (the next run tries again). */
int certify(const struct config *c, const struct policyset *ps,
    const struct events *ev, const struct ev_disposition *dp,
    struct journal *j, struct certified *ci, struct err *e);
/* Journals certificate-issued for ci, the certificate of disposition dp,
 * once its message is queued: from then on it is issued for good.
 * Returns 0, or -1 with *e set. */
int certify_issued(struct journal *j, const struct ev_disposition *dp,
    const struct certified *ci, struct err *e);
/* Preflight (SPEC §5): before a disposition of datasets ds of agreement a
 * starts, proves that its certificate could be issued and sent: the
 * recipient is an address sendmail takes, the certificate text for this
 * agreement, trigger and disposition id formats (every field valid and
 * INI-safe, every line under 200 bytes), and the signing key and
 * certificate load and are valid now.  Writes nothing.  Returns 0, or -1
 * with *e saying what would fail. */
int certify_preflight(const struct config *c, const struct agreement *a,
    const char *id, const char *trigger, day_t trigger_date, day_t deadline,
    const size_t *ds, size_t nds, const struct events *ev, struct err *e);
/* Writes the signed journal checkpoint at the journal's head, under the
 * journal lock (so it seals exactly the file's end, and never interleaves
 * with another checkpoint).  Returns 0, or -1 with *e set. */
int certify_checkpoint(const struct config *c, struct journal *j,
    struct err *e);
/* Whether [signing] key and cert are configured (a checkpoint can be
 * attempted). */
int certify_can_sign(const struct config *c);
/* The trust gate every command that writes state passes before writing
 * (SPEC §9): checkpoint_gate() against the configured CA ([signing]
 * chain), under j's journal lock (j may be NULL: a shared lock is taken).
 * Fills *g.  Returns 0 when the journal is trusted, or -1 with *e saying
 * exactly what does not match. */
int certify_gate(const struct config *c, struct journal *j,
    struct gate_report *g, struct err *e);
/* certify_gate for a command that does nothing unless the journal is
 * trusted: on refusal *e says what does not match, "; nothing was done",
 * and, unless the journal is broken or unreadable, the way out (`lethe
 * journal accept`).  Returns 0 when trusted, else -1. */
int certify_gate_or_refuse(const struct config *c, struct journal *j,
    struct err *e);

#endif
