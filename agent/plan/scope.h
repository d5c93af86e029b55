/*
 * scope.h: what one disposition may destroy (SPEC §5 "Scope"), decided
 * once, in one place, for `plan`, `run --dry-run` and `run` alike.
 *
 * Before a disposition touches anything, every name that any of its
 * datasets matches is found (locate.c) and gathered into objects keyed by
 * (device, inode), each object once with all of its names.  Then
 * protection is subtracted by object, never by name, and always wins over
 * destruction: an object is kept if ANY of its names is
 *   - one of lethe's own files (state_dir, KEK, keys, config, policies);
 *   - matched by a de-identified (exempt) dataset of the agreement;
 *   - matched by a held dataset of the agreement;
 *   - matched by another agreement's dataset that is exempt or held there;
 * and refused (kept, and the disposition cannot be complete) if
 *   - another agreement's dataset that is not due now matches it (a
 *     conflict: both agreements are named);
 *   - it has a hard link that none of the disposition's datasets matches
 *     (its data lives on under a name outside the set);
 *   - it, or the directory of one of its names, is immutable or
 *     append-only (chattr +i, +a): it can be neither overwritten nor
 *     unlinked, so a disposition would only fail on it.
 * What is left is destroyed, each object once.  A directory that a
 * glob's last component matches, below which nothing matched, and that is
 * not empty, is refused too (matched_dirs): its files are not the
 * dataset's, so the set is never certified complete over them.
 */
#ifndef LETHE_SCOPE_H
#define LETHE_SCOPE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "keys/seal.h"

struct agreement;
struct config;
struct err;
struct events;
struct own;
struct plan;
struct policyset;

/* What the disposition does with an object, in the order of precedence:
 * the first that applies wins. */
enum scope_verdict {
	SV_DESTROY = 0,
	SV_OWN,		/* kept: one of lethe's own files */
	SV_EXEMPT,	/* kept: a de-identified dataset of the agreement */
	SV_HELD,	/* kept: a held dataset of the agreement */
	SV_KEPT_OTHER,	/* kept: another agreement's exempt or held data */
	SV_CONFLICT,	/* refused: another agreement's data, not due */
	SV_LINKS,	/* refused: a hard link outside the disposition */
	SV_FOREIGN_KEY,	/* refused: sealed under another agreement's key */
	SV_KEY_KEPT,	/* refused: its key also seals data that is kept */
	SV_LOCKED,	/* refused: immutable or append-only (locate.h) */
	SV_COUNT
};

enum scope_kind { SK_FILE, SK_SYMLINK, SK_OTHER, SK_ARCHIVE };

struct scope_name {
	int root;		/* index into the allowed roots: the deepest
				 * one holding the name */
	char *rel;		/* below that root */
	size_t ds;		/* the first dataset (policy order) matching it */
};

struct scope_obj {
	dev_t dev;
	ino_t ino;
	int kind;		/* enum scope_kind */
	nlink_t nlink;
	off_t size;
	mode_t mode;
	time_t mtime;
	int locked;		/* a name is immutable or append-only */
	struct scope_name *names;	/* names[0] is where it is worked on */
	size_t nnames;
	size_t ds;		/* the dataset whose settings apply: the first
				 * in policy order that matched a name */
	size_t *dss;		/* every dataset of the disposition that
				 * matched a name, in policy order */
	size_t ndss;
	int verdict;		/* enum scope_verdict */
	/* Why, for messages (not owned; NULL when not applicable). */
	const char *by_agreement, *by_dataset, *by_hold, *by_own;
	int key;		/* sealed: index into scope.keys; else -1 */
};

/* A data-encryption key that sealed objects of the scope use, or that a
 * disposition of the whole agreement would destroy (keyscope.c). */
struct scope_key {
	char id[SEAL_KEYID_MAX + 1];
	char agreement[68];	/* whose: the keystore's record, else the
				 * key id's first part */
	int known;		/* in this host's keystore */
	int live;		/* known and not yet destroyed */
	int destroy;		/* this disposition destroys it */
	char why[256];		/* why not, when live and not destroyed */
	char sealed_after[11];	/* plaintext sealed and cleared on this day */
	char plain_kept[11];	/* plaintext sealed from a file not cleared */
	size_t nobj;		/* objects of the scope to destroy under it */
};

struct scope {
	struct scope_obj *v;	/* sorted by first name */
	size_t n;
	size_t count[SV_COUNT];	/* objects per verdict */
	size_t destroy_files, destroy_links, destroy_other, destroy_archives;
	uint64_t destroy_bytes;	/* apparent size of the files to destroy */
	size_t skipped_mounts;	/* mount points inside the datasets' trees */
	size_t matched_dirs;	/* directories matched, whose files no glob
				 * names (locate.h) */
	char first_dir[1100];	/* "DIR, dataset NAME": the first of them */
	struct scope_key *keys;	/* keys the objects are sealed under */
	size_t nkeys;
	int whole;		/* the disposition covers every non-exempt
				 * dataset of its agreement */
};

