/* check_archive.c: member removal from tar, cpio and zip backups.
 * Fixtures are built in each test by GNU tar, bsdtar, cpio, zip and
 * python3's zipfile, and every outcome is checked with those tools (and
 * file magic), never through lethe's own reading code. */
#include "testutil.h"

#include "sanitize/archive.h"
#include "sanitize/archive_int.h"
#include "base/err.h"
#include "sanitize/overwrite.h"
#include "conf/policy.h"

#include <archive.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <time.h>
#include <stdarg.h>
#include <sys/mount.h>
#include <sys/resource.h>

static char *T;

static void
setup(void)
{
	T = tu_tmpdir();
}

static void
teardown(void)
{
	if (getenv("LETHE_KEEP_TMP") != NULL)
		fprintf(stderr, "kept %s\n", T), free(T);
	else
		tu_rmtree(T);
	T = NULL;
}

/* Shell commands run in T (testutil.h). */
#define shq(...) tu_shq(T, __VA_ARGS__)
#define SH(...) TU_SH(T, __VA_ARGS__)

/* Two districts' files: osde/ (to remove) and tulsa/ (to keep), with long
 * names, odd modes, fixed mtimes, a symlink, an in-district hard link and
 * a sparse file. */
static void
make_tree(void)
{
	SH("set -e; mkdir -p src/osde/sub src/tulsa/deep; cd src\n"
	    "printf 'OSDE_MARKER_1 roster\\n' > osde/roster.csv\n"
	    "printf 'OSDE_MARKER_2 scores\\n' > osde/sub/scores.csv\n"
	    "{ printf OSDE_MARKER_3; head -c 300000 /dev/urandom; } > osde/blob.bin\n"
	    "printf 'TULSA_MARKER_1 roster\\n' > tulsa/roster.csv\n"
	    "printf 'TULSA_MARKER_2 notes\\n' > tulsa/deep/notes.txt\n"
	    "{ printf TULSA_MARKER_3; head -c 200000 /dev/urandom; } > tulsa/blob.bin\n"
	    "L=tulsa/$(printf 'd%%.0s' $(seq 70))\n"
	    "mkdir -p $L && printf 'TULSA_MARKER_LONG\\n' > $L/$(printf 'f%%.0s' $(seq 70)).txt\n"
	    "printf 'TULSA_MARKER_4\\n' > 'tulsa/Zo\303\253_\303\221and\303\272.csv'\n"
	    "ln tulsa/roster.csv tulsa/roster-again.csv\n"
	    "ln -s roster.csv tulsa/roster-symlink\n"
	    "truncate -s 4M tulsa/sparse.img\n"
	    "printf TULSA_SPARSE | dd of=tulsa/sparse.img bs=1 seek=2097152 conv=notrunc status=none\n"
	    "chmod 0640 tulsa/roster.csv; chmod 0600 tulsa/deep/notes.txt; chmod 0751 tulsa/blob.bin\n"
	    "find . -type f -exec touch -d '2021-03-04 05:06:07' {} +\n"
	    "touch -d '2019-01-02 03:04:05' tulsa/deep/notes.txt\n");
}

static int
remove_from(const char *name, const char *glob, struct archive_result *r,
    struct err *e)
{
	struct archive_opts o = { .pattern = PATTERN_ZERO, .verify = VERIFY_FULL };
	int dfd = open(T, O_RDONLY | O_DIRECTORY), rc;
	ck_assert_int_ge(dfd, 0);
	memset(e, 0, sizeof(*e));
	rc = archive_remove_members(dfd, name, name, glob, &o, r, e);
	close(dfd);
	return rc;
}

/* The kept district extracted from `archive` by `extract` (a command run
 * in T/out) matches src/tulsa in content, modes and mtimes, and no osde
 * name or content is left in it. */
static void
check_kept(const char *archive, const char *extract)
{
	SH("set -e; bsdtar -tf %s > list; ! grep -q osde list; grep -q tulsa list", archive);
	SH("set -e; test \"$(bsdtar -xOf %s | grep -a -c OSDE_MARKER)\" = 0", archive);
	SH("set -e; rm -rf out; mkdir out; cd out; %s", extract);
	SH("set -e; test ! -e out/osde; diff -r src/tulsa out/tulsa");
	SH("set -e; (cd src && find tulsa -type f -exec stat -c '%%n %%a %%Y %%s' {} + | sort) > a.meta;"
	    "(cd out && find tulsa -type f -exec stat -c '%%n %%a %%Y %%s' {} + | sort) > b.meta;"
	    "diff a.meta b.meta");
}

static void
check_removed(const struct archive_result *r, uint64_t n)
{
	ck_assert_uint_eq(r->members_removed, n);
	ck_assert_int_eq(r->replaced, 1);
	ck_assert_int_eq(r->old_sanitized, 1);
	ck_assert_uint_gt(r->members_kept, 0);
	/* No leftover beside the archive. */
	SH("test -z \"$(ls -A | grep lethe)\"");
}

/* Magic bytes at the start of the file, as hex. */
static int
has_magic(const char *name, const char *hex)
{
	return shq("test \"$(head -c %zu %s | od -An -tx1 | tr -d ' \\n')\" = %s",
	    strlen(hex) / 2, name, hex) == 0;
}

