/*
 * keystore_int.h: what the keystore's files share (keystore.c the keys in
 * hand, ksopen.c opening and crash recovery, ksdestroy.c the destruction
 * protocol, ksstep.c the durable file steps both take).  Not for other
 * modules: keystore.h is the contract.
 */
#ifndef LETHE_KEYSTORE_INT_H
#define LETHE_KEYSTORE_INT_H

struct dek;
struct err;
struct keystore;
struct ks_entry;

/* The names beside the live files that a destruction, or the recovery of
 * an interrupted one, works with (keystore.h's steps). */
struct ks_paths {
	char *ks_new, *ks_old, *kek_new, *kek_old, *kek_dir, *kek_base;
	char *kek_new_base;
};

/* Today's UTC date, YYYY-MM-DD, into out. */
void ks_today(char out[11]);
/* Rewrites the keystore under the KEK in hand (KS_WRITE only).  Returns
 * 0, or -1 with *e set. */
int ks_save(struct keystore *ks, struct err *e);
/* Unwraps entry x's DEK into k.  Returns 0, or -1 with *e set. */
int ks_unwrap(const struct keystore *ks, const struct ks_entry *x,
    struct dek *k, struct err *e);

/* a + b, malloc'd; NULL when out of memory. */
char *ks_join(const char *a, const char *b);
/* Whether path names an existing object (lstat): 1, 0, or -1 on error. */
int ks_exists(const char *path);
/* Whether a and b are names of one object (lstat). */
int ks_same_file(const char *a, const char *b);
/* Overwrites, verifies and removes the file at path (ow_path); when that
 * fails the name is removed anyway (a key file must not stay) and the
 * failure reported.  A missing file is no error.  Returns 0 or -1. */
int ks_sanitize(const char *path, struct err *e);
/* ks_sanitize on every crashed durable_write temporary of dir/BASE (they
 * may hold a KEK or wrapped keys).  Only under the state lock. */
int ks_sanitize_temps(const char *dir, const char *base, struct err *e);
/* Fills *p for ks's files.  Returns 0, or -1 with *e set (*p freed). */
int ks_paths_make(const struct keystore *ks, struct ks_paths *p,
    struct err *e);
void ks_paths_free(struct ks_paths *p);
/* Removes extra when it is a second name of live, else sanitizes it. */
int ks_drop_old(const char *extra, const char *live, struct err *e);
/* rename(from, to) / link(from, to), then fsync of dir.  0, or -1. */
int ks_rename_durable(const char *from, const char *to, const char *dir,
    struct err *e);
int ks_link_durable(const char *from, const char *to, const char *dir,
    struct err *e);

#endif
