/* num.h: the one bounded number parser (STYLE §9: never atoi). */
#ifndef LETHE_NUM_H
#define LETHE_NUM_H

#include <stdint.h>

/* Parses all of s as a decimal integer in [min, max].  No sign unless min
 * is negative, no spaces, no trailing text.  Returns 0, or -1 if s is not
 * such a number. */
int num_parse(const char *s, int64_t min, int64_t max, int64_t *out);

#endif
