/*
 * hex.h: hexadecimal, the one encoding of digests and keys in lethe's text
 * files (journal, certificates, manifests, keystore): lowercase there; the
 * journal's %XX escapes use the same digits in uppercase.
 */
#ifndef LETHE_HEX_H
#define LETHE_HEX_H

#include <stddef.h>

/* Writes the 2n lowercase hex digits of b[0..n) and a NUL into out (2n+1
 * bytes). */
void hex_encode(const unsigned char *b, size_t n, char *out);
/* Reads exactly 2n lowercase hex digits s[0..slen) into b[0..n).  Returns
 * 0, or -1 (wrong length, a byte that is not a lowercase hex digit). */
int hex_decode(const char *s, size_t slen, unsigned char *b, size_t n);
/* The digit for v & 15: lowercase, or uppercase when upper is set. */
char hex_digit(unsigned v, int upper);
/* The value of the hex digit c (either case), or -1 when it is not one. */
int hex_value(char c);

#endif
