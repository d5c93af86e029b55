/*
 * record.h: what one disposition did, kept in state_dir/work/ID/record
 * until its certificate is issued.  It is written durably before the
 * journal says disposition-complete, so a certificate can be issued from
 * it exactly once even when the run is killed in between.  It holds no
 * student data: counts, sizes, digests, policy and dataset names.
 */
#ifndef LETHE_RECORD_H
#define LETHE_RECORD_H

#include "conf/category.h"
#include "base/date.h"
#include "certify/outcome.h"

struct agreement;
struct config;
struct events;
struct err;

struct record {
	char id[160];
	char agreement[128];
	char trigger[64];	/* "termination", "D-0001", "reappeared" */
	day_t trigger_date, deadline;
	char timezone[64];	/* "" = host's */
	catset_t categories;
	char datasets[1024];	/* names, comma-separated */
	char retained[1024];	/* "name (reason); ..." or "none" */
	char holds[8192];	/* "H-0001 (reason) placed ..., released ...,
				 * ..." or "none"; never cut silently */
	int partial;		/* the disposition failed after destroying
				 * something: certified as partial */
	struct dispose_out out;
};

/* Fills *r from a finished disposition. */
void record_from(struct record *r, const struct config *c,
    const struct agreement *a, const char *id, const char *trigger,
    day_t trigger_date, day_t deadline, const size_t *ds, size_t nds,
    const struct events *ev, const struct dispose_out *out);
/* Writes state_dir/work/ID/record durably (0600).  Returns 0 or -1. */
int record_write(const char *state_dir, const struct record *r,
    struct err *e);
/* Reads it back.  Returns 0, or -1 with *e set. */
int record_read(const char *state_dir, const char *id, struct record *r,
    struct err *e);

#endif
