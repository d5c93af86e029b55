/* check_date.c: day numbers, durations, time zones (agent/date.c). */
#include "testutil.h"

#include "base/date.h"
#include "base/num.h"

static day_t
ymd(int y, int m, int d)
{
	return date_from_ymd(y, m, d);
}

static day_t
parsed(const char *s)
{
	day_t d;

	ck_assert_msg(date_parse(s, &d) == 0, "date_parse(%s) failed", s);
	return d;
}

static const char *
fmt(day_t d)
{
	static char buf[11];

	return date_format(d, buf);
}

static day_t
plus(const char *date, const char *dur)
{
	struct duration du;

	ck_assert_msg(duration_parse(dur, &du) == 0, "duration %s", dur);
	return date_add(parsed(date), du);
}

START_TEST(day_zero_is_1970_01_01_and_known_dates_have_known_numbers)
{
	ck_assert_int_eq(ymd(1970, 1, 1), 0);
	ck_assert_int_eq(ymd(1970, 1, 2), 1);
	ck_assert_int_eq(ymd(1969, 12, 31), -1);
	ck_assert_int_eq(ymd(2000, 3, 1), 11017);
	ck_assert_int_eq(ymd(2026, 11, 23), 20780);
}
END_TEST

START_TEST(day_numbers_round_trip_over_ten_thousand_years)
{
	int y, m, d, py = 0, pm = 0, pd = 0;

	for (day_t n = ymd(1, 1, 1); n <= ymd(9999, 12, 31); n++) {
		date_to_ymd(n, &y, &m, &d);
		ck_assert_int_eq(ymd(y, m, d), n);
		if (n > ymd(1, 1, 1)) {
			/* Consecutive days advance the calendar by one. */
			if (d != 1)
				ck_assert(y == py && m == pm && d == pd + 1);
			else if (m != 1)
				ck_assert(y == py && m == pm + 1);
			else
				ck_assert(y == py + 1 && pm == 12 && pd == 31);
		}
		py = y;
		pm = m;
		pd = d;
	}
}
END_TEST

START_TEST(leap_years_follow_the_gregorian_rule)
{
	day_t d;

	ck_assert_int_eq(date_parse("2000-02-29", &d), 0);	/* 400: leap */
	ck_assert_int_eq(date_parse("2024-02-29", &d), 0);
	ck_assert_int_eq(date_parse("2026-02-29", &d), -1);
	ck_assert_int_eq(date_parse("2100-02-29", &d), -1);	/* 100: not */
	/* 1900 is before the parser's range; check it by arithmetic. */
	ck_assert_int_eq(ymd(1900, 3, 1) - ymd(1900, 2, 28), 1);
	ck_assert_int_eq(ymd(2000, 3, 1) - ymd(2000, 2, 28), 2);
	ck_assert_int_eq(ymd(2001, 1, 1) - ymd(2000, 1, 1), 366);
	ck_assert_int_eq(ymd(1901, 1, 1) - ymd(1900, 1, 1), 365);
}
END_TEST

START_TEST(date_parse_refuses_impossible_and_sloppy_dates)
{
	static const char *bad[] = { "2026-02-30", "2026-13-01", "2026-00-10",
	    "2026-04-31", "2026-1-1", "2026-01-1", "26-01-01", "2026-01-01x",
	    "2026-01-01 ", " 2026-01-01", "2026/01/01", "", "1969-12-31",
	    "2026-01-+1", "20260101" };
	day_t d = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(date_parse(bad[i], &d) == -1, "accepted '%s'",
		    bad[i]);
	ck_assert_int_eq(d, 42);
	ck_assert_str_eq(fmt(parsed("2026-12-31")), "2026-12-31");
	ck_assert_str_eq(fmt(DAY_NONE), "-");
}
END_TEST

START_TEST(adding_days_crosses_month_and_year_ends)
{
	ck_assert_str_eq(fmt(plus("2026-10-15", "30d")), "2026-11-14");
	ck_assert_str_eq(fmt(plus("2026-11-02", "60d")), "2027-01-01");
	ck_assert_str_eq(fmt(plus("2026-12-31", "1d")), "2027-01-01");
	ck_assert_str_eq(fmt(plus("2026-02-22", "1w")), "2026-03-01");
	ck_assert_str_eq(fmt(plus("2026-10-15", "0")), "2026-10-15");
}
END_TEST

