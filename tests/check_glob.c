/* check_glob.c: dataset glob matching of names and relative paths. */
#include "testutil.h"

#include "locate/locate.h"

START_TEST(star_matches_any_name_with_the_suffix)
{
	ck_assert(glob_match_component("*.csv", "roster.csv"));
	ck_assert(glob_match_component("*.csv", ".csv"));
	ck_assert(!glob_match_component("*.csv", "roster.csv.bak"));
	ck_assert(!glob_match_component("*.csv", "roster.CSV"));
	ck_assert(glob_match_component("*", "anything at all"));
	ck_assert(glob_match_component("a*b*c", "aXXbYYc"));
	ck_assert(!glob_match_component("a*b*c", "aXXbYYcd"));
	ck_assert(glob_match_component("**x", "x"));
}
END_TEST

START_TEST(star_matches_dotfiles_so_hidden_files_are_not_missed)
{
	ck_assert(glob_match_component("*", ".hidden"));
	ck_assert(glob_match_component("*.csv", ".roster.csv"));
	ck_assert(glob_match_path("**/*", "a/.cache/.x"));
}
END_TEST

START_TEST(question_mark_matches_exactly_one_byte)
{
	ck_assert(glob_match_component("file?.txt", "file1.txt"));
	ck_assert(!glob_match_component("file?.txt", "file.txt"));
	ck_assert(!glob_match_component("file?.txt", "file12.txt"));
	ck_assert(glob_match_component("?", "."));
}
END_TEST

START_TEST(brackets_match_ranges_sets_and_negations)
{
	ck_assert(glob_match_component("[a-c]x", "bx"));
	ck_assert(!glob_match_component("[a-c]x", "dx"));
	ck_assert(glob_match_component("[!a-c]x", "dx"));
	ck_assert(glob_match_component("[^a-c]x", "dx"));
	ck_assert(!glob_match_component("[!a-c]x", "ax"));
	ck_assert(glob_match_component("[]]", "]"));
	ck_assert(glob_match_component("[a-]", "-"));
	ck_assert(glob_match_component("grade[0-9][0-9].csv", "grade07.csv"));
}
END_TEST

START_TEST(an_unclosed_bracket_is_a_literal_bracket)
{
	ck_assert(glob_match_component("[abc", "[abc"));
	ck_assert(!glob_match_component("[abc", "a"));
}
END_TEST

START_TEST(backslash_makes_the_next_byte_literal)
{
	ck_assert(glob_match_component("a\\*b", "a*b"));
	ck_assert(!glob_match_component("a\\*b", "axb"));
	ck_assert(!glob_is_literal("a\\*b"));
	ck_assert(glob_is_literal("plain-name.csv"));
	ck_assert(!glob_is_literal("*.csv"));
}
END_TEST

START_TEST(double_star_matches_zero_or_more_directories)
{
	ck_assert(glob_match_path("osde/**/*.csv", "osde/a.csv"));
	ck_assert(glob_match_path("osde/**/*.csv", "osde/2026/a.csv"));
	ck_assert(glob_match_path("osde/**/*.csv", "osde/x/y/z/a.csv"));
	ck_assert(!glob_match_path("osde/**/*.csv", "other/a.csv"));
	ck_assert(!glob_match_path("osde/**/*.csv", "osde/x/a.txt"));
	ck_assert(glob_match_path("**", "a/b/c"));
	ck_assert(glob_match_path("osde/**", "osde/a/b"));
	ck_assert(glob_match_path("osde/**", "osde"));
	ck_assert(glob_match_path("**/b/**/d", "a/b/c/b/d"));
}
END_TEST

START_TEST(star_never_crosses_a_slash)
{
	ck_assert(!glob_match_path("osde/*.csv", "osde/x/a.csv"));
	ck_assert(!glob_match_path("*", "a/b"));
	ck_assert(!glob_match_component("a*", "a/b"));
}
END_TEST

START_TEST(paths_ignore_repeated_slashes_and_dot_components)
{
	ck_assert(glob_match_path("a//b/*.csv", "a/./b/x.csv"));
	ck_assert(glob_match_path("a/b/", "a/b"));
}
END_TEST

