/*
 * date.h: calendar dates as day numbers (STYLE §11).  A date is the number
 * of days since 1970-01-01 in the proleptic Gregorian calendar; time zones
 * are applied only at the edges, when reading the clock or printing.
 */
#ifndef LETHE_DATE_H
#define LETHE_DATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef int32_t day_t;
#define DAY_NONE INT32_MIN	/* "no date" */

struct duration {
	int n;		/* >= 0 */
	char unit;	/* 'd', 'w', 'm' (calendar months), 'y' */
};

/* Parses strict YYYY-MM-DD (a real date, year 1970..9999).  Returns 0 or -1. */
int date_parse(const char *s, day_t *out);
/* Writes YYYY-MM-DD into buf (at least 11 bytes); DAY_NONE prints "-". */
char *date_format(day_t d, char *buf);
/* Day number of y-m-d (m 1..12, d 1..31, not validated). */
day_t date_from_ymd(int y, int m, int d);
void date_to_ymd(day_t day, int *y, int *m, int *d);
/* Parses "Nd", "Nw", "Nm", "Ny" (N 0..100000).  Returns 0 or -1. */
int duration_parse(const char *s, struct duration *out);
/* d + dur on the calendar; months and years clamp to the month's end
 * (Jan 31 + 1m = Feb 28/29; Feb 29 + 1y = Feb 28). */
day_t date_add(day_t d, struct duration dur);
/* Formats a duration back ("30d").  buf at least 16 bytes. */
char *duration_format(struct duration dur, char *buf);

/* Whether tz names a zone in the system's IANA database (no "..", no
 * leading '/', the file exists and is a TZif file).  "" or NULL = host. */
int tz_valid(const char *tz);
/* The host's own zone name (for an agreement that gives none) into buf
 * (len bytes) and returns buf: $TZ when it names a known zone (a leading
 * ':' ignored), else the zone /etc/localtime links to, else "UTC". */
const char *tz_host(char *buf, size_t len);
/* The two below apply tz by setting TZ and calling tzset() for the call's
 * duration, then restore the previous TZ: not thread-safe (lethe is
 * single-threaded).  tz must have passed tz_valid; the C library would take
 * an unknown name as UTC. */
/* The calendar date in zone tz (NULL/"" = host) at instant t. */
day_t tz_date_at(const char *tz, time_t t);
/* The first instant after calendar day d has ended in zone tz: a deadline
 * of day d is met by anything done before this instant.  That is local
 * midnight starting day d+1, or where that midnight does not exist (a DST
 * jump at midnight) the first instant of day d+1. */
time_t tz_day_end(const char *tz, day_t d);
/* UTC ISO 8601 "2026-11-23T09:00:00Z" into buf (at least 21 bytes). */
char *time_format_utc(time_t t, char *buf);
/* Parses that format back.  Returns 0 or -1. */
int time_parse_utc(const char *s, time_t *out);

#endif
