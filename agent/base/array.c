/* array.c: growing an array of records (see array.h). */
#include "base/array.h"

#include <stdint.h>
#include <stdlib.h>

void *
array_grow(void *v, size_t n, size_t *cap, size_t elem, size_t first)
{
	size_t nc;
	void *p;

	if (n < *cap)
		return v;
	if (*cap == 0)
		nc = first;
	else if (*cap > SIZE_MAX / 2)
		return NULL;
	else
		nc = *cap * 2;
	if (nc == 0 || elem == 0 || nc > SIZE_MAX / elem ||
	    (p = realloc(v, nc * elem)) == NULL)
		return NULL;
	*cap = nc;
	return p;
}