static void
tar_case(const char *create, const char *name, const char *magic,
    uint64_t want_removed)
{
	struct archive_result r;
	struct err e;

	make_tree();
	SH("%s", create);
	SH("chmod 0640 %s && touch -d '2024-05-06 07:08:09' %s", name, name);
	ck_assert_msg(remove_from(name, "osde/**", &r, &e) == 0, "%s", e.msg);
	check_removed(&r, want_removed);
	check_kept(name, "tar -xf ../x 2>/dev/null || bsdtar -xf ../x");
	if (magic != NULL)
		ck_assert_msg(has_magic(name, magic), "compression changed");
	SH("test \"$(stat -c '%%a %%Y' %s)\" = \"640 $(date -d '2024-05-06 07:08:09' +%%s)\"",
	    name);
}

/* GNU tar names: -C src osde tulsa gives osde/, osde/roster.csv, ... */
#define GT(fmt, flags, out) \
	"tar --format=" fmt " " flags " -cf " out " -C src osde tulsa && ln -sf " out " x"

START_TEST(removes_osde_members_from_a_gnu_format_tar)
{
	tar_case(GT("gnu", "-S", "b.tar"), "b.tar", NULL, 5);
	SH("test \"$(head -c 265 b.tar | tail -c 8 | od -An -c | tr -d ' ')\" = 'ustar\\0'"
	    " || test \"$(dd if=b.tar bs=1 skip=257 count=8 status=none | od -An -tx1 | tr -d ' \\n')\" = 7573746172202000");
}
END_TEST

START_TEST(removes_osde_members_from_a_ustar_tar)
{
	tar_case(GT("ustar", "", "b.tar"), "b.tar", NULL, 5);
	/* POSIX ustar magic "ustar\0" "00" at 257. */
	SH("test \"$(dd if=b.tar bs=1 skip=257 count=8 status=none | od -An -tx1 | tr -d ' \\n')\" = 7573746172003030");
}
END_TEST

START_TEST(removes_osde_members_from_a_pax_tar_and_keeps_holes_sparse)
{
	tar_case(GT("posix", "-S", "b.tar"), "b.tar", NULL, 5);
	/* Still pax (extended headers present), and the 4 MiB sparse file
	 * did not become 4 MiB of zeros in the archive. */
	SH("python3 -c \"import tarfile,sys; t=tarfile.open('b.tar');"
	    " sys.exit(0 if any(m.pax_headers for m in t) else 1)\"");
	SH("test $(stat -c %%s b.tar) -lt 3000000");
}
END_TEST

START_TEST(removes_osde_members_from_a_tar_gz_and_keeps_it_gzip)
{
	tar_case(GT("gnu", "-z", "b.tar.gz"), "b.tar.gz", "1f8b", 5);
	SH("gzip -t b.tar.gz");
}
END_TEST

START_TEST(removes_osde_members_from_a_tar_xz_and_keeps_it_xz)
{
	tar_case(GT("gnu", "-J", "b.tar.xz"), "b.tar.xz", "fd377a585a00", 5);
	SH("xz -t b.tar.xz");
}
END_TEST

START_TEST(removes_osde_members_from_a_tar_zst_and_keeps_it_zstd)
{
	tar_case(GT("gnu", "--zstd", "b.tar.zst"), "b.tar.zst", "28b52ffd", 5);
	SH("zstd -qt b.tar.zst");
}
END_TEST

START_TEST(removes_osde_members_from_a_tar_bz2_and_keeps_it_bzip2)
{
	tar_case(GT("gnu", "-j", "b.tar.bz2"), "b.tar.bz2", "425a68", 5);
	SH("bzip2 -t b.tar.bz2");
}
END_TEST

START_TEST(removes_osde_members_from_a_bsdtar_pax_tar_gz)
{
	tar_case("bsdtar --format pax -czf b.tgz -C src osde tulsa && ln -sf b.tgz x",
	    "b.tgz", "1f8b", 5);
}
END_TEST

static void
cpio_case(const char *fmt, const char *magic)
{
	struct archive_result r;
	struct err e;

	make_tree();
	SH("cd src && find osde tulsa | cpio --quiet -o -H %s > ../b.cpio", fmt);
	ck_assert_msg(remove_from("b.cpio", "osde/**", &r, &e) == 0, "%s", e.msg);
	check_removed(&r, 5);
	check_kept("b.cpio", "cpio --quiet -idmu < ../b.cpio");
	ck_assert_msg(has_magic("b.cpio", magic), "cpio format changed");
}

START_TEST(removes_osde_members_from_a_newc_cpio)
{
	cpio_case("newc", "303730373031");
}
END_TEST

START_TEST(removes_osde_members_from_an_odc_cpio)
{
	cpio_case("odc", "303730373037");
}
END_TEST

static const char zip_make[] =
    "python3 - <<'EOF'\n"
    "import zipfile, os\n"
    "with zipfile.ZipFile('b.zip', 'w') as z:\n"
    "    for root, dirs, files in os.walk('src'):\n"
    "        dirs.sort()\n"
    "        for f in sorted(files):\n"
    "            p = os.path.join(root, f)\n"
    "            if os.path.islink(p): continue\n"
    "            c = zipfile.ZIP_STORED if f.endswith('.csv') or f.endswith('.img') else zipfile.ZIP_DEFLATED\n"
    "            z.write(p, os.path.relpath(p, 'src'), compress_type=c)\n"
    "EOF\n";

