/*
 * cert.h: the certificate of sanitization (SPEC §8; the format is
 * certs/FORMAT.md and lethe-certificate(5)).
 *
 * A certificate is INI text with sections [certificate] [agreement]
 * [media] [media 2] ... [sanitization] [data] [delivery].  Every line is
 * under 200 bytes: a long value is split at single spaces into the keys
 * KEY, KEY_2, KEY_3 ... which a reader joins with one space.  Values never
 * hold student data: callers pass counts, sizes, digests and policy names
 * only (no file names, no paths below a dataset root).
 *
 * A struct cert is built by the caller with pointers it owns (after
 * cert_init), or filled by cert_parse, which owns its strings until
 * cert_free.
 */
#ifndef LETHE_CERT_H
#define LETHE_CERT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/date.h"

struct err;

#define CERT_STANDARD "NIST SP 800-88 Rev. 2"
#define CERT_MAX_MEDIA 16
#define CERT_UNSET UINT64_MAX	/* a number not given */

struct cert_media {
	const char *type;	/* filesystem type: "ext4" */
	const char *uuid;	/* or "unknown" */
	const char *device;	/* backing device */
	const char *model;	/* or "unknown" */
	const char *serial;	/* or "unknown" */
	const char *rotational;	/* "yes" | "no" | "unknown" */
	const char *source;	/* the dataset(s) on it */
};

struct cert {
	/* [certificate] */
	const char *id;		/* [A-Za-z0-9][A-Za-z0-9._-]*, <= 64 bytes */
	time_t issued;		/* UTC; -1 unset */
	const char *standard;	/* CERT_STANDARD */
	const char *tool;	/* "lethe 0.1.0 (OpenSSL 3.0.13 30 Jan 2024)" */
	const char *host;
	uint64_t journal_seq;
	const char *journal_head;	/* 64 lowercase hex digits */
	const char *journal_accepted;	/* optional, NULL = absent: each
				 * `lethe journal accept` in the journal */
	/* [agreement] */
	const char *agreement;	/* the agreement's id */
	const char *lea;
	const char *vendor;
	const char *trigger;	/* "termination" | "directive D-0001" | "reappeared" */
	day_t trigger_date;	/* DAY_NONE unset */
	day_t deadline;
	int deadline_met;	/* 1 yes, 0 no, -1 unset */
	const char *timezone;	/* the agreement's IANA zone: its calendar days */
	/* [media], [media 2], ... */
	struct cert_media media[CERT_MAX_MEDIA];
	size_t nmedia;		/* >= 1 */
	/* [sanitization] */
	const char *performed_by;
	const char *method_type;	/* "Clear (file-level) ...", "Purge ..." */
	const char *technique;	/* overwrite | crypto-erase | archive-member-removal
				 * | transfer-then-overwrite, or several,
				 * comma-separated */
	const char *method_details;
	const char *verification;
	time_t started, completed;	/* UTC; -1 unset */
	uint64_t remaining_matches;	/* 0 unless result is partial (§6.6) */
	const char *destination;	/* post_sanitization_destination */
	const char *exceptions;		/* "none" when none */
	const char *result;		/* "complete" | "partial"; NULL (absent)
					 * in certificates before 0.2: complete */
	/* [data] */
	const char *categories;
	uint64_t files, bytes;
	uint64_t bytes_overwritten;	/* written in place: the overwritten
					   files' allocated extents and data,
					   never holes; <= bytes */
	const char *manifest_sha256;	/* 64 lowercase hex digits */
	const char *retained;		/* "none" when none */
	const char *holds;		/* "none" when none */
	/* [delivery] */
	day_t certify_by;	/* completion date + certify_within */

	char **owned_;		/* private: strings cert_parse allocated */
	size_t nowned_;
};

/* Marks every field unset (numbers CERT_UNSET, dates DAY_NONE, times -1,
 * strings NULL).  Call before filling a cert by hand. */
void cert_init(struct cert *c);
/* Frees what cert_parse allocated; the cert is then cert_init'ed. */
void cert_free(struct cert *c);

/* The checks `lethe verify` reports one by one.  Each returns 0, or -1
 * with *e saying what is wrong (naming the section and key). */
/* Every field present and well-formed (syntax, enumerations, time zone
 * known, remaining_matches 0). */
int cert_check_fields(const struct cert *c, struct err *e);
/* started <= completed <= issued; trigger_date <= deadline; trigger_date
 * <= completion date <= certify_by (dates in the agreement's zone).
 * Assumes cert_check_fields passed. */
int cert_check_dates(const struct cert *c, struct err *e);
/* deadline_met is yes exactly when completion fell on or before the
 * deadline's calendar day in the agreement's zone.  Assumes the above. */
int cert_check_deadline(const struct cert *c, struct err *e);
/* All three. */
int cert_check(const struct cert *c, struct err *e);
/* Whether the certificate says result = partial: a disposition that
 * failed after destroying something confirms that much, says why and
 * what remains; deadline_met is then no. */
int cert_partial(const struct cert *c);
/* What deadline_met must say: 1 if completed (an instant) fell on or before
 * calendar day `deadline` in zone tz, else 0. */
int cert_deadline_met(const char *tz, time_t completed, day_t deadline);

/* Writes the certificate text (malloc'd, NUL-terminated) after cert_check
 * passes.  Refuses a value with control characters, leading or trailing
 * blanks, a blank followed by ';' or '#' (INI readers take that for a
 * comment), or a run of more than 160 bytes without a space (it could not
 * be wrapped).  Returns 0, or -1 with *e set. */
int cert_format(const struct cert *c, char **text, size_t *len,
    struct err *e);
/* Parses certificate text.  name is used in messages ("NAME:LINE: ...").
 * Unknown sections or keys, duplicates, over-long lines and malformed
 * values are errors; missing fields are not (cert_check_fields reports
 * them).  Returns 0, or -1 with *e set; *c is freeable either way. */
int cert_parse(const char *name, const char *text, size_t len,
    struct cert *c, struct err *e);

/* Lowercase hex of a 32-byte digest into out. */
void cert_hex(const unsigned char md[32], char out[65]);
/* Lowercase hex SHA-256 of buf into out. */
void cert_sha256_hex(const void *buf, size_t len, char out[65]);

/* [A-Za-z0-9][A-Za-z0-9._-]{0,63}: a certificate id, safe as a file
 * name stem. */
int cert_id_ok(const char *id);

#endif
