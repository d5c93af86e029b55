/*
 * keystore.h: data-encryption keys for crypto-shred (SPEC §7).
 *
 * One DEK (random, 256-bit) per (agreement, category); category "all" when
 * seal is given none.  Key ids are "AGREEMENT/SLUG/GEN": the category
 * lower-cased with every other character than [a-z0-9] turned into '-'
 * ("Parent/Guardian ID" -> "parent-guardian-id", none -> "all") and a
 * generation counting from 1, e.g. "osde-2024/assessment/1".  After a key is
 * destroyed the next seal for the pair creates generation 2.
 *
 * FILES
 *   KEK        [keys] kek, default state_dir/kek: exactly 32 random bytes,
 *              a regular file (never a symlink) owned by us, mode 0600 or
 *              stricter, else refused.
 *   KEYSTORE   state_dir/keys/keystore, mode 0600, text, one record a line,
 *              fields separated by one TAB:
 *     lethe-keystore  1
 *     key   ID AGREEMENT CATEGORY GEN CREATED SEALED_AFTER WRAPPED
 *     tomb  ID AGREEMENT CATEGORY GEN CREATED SEALED_AFTER DESTROYED DISP_ID
 *     mac   HMAC
 *   CATEGORY is the canonical Exhibit B name or "all"; dates are UTC
 *   YYYY-MM-DD; SEALED_AFTER is the last day `seal --replace` sealed
 *   plaintext that had been stored in the clear under this key (and then
 *   cleared it), or "-", followed by "!DATE" when plaintext was sealed
 *   from a regular file that lethe did not clear (the last such day);
 *   WRAPPED is the DEK wrapped under the KEK by AES key wrap with padding
 *   (RFC 5649), 40 bytes in hex; a tomb(stone) keeps the record of a
 *   destroyed key without its key: when, and by which disposition
 *   (certificate) id.  HMAC is HMAC-SHA256 over every byte before the mac
 *   line, keyed with HMAC-SHA256(KEK, "lethe keystore mac v1"): it binds
 *   each wrapped key to its id and proves which KEK the file belongs to.
 *   keys/ may be backed up freely: without the KEK it is useless, and a
 *   copy taken before a destruction does not match the KEK after it.
 *
 * DESTRUCTION AND CRASH RECOVERY
 *   keystore_destroy commits in this order (every step durable: data and
 *   directory fsync'd):
 *     1 KEK.new      <- a fresh KEK
 *     2 keys/keystore.new <- the remaining keys re-wrapped under KEK.new,
 *                       plus the new tombstones
 *     3 keys/keystore.old <- hard link to keys/keystore
 *     4 rename keystore.new -> keystore          (the commit point)
 *     5 KEK.old      <- hard link to KEK
 *     6 rename KEK.new -> KEK
 *     7 overwrite, verify and remove keystore.old and KEK.old (ow_path)
 *   At every instant the live keystore verifies under a KEK on disk (KEK
 *   before step 4, KEK.new from 4 to 6, KEK after), so a crash never loses
 *   the other agreements' keys.  keystore_open(KS_WRITE) finishes an
 *   interrupted destruction: if the keystore verifies under KEK.new the
 *   destruction committed, and steps 5-7 are completed; if it verifies
 *   under KEK and KEK.new exists, it did not commit: KEK.new and
 *   keystore.new are sanitized (the keys are still live, and the caller's
 *   retry destroys them); a leftover keystore.old or KEK.old is sanitized
 *   unless it is still the live file's other name.  KS_READ never changes
 *   anything: it reads the keystore under KEK or KEK.new.
 *
 * The KEK file, key wrap and MAC are kek.h's; the text format is
 * ksfile.h's.  Paths must be absolute (the overwrite engine wants them so).
 * Writers (KS_WRITE, keystore_destroy) must hold the state lock (lock.h).
 * The KEK is read into secure memory (secmem.h) and wiped on close; DEKs
 * are unwrapped one at a time into the caller's secure buffer.
 */
#ifndef LETHE_KEYSTORE_H
#define LETHE_KEYSTORE_H

#include <stddef.h>

#include "keys/ksfile.h"
#include "keys/seal.h"

struct config;
struct policyset;
struct diags;
struct err;

struct keystore {
	char *keys_dir;		/* state_dir/keys */
	char *path;		/* state_dir/keys/keystore */
	char *kek_path;		/* the KEK file */
	struct ks_entry *v;	/* keys and tombstones, in file order */
	size_t n;
	unsigned char *kek;	/* secure memory, 32 bytes */
	int writable;
};

