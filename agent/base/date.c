/*
 * date.c: calendar dates as day numbers, durations, and time zones applied
 * only at the edges (see date.h).
 *
 * Calendar arithmetic is pure integer math on the proleptic Gregorian
 * calendar: no time_t, no mktime, so neither DST nor the host's zone can
 * move a date.  Zones are applied by temporarily setting TZ and calling
 * tzset(); that is process-global state, so these functions are not
 * thread-safe (lethe is single-threaded) and always restore the previous
 * TZ before returning.
 */
#include "base/date.h"

#include "base/num.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZONEINFO "/usr/share/zoneinfo"
#define DAY_MAX_YEAR 9999

static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (m == 2 && is_leap(y))
		return 29;
	return dim[m - 1];
}

/*
 * The year is shifted to start on March 1, so the leap day is the last day
 * of the shifted year; a 400-year cycle ("era") has 146097 days.  Day 0 of
 * era 0 is 0000-03-01, which is 719468 days before 1970-01-01.
 */
day_t
date_from_ymd(int y, int m, int d)
{
	int64_t yy = (int64_t)y - (m <= 2 ? 1 : 0);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;			/* 0..399 */
	int64_t mshift = m > 2 ? m - 3 : m + 9;		/* March = 0 */
	int64_t doy = (153 * mshift + 2) / 5 + d - 1;	/* 0..365 */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (day_t)(era * 146097 + doe - 719468);
}

void
date_to_ymd(day_t day, int *y, int *m, int *d)
{
	int64_t z = (int64_t)day + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;			/* 0..146096 */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mshift = (5 * doy + 2) / 153;
	int64_t mm = mshift < 10 ? mshift + 3 : mshift - 9;

	*d = (int)(doy - (153 * mshift + 2) / 5 + 1);
	*m = (int)mm;
	*y = (int)(yoe + era * 400 + (mm <= 2 ? 1 : 0));
}

static int
digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
parse_ymd(const char *s, int *y, int *m, int *d)
{
	if (digits(s, 4, y) != 0 || s[4] != '-' ||
	    digits(s + 5, 2, m) != 0 || s[7] != '-' ||
	    digits(s + 8, 2, d) != 0)
		return -1;
	if (*y < 1970 || *y > DAY_MAX_YEAR || *m < 1 || *m > 12 || *d < 1 ||
	    *d > days_in_month(*y, *m))
		return -1;
	return 0;
}

int
date_parse(const char *s, day_t *out)
{
	int y, m, d;

	if (s == NULL || strlen(s) != 10 || parse_ymd(s, &y, &m, &d) != 0)
		return -1;
	*out = date_from_ymd(y, m, d);
	return 0;
}

char *
date_format(day_t d, char *buf)
{
	int y, m, dd;

	if (d == DAY_NONE) {
		strcpy(buf, "-");
		return buf;
	}
	date_to_ymd(d, &y, &m, &dd);
	if (y < 0 || y > DAY_MAX_YEAR) {
		strcpy(buf, "?");
		return buf;
	}
	/* 4 + 1 + 2 + 1 + 2 digits fit in 11 bytes; checked all the same. */
	if (snprintf(buf, 11, "%04d-%02d-%02d", y, m, dd) != 10)
		strcpy(buf, "?");
	return buf;
}

int
duration_parse(const char *s, struct duration *out)
{
	char num[16];
	size_t len;
	int64_t n;
	char unit;

	if (s == NULL)
		return -1;
	/* "0" alone means none: notice_before = 0 (SPEC §3). */
	if (strcmp(s, "0") == 0) {
		out->n = 0;
		out->unit = 'd';
		return 0;
	}
	len = strlen(s);
	if (len < 2 || len > sizeof(num))
		return -1;
	unit = s[len - 1];
	if (unit != 'd' && unit != 'w' && unit != 'm' && unit != 'y')
		return -1;
	memcpy(num, s, len - 1);
	num[len - 1] = '\0';
	if (num_parse(num, 0, 100000, &n) != 0)
		return -1;
	out->n = (int)n;
	out->unit = unit;
	return 0;
}

char *
duration_format(struct duration dur, char *buf)
{
	int n = snprintf(buf, 16, "%d%c", dur.n, dur.unit);

	if (n < 0 || n >= 16)
		strcpy(buf, "?");
	return buf;
}

day_t
date_add(day_t d, struct duration dur)
{
	day_t max = date_from_ymd(DAY_MAX_YEAR, 12, 31);
	int64_t r;

	if (d == DAY_NONE)
		return DAY_NONE;
	switch (dur.unit) {
	case 'd':
		r = (int64_t)d + dur.n;
		break;
	case 'w':
		r = (int64_t)d + 7 * (int64_t)dur.n;
		break;
	case 'm':
	case 'y': {
		int y, m, dd;
		int64_t months, total;

		months = dur.unit == 'y' ? 12 * (int64_t)dur.n : dur.n;
		date_to_ymd(d, &y, &m, &dd);
		total = (int64_t)y * 12 + (m - 1) + months;
		if (total / 12 > DAY_MAX_YEAR)
			return max;
		y = (int)(total / 12);
		m = (int)(total % 12) + 1;
		if (dd > days_in_month(y, m))
			dd = days_in_month(y, m);	/* clamp to month end */
		r = date_from_ymd(y, m, dd);
		break;
	}
	default:
		return d;
	}
	return r > max ? max : (day_t)r;
}