START_TEST(duration_of_one_month_clamps_to_february_end)
{
	ck_assert_str_eq(fmt(plus("2028-01-31", "1m")), "2028-02-29");
	ck_assert_str_eq(fmt(plus("2026-01-31", "1m")), "2026-02-28");
	ck_assert_str_eq(fmt(plus("2026-03-31", "1m")), "2026-04-30");
	ck_assert_str_eq(fmt(plus("2026-01-15", "1m")), "2026-02-15");
	ck_assert_str_eq(fmt(plus("2026-11-30", "3m")), "2027-02-28");
	ck_assert_str_eq(fmt(plus("2026-12-31", "12m")), "2027-12-31");
}
END_TEST

START_TEST(a_year_after_a_leap_day_is_february_28)
{
	ck_assert_str_eq(fmt(plus("2024-02-29", "1y")), "2025-02-28");
	ck_assert_str_eq(fmt(plus("2024-02-29", "4y")), "2028-02-29");
	ck_assert_str_eq(fmt(plus("2026-06-30", "1y")), "2027-06-30");
}
END_TEST

START_TEST(durations_parse_strictly_and_format_back)
{
	static const char *bad[] = { "30", "d", "30x", "-1d", "+1d", "1.5d",
	    "30 d", " 30d", "30dd", "100001d", "", "30D", "99999999999999999d" };
	struct duration du;
	char buf[16];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(duration_parse(bad[i], &du) == -1, "accepted '%s'",
		    bad[i]);
	ck_assert_int_eq(duration_parse("100000y", &du), 0);
	ck_assert_int_eq(du.n, 100000);
	ck_assert_int_eq(du.unit, 'y');
	ck_assert_int_eq(duration_parse("14d", &du), 0);
	ck_assert_str_eq(duration_format(du, buf), "14d");
	ck_assert_int_eq(duration_parse("0", &du), 0);
	ck_assert_int_eq(du.n, 0);
}
END_TEST

START_TEST(adding_a_huge_duration_saturates_at_year_9999)
{
	ck_assert_str_eq(fmt(plus("2026-01-01", "100000y")), "9999-12-31");
	ck_assert_str_eq(fmt(plus("9999-12-01", "100d")), "9999-12-31");
}
END_TEST

