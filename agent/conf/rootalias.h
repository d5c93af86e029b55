/*
 * rootalias.h: allowed roots that name one directory twice.
 *
 * Scope decides by object, and counts an object's names to know whether
 * all of them are in a disposition.  That holds only if each directory
 * entry has one name below the allowed roots.  A root that is a symbolic
 * link, a bind mount or a second mount of a filesystem into (or onto)
 * another root's tree gives the same entries a second name, under which
 * protection written on the first name (an exempt dataset, a hold) is not
 * seen, and a hard link's names seem all covered.  Such roots are refused.
 */
#ifndef LETHE_ROOTALIAS_H
#define LETHE_ROOTALIAS_H

#include <stddef.h>

struct diags;

/* Adds an error (at file:line) for each pair of roots[0..n) that reach the
 * same directory tree under names that do not nest the same way: two
 * roots R1, R2 on one filesystem whose locations in it (through symbolic
 * links and bind mounts, from /proc/self/mountinfo) are P1 and P1/REST
 * must be configured as R1 and R1/REST.  A root that does not exist yet
 * is passed over.  Returns 0 when none alias, -1 otherwise. */
int rootalias_check(const char *const *roots, size_t n, const char *file,
    int line, struct diags *d);

#endif
