/*
 * hex.h: lowercase hexadecimal, the one encoding of digests and keys in
 * lethe's text files (journal, certificates, manifests, keystore).
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

#endif
