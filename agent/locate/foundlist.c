/*
 * foundlist.c: what locate found (see struct foundlist in locate.h):
 * freed, sorted by name with duplicates dropped, and counted by object.
 */
#include "locate/locate.h"

#include <stdlib.h>
#include <string.h>

void
foundlist_free(struct foundlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].rel);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
cmp_found(const void *a, const void *b)
{
	const struct found *x = a, *y = b;

	if (x->root != y->root)
		return x->root < y->root ? -1 : 1;
	return strcmp(x->rel, y->rel);
}

void
foundlist_sort(struct foundlist *l)
{
	size_t j = 0;

	if (l->n == 0)
		return;
	qsort(l->v, l->n, sizeof(*l->v), cmp_found);
	for (size_t i = 1; i < l->n; i++) {
		if (cmp_found(&l->v[i], &l->v[j]) == 0) {
			if (l->v[i].kind == FOUND_FILE)
				l->bytes -= (uint64_t)l->v[i].size;
			free(l->v[i].rel);
		} else
			l->v[++j] = l->v[i];
	}
	l->n = j + 1;
}

size_t
foundlist_links(const struct foundlist *l, dev_t dev, ino_t ino)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].dev == dev && l->v[i].ino == ino)
			n++;
	return n;
}