START_TEST(removes_osde_members_from_a_zip_keeping_each_entry_compression)
{
	struct archive_result r;
	struct err e;

	make_tree();
	SH("%s", zip_make);
	SH("python3 -c \"import zipfile; z=zipfile.ZipFile('b.zip');"
	    " print('\\n'.join('%%s %%d %%s %%d %%d' %% (i.filename, i.compress_type, i.date_time, i.external_attr >> 16, i.CRC)"
	    " for i in z.infolist() if i.filename.startswith('tulsa/')))\" > before.zl");
	ck_assert_msg(remove_from("b.zip", "osde/**", &r, &e) == 0, "%s", e.msg);
	check_removed(&r, 3);
	SH("python3 -c \"import zipfile; z=zipfile.ZipFile('b.zip'); assert z.testzip() is None;"
	    " assert not [n for n in z.namelist() if 'osde' in n];"
	    " print('\\n'.join('%%s %%d %%s %%d %%d' %% (i.filename, i.compress_type, i.date_time, i.external_attr >> 16, i.CRC)"
	    " for i in z.infolist()))\" > after.zl && diff before.zl after.zl");
	SH("grep -q ' 0 ' after.zl && grep -q ' 8 ' after.zl");
	SH("set -e; rm -rf out; mkdir out; cd out; unzip -q ../b.zip; cd ..;"
	    "for f in $(cd src && find tulsa -type f); do cmp src/$f out/$f; done");
	SH("test \"$(grep -a -c OSDE_MARKER b.zip)\" = 0");
}
END_TEST

START_TEST(removes_osde_members_from_an_info_zip_archive)
{
	struct archive_result r;
	struct err e;

	make_tree();
	SH("cd src && zip -q -r -y ../b.zip osde tulsa");
	ck_assert_msg(remove_from("b.zip", "osde/**", &r, &e) == 0, "%s", e.msg);
	check_removed(&r, 5);
	SH("set -e; unzip -tq b.zip >/dev/null; ! unzip -l b.zip | grep -q osde; rm -rf out; mkdir out;"
	    "cd out; unzip -q ../b.zip; cd ..; diff -r src/tulsa out/tulsa");
}
END_TEST

START_TEST(refuses_a_cpio_whose_hard_links_span_both_districts)
{
	struct archive_result r;
	struct err e;

	/* newc keeps a link set's content with its last name only. */
	SH("set -e; mkdir -p src/osde src/tulsa; printf 'SHARED\\n' > src/tulsa/a;"
	    "ln src/tulsa/a src/osde/b; cd src; find tulsa osde | cpio --quiet -o -H newc > ../b.cpio;"
	    "cd ..; sha256sum b.cpio > sum");
	ck_assert_int_eq(remove_from("b.cpio", "osde/**", &r, &e), -1);
	ck_assert_msg(strstr(e.msg, "hard-linked") != NULL, "%s", e.msg);
	SH("sha256sum -c --quiet sum && test -z \"$(ls -A | grep lethe)\"");
}
END_TEST

START_TEST(refuses_a_truncated_tar_gz_and_leaves_it_untouched)
{
	struct archive_result r;
	struct err e;

	make_tree();
	SH("tar -czf full.tgz -C src osde tulsa && head -c $(( $(stat -c %%s full.tgz) - 3000 )) full.tgz > b.tgz"
	    " && sha256sum b.tgz > sum");
	ck_assert_int_eq(remove_from("b.tgz", "osde/**", &r, &e), -1);
	ck_assert_msg(strstr(e.msg, "b.tgz") != NULL, "%s", e.msg);
	ck_assert_msg(strstr(e.msg, "osde") == NULL, "member name leaked: %s", e.msg);
	SH("sha256sum -c --quiet sum && test -z \"$(ls -A | grep lethe)\"");
	ck_assert_int_eq(r.replaced, 0);
}
END_TEST

START_TEST(refuses_a_tar_with_flipped_bytes_and_leaves_it_untouched)
{
	struct archive_result r;
	struct err e;

	make_tree();
	/* Corrupt the header of the second member (offset 512 + size). */
	SH("set -e; tar -cf b.tar -C src tulsa/roster.csv osde tulsa/blob.bin;"
	    "printf 'XXXXXXXX' | dd of=b.tar bs=1 seek=1100 conv=notrunc status=none;"
	    "sha256sum b.tar > sum");
	ck_assert_int_eq(remove_from("b.tar", "osde/**", &r, &e), -1);
	ck_assert_msg(strstr(e.msg, "b.tar") != NULL, "%s", e.msg);
	SH("sha256sum -c --quiet sum && test -z \"$(ls -A | grep lethe)\"");
}
END_TEST

START_TEST(refuses_compressed_tars_with_flipped_bytes_and_leaves_them_untouched)
{
	static const char *const flags[] = { "-z", "-J", "--zstd", "-j" };
	struct archive_result r;
	struct err e;

	make_tree();
	for (size_t i = 0; i < 4; i++) {
		/* The middle of the stream falls in random (stored) data, where
		 * only the compressor's checksum can notice the change. */
		SH("set -e; rm -f b.tc; tar %s -cf b.tc -C src osde tulsa;"
		    "printf 'XXXX' | dd of=b.tc bs=1 seek=$(( $(stat -c %%s b.tc) / 2 )) conv=notrunc status=none;"
		    "sha256sum b.tc > sum", flags[i]);
		ck_assert_msg(remove_from("b.tc", "osde/**", &r, &e) == -1,
		    "%s: flipped bytes not noticed", flags[i]);
		SH("sha256sum -c --quiet sum && test -z \"$(ls -A | grep lethe)\"");
	}
}
END_TEST

