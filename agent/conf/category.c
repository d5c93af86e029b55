/* category.c: the NDPA Exhibit B schedule of data (see category.h). */
#include "conf/category.h"

#include "conf/iniread.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* SPEC §3, in its order: bit i of a catset_t is names[i]. */
static const char *const names[CATEGORY_COUNT] = {
	"Application Technology Meta Data",
	"Application Use Statistics",
	"Assessment",
	"Attendance",
	"Communications",
	"Conduct",
	"Demographics",
	"Enrollment",
	"Parent/Guardian Contact Information",
	"Parent/Guardian ID",
	"Parent/Guardian Name",
	"Schedule",
	"Special Indicator",
	"Student Contact Information",
	"Student Identifiers",
	"Student Name",
	"Student In App Performance",
	"Student Program Membership",
	"Student Survey Responses",
	"Student work",
	"Transcript",
	"Transportation",
	"Other",
};

const char *
category_name(int i)
{
	if (i < 0 || i >= CATEGORY_COUNT)
		return NULL;
	return names[i];
}

/* s without surrounding blanks: start and length. */
static const char *
trim(const char *s, size_t *len)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*len = n;
	return s;
}

static int
find_n(const char *s, size_t len)
{
	for (int i = 0; i < CATEGORY_COUNT; i++) {
		if (strlen(names[i]) == len && strncasecmp(names[i], s, len) == 0)
			return i;
	}
	return -1;
}

int
category_find(const char *s)
{
	size_t len;

	if (s == NULL)
		return -1;
	s = trim(s, &len);
	return find_n(s, len);
}

const char *
category_suggest(const char *s)
{
	return iniread_suggest(s, names, CATEGORY_COUNT);
}

int
category_parse_list(const char *s, catset_t *out, char *msg, size_t msglen)
{
	catset_t set = 0;
	const char *p = s;

	if (msglen > 0)
		msg[0] = '\0';
	for (;;) {
		size_t seglen = strcspn(p, ","), len;
		const char *item;
		char buf[128];
		int i;

		/* trim() wants a string: copy the segment (names are short). */
		if (seglen >= sizeof(buf)) {
			/* A cut message is harmless; no result is derived. */
			(void)snprintf(msg, msglen,
			    "unknown category '%.40s...'", p);
			return -1;
		}
		memcpy(buf, p, seglen);
		buf[seglen] = '\0';
		item = trim(buf, &len);
		buf[(size_t)(item - buf) + len] = '\0';
		if (len == 0) {
			snprintf(msg, msglen, "%s", *s == '\0' ||
			    strspn(s, " \t") == strlen(s) ?
			    "no categories given" : "empty category in list");
			return -1;
		}
		i = find_n(item, len);
		if (i < 0) {
			const char *near = category_suggest(item);

			if (near != NULL)
				snprintf(msg, msglen,
				    "unknown category '%s'; did you mean '%s'?",
				    item, near);
			else
				snprintf(msg, msglen, "unknown category '%s' "
				    "(not in the NDPA Exhibit B schedule)",
				    item);
			return -1;
		}
		set |= (catset_t)1 << i;
		p += seglen;
		if (*p == '\0')
			break;
		p++;
	}
	*out = set;
	return 0;
}

char *
category_format(catset_t set, char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (int i = 0; i < CATEGORY_COUNT; i++) {
		int n;

		if (!(set & ((catset_t)1 << i)))
			continue;
		n = snprintf(buf + used, len - used, "%s%s",
		    used > 0 ? ", " : "", names[i]);
		if (n < 0 || (size_t)n >= len - used) {
			/* Does not fit: end with "..." rather than a cut name. */
			if (len >= 4)
				strcpy(buf + (used + 4 <= len ? used : len - 4),
				    "...");
			break;
		}
		used += (size_t)n;
	}
	return buf;
}

const char *
category_of_key(const char *category)
{
	int i;

	if (category == NULL || strcasecmp(category, "all") == 0)
		return "all";
	i = category_find(category);
	return i < 0 ? NULL : category_name(i);
}