START_TEST(many_double_stars_do_not_explode)
{
	char path[2048] = "";

	for (int i = 0; i < 100; i++)
		strcat(path, "d/");
	strcat(path, "x");
	ck_assert(!glob_match_path("**/**/**/**/**/**/**/**/**/**/y", path));
	ck_assert(glob_match_path("**/**/**/**/**/**/**/**/**/**/x", path));
}
END_TEST

START_TEST(the_literal_prefix_stops_at_the_first_wild_component)
{
	char b[256];

	ck_assert_uint_eq(glob_literal_prefix("/srv/a/x?/b/f.csv", b, sizeof(b)), 6);
	ck_assert_str_eq(b, "/srv/a");
	glob_literal_prefix("/srv/a/f.csv", b, sizeof(b));
	ck_assert_str_eq(b, "/srv/a");
	glob_literal_prefix("/srv/a/**", b, sizeof(b));
	ck_assert_str_eq(b, "/srv/a");
	glob_literal_prefix("/*.csv", b, sizeof(b));
	ck_assert_str_eq(b, "/");
	glob_literal_prefix("/srv/a\\*/f", b, sizeof(b));
	ck_assert_str_eq(b, "/srv");
}
END_TEST

START_TEST(a_glob_reaches_a_directory_it_can_match_below)
{
	ck_assert(glob_reaches("/srv/a/**", "/srv/a/state"));
	ck_assert(glob_reaches("/srv/**/*.csv", "/srv/a/state"));
	ck_assert(glob_reaches("/srv/*/journal", "/srv/state"));
	ck_assert(glob_reaches("/srv/a/**", "/srv/a"));
	ck_assert(!glob_reaches("/srv/a/*.csv", "/srv/a/state"));
	ck_assert(!glob_reaches("/srv/a/**", "/srv/b"));
	ck_assert(!glob_reaches("/srv/a/*", "/srv/a/state"));
	ck_assert(!glob_reaches("/srv/a", "/srv/a"));
}
END_TEST

START_TEST(overlap_is_judged_on_the_globs_text_and_errs_toward_yes)
{
	ck_assert(glob_may_overlap("/srv/acme/**", "/srv/acme/x/*.csv"));
	ck_assert(glob_may_overlap("/srv/**/*.csv", "/srv/a/*"));
	ck_assert(glob_may_overlap("/srv/*.csv", "/srv/a*"));
	ck_assert(!glob_may_overlap("/srv/a/*.csv", "/srv/b/*.csv"));
	ck_assert(!glob_may_overlap("/srv/a/x.csv", "/srv/a/y.csv"));
	ck_assert(!glob_may_overlap("/srv/a/*.csv", "/srv/a/*/*.csv"));
	ck_assert(!glob_may_overlap("/srv/a/x.txt", "/srv/a/*.csv"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("glob");
	TCase *tc = tcase_create("glob");

	tcase_add_test(tc, star_matches_any_name_with_the_suffix);
	tcase_add_test(tc, star_matches_dotfiles_so_hidden_files_are_not_missed);
	tcase_add_test(tc, question_mark_matches_exactly_one_byte);
	tcase_add_test(tc, brackets_match_ranges_sets_and_negations);
	tcase_add_test(tc, an_unclosed_bracket_is_a_literal_bracket);
	tcase_add_test(tc, backslash_makes_the_next_byte_literal);
	tcase_add_test(tc, double_star_matches_zero_or_more_directories);
	tcase_add_test(tc, star_never_crosses_a_slash);
	tcase_add_test(tc, paths_ignore_repeated_slashes_and_dot_components);
	tcase_add_test(tc, many_double_stars_do_not_explode);
	tcase_add_test(tc, the_literal_prefix_stops_at_the_first_wild_component);
	tcase_add_test(tc, a_glob_reaches_a_directory_it_can_match_below);
	tcase_add_test(tc, overlap_is_judged_on_the_globs_text_and_errs_toward_yes);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