/* Members of a gzip file, as python's zlib sees them. */
#define GZ_MEMBERS(f) "python3 -c \"import zlib,sys; d=open('" f "','rb').read(); n=0\n" \
    "while d:\n o=zlib.decompressobj(31); o.decompress(d); d=o.unused_data; n+=1\nprint(n)\""

START_TEST(keeps_a_gzip_of_several_members_member_by_member)
{
	struct archive_result r;
	struct err e;

	make_tree();
	/* The second member starts in the middle of osde's random blob. */
	SH("set -e; tar -cf - -C src osde tulsa > b.t; head -c 100000 b.t | gzip > b.tgz;"
	    "tail -c +100001 b.t | gzip >> b.tgz; gzip -t b.tgz; ln -s b.tgz x");
	ck_assert_msg(remove_from("b.tgz", "osde/**", &r, &e) == 0, "%s", e.msg);
	check_removed(&r, 5);
	ck_assert_msg(strstr(r.format, "2 members") != NULL, "%s", r.format);
	SH("gzip -t b.tgz && test \"$(" GZ_MEMBERS("b.tgz") ")\" = 2");
	check_kept("b.tgz", "tar -xf ../x");
}
END_TEST

START_TEST(refuses_a_gzip_whose_first_member_is_damaged)
{
	struct archive_result r;
	struct err e;

	make_tree();
	/* gzip -1 keeps random data in stored blocks: a flipped byte there
	 * is seen only by the member's CRC-32, and the second member's
	 * checksum must not hide it. */
	SH("set -e; tar -cf - -C src osde tulsa > b.t; head -c 150000 b.t | gzip -1 > b.tgz;"
	    "printf X | dd of=b.tgz bs=1 seek=60000 conv=notrunc status=none;"
	    "tail -c +150001 b.t | gzip >> b.tgz; sha256sum b.tgz > sum");
	ck_assert_int_eq(remove_from("b.tgz", "osde/**", &r, &e), -1);
	ck_assert_msg(strstr(e.msg, "CRC") != NULL, "%s", e.msg);
	SH("sha256sum -c --quiet sum && test -z \"$(ls -A | grep lethe)\"");
}
END_TEST

START_TEST(refuses_an_encrypted_zip_and_leaves_it_untouched)
{
	struct archive_result r;
	struct err e;

	make_tree();
	SH("cd src && zip -q -r -P secret ../b.zip osde tulsa && cd .. && sha256sum b.zip > sum");
	ck_assert_int_eq(remove_from("b.zip", "osde/**", &r, &e), -1);
	ck_assert_msg(strstr(e.msg, "encrypted") != NULL, "%s", e.msg);
	SH("sha256sum -c --quiet sum && test -z \"$(ls -A | grep lethe)\"");
}
END_TEST