int
tz_valid(const char *tz)
{
	char path[512];
	unsigned char magic[4];
	struct stat st;
	const char *p;
	int fd, n, ok = 0;

	if (tz == NULL || *tz == '\0')
		return 1;
	if (tz[0] == '/' || strlen(tz) > 255)
		return 0;
	for (p = tz; *p != '\0'; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("/_+-.", *p) != NULL))
			return 0;
	}
	/* No ".." (or "." or empty) component can climb out of ZONEINFO. */
	for (p = tz; *p != '\0';) {
		size_t len = strcspn(p, "/");

		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += len;
		if (*p == '/') {
			p++;
			if (*p == '\0')
				return 0;
		}
	}
	n = snprintf(path, sizeof(path), "%s/%s", ZONEINFO, tz);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1)
		return 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
	    memcmp(magic, "TZif", 4) == 0)
		ok = 1;
	close(fd);
	return ok;
}

const char *
tz_host(char *buf, size_t len)
{
	char link[PATH_MAX];
	ssize_t n;
	const char *z = getenv("TZ");

	/* The same zone the calendar functions use: $TZ first. */
	if (z != NULL && *z == ':')
		z++;
	if (z != NULL && *z != '\0' && tz_valid(z)) {
		snprintf(buf, len, "%s", z);
		return buf;
	}
	n = readlink("/etc/localtime", link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		z = strstr(link, "zoneinfo/");
		if (z != NULL && tz_valid(z + 9)) {
			snprintf(buf, len, "%s", z + 9);
			return buf;
		}
	}
	snprintf(buf, len, "UTC");
	return buf;
}

/* The zone switch: tz_push sets TZ (unless tz is the host's), tz_pop puts
 * back exactly what was there. */
struct tzsave {
	int changed;
	char *old;	/* previous TZ, NULL if it was unset */
};

static void
tz_push(const char *tz, struct tzsave *sv)
{
	char val[300];
	const char *old;
	int n;

	sv->changed = 0;
	sv->old = NULL;
	if (tz == NULL || *tz == '\0') {
		tzset();
		return;
	}
	n = snprintf(val, sizeof(val), ":%s", tz);
	if (n < 0 || (size_t)n >= sizeof(val))
		return;		/* tz_valid refuses names this long */
	old = getenv("TZ");
	if (old != NULL && (sv->old = strdup(old)) == NULL)
		return;		/* cannot restore it: leave TZ alone */
	if (setenv("TZ", val, 1) != 0) {
		free(sv->old);
		sv->old = NULL;
		return;
	}
	sv->changed = 1;
	tzset();
}

static void
tz_pop(struct tzsave *sv)
{
	if (!sv->changed)
		return;
	if (sv->old != NULL)
		setenv("TZ", sv->old, 1);
	else
		unsetenv("TZ");
	free(sv->old);
	sv->old = NULL;
	sv->changed = 0;
	tzset();
}

/* The local calendar date at t under the current TZ. */
static day_t
local_date(time_t t)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return DAY_NONE;
	return date_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

day_t
tz_date_at(const char *tz, time_t t)
{
	struct tzsave sv;
	day_t d;

	tz_push(tz, &sv);
	d = local_date(t);
	tz_pop(&sv);
	return d;
}

time_t
tz_day_end(const char *tz, day_t d)
{
	struct tzsave sv;
	struct tm tm;
	day_t next = d + 1;
	int y, m, dd;
	time_t t, lo, hi;

	date_to_ymd(next, &y, &m, &dd);
	tz_push(tz, &sv);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = dd;
	tm.tm_isdst = -1;	/* let the zone's rules say whether DST applies */
	t = mktime(&tm);
	/*
	 * Check mktime's answer: it must be the first instant of day `next`.
	 * Where local midnight does not exist (a DST jump at midnight) or
	 * mktime guessed the other side of an overlap, find the first instant
	 * whose local date is `next` by bisection.  Local offsets lie within
	 * +-26 hours, so that instant is within a day and a half of UTC
	 * midnight.
	 */
	if (t == (time_t)-1 || local_date(t) < next ||
	    local_date(t - 1) >= next) {
		lo = (time_t)next * 86400 - 2 * 86400;	/* still day < next */
		hi = (time_t)next * 86400 + 2 * 86400;	/* already >= next */
		while (hi - lo > 1) {
			time_t mid = lo + (hi - lo) / 2;

			if (local_date(mid) >= next)
				hi = mid;
			else
				lo = mid;
		}
		t = hi;
	}
	tz_pop(&sv);
	return t;
}

char *
time_format_utc(time_t t, char *buf)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strcpy(buf, "?");
	return buf;
}

int
time_parse_utc(const char *s, time_t *out)
{
	int y, mo, d, h, mi, sec;

	if (s == NULL || strlen(s) != 20 || parse_ymd(s, &y, &mo, &d) != 0 ||
	    s[10] != 'T' || digits(s + 11, 2, &h) != 0 || s[13] != ':' ||
	    digits(s + 14, 2, &mi) != 0 || s[16] != ':' ||
	    digits(s + 17, 2, &sec) != 0 || s[19] != 'Z')
		return -1;
	if (h > 23 || mi > 59 || sec > 59)
		return -1;
	*out = (time_t)date_from_ymd(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    sec;
	return 0;
}