/* A set of objects, by (device, inode). */
struct scope_set {
	dev_t *dev;
	ino_t *ino;
	size_t n, cap;		/* cap is 0 or a power of two */
};
/* Adds every object of s with verdict SV_DESTROY to set (not archives:
 * those are rewritten, not gone).  0, or -1 when
 * out of memory. */
int scope_set_add(struct scope_set *set, const struct scope *s);
int scope_set_add_one(struct scope_set *set, dev_t dev, ino_t ino);
int scope_set_has(const struct scope_set *set, dev_t dev, ino_t ino);
void scope_set_free(struct scope_set *set);

/* Every dataset glob of every agreement by its literal prefix, so that a
 * scope looks only at the datasets that can meet its own (thousands of
 * agreements, one disposition each, stay linear).  Built once per run. */
struct scope_index;
/* Builds the index of ps.  Returns it, or NULL when out of memory (then
 * scopes look at every dataset, which is slower, never different). */
struct scope_index *scope_index_new(const struct policyset *ps);
void scope_index_free(struct scope_index *ix);
/* Calls fn(arg, agreement, dataset index, archive glob or not) for every
 * indexed glob whose literal prefix lies on the path of p: at or below
 * it, or one of its ancestors (no other can meet a name below p).
 * Returns 0, or -1 as soon as fn does. */
typedef int (*scope_index_fn)(void *arg, const struct agreement *a,
    size_t ds, int archive);
int scope_index_near(const struct scope_index *ix, const char *p,
    scope_index_fn fn, void *arg);

/* What the scope of any disposition is judged against. */
struct scope_ctx {
	const struct config *cfg;
	const struct policyset *ps;
	const struct events *ev;	/* holds */
	const struct plan *plan;	/* what is due now, for conflicts */
	const struct own *own;		/* lethe's own files */
	const struct scope_index *index;	/* may be NULL */
	/* Objects an earlier disposition of the same run destroys (a dry
	 * run's stand-in for their being gone): left out, as if absent.
	 * NULL in a real run, where they are gone. */
	const struct scope_set *gone;
	/* When set, only objects it says yes to are in the scope at all (a
	 * supplementary disposition: only the same data reappeared). */
	int (*only)(const struct scope_ctx *x, const struct scope_obj *o,
	    void *arg);
	void *only_arg;
};

/* Resolves the scope of a disposition of datasets ds[0..nds) of agreement
 * a.  Opens nothing for writing (reads directories and stats names only).
 * Returns 0, or -1 with *e set (a dataset's walk failed: an unreadable
 * directory, a glob naming a directory, out of memory); *out is always
 * freeable. */
int scope_resolve(const struct scope_ctx *x, const struct agreement *a,
    const size_t *ds, size_t nds, struct scope *out, struct err *e);
void scope_free(struct scope *s);

/* The keys of a scope whose objects are judged (keyscope.c): reads the
 * header of each file to destroy whose dataset may be crypto-shredded,
 * and decides which keys the disposition destroys.  A key is destroyed
 * only when every sealed file known to use it (found in any dataset of
 * any agreement) is in the scope to destroy; in a disposition that does
 * not cover the whole agreement, also only when no dataset outside it
 * holds the key's category (the agreement-wide key never).  A disposition
 * of the whole agreement destroys every live key of it that passes.
 * Objects under a key that is kept are refused (SV_KEY_KEPT); under
 * another agreement's key (by the keystore, or by the key id when the
 * keystore does not hold it), refused (SV_FOREIGN_KEY); under a key of
 * this agreement that this keystore does not hold, overwritten as
 * ciphertext (key->known = 0), which is Clear, never Purge.
 * Returns 0, or -1 with *e set (a keystore that cannot be read). */
int scope_keys(const struct scope_ctx *x, const struct agreement *a,
    const size_t *ds, size_t nds, struct scope *s, struct err *e);

/* Re-judges object o against the holds in x->ev now (a hold recorded
 * while the run goes on): returns the hold's id if a held dataset of a,
 * or of any other agreement with an active hold, matches a name of o,
 * else NULL. */
const char *scope_held_now(const struct scope_ctx *x,
    const struct agreement *a, const struct scope_obj *o);

/* "kept: de-identified dataset research", "refused: conflict with
 * agreement b (dataset x), not due", ... for people. */
void scope_why(const struct scope_obj *o, char *buf, size_t len);
/* One line for people about what a scope refuses, e.g. "3 refused: 2
 * conflict with another agreement's data that is not due (first: b,
 * dataset exports), 1 with a hard link outside the disposition"; "" when
 * nothing is refused.  Names no file. */
void scope_refusals(const struct scope *s, char *buf, size_t len);
/* Objects refused (conflicts and outside links) and mount points skipped:
 * what keeps the disposition from being complete. */
size_t scope_nrefused(const struct scope *s);

#endif
