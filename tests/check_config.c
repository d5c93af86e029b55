/* check_config.c: lethe.conf (agent/config.c) and the INI reader under it
 * (agent/iniread.c). */
#include "testutil.h"

#include "conf/config.h"
#include "base/err.h"
#include "conf/iniread.h"

#include <errno.h>
#include <limits.h>

static int
load(const char *fixture, struct config *c, struct diags *d, char **path)
{
	*path = tu_data(fixture);
	return config_load(*path, c, d);
}

START_TEST(the_example_config_loads_with_its_roots)
{
	struct config c;
	struct diags d = { 0 };
	char *path = NULL;
	const char *top = getenv("LETHE_TOP");

	ck_assert_int_ge(asprintf(&path, "%s/etc/lethe.conf", top ? top : "."),
	    0);
	ck_assert_int_eq(config_load(path, &c, &d), 0);
	ck_assert_int_eq(diag_errors(&d), 0);
	ck_assert_uint_eq(c.nroots, 2);
	ck_assert_str_eq(c.roots[0], "/srv/edtech");
	ck_assert_str_eq(c.roots[1], "/backups");
	ck_assert_str_eq(c.state_dir, "/var/lib/lethe");
	ck_assert_str_eq(c.policy_dir, "/etc/lethe/policies.d");
	ck_assert_str_eq(c.sign_key, "/etc/lethe/certs/agent.key");
	ck_assert_str_eq(c.sign_chain, "/etc/lethe/certs/ca.pem");
	ck_assert_ptr_null(c.tsa_command);
	ck_assert_str_eq(c.sendmail, "/usr/sbin/sendmail");
	ck_assert_int_eq(c.line_roots, 16);
	ck_assert_int_eq(c.parsed, 1);
	config_free(&c);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(a_complete_config_fills_every_field_and_drops_a_trailing_slash)
{
	struct config c;
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("config_example_roots.conf", &c, &d, &path), 0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_str_eq(c.path, path);
	ck_assert_uint_eq(c.nroots, 2);
	ck_assert_str_eq(c.roots[1], "/backups");
	ck_assert_str_eq(c.host, "app-1");
	ck_assert_str_eq(c.vendor_name, "Example Learning, Inc.");
	ck_assert_str_eq(c.vendor_contact, "privacy@example.com");
	ck_assert_str_eq(c.kek, "/var/lib/lethe/kek");
	ck_assert_str_eq(c.sendmail, "/usr/sbin/sendmail -oi");
	ck_assert_str_eq(c.mail_from, "privacy@example.com");
	ck_assert_ptr_null(c.sign_key);
	ck_assert_ptr_null(c.tsa_command);
	config_free(&c);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(defaults_fill_what_the_config_leaves_out)
{
	struct config c;
	struct diags d = { 0 };
	char *dir = tu_tmpdir(), host[256];
	char *path = tu_write(dir, "lethe.conf", "[agent]\n"
	    "state_dir = /var/lib/lethe-x/state/\nallowed_roots = /srv/edtech\n"
	    "[vendor]\ncontact = dpo@vendor.example\n");

	ck_assert_int_eq(config_load(path, &c, &d), 0);
	ck_assert_str_eq(c.state_dir, "/var/lib/lethe-x/state");
	ck_assert_str_eq(c.policy_dir, "/etc/lethe/policies.d");
	ck_assert_str_eq(c.kek, "/var/lib/lethe-x/state/kek");
	ck_assert_int_eq(c.sendmail_timeout, 60);
	ck_assert_int_eq(c.tsa_timeout, 60);
	ck_assert_str_eq(c.sendmail, "/usr/sbin/sendmail");
	ck_assert_str_eq(c.mail_from, "dpo@vendor.example");
	ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
	ck_assert_str_eq(c.host, host);
	config_free(&c);
	diag_free(&d);
	free(path);
	tu_rmtree(dir);
}
END_TEST

START_TEST(allowed_roots_of_slash_is_refused)
{
	struct config c;
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("config_root_slash.conf", &c, &d, &path), -1);
	tu_expect(&d, path, 3, "allowed root '/' is the whole filesystem; name "
	    "the directories that hold student data");
	ck_assert_uint_eq(c.nroots, 0);
	ck_assert_int_eq(config_root_of(&c, "/srv/edtech/x"), -1);
	config_free(&c);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(allowed_roots_in_system_directories_are_refused_by_name)
{
	struct config c;
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("config_root_in_system_dir.conf", &c, &d, &path),
	    -1);
	tu_expect(&d, path, 2, "allowed root '/etc/foo' is inside /etc, a system "
	    "directory; lethe never writes or removes there");
	tu_expect(&d, path, 2, "allowed root '/usr' is /usr, a system directory; "
	    "lethe never writes or removes there");
	tu_expect(&d, path, 2, "allowed root '/lib64/x' is inside /lib64, a "
	    "system directory; lethe never writes or removes there");
	tu_expect(&d, path, 2, "allowed root '/run/user' is inside /run, a system "
	    "directory; lethe never writes or removes there");
	ck_assert_uint_eq(diag_errors(&d), 4);
	/* The good one survives, so policies can still be checked. */
	ck_assert_uint_eq(c.nroots, 1);
	ck_assert_str_eq(c.roots[0], "/srv/edtech");
	config_free(&c);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(allowed_roots_must_be_absolute_and_normalised)
{
	struct config c;
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("config_root_not_normalised.conf", &c, &d, &path),
	    -1);
	tu_expect(&d, path, 2, "allowed root '/srv/../etc' has a '.' or '..' "
	    "component; write it normalised");
	tu_expect(&d, path, 2, "allowed root '/srv//edtech' has an empty "
	    "component ('//')");
	tu_expect(&d, path, 2, "allowed root '/srv/./x' has a '.' or '..' "
	    "component; write it normalised");
	tu_expect(&d, path, 2, "allowed root 'srv/edtech' is not an absolute path");
	ck_assert_uint_eq(diag_errors(&d), 4);
	config_free(&c);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(a_root_that_is_a_symlink_into_etc_is_refused)
{
	struct config c;
	struct diags d = { 0 };
	char *dir = tu_tmpdir(), *link, *text, *path, msg[PATH_MAX + 200];

	ck_assert_int_ge(asprintf(&link, "%s/innocent", dir), 0);
	ck_assert_int_eq(symlink("/etc", link), 0);
	ck_assert_int_ge(asprintf(&text, "[agent]\nallowed_roots = %s\n", link),
	    0);
	path = tu_write(dir, "lethe.conf", text);
	ck_assert_int_eq(config_load(path, &c, &d), -1);
	snprintf(msg, sizeof(msg), "allowed root '%s' resolves to '/etc', "
	    "inside /etc, a system directory; lethe never writes or removes "
	    "there", link);
	tu_expect(&d, path, 2, msg);
	config_free(&c);
	diag_free(&d);
	free(link);
	free(text);
	free(path);
	tu_rmtree(dir);
}
END_TEST

START_TEST(missing_allowed_roots_is_an_error_at_the_agent_section)
{
	struct config c;
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("config_missing_roots.conf", &c, &d, &path), -1);
	tu_expect(&d, path, 3, "allowed_roots is required in [agent]: the "
	    "directories lethe may remove files from");
	ck_assert_uint_eq(d.n, 1);
	config_free(&c);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(an_unknown_key_is_an_error_with_a_suggestion)
{
	struct config c;
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("config_misspelt_key.conf", &c, &d, &path), -1);
	tu_expect(&d, path, 2, "unknown key 'stat_dir' in [agent]; did you mean "
	    "'state_dir'?");
	tu_expect(&d, path, 4, "unknown key 'kek' in [agent]; it belongs in "
	    "[keys]");
	tu_expect(&d, path, 5, "unknown key 'colour' in [agent]");
	ck_assert_uint_eq(d.n, 3);
	config_free(&c);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(an_unknown_section_is_an_error_with_a_suggestion)
{
	struct config c;
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("config_misspelt_section.conf", &c, &d, &path),
	    -1);
	tu_expect(&d, path, 1, "unknown section [agnet]; did you mean [agent]?");
	tu_expect(&d, path, 7, "unknown section [database] (known: [agent] "
	    "[vendor] [signing] [keys] [notify])");
	/* Keys under an unknown section are not reported a second time. */
	ck_assert_uint_eq(d.n, 2);
	config_free(&c);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(bad_values_are_each_reported_at_their_line)
{
	struct config c;
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("config_bad_values.conf", &c, &d, &path), -1);
	tu_expect(&d, path, 2, "state_dir must be an absolute path, not "
	    "'var/lib/lethe'");
	tu_expect(&d, path, 3, "policy_dir is empty");
	tu_expect(&d, path, 5, "duplicate key 'allowed_roots' in [agent] (first "
	    "at line 4)");
	tu_expect(&d, path, 6, "host 'app 1' is not a host name");
	tu_expect(&d, path, 9, "contact 'privacy at example.com' is not an e-mail "
	    "address");
	tu_expect(&d, path, 12, "sendmail must start with an absolute path "
	    "(cron's PATH is short, and no PATH search is done), not "
	    "'sendmail'");
	ck_assert_uint_eq(d.n, 6);
	/* Diagnostics come in line order. */
	ck_assert_ptr_nonnull(strstr(d.v[0], ":2: "));
	ck_assert_ptr_nonnull(strstr(d.v[5], ":12: "));
	config_free(&c);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(commands_are_read_without_a_shell_and_time_limits_are_bounded)
{
	struct config c;
	struct diags d = { 0 };
	char *dir = tu_tmpdir();
	char *path = tu_write(dir, "lethe.conf", "[agent]\n"
	    "allowed_roots = /srv/edtech\n"
	    "[signing]\n"
	    "tsa_command = /usr/bin/curl --data-binary @- https://t.example | "
	    "/bin/cat\n"
	    "tsa_timeout = 0\n"
	    "[notify]\n"
	    "sendmail = '/usr/sbin/send mail' -oi\n"
	    "sendmail_timeout = 2h\n");

	ck_assert_int_eq(config_load(path, &c, &d), -1);
	tu_expect(&d, path, 4, "tsa_command: unquoted '|' at character 50: no shell "
	    "reads this line, so shell syntax does not work here; put the "
	    "commands in a script and name the script");
	tu_expect(&d, path, 5, "tsa_timeout '0' is not a time limit from 1s to "
	    "60m (e.g. 60s or 2m)");
	tu_expect(&d, path, 8, "sendmail_timeout '2h' is not a time limit from 1s "
	    "to 60m (e.g. 60s or 2m)");
	ck_assert_uint_eq(d.n, 3);
	config_free(&c);
	diag_free(&d);
	free(path);
	path = tu_write(dir, "ok.conf", "[agent]\nallowed_roots = /srv/edtech\n"
	    "[signing]\ntsa_command = '/opt/tsa client/run' --url "
	    "\"https://t.example/?a=1&b=2\"\ntsa_timeout = 2m\n"
	    "[notify]\nsendmail_timeout = 15s\n");
	ck_assert_int_eq(config_load(path, &c, &d), 0);
	ck_assert_int_eq(c.tsa_timeout, 120);
	ck_assert_int_eq(c.sendmail_timeout, 15);
	config_free(&c);
	diag_free(&d);
	free(path);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_kek_inside_an_allowed_root_is_only_a_warning)
{
	struct config c;
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("config_kek_inside_root.conf", &c, &d, &path), 0);
	ck_assert_uint_eq(diag_errors(&d), 0);
	ck_assert_uint_eq(d.nwarn, 2);
	tu_expect(&d, path, 6, "warning: the KEK must not be inside a backed-up "
	    "path: /backups/lethe/kek is inside allowed root /backups");
	tu_expect(&d, path, 2, "warning: state_dir (journal, keys, certificates) "
	    "should not be inside a disposable path: /srv/edtech/lethe is "
	    "inside allowed root /srv/edtech");
	config_free(&c);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(an_over_long_line_is_reported_at_its_line_and_not_truncated)
{
	struct config c;
	struct diags d = { 0 };
	char *path;

	ck_assert_int_eq(load("config_line_too_long.conf", &c, &d, &path), -1);
	tu_expect(&d, path, 2, "line is 537 bytes; the limit is 199");
	/* Parsing went on past it, and nothing of the line was used. */
	tu_expect(&d, path, 3, "state_dir must be an absolute path, not "
	    "'relative'");
	ck_assert_uint_eq(c.nroots, 0);
	config_free(&c);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(a_missing_config_file_is_reported_clearly)
{
	struct config c;
	struct diags d = { 0 };

	ck_assert_int_eq(config_load("/nonexistent/lethe.conf", &c, &d), -1);
	tu_expect(&d, "/nonexistent/lethe.conf", 0, "cannot open the "
	    "configuration: No such file or directory");
	ck_assert_int_eq(c.parsed, 0);
	ck_assert_uint_eq(c.nroots, 0);
	config_free(&c);
	diag_free(&d);
}
END_TEST

START_TEST(a_world_readable_signing_key_is_refused)
{
	struct config c;
	struct diags d = { 0 };
	char *dir = tu_tmpdir(), *key = tu_write(dir, "agent.key", "k\n");
	char *text, *path, msg[PATH_MAX + 100];

	ck_assert_int_eq(chmod(key, 0644), 0);
	ck_assert_int_ge(asprintf(&text, "[agent]\nallowed_roots = /srv/x\n"
	    "[signing]\nkey = %s\n", key), 0);
	path = tu_write(dir, "lethe.conf", text);
	ck_assert_int_eq(config_load(path, &c, &d), -1);
	snprintf(msg, sizeof(msg), "signing key %s is mode 0644; it must be "
	    "0600 or stricter", key);
	tu_expect(&d, path, 4, msg);
	config_free(&c);
	diag_free(&d);
	ck_assert_int_eq(chmod(key, 0600), 0);
	ck_assert_int_eq(config_load(path, &c, &d), 0);
	config_free(&c);
	diag_free(&d);
	free(text);
	free(path);
	free(key);
	tu_rmtree(dir);
}
END_TEST

START_TEST(config_root_of_matches_whole_components_only)
{
	char *roots[] = { "/srv/edtech", "/backups" };
	struct config c;

	memset(&c, 0, sizeof(c));
	c.roots = roots;
	c.nroots = 2;
	ck_assert_int_eq(config_root_of(&c, "/srv/edtech"), 0);
	ck_assert_int_eq(config_root_of(&c, "/srv/edtech/a/b.csv"), 0);
	ck_assert_int_eq(config_root_of(&c, "/backups/x.tar.gz"), 1);
	ck_assert_int_eq(config_root_of(&c, "/srv/edtechx/a"), -1);
	ck_assert_int_eq(config_root_of(&c, "/srv"), -1);
	ck_assert_int_eq(config_root_of(&c, "/srv/edtech/../../etc"), -1);
	ck_assert_int_eq(config_root_of(&c, "/srv/edtech/./a"), -1);
	ck_assert_int_eq(config_root_of(&c, "srv/edtech/a"), -1);
	ck_assert_int_eq(config_root_of(&c, "/srv/edtech/..hidden"), 0);
}
END_TEST

START_TEST(e_mail_addresses_are_checked_plainly)
{
	ck_assert(config_valid_email("privacy@example.com"));
	ck_assert(config_valid_email("j.smith+dpo@district.k12.nh.us"));
	ck_assert(!config_valid_email("privacy"));
	ck_assert(!config_valid_email("privacy@localhost"));
	ck_assert(!config_valid_email("@example.com"));
	ck_assert(!config_valid_email("a@b@example.com"));
	ck_assert(!config_valid_email("A <a@example.com>"));
	ck_assert(!config_valid_email("a@example..com"));
	ck_assert(!config_valid_email("a@example.com\r\nBcc: x@y.z"));
}
END_TEST

/* iniread: every callback gets FILE:LINE. */
struct seen {
	char log[2048];
};

static int
log_key(void *arg, const char *file, int line, const char *section,
    const char *name, const char *value)
{
	struct seen *s = arg;
	size_t n = strlen(s->log);

	snprintf(s->log + n, sizeof(s->log) - n, "%s:%d [%s] %s=%s\n", file,
	    line, section, name, value);
	return 0;
}

static int
log_section(void *arg, const char *file, int line, const char *section)
{
	struct seen *s = arg;
	size_t n = strlen(s->log);

	snprintf(s->log + n, sizeof(s->log) - n, "%s:%d [%s]\n", file, line,
	    section);
	return 0;
}

START_TEST(iniread_gives_every_key_and_section_its_own_line)
{
	struct seen s = { "" };
	struct diags d = { 0 };

	ck_assert_int_eq(iniread_text("t.ini", "; comment\n\n[a]\nx = 1\n"
	    "   y = two words   ; comment\n# other comment\n[empty]\n[b]\n"
	    "z: 3\r\nw =\n", log_key, log_section, &s, &d), 0);
	ck_assert_str_eq(s.log, "t.ini:3 [a]\nt.ini:4 [a] x=1\n"
	    "t.ini:5 [a] y=two words\nt.ini:7 [empty]\nt.ini:8 [b]\n"
	    "t.ini:9 [b] z=3\nt.ini:10 [b] w=\n");
	ck_assert_uint_eq(d.n, 0);
}
END_TEST

START_TEST(iniread_accepts_199_bytes_and_refuses_200)
{
	char text[600], *p = text;
	struct seen s = { "" };
	struct diags d = { 0 };

	/* Line 2: "k = " + 195 'a' = 199 bytes.  Line 3: 200 bytes. */
	p += sprintf(p, "[s]\nk = ");
	memset(p, 'a', 195);
	p += 195;
	p += sprintf(p, "\r\nl = ");
	memset(p, 'b', 196);
	p += 196;
	p += sprintf(p, "\nm = 1");	/* no final newline */
	*p = '\0';
	ck_assert_int_eq(iniread_text("t.ini", text, log_key, NULL, &s, &d), -1);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.v[0], "t.ini:3: line is 200 bytes; the limit is 199");
	ck_assert_ptr_nonnull(strstr(s.log, "t.ini:2 [s] k=aaaa"));
	ck_assert_ptr_null(strstr(s.log, "bbbb"));
	ck_assert_ptr_nonnull(strstr(s.log, "t.ini:4 [s] m=1\n"));
	diag_free(&d);
}
END_TEST

START_TEST(iniread_refuses_a_section_name_inih_would_cut)
{
	struct seen s = { "" };
	struct diags d = { 0 };
	char text[200];

	snprintf(text, sizeof(text), "[dataset \"%s\"]\nk = v\n[ok]\nk = 2\n",
	    "a-name-that-is-far-too-long-for-inih-to-keep");
	ck_assert_int_eq(iniread_text("t.ini", text, log_key, log_section, &s,
	    &d), -1);
	ck_assert_str_eq(d.v[0], "t.ini:1: section name is 54 bytes; the limit "
	    "is 49");
	/* Its key is not blamed on any other section. */
	ck_assert_str_eq(s.log, "t.ini:3 [ok]\nt.ini:4 [ok] k=2\n");
	diag_free(&d);
}
END_TEST

START_TEST(iniread_reports_a_missing_file_and_a_directory)
{
	struct diags d = { 0 };

	ck_assert_int_eq(iniread_file("/nonexistent.ini", log_key, NULL, NULL,
	    &d), INIREAD_UNREAD);
	ck_assert_str_eq(d.v[0], "/nonexistent.ini: cannot open: No such file "
	    "or directory");
	ck_assert_int_eq(iniread_file("/tmp", log_key, NULL, NULL, &d),
	    INIREAD_UNREAD);
	ck_assert_str_eq(d.v[1], "/tmp: is a directory, not a file");
	diag_free(&d);
}
END_TEST

START_TEST(iniread_skips_a_byte_order_mark_and_reports_text_after_a_header)
{
	struct seen s = { "" };
	struct diags d = { 0 };

	ck_assert_int_eq(iniread_text("t.ini", "\xEF\xBB\xBF[a]\nk = 1\n"
	    "[b] junk\nk = 2\n", log_key, log_section, &s, &d), -1);
	ck_assert_str_eq(s.log, "t.ini:1 [a]\nt.ini:2 [a] k=1\n");
	ck_assert_str_eq(d.v[0], "t.ini:3: unexpected text after ']'");
	diag_free(&d);
}
END_TEST

START_TEST(suggestions_are_made_only_when_close)
{
	static const char *const names[] = { "state_dir", "policy_dir",
	    "allowed_roots" };

	ck_assert_str_eq(iniread_suggest("allowed_root", names, 3),
	    "allowed_roots");
	ck_assert_str_eq(iniread_suggest("STATE_DIR", names, 3), "state_dir");
	ck_assert_str_eq(iniread_suggest("polcy_dri", names, 3), "policy_dir");
	ck_assert_ptr_null(iniread_suggest("colour", names, 3));
	ck_assert_ptr_null(iniread_suggest("", names, 3));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, the_example_config_loads_with_its_roots);
	tcase_add_test(tc, a_complete_config_fills_every_field_and_drops_a_trailing_slash);
	tcase_add_test(tc, defaults_fill_what_the_config_leaves_out);
	tcase_add_test(tc, allowed_roots_of_slash_is_refused);
	tcase_add_test(tc, allowed_roots_in_system_directories_are_refused_by_name);
	tcase_add_test(tc, allowed_roots_must_be_absolute_and_normalised);
	tcase_add_test(tc, a_root_that_is_a_symlink_into_etc_is_refused);
	tcase_add_test(tc, missing_allowed_roots_is_an_error_at_the_agent_section);
	tcase_add_test(tc, an_unknown_key_is_an_error_with_a_suggestion);
	tcase_add_test(tc, an_unknown_section_is_an_error_with_a_suggestion);
	tcase_add_test(tc, bad_values_are_each_reported_at_their_line);
	tcase_add_test(tc,
	    commands_are_read_without_a_shell_and_time_limits_are_bounded);
	tcase_add_test(tc, a_kek_inside_an_allowed_root_is_only_a_warning);
	tcase_add_test(tc, an_over_long_line_is_reported_at_its_line_and_not_truncated);
	tcase_add_test(tc, a_missing_config_file_is_reported_clearly);
	tcase_add_test(tc, a_world_readable_signing_key_is_refused);
	tcase_add_test(tc, config_root_of_matches_whole_components_only);
	tcase_add_test(tc, e_mail_addresses_are_checked_plainly);
	tcase_add_test(tc, iniread_gives_every_key_and_section_its_own_line);
	tcase_add_test(tc, iniread_accepts_199_bytes_and_refuses_200);
	tcase_add_test(tc, iniread_refuses_a_section_name_inih_would_cut);
	tcase_add_test(tc, iniread_reports_a_missing_file_and_a_directory);
	tcase_add_test(tc, iniread_skips_a_byte_order_mark_and_reports_text_after_a_header);
	tcase_add_test(tc, suggestions_are_made_only_when_close);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
