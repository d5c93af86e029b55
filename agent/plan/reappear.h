/*
 * reappear.h: what "reappeared" means (SPEC §5).  Data found in a finished
 * trigger's datasets is destroyed again, under a supplementary
 * certificate, only when it is the same data:
 *   - after a termination, any data of the agreement (it no longer holds
 *     any: the contract ended);
 *   - after a directive, whose agreement goes on: a file last modified
 *     before the trigger's latest completed disposition began (a restore
 *     from a backup, a late sync: they keep their times), or whose content
 *     (size and SHA-256) a disposition of the trigger destroyed.  New data
 *     the service makes afterwards waits for its own trigger.
 * The digests are kept in state_dir/work/ID/digests (no names: "SIZE
 * SHA256" lines) when a disposition completes, and outlive its manifest.
 */
#ifndef LETHE_REAPPEAR_H
#define LETHE_REAPPEAR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct err;
struct events;
struct scope_ctx;
struct scope_obj;

struct reappear {
	int any;		/* a termination: everything found is due */
	time_t before;		/* modified before this: the same data */
	struct rdigest {
		uint64_t size;
		unsigned char sha[32];
	} *v;			/* sorted by size, then digest */
	size_t n;
};

/* Loads the rule for agreement's trigger ("termination", "D-0001") from
 * its completed dispositions.  Returns 0, or -1 with *e set. */
int reappear_load(const char *state_dir, const struct events *ev,
    const char *agreement, const char *trigger, struct reappear *r,
    struct err *e);
void reappear_free(struct reappear *r);
/* scope_ctx.only: 1 when object o is the same data (arg: a struct
 * reappear), 0 when it is new.  Reads a file only when its size is one
 * destroyed before. */
int reappear_same(const struct scope_ctx *x, const struct scope_obj *o,
    void *arg);
/* Writes state_dir/work/ID/digests from the "SIZE SHA256" pairs in text
 * (one per line, any order, "unavailable" digests skipped): sorted,
 * durable, 0600.  Returns 0, or -1 with *e set. */
int reappear_save(const char *workdir, const char *text, size_t len,
    struct err *e);

#endif
