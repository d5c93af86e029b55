/* check_text.c: admin-typed reasons on their way to certificates. */
#include "testutil.h"

#include "base/text.h"

START_TEST(well_formed_utf8_is_accepted_and_every_malformed_kind_is_not)
{
	static const char *const good[] = {
		"", "plain", "Müller", "日本語", "emoji \xf0\x9f\x98\x80",
		"\xef\xbf\xbf", "\xf4\x8f\xbf\xbf",
	};
	static const struct {
		const char *s;
		size_t bad;
	} bad[] = {
		{ "ab\xff", 2 },		/* never in UTF-8 */
		{ "\xc0\xaf", 0 },		/* overlong '/' */
		{ "x\xe0\x80\xaf", 1 },		/* overlong, 3 bytes */
		{ "\xed\xa0\x80", 0 },		/* a surrogate */
		{ "\xf4\x90\x80\x80", 0 },	/* above U+10FFFF */
		{ "ok\xc3", 2 },		/* cut short */
		{ "\xc3(", 0 },			/* bad continuation */
		{ "\x80", 0 },			/* a lone continuation */
	};
	char at[32];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(text_utf8_valid(good[i], strlen(good[i])),
		    "rejected %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char why[256];
		ck_assert_msg(!text_utf8_valid(bad[i].s, strlen(bad[i].s)),
		    "accepted case %zu", i);
		/* The reason check says where. */
		ck_assert_int_eq(text_reason_check(bad[i].s, why, sizeof(why)),
		    -1);
		snprintf(at, sizeof(at), "(byte %zu, ", bad[i].bad + 1);
		ck_assert_msg(strstr(why, at) != NULL, "%s", why);
	}
}
END_TEST

START_TEST(a_reason_is_refused_for_what_it_is_never_cut)
{
	char why[256], r[200];

	ck_assert_int_eq(text_reason_check("subpoena no. 26-114; counsel "
	    "notified (#77)", why, sizeof(why)), 0);
	/* The one rule of text.h: nothing an INI reader would misread. */
	ck_assert_int_eq(text_reason_check("subpoena #26-114", why,
	    sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "a blank is followed by ';' or '#'"));
	ck_assert_int_eq(text_reason_check(" leading", why, sizeof(why)), -1);
	ck_assert_int_eq(text_reason_check("", why, sizeof(why)), -1);
	ck_assert_int_eq(text_reason_check("bad \xff byte", why, sizeof(why)),
	    -1);
	ck_assert_ptr_nonnull(strstr(why, "not valid UTF-8 (byte 5, 0xff)"));
	ck_assert_int_eq(text_reason_check("two\nlines", why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "U+000A at byte 4"));
	ck_assert_int_eq(text_reason_check("c1 \xc2\x9b here", why,
	    sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "U+009B"));
	memset(r, 'a', TEXT_REASON_MAX);
	r[TEXT_REASON_MAX] = '\0';
	ck_assert_int_eq(text_reason_check(r, why, sizeof(why)), 0);
	r[TEXT_REASON_MAX] = 'a';
	r[TEXT_REASON_MAX + 1] = '\0';
	ck_assert_int_eq(text_reason_check(r, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "151 bytes long; at most 150"));
}
END_TEST

START_TEST(cert_safe_never_leaves_raw_bytes_or_comment_characters)
{
	char s[] = "#a;b #c\x01;d\xff" "e\xc2\x85" "f Müller (#1)";
	char ok[] = "no. 26-114; counsel (#77) Müller";

	text_cert_safe(s);
	ck_assert_str_eq(s, ",a;b ,c ,d?e  f Müller (#1)");
	text_cert_safe(ok);
	ck_assert_str_eq(ok, "no. 26-114; counsel (#77) Müller");
}
END_TEST

START_TEST(a_name_shown_on_a_terminal_has_no_control_byte_and_is_never_cut_mid_escape)
{
	char buf[64], small[8];

	/* A newline, an escape sequence, DEL and the backslash itself. */
	text_shown("a\nb\x1b[2Jc\x7f\\d Müller", buf, sizeof(buf));
	ck_assert_str_eq(buf, "a\\x0ab\\x1b[2Jc\\x7f\\x5cd Müller");
	/* Full: cut at a whole escape, always terminated. */
	text_shown("ab\ncdefgh", small, sizeof(small));
	ck_assert_str_eq(small, "ab\\x0a");
	text_shown("ab\ncdefgh", small, sizeof(small) - 1);
	ck_assert_str_eq(small, "ab");
	text_shown("abcdefgh", small, 1);
	ck_assert_str_eq(small, "");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("text");
	TCase *t = tcase_create("text");

	tcase_add_test(t, well_formed_utf8_is_accepted_and_every_malformed_kind_is_not);
	tcase_add_test(t, a_reason_is_refused_for_what_it_is_never_cut);
	tcase_add_test(t, cert_safe_never_leaves_raw_bytes_or_comment_characters);
	tcase_add_test(t, a_name_shown_on_a_terminal_has_no_control_byte_and_is_never_cut_mid_escape);
	suite_add_tcase(s, t);
	return tu_run(s);
}