START_TEST(leaves_an_archive_without_matches_byte_identical)
{
	struct archive_result r;
	struct err e;

	make_tree();
	SH("tar -czf b.tgz -C src tulsa && sha256sum b.tgz > sum && stat -c %%i b.tgz > ino");
	ck_assert_msg(remove_from("b.tgz", "osde/**", &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.members_removed, 0);
	ck_assert_int_eq(r.replaced, 0);
	SH("sha256sum -c --quiet sum && test \"$(stat -c %%i b.tgz)\" = \"$(cat ino)\"");
	SH("test -z \"$(ls -A | grep lethe)\"");
}
END_TEST

struct rows {
	FILE *f;
	int committed;
};

static int
on_member(const struct archive_member *m, void *arg)
{
	struct rows *w = arg;
	fprintf(w->f, "%s\t%ju\t", m->path, (uintmax_t)m->size);
	for (int i = 0; i < 32; i++)
		fprintf(w->f, "%02x", m->sha256[i]);
	fprintf(w->f, "\t%c\n", m->kind);
	return 0;
}

static int
on_commit(void *arg)
{
	struct rows *w = arg;
	w->committed = 1;
	return fflush(w->f);
}

START_TEST(reports_each_removed_member_with_its_size_and_sha256)
{
	struct rows w = { 0 };
	struct archive_opts o = { .on_member = on_member, .on_commit = on_commit,
	    .arg = &w };
	struct archive_result r;
	struct err e;
	char path[4200];

	make_tree();
	SH("tar -czf b.tgz -C src osde tulsa");
	snprintf(path, sizeof(path), "%s/rows", T);
	w.f = fopen(path, "w");
	ck_assert_ptr_nonnull(w.f);
	int dfd = open(T, O_RDONLY | O_DIRECTORY);
	ck_assert_msg(archive_remove_members(dfd, "b.tgz", "b.tgz", "osde/**",
	    &o, &r, &e) == 0, "%s", e.msg);
	close(dfd);
	fclose(w.f);
	ck_assert_int_eq(w.committed, 1);
	ck_assert_uint_eq(r.bytes_removed, 300013 + 21 + 21);
	/* Every removed file's row matches sha256sum of the original. */
	SH("set -e; test $(grep -c osde rows) = 5; for f in osde/roster.csv osde/sub/scores.csv osde/blob.bin; do"
	    " s=$(sha256sum src/$f | cut -d' ' -f1); n=$(stat -c %%s src/$f);"
	    " grep -qP \"^$f\\t$n\\t$s\\tf$\" rows; done; grep -qP '^osde/\\t0\\t' rows");
}
END_TEST

static int
refuse_commit(void *arg)
{
	(void)arg;
	return 1;
}

START_TEST(a_caller_that_does_not_commit_leaves_the_archive_untouched)
{
	struct rows w = { 0 };
	struct archive_opts o = { .on_member = on_member,
	    .on_commit = refuse_commit, .arg = &w };
	struct archive_result r;
	struct err e;
	char path[4200];

	make_tree();
	SH("tar -cf b.tar -C src osde tulsa && sha256sum b.tar > sum");
	snprintf(path, sizeof(path), "%s/rows", T);
	w.f = fopen(path, "w");
	ck_assert_ptr_nonnull(w.f);
	int dfd = open(T, O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(archive_remove_members(dfd, "b.tar", "b.tar", "osde/**",
	    &o, &r, &e), -1);
	close(dfd);
	fclose(w.f);
	ck_assert_int_eq(r.replaced, 0);
	SH("sha256sum -c --quiet sum && test -z \"$(ls -A | grep lethe)\"");
}
END_TEST

START_TEST(a_kept_hard_link_to_a_removed_member_becomes_a_file)
{
	struct archive_result r;
	struct err e;

	make_tree();
	/* osde/roster.csv is archived first with the content; tulsa's two
	 * names for it are hard links to it. */
	SH("set -e; ln src/osde/roster.csv src/tulsa/shared.csv; ln src/osde/roster.csv src/tulsa/shared2.csv;"
	    "ln src/tulsa/blob.bin src/osde/blob-link.bin;"
	    "tar -cf b.tar -C src osde tulsa; tar -tvf b.tar | grep -q '^h.*tulsa/shared.csv link to osde/roster.csv'");
	ck_assert_msg(remove_from("b.tar", "osde/**", &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.materialized, 2);	/* tulsa/shared.csv, tulsa/blob.bin */
	SH("set -e; tar -tvf b.tar > v; ! grep -q osde v; grep -q '^-.*tulsa/shared.csv$' v;"
	    "grep -q '^h.*tulsa/shared2.csv link to tulsa/shared.csv' v;"
	    "rm -rf out; mkdir out; tar -xf b.tar -C out; cmp out/tulsa/shared.csv src/osde/roster.csv;"
	    "cmp out/tulsa/shared2.csv src/osde/roster.csv; cmp out/tulsa/blob.bin src/tulsa/blob.bin;"
	    "test $(stat -c %%h out/tulsa/shared2.csv) = 2");
	/* The content stays (under the kept names) but no osde name does. */
	SH("test \"$(grep -a -c osde/ b.tar)\" = 0");
}
END_TEST

START_TEST(long_names_and_in_district_hard_links_survive_in_every_tar_format)
{
	static const char *const fmts[] = { "gnu", "ustar", "posix" };
	struct archive_result r;
	struct err e;

	make_tree();
	for (size_t i = 0; i < 3; i++) {
		SH("tar --format=%s -cf %s.tar -C src osde tulsa", fmts[i], fmts[i]);
		char name[32];
		snprintf(name, sizeof(name), "%s.tar", fmts[i]);
		ck_assert_msg(remove_from(name, "osde/**", &r, &e) == 0, "%s", e.msg);
		SH("set -e; tar -tvf %s.tar > v; grep -Eq '^h.*tulsa/roster(-again)?.csv link to tulsa/roster' v;"
		    "test $(tar -tf %s.tar | awk 'length($0) > 140' | wc -l) = 1;"
		    "rm -rf out; mkdir out; tar -xf %s.tar -C out; diff -r src/tulsa out/tulsa;"
		    "test $(stat -c %%h out/tulsa/roster.csv) = 2", fmts[i], fmts[i], fmts[i]);
	}
}
END_TEST

START_TEST(a_full_disk_during_the_rewrite_leaves_the_old_archive_intact)
{
	struct archive_result r;
	struct err e;
	char mnt[4200];
	int dfd;

	snprintf(mnt, sizeof(mnt), "%s/mnt", T);
	ck_assert_int_eq(mkdir(mnt, 0700), 0);
	SH("set -e; mkdir -p s/osde s/tulsa; head -c 100000 /dev/urandom > s/osde/a;"
	    "head -c 1500000 /dev/urandom > s/tulsa/b; tar -cf big.tar -C s osde tulsa");
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=2m") == 0) {
		SH("cp big.tar mnt/b.tar && sha256sum mnt/b.tar > sum");
		dfd = open(mnt, O_RDONLY | O_DIRECTORY);
		ck_assert_int_ge(dfd, 0);
		int rc = archive_remove_members(dfd, "b.tar", "mnt/b.tar",
		    "osde/**", NULL, &r, &e);
		close(dfd);
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(strstr(e.msg, "mnt/b.tar") != NULL &&
		    strstr(e.msg, "No space left") != NULL, "%s", e.msg);
		SH("sha256sum -c --quiet sum && test \"$(ls -A mnt)\" = b.tar");
		ck_assert_int_eq(umount(mnt), 0);
	} else {
		/* Unprivileged: a file-size limit fails the write the same way. */
		struct rlimit rl = { 1000000, 1000000 };
		signal(SIGXFSZ, SIG_IGN);
		SH("sha256sum big.tar > sum");
		ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
		ck_assert_int_eq(remove_from("big.tar", "osde/**", &r, &e), -1);
		ck_assert_msg(strstr(e.msg, "big.tar") != NULL, "%s", e.msg);
		SH("sha256sum -c --quiet sum && test -z \"$(ls -A | grep lethe)\"");
	}
}
END_TEST

START_TEST(the_old_archive_blocks_are_overwritten_through_the_old_inode)
{
	struct archive_result r;
	struct err e;
	char path[4200], buf[65536];
	ssize_t n;
	int fd;

	make_tree();
	SH("tar -cf b.tar -C src osde tulsa");
	snprintf(path, sizeof(path), "%s/b.tar", T);
	fd = open(path, O_RDONLY);	/* the old inode, held across the swap */
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(remove_from("b.tar", "osde/**", &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.old.verified, r.old_size);
	for (off_t off = 0; (n = pread(fd, buf, sizeof(buf), off)) > 0; off += n)
		for (ssize_t i = 0; i < n; i++)
			ck_assert_msg(buf[i] == 0, "old byte %jd not zero",
			    (intmax_t)(off + i));
	close(fd);
}
END_TEST

START_TEST(a_leftover_of_a_killed_run_is_sanitized_before_anything_else)
{
	struct archive_result r;
	struct err e;

	make_tree();
	SH("tar -cf b.tar -C src tulsa && tar -cf .b.tar.lethe-swap -C src osde");
	uint64_t n = 0;
	int dfd = open(T, O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(archive_count_members(dfd, "b.tar", "b.tar", "osde/**",
	    &n, &e), 0);
	close(dfd);
	ck_assert_uint_eq(n, 1);	/* the leftover counts as remaining */
	ck_assert_msg(remove_from("b.tar", "osde/**", &r, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(r.stale_cleared, 1);
	SH("test -z \"$(ls -A | grep lethe)\"");
}
END_TEST

START_TEST(sealed_files_are_not_opened_as_archives)
{
	struct archive_result r;
	struct err e;

	SH("printf 'LETHESL1 rest of a sealed file' > b.tar.gz && sha256sum b.tar.gz > sum");
	ck_assert_int_eq(remove_from("b.tar.gz", "osde/**", &r, &e),
	    ARCHIVE_IS_SEALED);
	SH("sha256sum -c --quiet sum");
}
END_TEST

START_TEST(a_symlinked_or_multiply_linked_archive_is_refused)
{
	struct archive_result r;
	struct err e;

	make_tree();
	SH("tar -cf real.tar -C src osde tulsa && ln -s real.tar l.tar && ln real.tar h.tar && sha256sum real.tar > sum");
	ck_assert_int_eq(remove_from("l.tar", "osde/**", &r, &e), -1);
	ck_assert_int_eq(remove_from("h.tar", "osde/**", &r, &e), -1);
	ck_assert_msg(strstr(e.msg, "hard links") != NULL, "%s", e.msg);
	SH("sha256sum -c --quiet sum");
}
END_TEST

START_TEST(counting_members_reads_headers_and_writes_nothing)
{
	struct err e;
	uint64_t n = 0;

	make_tree();
	SH("tar -czf b.tgz -C src osde tulsa && sha256sum b.tgz > sum");
	int dfd = open(T, O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(archive_count_members(dfd, "b.tgz", "b.tgz", "osde/**",
	    &n, &e), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(archive_count_members(dfd, "b.tgz", "b.tgz", "nobody/**",
	    &n, &e), 0);
	ck_assert_uint_eq(n, 0);
	close(dfd);
	SH("sha256sum -c --quiet sum && test -z \"$(ls -A | grep lethe)\"");
}
END_TEST

START_TEST(member_globs_ignore_a_leading_dot_slash_and_match_the_directory)
{
	ck_assert(archive_member_matches("osde/**", "./osde/a.csv"));
	ck_assert(archive_member_matches("osde/**", "/osde/sub/b.csv"));
	ck_assert(archive_member_matches("osde/**", "osde/"));
	ck_assert(archive_member_matches("osde/**", "./osde"));
	ck_assert(!archive_member_matches("osde/**", "osdex/a"));
	ck_assert(!archive_member_matches("osde/**", "tulsa/osde/a"));
	ck_assert(!archive_member_matches("osde/**", "./"));
}
END_TEST

START_TEST(members_found_under_a_dot_slash_prefix_are_removed)
{
	struct archive_result r;
	struct err e;

	make_tree();
	SH("tar -czf b.tgz -C src . && ln -s b.tgz x");
	ck_assert_msg(remove_from("b.tgz", "osde/**", &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.members_removed, 5);
	check_kept("b.tgz", "tar -xf ../b.tgz");
}
END_TEST


START_TEST(names_are_taken_as_gnu_tar_extracts_them)
{
	static const struct {
		const char *name, *want;	/* want NULL: refused */
		int rc;
	} v[] = {
		{ "osde/a.csv", "osde/a.csv", 1 },
		{ "./osde//a.csv", "osde/a.csv", 1 },
		{ "/osde/./a.csv/", "osde/a.csv", 1 },
		{ "b/../osde/a.csv", "osde/a.csv", 1 },
		{ "tulsa/x/../../osde/a.csv", "osde/a.csv", 1 },
		{ "./", NULL, 0 },
		{ "../osde/a.csv", NULL, -1 },		/* escapes the root */
		{ "a/b/../c", NULL, -1 },		/* GNU: c, others: a/c */
		{ "osde/..", NULL, 0 },			/* the root itself */
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *out;
		const char *why;
		int rc = aname_normalize(v[i].name, &out, &why);
		ck_assert_msg(rc == v[i].rc, "%s: %d", v[i].name, rc);
		if (rc == 1)
			ck_assert_str_eq(out, v[i].want);
		free(out);
	}
	ck_assert(archive_member_matches("osde/**", "b/../osde/a.csv"));
	ck_assert(!archive_member_matches("osde/**", "../osde/a.csv"));
}
END_TEST

START_TEST(libarchive_messages_keep_their_words_and_lose_quoted_names)
{
	struct archive *a = archive_read_new();
	char buf[256];

	ck_assert_ptr_nonnull(a);
	archive_set_error(a, 1, "Pathname can't be converted from UTF-8");
	ck_assert_str_eq(aerr(a, buf, sizeof(buf)),
	    "Pathname can't be converted from UTF-8");
	archive_set_error(a, 1, "Can't open 'osde/Jordan.csv': nope");
	ck_assert_str_eq(aerr(a, buf, sizeof(buf)), "Can't open '...': nope");
	archive_set_error(a, 1, "Bad \"osde/x\" entry \x01");
	ck_assert_str_eq(aerr(a, buf, sizeof(buf)), "Bad '...' entry ?");
	archive_clear_error(a);
	ck_assert_str_eq(aerr(a, buf, sizeof(buf)), "libarchive gave no reason");
	archive_read_free(a);
}
END_TEST

/* job_run progress callback: SIGSTOPs the reader child (the only child
 * of this process) at its first report. */
static void
stop_child(uint64_t done, uint64_t total, void *arg)
{
	int *stopped = arg;
	char path[64], buf[64] = "";
	FILE *f;

	(void)done;
	(void)total;
	if (*stopped)
		return;
	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
	    (int)gettid());
	if ((f = fopen(path, "r")) == NULL)
		return;
	if (fgets(buf, sizeof(buf), f) != NULL && atoi(buf) > 0 &&
	    kill(atoi(buf), SIGSTOP) == 0)
		*stopped = 1;
	fclose(f);
}

START_TEST(a_slow_reader_is_stopped_by_the_watchdog_and_nothing_is_written)
{
	struct job j = { .tmpfd = -1, .glob = "osde/**", .label = "b.tgz",
	    .base_ms = 1, .rate = 1000000000000000ULL };
	struct jobres r;
	struct err e;
	struct stat st;
	struct timespec t0, t1;
	char path[4200];

	/* 40 MiB of data, and one second per petabyte of work allowed. */
	SH("set -e; mkdir -p s/osde s/tulsa; head -c 40000000 /dev/urandom > s/tulsa/big;"
	    "echo x > s/osde/a; tar -czf b.tgz -C s osde tulsa; sha256sum b.tgz > sum");
	snprintf(path, sizeof(path), "%s/b.tgz", T);
	j.fd = open(path, O_RDONLY);
	ck_assert_int_ge(j.fd, 0);
	ck_assert_int_eq(fstat(j.fd, &st), 0);
	j.size = (uint64_t)st.st_size;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(job_run(&j, NULL, NULL, NULL, NULL, &r, &e), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_msg(strstr(e.msg, "stopped and refused, archive untouched") !=
	    NULL, "%s", e.msg);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 5);
	/* And a child that stops reporting (stopped with SIGSTOP at its
	 * first report, so no timing decides it): the stall limit. */
	j.base_ms = 0;
	j.rate = 0;
	j.stall_ms = 300;
	int stopped = 0;
	ck_assert_int_eq(job_run(&j, NULL, NULL, stop_child, &stopped, &r, &e),
	    -1);
	ck_assert_int_eq(stopped, 1);
	ck_assert_msg(strstr(e.msg, "made no progress") != NULL, "%s", e.msg);
	close(j.fd);
	SH("sha256sum -c --quiet sum && test -z \"$(ls -A | grep lethe)\"");
}
END_TEST

START_TEST(xattrs_stay_single_over_four_dispositions)
{
	struct archive_result r;
	struct err e;
	static const char *const globs[] = { "osde/a", "osde/b", "osde/c",
	    "osde/d" };

	SH("set -e; mkdir -p s/osde s/tulsa; for f in a b c d; do echo $f > s/osde/$f; done;"
	    "echo keep > s/tulsa/x; setfattr -n user.district -v tulsa s/tulsa/x;"
	    "bsdtar --format pax -cf b.tar -C s osde tulsa");
	for (int i = 0; i < 4; i++) {
		ck_assert_msg(remove_from("b.tar", globs[i], &r, &e) == 0, "%s", e.msg);
		ck_assert_uint_eq(r.members_removed, 1);
		/* One SCHILY and one LIBARCHIVE record, as bsdtar wrote them. */
		SH("python3 -c \"import tarfile; m=tarfile.open('b.tar').getmember('tulsa/x');"
		    " k=[k for k in m.pax_headers if 'xattr' in k];"
		    " assert sorted(k) == ['LIBARCHIVE.xattr.user.district',"
		    " 'SCHILY.xattr.user.district'], k\"");
	}
}
END_TEST

START_TEST(members_after_the_first_end_marker_are_kept_and_counted)
{
	struct archive_result r;
	struct err e;

	make_tree();
	/* cat a.tar b.tar: GNU tar -i and bsdtar read both parts. */
	SH("set -e; tar -cf p1.tar -C src osde/roster.csv tulsa/roster.csv;"
	    "tar -cf p2.tar -C src osde/sub tulsa/deep; cat p1.tar p2.tar > b.tar");
	ck_assert_msg(remove_from("b.tar", "osde/**", &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.members_removed, 3);
	ck_assert_uint_eq(r.members_kept, 3);
	SH("set -e; test \"$(tar -itf b.tar | tr '\\n' ' ')\" = "
	    "'tulsa/roster.csv tulsa/deep/ tulsa/deep/notes.txt '");
	SH("test \"$(tar -ixOf b.tar tulsa/deep/notes.txt)\" = TULSA_MARKER_2\\ notes");
}
END_TEST

START_TEST(counting_refuses_what_removing_refuses)
{
	struct err e;
	uint64_t n = 0;
	char *rec = tu_data("archives/refused/recursive.gz");
	char *cut = tu_data("archives/refused/cut-in-member.tar");

	SH("cp '%s' r.gz && cp '%s' c.tar", rec, cut);
	free(rec);
	free(cut);
	int dfd = open(T, O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(archive_count_members(dfd, "r.gz", "r.gz", "osde/**",
	    &n, &e), -1);
	ck_assert_msg(strstr(e.msg, "gzip inside gzip") != NULL, "%s", e.msg);
	ck_assert_int_eq(archive_count_members(dfd, "c.tar", "c.tar", "osde/**",
	    &n, &e), -1);
	ck_assert_msg(strstr(e.msg, "truncated") != NULL, "%s", e.msg);
	close(dfd);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("archive");
	TCase *tc = tcase_create("archive");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, removes_osde_members_from_a_gnu_format_tar);
	tcase_add_test(tc, removes_osde_members_from_a_ustar_tar);
	tcase_add_test(tc, removes_osde_members_from_a_pax_tar_and_keeps_holes_sparse);
	tcase_add_test(tc, removes_osde_members_from_a_tar_gz_and_keeps_it_gzip);
	tcase_add_test(tc, removes_osde_members_from_a_tar_xz_and_keeps_it_xz);
	tcase_add_test(tc, removes_osde_members_from_a_tar_zst_and_keeps_it_zstd);
	tcase_add_test(tc, removes_osde_members_from_a_tar_bz2_and_keeps_it_bzip2);
	tcase_add_test(tc, removes_osde_members_from_a_bsdtar_pax_tar_gz);
	tcase_add_test(tc, removes_osde_members_from_a_newc_cpio);
	tcase_add_test(tc, removes_osde_members_from_an_odc_cpio);
	tcase_add_test(tc, removes_osde_members_from_a_zip_keeping_each_entry_compression);
	tcase_add_test(tc, removes_osde_members_from_an_info_zip_archive);
	tcase_add_test(tc, refuses_a_cpio_whose_hard_links_span_both_districts);
	tcase_add_test(tc, refuses_a_truncated_tar_gz_and_leaves_it_untouched);
	tcase_add_test(tc, refuses_a_tar_with_flipped_bytes_and_leaves_it_untouched);
	tcase_add_test(tc, refuses_compressed_tars_with_flipped_bytes_and_leaves_them_untouched);
	tcase_add_test(tc, keeps_a_gzip_of_several_members_member_by_member);
	tcase_add_test(tc, refuses_a_gzip_whose_first_member_is_damaged);
	tcase_add_test(tc, refuses_an_encrypted_zip_and_leaves_it_untouched);
	tcase_add_test(tc, leaves_an_archive_without_matches_byte_identical);
	tcase_add_test(tc, reports_each_removed_member_with_its_size_and_sha256);
	tcase_add_test(tc, a_caller_that_does_not_commit_leaves_the_archive_untouched);
	tcase_add_test(tc, a_kept_hard_link_to_a_removed_member_becomes_a_file);
	tcase_add_test(tc, long_names_and_in_district_hard_links_survive_in_every_tar_format);
	tcase_add_test(tc, a_full_disk_during_the_rewrite_leaves_the_old_archive_intact);
	tcase_add_test(tc, the_old_archive_blocks_are_overwritten_through_the_old_inode);
	tcase_add_test(tc, a_leftover_of_a_killed_run_is_sanitized_before_anything_else);
	tcase_add_test(tc, sealed_files_are_not_opened_as_archives);
	tcase_add_test(tc, a_symlinked_or_multiply_linked_archive_is_refused);
	tcase_add_test(tc, counting_members_reads_headers_and_writes_nothing);
	tcase_add_test(tc, member_globs_ignore_a_leading_dot_slash_and_match_the_directory);
	tcase_add_test(tc, members_found_under_a_dot_slash_prefix_are_removed);
	tcase_add_test(tc, names_are_taken_as_gnu_tar_extracts_them);
	tcase_add_test(tc, libarchive_messages_keep_their_words_and_lose_quoted_names);
	tcase_add_test(tc, a_slow_reader_is_stopped_by_the_watchdog_and_nothing_is_written);
	tcase_add_test(tc, xattrs_stay_single_over_four_dispositions);
	tcase_add_test(tc, members_after_the_first_end_marker_are_kept_and_counted);
	tcase_add_test(tc, counting_refuses_what_removing_refuses);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