START_TEST(num_parse_is_bounded_and_whole)
{
	int64_t v;

	ck_assert_int_eq(num_parse("42", 0, 100, &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(num_parse("101", 0, 100, &v), -1);
	ck_assert_int_eq(num_parse("-1", 0, 100, &v), -1);
	ck_assert_int_eq(num_parse("-5", -10, 10, &v), 0);
	ck_assert_int_eq(v, -5);
	ck_assert_int_eq(num_parse("+5", 0, 10, &v), -1);
	ck_assert_int_eq(num_parse("5 ", 0, 10, &v), -1);
	ck_assert_int_eq(num_parse("", 0, 10, &v), -1);
	ck_assert_int_eq(num_parse("-", -10, 10, &v), -1);
	ck_assert_int_eq(num_parse("9223372036854775807", 0, INT64_MAX, &v), 0);
	ck_assert(v == INT64_MAX);
	ck_assert_int_eq(num_parse("9223372036854775808", 0, INT64_MAX, &v),
	    -1);
	ck_assert_int_eq(num_parse("-9223372036854775808", INT64_MIN, 0, &v),
	    0);
	ck_assert(v == INT64_MIN);
}
END_TEST

START_TEST(tz_valid_accepts_iana_names_and_refuses_escapes)
{
	ck_assert(tz_valid("America/New_York"));
	ck_assert(tz_valid("Europe/London"));
	ck_assert(tz_valid("UTC"));
	ck_assert(tz_valid(""));
	ck_assert(tz_valid(NULL));
	ck_assert(!tz_valid("America/Chicgo"));
	ck_assert(!tz_valid("/usr/share/zoneinfo/UTC"));
	ck_assert(!tz_valid("../zoneinfo/UTC"));
	ck_assert(!tz_valid("America/../UTC"));
	ck_assert(!tz_valid("America"));	/* a directory */
	ck_assert(!tz_valid("America/"));
	ck_assert(!tz_valid("America//New_York"));
	ck_assert(!tz_valid("EST5EDT,M3.2.0,M11.1.0"));	/* POSIX rule */
}
END_TEST

START_TEST(tz_valid_refuses_a_file_that_is_not_tzif)
{
	/* Debian ships text files beside the zones: not TZif, not zones. */
	if (access("/usr/share/zoneinfo/zone.tab", R_OK) != 0 &&
	    access("/usr/share/zoneinfo/iso3166.tab", R_OK) != 0) {
		printf("SKIPPED: no zone.tab or iso3166.tab\n");
		return;
	}
	ck_assert(!tz_valid("zone.tab"));
	ck_assert(!tz_valid("iso3166.tab"));
}
END_TEST

static time_t
utc(const char *s)
{
	time_t t;

	ck_assert_msg(time_parse_utc(s, &t) == 0, "time_parse_utc(%s)", s);
	return t;
}

static const char *
utcfmt(time_t t)
{
	static char buf[21];

	return time_format_utc(t, buf);
}

START_TEST(utc_timestamps_round_trip_and_parse_strictly)
{
	time_t t;

	ck_assert_int_eq(utc("1970-01-01T00:00:00Z"), 0);
	ck_assert_str_eq(utcfmt(utc("2026-11-23T09:00:00Z")),
	    "2026-11-23T09:00:00Z");
	ck_assert_str_eq(utcfmt(1798761600), "2027-01-01T00:00:00Z");
	ck_assert_int_eq(time_parse_utc("2026-11-23T24:00:00Z", &t), -1);
	ck_assert_int_eq(time_parse_utc("2026-11-23T09:00:00", &t), -1);
	ck_assert_int_eq(time_parse_utc("2026-11-23 09:00:00Z", &t), -1);
	ck_assert_int_eq(time_parse_utc("2026-02-30T09:00:00Z", &t), -1);
	ck_assert_int_eq(time_parse_utc("2026-11-23T09:00:00Zx", &t), -1);
}
END_TEST

START_TEST(a_day_ends_at_local_midnight_in_its_zone)
{
	/* New York in winter is UTC-5: 2026-01-15 ends at 05:00 UTC on the 16th. */
	ck_assert_str_eq(utcfmt(tz_day_end("America/New_York",
	    parsed("2026-01-15"))), "2026-01-16T05:00:00Z");
	/* In summer, UTC-4. */
	ck_assert_str_eq(utcfmt(tz_day_end("America/New_York",
	    parsed("2026-07-15"))), "2026-07-16T04:00:00Z");
	ck_assert_str_eq(utcfmt(tz_day_end("UTC", parsed("2026-12-31"))),
	    "2027-01-01T00:00:00Z");
}
END_TEST

START_TEST(dst_days_in_new_york_end_at_the_right_instant)
{
	time_t start, end;

	/* 2026-03-08: clocks spring forward; the day has 23 hours. */
	start = tz_day_end("America/New_York", parsed("2026-03-07"));
	end = tz_day_end("America/New_York", parsed("2026-03-08"));
	ck_assert_str_eq(utcfmt(start), "2026-03-08T05:00:00Z");
	ck_assert_str_eq(utcfmt(end), "2026-03-09T04:00:00Z");
	ck_assert_int_eq(end - start, 23 * 3600);
	/* 2026-11-01: clocks fall back; the day has 25 hours. */
	start = tz_day_end("America/New_York", parsed("2026-10-31"));
	end = tz_day_end("America/New_York", parsed("2026-11-01"));
	ck_assert_str_eq(utcfmt(start), "2026-11-01T04:00:00Z");
	ck_assert_str_eq(utcfmt(end), "2026-11-02T05:00:00Z");
	ck_assert_int_eq(end - start, 25 * 3600);
}
END_TEST

START_TEST(dst_in_london_moves_the_day_end_by_an_hour)
{
	/* BST starts 2026-03-29 and ends 2026-10-25. */
	ck_assert_str_eq(utcfmt(tz_day_end("Europe/London",
	    parsed("2026-03-28"))), "2026-03-29T00:00:00Z");
	ck_assert_str_eq(utcfmt(tz_day_end("Europe/London",
	    parsed("2026-03-29"))), "2026-03-29T23:00:00Z");
	ck_assert_str_eq(utcfmt(tz_day_end("Europe/London",
	    parsed("2026-10-25"))), "2026-10-26T00:00:00Z");
}
END_TEST

START_TEST(a_missing_local_midnight_ends_the_day_at_the_first_instant_after)
{
	/*
	 * America/Havana springs forward at midnight: 2026-03-08 00:00 does
	 * not exist; the clock goes from 23:59:59 (UTC-5) to 01:00 (UTC-4),
	 * i.e. 05:00 UTC.  The day 2026-03-07 ends then.
	 */
	time_t t;

	if (!tz_valid("America/Havana")) {
		printf("SKIPPED: no America/Havana zone\n");
		return;
	}
	t = tz_day_end("America/Havana", parsed("2026-03-07"));
	ck_assert_int_eq(tz_date_at("America/Havana", t), parsed("2026-03-08"));
	ck_assert_int_eq(tz_date_at("America/Havana", t - 1),
	    parsed("2026-03-07"));
}
END_TEST

START_TEST(zones_far_apart_see_different_dates_at_one_instant)
{
	time_t t = utc("2026-11-23T09:00:00Z");

	/* +14: already the evening of the 23rd; -11: still the 22nd. */
	ck_assert_str_eq(fmt(tz_date_at("Pacific/Kiritimati", t)), "2026-11-23");
	ck_assert_str_eq(fmt(tz_date_at("Pacific/Pago_Pago", t)), "2026-11-22");
	t = utc("2026-11-23T11:00:00Z");
	ck_assert_str_eq(fmt(tz_date_at("Pacific/Kiritimati", t)), "2026-11-24");
	ck_assert_str_eq(fmt(tz_date_at("Pacific/Pago_Pago", t)), "2026-11-23");
	ck_assert_str_eq(utcfmt(tz_day_end("Pacific/Kiritimati",
	    parsed("2026-11-23"))), "2026-11-23T10:00:00Z");
	ck_assert_str_eq(utcfmt(tz_day_end("Pacific/Pago_Pago",
	    parsed("2026-11-23"))), "2026-11-24T11:00:00Z");
}
END_TEST

START_TEST(applying_a_zone_restores_the_previous_tz)
{
	ck_assert_int_eq(setenv("TZ", "Asia/Tokyo", 1), 0);
	(void)tz_date_at("America/New_York", 0);
	(void)tz_day_end("Europe/London", parsed("2026-03-29"));
	ck_assert_str_eq(getenv("TZ"), "Asia/Tokyo");
	ck_assert_int_eq(unsetenv("TZ"), 0);
	(void)tz_date_at("Pacific/Kiritimati", 0);
	ck_assert_ptr_null(getenv("TZ"));
	/* The host zone (TZ unset) is whatever localtime says. */
	ck_assert_int_eq(setenv("TZ", "UTC", 1), 0);
	ck_assert_int_eq(tz_date_at(NULL, utc("2026-11-23T23:59:59Z")),
	    parsed("2026-11-23"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("date");
	TCase *tc = tcase_create("date");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, day_zero_is_1970_01_01_and_known_dates_have_known_numbers);
	tcase_add_test(tc, day_numbers_round_trip_over_ten_thousand_years);
	tcase_add_test(tc, leap_years_follow_the_gregorian_rule);
	tcase_add_test(tc, date_parse_refuses_impossible_and_sloppy_dates);
	tcase_add_test(tc, adding_days_crosses_month_and_year_ends);
	tcase_add_test(tc, duration_of_one_month_clamps_to_february_end);
	tcase_add_test(tc, a_year_after_a_leap_day_is_february_28);
	tcase_add_test(tc, durations_parse_strictly_and_format_back);
	tcase_add_test(tc, adding_a_huge_duration_saturates_at_year_9999);
	tcase_add_test(tc, num_parse_is_bounded_and_whole);
	tcase_add_test(tc, tz_valid_accepts_iana_names_and_refuses_escapes);
	tcase_add_test(tc, tz_valid_refuses_a_file_that_is_not_tzif);
	tcase_add_test(tc, utc_timestamps_round_trip_and_parse_strictly);
	tcase_add_test(tc, a_day_ends_at_local_midnight_in_its_zone);
	tcase_add_test(tc, dst_days_in_new_york_end_at_the_right_instant);
	tcase_add_test(tc, dst_in_london_moves_the_day_end_by_an_hour);
	tcase_add_test(tc, a_missing_local_midnight_ends_the_day_at_the_first_instant_after);
	tcase_add_test(tc, zones_far_apart_see_different_dates_at_one_instant);
	tcase_add_test(tc, applying_a_zone_restores_the_previous_tz);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
