/* check_transfer.c: the Exhibit D transfer archive, checked with GNU tar,
 * bsdtar, sha256sum and python3's tarfile. */
#include "testutil.h"

#include "base/err.h"
#include "sanitize/overwrite.h"
#include "sanitize/transfer.h"

#include <fcntl.h>
#include <stdarg.h>

static char *T;

static void
setup(void)
{
	T = tu_tmpdir();
}

static void
teardown(void)
{
	tu_rmtree(T);
	T = NULL;
}

/* Shell commands run in T (testutil.h). */
#define shq(...) tu_shq(T, __VA_ARGS__)
#define SH(...) TU_SH(T, __VA_ARGS__)

static int
dir(const char *rel)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s", T, rel);
	int fd = open(p, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(fd, 0);
	return fd;
}

/* Three files in two directories of a dataset root, packed to out/. */
static int
pack3(const char *name, struct transfer_result *r, struct err *e)
{
	int a, b, o, rc;

	SH("set -e; mkdir -p root/osde/sub out;"
	    "printf 'FILE_ONE roster\\n' > root/osde/a.csv;"
	    "{ printf FILE_TWO; head -c 3000000 /dev/urandom; } > root/osde/b.bin;"
	    "printf 'FILE_THREE\\n' > root/osde/sub/c.txt; chmod 0640 root/osde/a.csv;"
	    "touch -d '2022-02-03 04:05:06' root/osde/a.csv");
	a = dir("root/osde");
	b = dir("root/osde/sub");
	o = dir("out");
	struct transfer_file f[3] = {
		{ .dirfd = a, .name = "a.csv", .path = "osde/a.csv" },
		{ .dirfd = a, .name = "b.bin", .path = "osde/b.bin" },
		{ .dirfd = b, .name = "c.txt", .path = "osde/sub/c.txt" },
	};
	memset(e, 0, sizeof(*e));
	rc = transfer_pack(o, name, name, f, 3, r, e);
	close(a);
	close(b);
	close(o);
	return rc;
}