enum { KS_READ = 0, KS_WRITE = 1 };

/* Opens the keystore of state_dir under the KEK at kek_path (NULL: the
 * default state_dir/kek).  KS_READ: both files must exist; nothing is
 * written.  KS_WRITE (state lock held): finishes an interrupted
 * destruction (see above) and creates a missing KEK and keystore.  Refuses
 * a KEK that is a symlink, not ours, not 32 bytes, or group/other
 * accessible, and a keystore that does not verify under the KEK (e.g. a
 * copy restored from before a destruction).  Returns 0, or -1 with *e set;
 * *ks is always closable. */
int keystore_open(const char *state_dir, const char *kek_path, int flags,
    struct keystore *ks, struct err *e);
/* Whether state_dir has a keystore at all (nothing was ever sealed on a
 * host that has none).  Only looks; opens nothing. */
int keystore_exists(const char *state_dir);
/* Wipes the KEK and frees everything. */
void keystore_close(struct keystore *ks);

/* The canonical category for a key: NULL or "all" -> "all", else the
 * Exhibit B name matched case-insensitively.  Returns it (static), or NULL
 * when unknown. */
const char *keystore_category(const char *category);

/* The live key for (agreement, category) into *k; category as for
 * keystore_category.  With create set (KS_WRITE only) a missing key is
 * made, wrapped, and the keystore durably rewritten before returning.
 * Returns 0, or -1 with *e set (no live key and !create, ...). */
int keystore_key_for(struct keystore *ks, const char *agreement,
    const char *category, int create, struct dek *k, struct err *e);
/* The live key named id into *k (the seal_lookup for unseal_stream: pass
 * the keystore as arg).  A destroyed key fails with "key ID destroyed on
 * DATE (certificate DISP)".  Returns 0, or -1 with *e set. */
int keystore_lookup(const char *id, struct dek *k, void *ks, struct err *e);
/* The record (live or tombstone) named id, or NULL. */
const struct ks_entry *keystore_find(const struct keystore *ks,
    const char *id);
/* Records that plaintext once stored in the clear was sealed under key id
 * on date (YYYY-MM-DD, NULL = today UTC), for the certificate's "Purge
 * (crypto-erase; plaintext copies cleared by overwrite on DATE)".  KS_WRITE
 * only.  Returns 0, or -1 with *e set. */
int keystore_mark_sealed_after(struct keystore *ks, const char *id,
    const char *date, struct err *e);
/* Records that plaintext stored in a regular file was sealed under key id
 * today, and that lethe did not clear it (`seal FILE OUT`): data under this
 * key is never claimed as Purge.  KS_WRITE only.  Returns 0, or -1. */
int keystore_mark_plain_kept(struct keystore *ks, const char *id,
    struct err *e);
/* Destroys the live keys of agreement whose ids are ids[0..nids) by the
 * protocol above (keystore_destroy's, with the keys named instead of by
 * category).  Returns as keystore_destroy. */
int keystore_destroy_ids(const char *state_dir, const char *kek_path,
    const char *agreement, const char *const *ids, size_t nids,
    const char *disp_id, struct ks_entry **list, size_t *n, struct err *e);

/* Destroys the live keys of agreement (category NULL: every category,
 * "all" included; else only that category's keys, and not the agreement's
 * "all" key) by the protocol above, tombstoning each with today's UTC date
 * and disp_id.  The state lock must be held.  *list (malloc'd, *n records)
 * receives the tombstones of this disposition: those made now and those
 * that already carried disp_id (a resumed run), so the caller can certify
 * either way.  No live key to destroy: returns 0, rotates nothing.  Time is
 * independent of the size of the sealed data.  Returns 0, or -1 with *e
 * set; on -1 with *n > 0 the keys ARE destroyed but the old KEK or keystore
 * could not be sanitized (the next KS_WRITE open retries). */
int keystore_destroy(const char *state_dir, const char *kek_path,
    const char *agreement, const char *category, const char *disp_id,
    struct ks_entry **list, size_t *n, struct err *e);

/* For `lethe check`: warns (diag_warn) when the KEK lies inside
 * state_dir/keys or under the fixed root of a dataset's path or archive
 * glob (config_load already warns about allowed roots); errs (diag_add)
 * when the KEK exists but would be refused as a symlink, a non-regular
 * file, of the wrong size or owner (a loose mode is config_load's error). */
void keystore_check_kek_location(const struct config *c,
    const struct policyset *ps, struct diags *d);

#endif
