/*
 * roots.h: allowed_roots, the directories lethe may destroy files in
 * (SPEC §3): parsed and refused here, for config_load.c.
 */
#ifndef LETHE_ROOTS_H
#define LETHE_ROOTS_H

#include <stddef.h>

struct diags;

/* Parses val (blank-separated absolute directories; one trailing '/'
 * each is dropped) and appends each acceptable root to (*roots)[0..*n),
 * reporting every problem to *d as FILE:LINE: an empty list, a relative
 * root, "/", an empty, "." or ".." component, a system directory (also
 * through a symlink); a root listed twice is a warning. */
void roots_parse(const char *val, char ***roots, size_t *n, struct diags *d,
    const char *file, int line);
/* Whether the absolute path p has a "." or ".." component.  1 or 0. */
int roots_has_dot(const char *p);

#endif