START_TEST(three_files_list_and_extract_identically_with_gnu_tar_and_bsdtar)
{
	struct transfer_result r;
	struct err e;

	ck_assert_msg(pack3("t.tar.gz", &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.files, 3);
	ck_assert_uint_eq(r.bytes, 16 + 3000008 + 11);
	SH("set -e; tar -tzf out/t.tar.gz > l1; bsdtar -tf out/t.tar.gz > l2; diff l1 l2;"
	    "printf 'osde/a.csv\\nosde/b.bin\\nosde/sub/c.txt\\nMANIFEST.sha256\\n' > want; diff want l1");
	SH("set -e; mkdir g b; tar -xzf out/t.tar.gz -C g; bsdtar -xf out/t.tar.gz -C b;"
	    "for d in g b; do for f in osde/a.csv osde/b.bin osde/sub/c.txt; do cmp root/$f $d/$f; done; done;"
	    "test \"$(stat -c '%%a %%Y' g/osde/a.csv)\" = \"640 $(date -d '2022-02-03 04:05:06' +%%s)\"");
	/* Still a gzip'd pax archive, and private to its owner. */
	SH("set -e; test \"$(head -c 2 out/t.tar.gz | od -An -tx1 | tr -d ' ')\" = 1f8b;"
	    "test \"$(stat -c %%a out/t.tar.gz)\" = 600; gzip -t out/t.tar.gz");
	SH("test -z \"$(ls -A out | grep lethe)\"");
}
END_TEST

START_TEST(the_manifest_checks_with_sha256sum_and_the_digest_is_the_file)
{
	struct transfer_result r;
	struct err e;
	char hexd[65];

	ck_assert_msg(pack3("t.tar.gz", &r, &e) == 0, "%s", e.msg);
	SH("set -e; mkdir x; tar -xzf out/t.tar.gz -C x; cd x; sha256sum --strict --quiet -c MANIFEST.sha256;"
	    "test $(wc -l < MANIFEST.sha256) = 3; sha256sum osde/a.csv osde/b.bin osde/sub/c.txt | diff - MANIFEST.sha256");
	for (int i = 0; i < 32; i++)
		snprintf(hexd + 2 * i, 3, "%02x", r.sha256[i]);
	SH("test \"$(sha256sum out/t.tar.gz | cut -d' ' -f1)\" = %s", hexd);
	SH("test $(stat -c %%s out/t.tar.gz) = %ju", (uintmax_t)r.size);
}
END_TEST

START_TEST(a_tampered_archive_fails_the_read_back_check)
{
	struct transfer_result r, r2;
	struct err e;

	ck_assert_msg(pack3("t.tar.gz", &r, &e) == 0, "%s", e.msg);
	int o = dir("out");
	ck_assert_msg(transfer_check(o, "t.tar.gz", "t.tar.gz", &r2, &e) == 0,
	    "%s", e.msg);
	ck_assert_int_eq(memcmp(r.sha256, r2.sha256, 32), 0);
	/* One changed byte of one member, gzip rebuilt so it is valid. */
	SH("set -e; gzip -dc out/t.tar.gz > t.tar; off=$(grep -a -b -o FILE_ONE t.tar | cut -d: -f1);"
	    "printf 0 | dd of=t.tar bs=1 seek=$((off + 6)) conv=notrunc status=none;"
	    "gzip -c t.tar > out/bad.tar.gz; tar -tzf out/bad.tar.gz > /dev/null");
	ck_assert_int_eq(transfer_check(o, "bad.tar.gz", "bad.tar.gz", &r2, &e), -1);
	ck_assert_msg(strstr(e.msg, "do not match") != NULL, "%s", e.msg);
	/* A member the manifest does not list. */
	SH("set -e; mkdir y; tar -xzf out/t.tar.gz -C y; echo extra > y/osde/extra;"
	    "tar --format=posix -czf out/extra.tar.gz -C y osde MANIFEST.sha256");
	ck_assert_int_eq(transfer_check(o, "extra.tar.gz", "extra.tar.gz", &r2, &e), -1);
	/* Truncated. */
	SH("head -c 100000 out/t.tar.gz > out/short.tar.gz");
	ck_assert_int_eq(transfer_check(o, "short.tar.gz", "short.tar.gz", &r2, &e), -1);
	close(o);
}
END_TEST

START_TEST(an_existing_archive_is_never_replaced)
{
	struct transfer_result r;
	struct err e;

	SH("mkdir -p out && echo precious > out/t.tar.gz");
	ck_assert_int_eq(pack3("t.tar.gz", &r, &e), -1);
	ck_assert_msg(strstr(e.msg, "exists") != NULL, "%s", e.msg);
	SH("test \"$(cat out/t.tar.gz)\" = precious && test -z \"$(ls -A out | grep lethe)\"");
}
END_TEST

START_TEST(a_symlink_among_the_files_fails_the_pack_and_leaves_nothing)
{
	struct transfer_result r;
	struct err e;

	SH("set -e; mkdir -p root out; echo secret > /tmp/lethe-transfer-target.$$;"
	    "ln -s /tmp/lethe-transfer-target.$$ root/l; echo ok > root/f; rm /tmp/lethe-transfer-target.$$");
	int d = dir("root"), o = dir("out");
	struct transfer_file f[2] = {
		{ .dirfd = d, .name = "f", .path = "f" },
		{ .dirfd = d, .name = "l", .path = "l" },
	};
	ck_assert_int_eq(transfer_pack(o, "t.tar.gz", "t.tar.gz", f, 2, &r, &e), -1);
	ck_assert_msg(strstr(e.msg, "file #2") != NULL, "%s", e.msg);
	SH("test -z \"$(ls -A out)\"");
	/* A path that would climb out of the extraction directory. */
	struct transfer_file g = { .dirfd = d, .name = "f", .path = "../f" };
	ck_assert_int_eq(transfer_pack(o, "t.tar.gz", "t.tar.gz", &g, 1, &r, &e), -1);
	SH("test -z \"$(ls -A out)\"");
	close(d);
	close(o);
}
END_TEST

START_TEST(names_with_newlines_and_backslashes_are_escaped_as_sha256sum_does)
{
	struct transfer_result r;
	struct err e;

	SH("set -e; mkdir -p root out; printf one > root/f1; printf two > root/f2");
	int d = dir("root"), o = dir("out");
	struct transfer_file f[2] = {
		{ .dirfd = d, .name = "f1", .path = "odd\nname.csv" },
		{ .dirfd = d, .name = "f2", .path = "back\\slash.csv" },
	};
	ck_assert_msg(transfer_pack(o, "t.tar.gz", "t.tar.gz", f, 2, &r, &e) == 0,
	    "%s", e.msg);
	SH("set -e; mkdir x; tar -xzf out/t.tar.gz -C x; cd x; sha256sum --strict -c MANIFEST.sha256 >/dev/null;"
	    "test \"$(head -c 1 MANIFEST.sha256)\" = '\\'");
	close(d);
	close(o);
}
END_TEST

START_TEST(a_leftover_of_a_killed_pack_is_overwritten_first)
{
	struct transfer_result r;
	struct err e;

	SH("mkdir -p out && echo partial > out/.t.tar.gz.lethe-tmp");
	ck_assert_msg(pack3("t.tar.gz", &r, &e) == 0, "%s", e.msg);
	SH("test \"$(ls -A out)\" = t.tar.gz");
}
END_TEST

START_TEST(an_empty_list_packs_only_the_manifest)
{
	struct transfer_result r;
	struct err e;

	SH("mkdir -p out");
	int o = dir("out");
	ck_assert_msg(transfer_pack(o, "t.tar.gz", "t.tar.gz", NULL, 0, &r, &e) == 0,
	    "%s", e.msg);
	close(o);
	ck_assert_uint_eq(r.files, 0);
	SH("test \"$(tar -tzf out/t.tar.gz)\" = MANIFEST.sha256 && bsdtar -tf out/t.tar.gz > /dev/null");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("transfer");
	TCase *tc = tcase_create("transfer");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, three_files_list_and_extract_identically_with_gnu_tar_and_bsdtar);
	tcase_add_test(tc, the_manifest_checks_with_sha256sum_and_the_digest_is_the_file);
	tcase_add_test(tc, a_tampered_archive_fails_the_read_back_check);
	tcase_add_test(tc, an_existing_archive_is_never_replaced);
	tcase_add_test(tc, a_symlink_among_the_files_fails_the_pack_and_leaves_nothing);
	tcase_add_test(tc, names_with_newlines_and_backslashes_are_escaped_as_sha256sum_does);
	tcase_add_test(tc, a_leftover_of_a_killed_pack_is_overwritten_first);
	tcase_add_test(tc, an_empty_list_packs_only_the_manifest);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
