/* num.c: the one bounded number parser (see num.h). */
#include "base/num.h"

#include <stddef.h>

int
num_parse(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int neg = 0;
	uint64_t v = 0, lim;

	if (s == NULL || *s == '\0')
		return -1;
	if (*s == '-') {
		if (min >= 0)
			return -1;
		neg = 1;
		s++;
	}
	if (*s == '\0')
		return -1;
	/* The largest magnitude we may accumulate before the range check. */
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *s != '\0'; s++) {
		unsigned dgt;

		if (*s < '0' || *s > '9')
			return -1;
		dgt = (unsigned)(*s - '0');
		if (v > (lim - dgt) / 10)
			return -1;
		v = v * 10 + dgt;
	}
	if (neg) {
		int64_t r = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
		if (r < min || r > max)
			return -1;
		*out = r;
	} else {
		if ((int64_t)v < min || (int64_t)v > max)
			return -1;
		*out = (int64_t)v;
	}
	return 0;
}
