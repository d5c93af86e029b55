/*
 * outcome.h: what one disposition did, as the certificate needs it
 * (SPEC §8): counts, sizes, digests, the media and what was refused.
 * dispose/ fills a struct dispose_out; certify/ keeps it in the record
 * (record.h) and turns it into the certificate.  It lives here, in the
 * earlier folder, so that certify/ never includes dispose/.  No student
 * data: no file names, no paths below a dataset root.
 */
#ifndef LETHE_OUTCOME_H
#define LETHE_OUTCOME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "locate/media.h"

#define DISPOSE_MAX_MEDIA 8

struct dispose_media {
	struct media m;
	char sources[256];	/* datasets on it, comma-separated */
	int purge;		/* 1 purged, 0 not possible, -1 failed */
	char purge_detail[256];
};

/* What a disposition did, for the certificate. */
struct dispose_out {
	time_t started, completed;
	uint64_t files, bytes;		/* regular files overwritten */
	uint64_t links, specials, dirs;	/* names removed without overwrite */
	uint64_t sealed_files;		/* ciphertext files unlinked */
	/* ... of which, by what their keys' records say (SPEC §8 Purge): */
	uint64_t sealed_clean;		/* sealed before any plaintext existed */
	uint64_t sealed_cleared;	/* plaintext sealed after the fact and
					 * cleared by lethe (latest on
					 * key_sealed_after) */
	uint64_t sealed_kept;		/* sealed from a file lethe did not
					 * clear (latest on kept_on) */
	uint64_t ciphertext_overwritten; /* sealed under a key this host
					 * does not hold: overwritten (Clear) */
	uint64_t keys;			/* DEKs destroyed */
	uint64_t key_usec;		/* how long destroying them took */
	char key_sealed_after[16];	/* YYYY-MM-DD a key had plaintext sealed after the fact, or "" */
	char kept_on[16];		/* YYYY-MM-DD, or "" */
	uint64_t archives, members, member_bytes;
	uint32_t categories;		/* catset_t: of the datasets whose data
					 * was destroyed (in this run or one
					 * it resumed: see record.c) */
	uint64_t member_links;		/* kept hard links to removed members,
					 * written as files (archive.h) */
	uint64_t transferred;		/* files packed before destruction */
	char transfer_sha256[65];	/* digest of the transfer archive */
	uint64_t verified_bytes;	/* bytes read back and compared */
	uint64_t overwritten_bytes;	/* written in place (no holes) */
	uint64_t digests_missing;	/* files whose pre-destruction digest was lost to an interrupted run */
	uint64_t remaining;		/* matches left after the re-scan */
	int unrecorded;			/* files were overwritten whose names
					 * could not be recorded (a full state
					 * disk): what was destroyed is known
					 * only to a resume from work/ID */
	unsigned techniques;		/* DT_* bits */
	int pattern, verify;		/* of the overwrite datasets */
	struct dispose_media media[DISPOSE_MAX_MEDIA];
	size_t nmedia;
	char exceptions[2048];		/* "; "-separated, no student data */
	uint64_t nexceptions;		/* refusals and failures */
	char manifest_path[4096];	/* state_dir/work/ID/manifest */
};

enum { DT_OVERWRITE = 1, DT_CRYPTO = 2, DT_ARCHIVE = 4, DT_TRANSFER = 8 };

#endif
