/*
 * policy_int.h: what the policy loader's files share (policy_load.c
 * reading files, policy_parse.c sections and keys, policy_value.c each
 * value, policy.c the agreements loaded).  Not for other modules:
 * policy.h is the contract.
 */
#ifndef LETHE_POLICY_INT_H
#define LETHE_POLICY_INT_H

#include <stddef.h>

#include "conf/iniread.h"

struct agreement;
struct config;
struct diags;

/*
 * Every name made from an agreement id must fit, or a disposition could
 * destroy data and then fail to issue its certificate.  The tightest is
 * the certificate id "ID-YYYYMMDD-SEQ", at most 64 bytes (cert.h) with a
 * journal sequence number of up to 20 digits: 64 - 1 - 8 - 1 - 20 = 34.
 * The notice id "NOTICE-ID-YYYY-MM-DD" (at most 52 of deliver.c's 128),
 * the certificate's file names and the mail subject and attachment names
 * are all shorter.
 */
#define ID_MAX (64 - 1 - 8 - 1 - 20)
/* A dataset name is written whole in certificate values ([media] source,
 * retained), which can be wrapped only at spaces and 160 bytes a line,
 * and in journal and record lines.  Its section header [dataset "NAME"]
 * must fit inih's 49 bytes (iniread.h) anyway: 39 bytes. */
#define DS_NAME_MAX (INIREAD_MAX_SECTION - 10)

enum akey { A_ID, A_LEA, A_CONTACT, A_TERMINATED, A_AFTER_TERM,
	A_AFTER_REQ, A_CERTIFY, A_NOTICE, A_TZ, A_METHOD, A_VERIFY, A_PATTERN,
	A_COUNT };
enum dkey { D_PATH, D_ARCHIVE, D_MEMBERS, D_CATEGORIES, D_METHOD, D_VERIFY,
	D_PATTERN, D_DEID, D_EXEMPT, D_COUNT };
/* The key names, by enum akey and enum dkey. */
extern const char *const policy_akeys[A_COUNT];
extern const char *const policy_dkeys[D_COUNT];
/* The names of enum method, verify_mode and pattern values, in order. */
extern const char *const policy_method_names[3];
extern const char *const policy_verify_names[2];
extern const char *const policy_pattern_names[2];

struct dsmeta {
	int line[D_COUNT];	/* where each key was set, 0 = not set */
};

enum { WHERE_NONE, WHERE_SKIP, WHERE_AGREEMENT, WHERE_DATASET };

/* One policy file being parsed. */
struct pstate {
	const char *file;
	const struct config *c;
	struct diags *d;
	struct agreement *a;
	struct dsmeta *meta;	/* parallel to a->ds */
	int aline[A_COUNT];
	int where;		/* WHERE_* */
	size_t cur;		/* dataset index when WHERE_DATASET */
};

/* iniread callbacks (policy_parse.c): each key and section of the file,
 * every problem reported to st->d. */
int policy_on_key(void *st, const char *file, int line, const char *section,
    const char *name, const char *value);
int policy_on_section(void *st, const char *file, int line,
    const char *section);
/* Whole-file checks once the file is read: required keys and
 * combinations, reported at their section. */
void policy_finish(struct pstate *st);

/* Checks and stores value v of [agreement] key k / of the current
 * dataset's key k (policy_value.c); problems go to st->d. */
void policy_agreement_key(struct pstate *st, int line, int k, const char *v);
void policy_dataset_key(struct pstate *st, int line, int k, const char *v);
/* Whether s[0..n) is a dataset name: [A-Za-z0-9][A-Za-z0-9._-]*, at most
 * DS_NAME_MAX bytes. */
int policy_valid_ds_name(const char *s, size_t n);
/* *dst = strdup(v); on failure reports it.  Returns 0 or -1. */
int policy_dup_str(struct pstate *st, int line, char **dst, const char *v);

/* Frees what an agreement holds (policy.c). */
void policy_agreement_free(struct agreement *a);

#endif
