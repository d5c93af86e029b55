/*
 * ids.c: what a message's id and file stem may be (see ids.h): the one
 * rule the outbox, the flush and the letters check ids by.
 */
#include "deliver/ids.h"
#include "base/date.h"
#include "base/err.h"
#include "base/num.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int
deliver_id_ok(const char *id)
{
	size_t n;

	if (id == NULL || (n = strlen(id)) == 0 || n > 128 || id[0] == '.' ||
	    id[0] == '-')
		return 0;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
		    *p == '_'))
			return 0;
	return 1;
}

int
deliver_notice_id(const char *agreement, const char *date, char *buf,
    size_t sz, struct err *e)
{
	day_t d;
	int n;

	if (date == NULL || date_parse(date, &d) != 0)
		return err_set(e, "notice for %s: invalid date", agreement);
	n = snprintf(buf, sz, "NOTICE-%s-%s", agreement, date);
	if (n < 0 || (size_t)n >= sz || !deliver_id_ok(buf))
		return err_set(e, "notice for %s: not a valid message id",
		    agreement);
	return 0;
}

/* A file stem is ID or ID+rN (a re-send); cert gets ID, *copy N or 0. */
int
outbox_stem(const char *stem, char *cert, size_t sz, int *copy)
{
	const char *plus = strchr(stem, '+');
	size_t n = plus ? (size_t)(plus - stem) : strlen(stem);
	int64_t v = 0;

	if (n + 1 > sz || n > 128)
		return -1;
	memcpy(cert, stem, n);
	cert[n] = '\0';
	if (plus && (plus[1] != 'r' || num_parse(plus + 2, 1, 9999, &v) != 0))
		return -1;
	*copy = (int)v;
	return deliver_id_ok(cert) ? 0 : -1;
}

int
outbox_kind(const char *id)
{
	return strncmp(id, "NOTICE-", 7) == 0 ? DELIVER_NOTICE : DELIVER_CERT;
}
