/*
 * policy.h: agreements as policies (SPEC §3, policies.d/AGREEMENT.ini).
 * One file per agreement; ids unique across files.  Every problem is a
 * diagnostic FILE:LINE: message, and a policy set with any error is never
 * acted on.
 */
#ifndef LETHE_POLICY_H
#define LETHE_POLICY_H

#include <stddef.h>

#include "base/strmap.h"
#include "conf/category.h"
#include "base/date.h"

struct config;
struct diags;

enum method { METHOD_INHERIT = -1, METHOD_AUTO = 0, METHOD_OVERWRITE,
    METHOD_CRYPTO };
enum verify_mode { VERIFY_INHERIT = -1, VERIFY_FULL = 0, VERIFY_SAMPLE };
enum pattern { PATTERN_INHERIT = -1, PATTERN_ZERO = 0, PATTERN_RANDOM };

struct dataset {
	char *name;		/* [dataset "NAME"] */
	int line;		/* line of its section header */
	char *path;		/* glob of files, absolute; NULL for archive sets */
	char *archive;		/* glob of archives, absolute; or NULL */
	char *members;		/* glob of members inside each archive */
	catset_t categories;	/* 0 = none given (covered by complete only) */
	int method;		/* enum method; METHOD_INHERIT = agreement's */
	int verify;		/* enum verify_mode */
	int pattern;		/* enum pattern */
	int deidentified;	/* exempt: never disposed, listed as retained */
	char *exempt_reason;	/* why retained; default from deidentified */
};

struct agreement {
	char *file;		/* the policy file's path */
	int line;		/* line of its [agreement] header (0: none) */
	int line_id;		/* line of its id key */
	char *id, *lea, *contact;
	day_t terminated;	/* DAY_NONE unless the policy sets it */
	struct duration after_termination;	/* default 30d */
	struct duration after_request;		/* default 60d */
	struct duration certify_within;		/* default 10d */
	struct duration notice_before;		/* default 0d = none */
	char *timezone;		/* IANA name; NULL = host's */
	int method;		/* enum method, default METHOD_AUTO */
	int verify;		/* default VERIFY_FULL */
	int pattern;		/* default PATTERN_ZERO */
	struct dataset *ds;
	size_t nds;
};

struct policyset {
	struct agreement *a;
	size_t n;
	struct strmap ids;	/* id -> index of its first agreement (built
				 * by loading; empty in a set built by hand,
				 * which policy_find then scans) */
};

/* Loads every *.ini in dir (sorted by name) into *ps, adding each problem
 * to *d.  Checks keys, values, categories (with suggestions), globs lie
 * inside c's allowed roots, ids are unique, and, when running as root, file
 * ownership and modes.  Returns 0 when *d gained no errors, else -1; *ps is
 * always freeable. */
int policy_load_dir(const char *dir, const struct config *c,
    struct policyset *ps, struct diags *d);
/* Loads one policy file and appends it to *ps (same checks). */
int policy_load_file(const char *path, const struct config *c,
    struct policyset *ps, struct diags *d);
void policy_free(struct policyset *ps);
/* Whether s is an agreement id: [a-z0-9][a-z0-9-]*, at most max bytes
 * (policy files allow fewer than the keystore, whose ids they fit in).
 * 1 or 0. */
int policy_valid_id(const char *s, size_t max);
/* The agreement with this id, or NULL. */
const struct agreement *policy_find(const struct policyset *ps,
    const char *id);
/* Effective settings of a dataset (its own, else its agreement's). */
int dataset_method(const struct agreement *a, const struct dataset *ds);
int dataset_verify(const struct agreement *a, const struct dataset *ds);
int dataset_pattern(const struct agreement *a, const struct dataset *ds);
const char *method_name(int m);	/* "overwrite", "crypto-shred", "auto" */
/* Whether dataset ds of a is exempt from disposal (de-identified, or
 * otherwise retained with a reason): never in any scope, and what it
 * matches is kept (plan/scope_guard.c). */
int dataset_exempt(const struct agreement *a, size_t ds);

#endif
