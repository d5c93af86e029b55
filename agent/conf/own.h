/*
 * own.h: lethe's own files (SPEC §5 "Scope"): the state_dir (journal,
 * checkpoint, lock, work/, certificates, outbox, keys/), the KEK, the
 * signing key, certificate and chain, the config file, the policy
 * directory and every policy file.  They are never data: a dataset glob
 * that can reach one is a policy error (`lethe check`, and every command
 * that would act, refuse it), and the scope of a disposition subtracts
 * them by object as well (plan/scope_resolve.c), should a hard link or a
 * bind mount bring one into reach anyway.
 */
#ifndef LETHE_OWN_H
#define LETHE_OWN_H

#include <stddef.h>
#include <sys/types.h>

struct config;
struct policyset;
struct diags;

struct own_path {
	char *path;		/* absolute, as configured or as reached
				 * through an allowed root (an alias) */
	int dir;		/* a directory: everything below is own too */
	int inside;		/* lies in another own directory (a policy in
				 * policy_dir): that one's reach covers it */
	const char *what;	/* "state_dir", "the KEK", ... (static) */
	int exists;		/* a file there: dev and ino are its */
	dev_t dev;
	ino_t ino;
};

struct own {
	struct own_path *v;
	size_t n, cap;
};

/* Lists lethe's own paths for c and ps: each as configured, and, where
 * its real location lies below an allowed root whose configured path
 * differs (a symlinked root), also as reached through that root; each
 * file stat'ed once, so that it is known by its object.
 * Returns 0, or -1 when out of memory.  *o is always freeable. */
int own_paths(const struct config *c, const struct policyset *ps,
    struct own *o);
void own_free(struct own *o);
/* Adds an error to *d for each dataset glob (path or archive) of ps that
 * can reach one of lethe's own paths: FILE:LINE: dataset NAME: ... */
void own_check_reach(const struct config *c, const struct policyset *ps,
    struct diags *d);
/* The own path that the absolute path p is (or lies below), or NULL. */
const struct own_path *own_covers(const struct own *o, const char *p);

#endif
