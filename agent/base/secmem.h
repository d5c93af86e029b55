/*
 * secmem.h: memory for key material (SPEC §7, STYLE §7): the keys of
 * keys/ and the random-pattern key of sanitize/aesctr.c, so it sits below
 * both.
 *
 * A secure buffer is its own anonymous mapping: locked in RAM (mlock) where
 * the process may lock memory, excluded from core dumps (MADV_DONTDUMP),
 * zeroed in a child after fork (MADV_WIPEONFORK), and wiped with
 * OPENSSL_cleanse before it is unmapped.  Failing to lock is not an error
 * (an unprivileged process has a small RLIMIT_MEMLOCK): secmem_unlocked()
 * says how many live buffers could not be locked.
 */
#ifndef LETHE_SECMEM_H
#define LETHE_SECMEM_H

#include <stddef.h>

struct err;

/* A zeroed secure buffer of n bytes (n > 0).  Returns it, or NULL with *e
 * set when no memory could be mapped. */
void *secmem_alloc(size_t n, struct err *e);
/* Wipes (OPENSSL_cleanse), unlocks and unmaps a buffer from secmem_alloc
 * of the same n.  NULL is ignored. */
void secmem_free(void *p, size_t n);
/* Number of live secure buffers that mlock refused (0 = all locked). */
unsigned secmem_unlocked(void);
/* Makes the process undumpable for as long as it runs: no core file
 * (RLIMIT_CORE 0) and PR_SET_DUMPABLE 0 (no core, no ptrace attach by
 * other users, /proc/self/mem closed to them).  Call before the first
 * key is loaded.  Returns 0, or -1 with *e set. */
int secmem_no_core(struct err *e);

#endif
