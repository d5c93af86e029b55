/*
 * seal_replace.h: `lethe seal --replace FILE` below the command layer
 * (SPEC §7): FILE is sealed to FILE.lethe beside it, the sealed copy is
 * read back, its key is marked "sealed after the fact", and only then is
 * the plaintext overwritten and removed (sanitize/overwrite.h) and
 * seal-replaced journaled.
 *
 * MUST rules:
 *  - FILE lies beneath an allowed root, is walked to by descriptors
 *    (resolve.h), and is a regular file with no other hard link that
 *    would keep the plaintext; FILE.lethe does not exist yet;
 *  - the state lock is held throughout, and the journal passes the trust
 *    gate before the keystore is opened;
 *  - the plaintext goes only after the sealed copy is durable, has
 *    unsealed cleanly, and the keystore says the key's data was once in
 *    the clear, so no certificate can claim a pure Purge for it;
 *  - the journal gets the key id and a byte count, never a file name.
 */
#ifndef LETHE_SEAL_REPLACE_H
#define LETHE_SEAL_REPLACE_H

#include <limits.h>
#include <stdint.h>

#include "base/err.h"

struct config;
struct dek;

struct seal_replace_req {
	const struct config *cfg;
	const char *path;	/* FILE as given (relative: to the cwd) */
	const char *shown;	/* FILE as messages show it */
	const char *agreement, *category;
	/* Progress of the seal (may be NULL): plaintext bytes so far. */
	void (*progress)(uint64_t bytes, void *arg);
	void *arg;
};

struct seal_replace_out {
	char sealed[PATH_MAX + 8];	/* FILE.lethe, as messages show it */
	int journal_failed;	/* done, but seal-replaced was not journaled */
	struct err journal;	/* why not */
};

/* Seals rq->path in place with the agreement's key for the category (k:
 * secure memory the caller holds, filled with that key).  Returns 0 when
 * the plaintext is gone (out->journal_failed may still be set);
 * SEAL_REPLACE_REFUSED with *e set when the file or its name is refused
 * (nothing was changed); -1 with *e set when a step failed (*e says what
 * became of the plaintext and of the sealed copy). */
#define SEAL_REPLACE_REFUSED (-2)
int seal_replace(const struct seal_replace_req *rq, struct dek *k,
    struct seal_replace_out *out, struct err *e);

#endif
