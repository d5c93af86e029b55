/*
 * strmap.c: see strmap.h.  Linear probing, grown at 1/2 full; nothing is
 * ever removed (replay only adds).
 */
#include "base/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t
hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* The slot of key, or the empty slot where it would go. */
static struct strmap_slot *
find(const struct strmap *m, const char *key)
{
	size_t mask = m->cap - 1, i = (size_t)hash(key) & mask;

	while (m->slot[i].key != NULL && strcmp(m->slot[i].key, key) != 0)
		i = (i + 1) & mask;
	return &m->slot[i];
}

static int
grow(struct strmap *m)
{
	struct strmap old = *m;
	size_t cap = m->cap ? m->cap * 2 : 64;

	if ((m->slot = calloc(cap, sizeof(*m->slot))) == NULL) {
		m->slot = old.slot;
		return -1;
	}
	m->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slot[i].key != NULL)
			*find(m, old.slot[i].key) = old.slot[i];
	free(old.slot);
	return 0;
}

int
strmap_put(struct strmap *m, const char *key, size_t val)
{
	struct strmap_slot *s;

	if ((m->n + 1) * 2 > m->cap && grow(m) != 0)
		return -1;
	s = find(m, key);
	if (s->key == NULL) {
		if ((s->key = strdup(key)) == NULL)
			return -1;
		m->n++;
	}
	s->val = val;
	return 0;
}

int
strmap_get(const struct strmap *m, const char *key, size_t *val)
{
	const struct strmap_slot *s;

	if (m->cap == 0)
		return -1;
	s = find(m, key);
	if (s->key == NULL)
		return -1;
	*val = s->val;
	return 0;
}

void
strmap_free(struct strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slot[i].key);
	free(m->slot);
	memset(m, 0, sizeof(*m));
}
