/*
 * array.h: the one rule for growing an array of records (extents, spans,
 * a plan's cuts and rows, a walker's queue): its capacity doubles when it
 * is full, so n appends cost O(n) copies, and a size that would overflow
 * is an allocation failure, never a short buffer.
 */
#ifndef LETHE_ARRAY_H
#define LETHE_ARRAY_H

#include <stddef.h>

/* Room for one more element in v, an array of *cap elements of elem bytes
 * of which n are used: while n < *cap, returns v; when full, reallocates
 * it to twice *cap elements (first, when *cap is 0), updates *cap and
 * returns the new array.  NULL when memory runs out or the size would
 * overflow: v and *cap are then unchanged. */
void *array_grow(void *v, size_t n, size_t *cap, size_t elem, size_t first);

#endif
