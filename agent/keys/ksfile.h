/*
 * ksfile.h: the keystore's text format (the FILES section of keystore.h):
 * records to bytes and back, and the MAC line that binds them to a KEK.
 * Pure functions: no file is opened here.
 */
#ifndef LETHE_KSFILE_H
#define LETHE_KSFILE_H

#include <stddef.h>

#include "keys/seal.h"

/* One record of the keystore: a live key or a tombstone. */
#define KS_WRAPPED_LEN 40
#define KS_DISP_MAX 128

struct ks_entry {
	char id[SEAL_KEYID_MAX + 1];
	char agreement[65];
	char category[48];		/* canonical name or "all" */
	unsigned gen;
	char created[11];		/* YYYY-MM-DD */
	char sealed_after[11];		/* YYYY-MM-DD, or "" */
	char plain_kept[11];		/* YYYY-MM-DD plaintext was sealed
					 * from a file lethe did not clear,
					 * or "" */
	int destroyed;			/* a tombstone */
	char destroyed_on[11];		/* tombstones: YYYY-MM-DD */
	char disp_id[KS_DISP_MAX + 1];	/* tombstones: disposition/certificate */
	unsigned char wrapped[KS_WRAPPED_LEN];	/* live keys only */
};


struct err;

/* Whether text (len bytes) ends in a mac line that verifies under kek.
 * Sets *body to the length of what precedes the mac line.  1 or 0. */
int ksfile_verifies(const unsigned char *kek, const char *text, size_t len,
    size_t *body);
/* Parses the first body bytes of text (verified first; text is modified)
 * into a malloc'd array *v of *n records.  label names the file in
 * messages ("FILE:LINE: bad record").  Returns 0, or -1 with *e set. */
int ksfile_parse(const char *label, char *text, size_t body,
    struct ks_entry **v, size_t *n, struct err *e);
/* The text of records v[0..n) with its mac line under kek, in a malloc'd
 * *buf of *len bytes (free with OPENSSL_clear_free(buf, *cap)).  Returns
 * 0, or -1 with *e set. */
int ksfile_format(const struct ks_entry *v, size_t n, const unsigned char *kek,
    char **buf, size_t *len, size_t *cap, struct err *e);

/* Field checks shared with the keystore's files.  1 or 0. */
int ksfile_valid_date(const char *s);		/* YYYY-MM-DD */
int ksfile_valid_agreement(const char *s);	/* [a-z0-9][a-z0-9-]{0,63} */
int ksfile_valid_token(const char *s, size_t max); /* printable, no blanks */

#endif
