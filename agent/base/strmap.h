/*
 * strmap.h: a map from strings to indexes (open addressing, FNV-1a), for
 * the lookups replay and policy loading do once per line or per agreement:
 * a journal of 10,000 agreements' history must not cost n² comparisons.
 * The map keeps its own copy of each key.
 */
#ifndef LETHE_STRMAP_H
#define LETHE_STRMAP_H

#include <stddef.h>

struct strmap_slot {
	char *key;		/* NULL: empty */
	size_t val;
};

struct strmap {
	struct strmap_slot *slot;
	size_t cap;		/* a power of two, or 0 */
	size_t n;
};

/* Sets key's value (adding key, or replacing its value).  Returns 0, or -1
 * when out of memory (the map is unchanged). */
int strmap_put(struct strmap *m, const char *key, size_t val);
/* The value of key in *val; 0 if found, -1 if not. */
int strmap_get(const struct strmap *m, const char *key, size_t *val);
void strmap_free(struct strmap *m);

#endif
