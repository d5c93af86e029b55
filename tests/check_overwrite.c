/*
 * check_overwrite.c: verified overwrite, name removal and the media facts
 * behind them.  Runs on a loop-mounted ext4 image made for the suite (so
 * the raw bytes of the "device" can be read back); without root or loop
 * devices it falls back to a temporary directory on the host filesystem
 * when that filesystem is accepted for overwrite, and says SKIPPED for
 * the raw-device checks it then cannot make.
 */
#include "testutil.h"

#include "base/err.h"
#include "locate/media.h"
#include "sanitize/overwrite.h"
#include "conf/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>

static char g_top[256];		/* holds the image and its mount point */
static char g_img[300], g_mnt[300];
static int g_have_img;		/* g_mnt is a loop-mounted ext4 image */
static char *g_base;		/* where test directories are made */
static int g_warm;		/* fill() leaves the file in the page cache */

static void
suite_setup(void)
{
	char cmd[2000];

	snprintf(g_top, sizeof(g_top), "/tmp/lethe-ow.XXXXXX");
	if (mkdtemp(g_top) == NULL)
		abort();
	snprintf(g_img, sizeof(g_img), "%s/fs.img", g_top);
	snprintf(g_mnt, sizeof(g_mnt), "%s/mnt", g_top);
	if (mkdir(g_mnt, 0755) == -1)
		abort();
	if (geteuid() == 0) {
		snprintf(cmd, sizeof(cmd), "truncate -s 64M %s && mkfs.ext4 -q "
		    "-F %s >/dev/null 2>&1 && mount -o loop %s %s", g_img,
		    g_img, g_img, g_mnt);
		g_have_img = system(cmd) == 0;
	}
	if (g_have_img) {
		g_base = g_mnt;
	} else {
		fprintf(stderr, "SKIPPED: no loop-mounted ext4 image (needs root, "
		    "mkfs.ext4, loop devices); raw-device checks are skipped\n");
		g_base = g_top;
	}
}

static void
suite_teardown(void)
{
	char cmd[2000];

	if (g_have_img) {
		snprintf(cmd, sizeof(cmd), "umount %s", g_mnt);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot unmount %s\n", g_mnt);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", g_top);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", g_top);
}

/* A fresh directory for one test on the filesystem under test.  Returns
 * NULL (after saying SKIPPED) if that filesystem refuses overwrite. */
static char *
testdir(void)
{
	char fstype[64], *p;
	struct err e = { "" };
	int fd;

	ck_assert_int_ge(asprintf(&p, "%s/t.XXXXXX", g_base), 0);
	ck_assert_ptr_nonnull(mkdtemp(p));
	fd = open(p, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(media_fstype(fd, fstype, sizeof(fstype), &e), 0);
	close(fd);
	if (media_overwrite_refusal(fstype) != NULL) {
		fprintf(stderr, "SKIPPED: %s refuses overwrite and no ext4 image "
		    "could be mounted\n", fstype);
		free(p);
		return NULL;
	}
	return p;
}

/* Writes n bytes of a repeated marker line to dir/name, fsync'd. */
static void
fill(const char *dir, const char *name, const char *marker, size_t n)
{
	char path[4200], *buf = malloc(n ? n : 1);
	size_t ml = strlen(marker);
	int fd;

	ck_assert_ptr_nonnull(buf);
	for (size_t off = 0; off < n; off++)
		buf[off] = marker[off % ml];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, n), (ssize_t)n);
	free(buf);
	ck_assert_int_eq(fsync(fd), 0);
	/* Cold, like a file written long ago: the pass then reads and writes
	 * with O_DIRECT.  g_warm keeps it cached (the buffered path). */
	if (!g_warm)
		ck_assert_int_eq(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	close(fd);
}

static void
sha256_file(const char *dir, const char *name, unsigned char out[32])
{
	char path[4200], buf[65536];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int len;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(md, buf, (size_t)n);
	EVP_DigestFinal_ex(md, out, &len);
	EVP_MD_CTX_free(md);
	close(fd);
}

/* Occurrences of marker in the raw image, after flushing the mount. */
static long
raw_count(const char *marker)
{
	size_t ml = strlen(marker), cap = 1 << 20;
	char *buf = malloc(cap + ml);
	long count = 0;
	size_t keep = 0;
	ssize_t n;
	int fd, mfd;

	ck_assert_ptr_nonnull(buf);
	mfd = open(g_mnt, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(mfd, 0);
	ck_assert_int_eq(syncfs(mfd), 0);
	close(mfd);
	fd = open(g_img, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	while ((n = read(fd, buf + keep, cap)) > 0) {
		size_t len = keep + (size_t)n;
		for (char *p = buf; (p = memmem(p, (size_t)(buf + len - p),
		    marker, ml)) != NULL; p++)
			count++;
		keep = len < ml - 1 ? len : ml - 1;
		memmove(buf, buf + len - keep, keep);
		/* A match inside the kept tail was already counted only if
		 * it ended before the tail; the tail is shorter than ml. */
	}
	close(fd);
	free(buf);
	return count;
}

/* The end of a disposition: purge the journal's copies (SPEC §6.7). */
static void
purge_journal(void)
{
	struct media m;
	struct err e = { "" };
	char detail[256];
	int fd = open(g_mnt, O_RDONLY | O_DIRECTORY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(media_probe(fd, &m, &e), 0);
	ck_assert_msg(media_purge_journal(fd, &m, detail, sizeof(detail),
	    &e) == 1, "%s", detail);
	close(fd);
}

static int
opendir_fd(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	ck_assert_int_ge(fd, 0);
	return fd;
}

/* before_rename hook: records the name and checks the content is gone
 * from the device while the original name still exists. */
struct hook {
	const char *marker;
	const char *old;
	char newname[300];
	int calls;
	long raw_at_rename;
	int old_existed;
	const char *dir;
};

static int
hook(const char *newname, void *arg)
{
	struct hook *h = arg;

	snprintf(h->newname, sizeof(h->newname), "%s", newname);
	h->calls++;
	h->old_existed = tu_exists(h->dir, h->old);
	h->raw_at_rename = g_have_img ? raw_count(h->marker) : -1;
	return 0;
}

START_TEST(overwrite_leaves_zeros_on_the_device_before_the_name_goes)
{
	const char *marker = "MARKER-Jordan-Alvarez-IEP-7f3a9c\n";
	const char *name = "Jordan_Alvarez_IEP_2026.csv";
	char *dir = testdir();
	struct ow_opts o = { .pattern = PATTERN_ZERO, .verify = VERIFY_FULL,
	    .links_ok = 1, .before_rename = hook };
	struct hook h = { .marker = marker, .old = name };
	struct ow_result r;
	struct err e = { "" };
	unsigned char want[32];
	int dfd;

	if (dir == NULL)
		return;
	h.dir = dir;
	o.arg = &h;
	fill(dir, name, marker, 3 * 1024 * 1024 + 777);
	sha256_file(dir, name, want);
	if (g_have_img)
		ck_assert_int_gt(raw_count(marker), 1000);	/* control */
	dfd = opendir_fd(dir);
	ck_assert_msg(ow_file(dfd, name, name, &o, &r, &e) == 0, "%s", e.msg);
	close(dfd);
	ck_assert_uint_eq(r.size, 3 * 1024 * 1024 + 777);
	ck_assert_uint_eq(r.verified, r.size);
	ck_assert_int_eq(r.sha_ok, 1);
	ck_assert_mem_eq(r.sha256, want, 32);
	ck_assert_int_eq(r.renamed, 1);
	ck_assert_int_eq(h.calls, 1);
	ck_assert_int_eq(h.old_existed, 1);
	ck_assert_uint_eq(strlen(h.newname), strlen(name));
	ck_assert_str_ne(h.newname, name);
	ck_assert(!tu_exists(dir, name));
	ck_assert(!tu_exists(dir, h.newname));
	if (g_have_img) {
		ck_assert_int_eq(h.raw_at_rename, 0);
		ck_assert_int_eq(raw_count(marker), 0);
		purge_journal();
		ck_assert_int_eq(raw_count(name), 0);
	} else
		fprintf(stderr, "SKIPPED: raw device read (no image)\n");
	free(dir);
}
END_TEST

START_TEST(random_pattern_leaves_neither_the_content_nor_zeros)
{
	const char *marker = "MARKER-random-pattern-91ab\n";
	char *dir = testdir(), path[4200];
	struct ow_opts o = { .pattern = PATTERN_RANDOM, .verify = VERIFY_FULL,
	    .links_ok = 1 };
	struct ow_result r;
	struct err e = { "" };
	unsigned char buf[4096], zero[4096] = { 0 };
	int dfd, fd;

	if (dir == NULL)
		return;
	fill(dir, "r.bin", marker, 1 << 20);
	snprintf(path, sizeof(path), "%s/r.bin", dir);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(ow_fd(fd, "r.bin", &o, &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.verified, 1 << 20);
	ck_assert_int_eq(pread(fd, buf, sizeof(buf), 8192), (ssize_t)sizeof(buf));
	ck_assert(memcmp(buf, zero, sizeof(buf)) != 0);
	ck_assert(memmem(buf, sizeof(buf), "MARKER", 6) == NULL);
	close(fd);
	/* ow_fd leaves the name: remove it the same way. */
	dfd = opendir_fd(dir);
	ck_assert_int_eq(ow_unlink_name(dfd, "r.bin", "r.bin", NULL, &e), 0);
	close(dfd);
	if (g_have_img)
		ck_assert_int_eq(raw_count(marker), 0);
	free(dir);
}
END_TEST

START_TEST(sample_verification_reads_a_part_spread_over_the_file)
{
	char *dir = testdir();
	struct ow_opts o = { .pattern = PATTERN_ZERO, .verify = VERIFY_SAMPLE,
	    .links_ok = 1 };
	struct ow_result r;
	struct err e = { "" };
	int dfd;

	if (dir == NULL)
		return;
	g_warm = 1;	/* the buffered path */
	fill(dir, "big.bin", "sample\n", 40 << 20);
	dfd = opendir_fd(dir);
	ck_assert_msg(ow_file(dfd, "big.bin", "big.bin", &o, &r, &e) == 0, "%s",
	    e.msg);
	close(dfd);
	ck_assert_uint_eq(r.size, 40 << 20);
	/* 40 units of 1 MiB: at least 16 are read, not all. */
	ck_assert_uint_ge(r.verified, 16 << 20);
	ck_assert_uint_lt(r.verified, 40 << 20);
	free(dir);
}
END_TEST

/* A sparse file: size bytes, each (offset, length) of marker text written,
 * the rest holes.  Returns an O_RDWR fd. */
static int
sparse(const char *dir, const char *name, off_t size, const char *marker,
    const off_t *at, const size_t *len, int n)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, size), 0);
	for (int i = 0; i < n; i++) {
		char *buf = malloc(len[i]);
		size_t ml = strlen(marker);

		ck_assert_ptr_nonnull(buf);
		for (size_t k = 0; k < len[i]; k++)
			buf[k] = marker[k % ml];
		ck_assert_int_eq(pwrite(fd, buf, len[i], at[i]),
		    (ssize_t)len[i]);
		free(buf);
	}
	ck_assert_int_eq(fsync(fd), 0);
	return fd;
}

static uint64_t
allocated(int fd)
{
	struct stat st;

	ck_assert_int_eq(fstat(fd, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

START_TEST(a_sparse_file_is_overwritten_where_it_has_data_never_in_its_holes)
{
	const char *marker = "MARKER-sparse-ends-5d1e\n";
	char *dir = testdir();
	const off_t at[] = { 0, (off_t)(200 << 20) - 8192 };
	const size_t len[] = { 8192, 8192 };
	struct ow_opts o = { .pattern = PATTERN_ZERO, .verify = VERIFY_FULL,
	    .links_ok = 1 };
	struct ow_result r;
	struct err e = { "" };
	unsigned char want[32], buf[8192], zero[8192] = { 0 };
	uint64_t blocks;
	int fd;

	if (dir == NULL)
		return;
	/* 200 MiB apparent on a 64 MiB filesystem: filling the holes would
	 * fail with ENOSPC (and fill the disk). */
	fd = sparse(dir, "s.bin", 200 << 20, marker, at, len, 2);
	blocks = allocated(fd);
	ck_assert_uint_lt(blocks, 1 << 20);
	sha256_file(dir, "s.bin", want);	/* holes read as zeros */
	if (g_have_img)
		ck_assert_int_gt(raw_count(marker), 100);	/* control */
	ck_assert_msg(ow_fd(fd, "s.bin", &o, &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.size, 200 << 20);
	ck_assert_uint_ge(r.overwritten, 16384);
	ck_assert_uint_le(r.overwritten, blocks);
	ck_assert_uint_eq(r.verified, r.overwritten);
	ck_assert_int_eq(r.sha_ok, 1);
	ck_assert_mem_eq(r.sha256, want, 32);	/* the logical content */
	ck_assert_uint_le(allocated(fd), blocks + 65536);
	/* The data is zeros now; the middle is still a hole. */
	ck_assert_int_eq(pread(fd, buf, sizeof(buf), at[1]), (ssize_t)sizeof(buf));
	ck_assert(memcmp(buf, zero, sizeof(buf)) == 0);
	ck_assert_int_eq(lseek(fd, 8192, SEEK_DATA), at[1]);
	close(fd);
	if (g_have_img)
		ck_assert_int_eq(raw_count(marker), 0);
	free(dir);
}
END_TEST

START_TEST(a_sparse_file_is_sampled_only_where_it_was_written)
{
	char *dir = testdir();
	const off_t at[] = { 1 << 20, 30 << 20, 90 << 20 };
	const size_t len[] = { 7 << 20, 7 << 20, 7 << 20 };
	struct ow_opts o = { .pattern = PATTERN_RANDOM,
	    .verify = VERIFY_SAMPLE, .links_ok = 1 };
	struct ow_result r;
	struct err e = { "" };
	int fd;

	if (dir == NULL)
		return;
	fd = sparse(dir, "s.bin", 100 << 20, "sampled\n", at, len, 3);
	ck_assert_msg(ow_fd(fd, "s.bin", &o, &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.size, 100 << 20);
	ck_assert_uint_ge(r.overwritten, 21 << 20);
	ck_assert_uint_lt(r.overwritten, 22 << 20);
	/* 21 units: at least 16 read back, not all, none in a hole. */
	ck_assert_uint_ge(r.verified, 16 << 20);
	ck_assert_uint_lt(r.verified, r.overwritten);
	ck_assert_int_eq(lseek(fd, 0, SEEK_DATA), 1 << 20);
	close(fd);
	free(dir);
}
END_TEST

START_TEST(a_preallocated_file_is_overwritten_in_all_its_blocks)
{
	const char *marker = "MARKER-prealloc-a9c2\n";
	char *dir = testdir(), path[4200];
	struct ow_opts o = { .pattern = PATTERN_ZERO, .verify = VERIFY_FULL,
	    .links_ok = 1 };
	struct ow_result r;
	struct err e = { "" };
	unsigned char want[32];
	uint64_t blocks;
	int fd;

	if (dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/p.bin", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	if (fallocate(fd, 0, 0, 8 << 20) != 0) {
		fprintf(stderr, "SKIPPED: fallocate: %s\n", strerror(errno));
		close(fd);
		free(dir);
		return;
	}
	ck_assert_int_eq(pwrite(fd, marker, strlen(marker), 3 << 20),
	    (ssize_t)strlen(marker));
	/* Blocks kept past the end (--keep-size) held nothing readable. */
	ck_assert_int_eq(fallocate(fd, FALLOC_FL_KEEP_SIZE, 8 << 20, 1 << 20),
	    0);
	ck_assert_int_eq(fsync(fd), 0);
	blocks = allocated(fd);
	sha256_file(dir, "p.bin", want);
	ck_assert_msg(ow_fd(fd, "p.bin", &o, &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.size, 8 << 20);
	ck_assert_uint_eq(r.overwritten, 8 << 20);	/* every block it has */
	ck_assert_uint_eq(r.verified, 8 << 20);
	ck_assert_mem_eq(r.sha256, want, 32);
	ck_assert_uint_le(allocated(fd), blocks + 65536);
	close(fd);
	if (g_have_img)
		ck_assert_int_eq(raw_count(marker), 0);
	free(dir);
}
END_TEST

START_TEST(a_fifo_is_refused_without_hanging)
{
	char *dir = testdir(), path[4200];
	struct ow_opts o = { .links_ok = 1 };
	struct ow_result r;
	struct err e = { "" };
	int dfd;

	if (dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/pipe.csv", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	dfd = opendir_fd(dir);
	alarm(5);
	ck_assert_int_eq(ow_file(dfd, "pipe.csv", "pipe.csv", &o, &r, &e), -1);
	alarm(0);
	ck_assert_ptr_nonnull(strstr(e.msg, "FIFO"));
	ck_assert(tu_exists(dir, "pipe.csv"));
	/* Removed as a name, never opened. */
	alarm(5);
	ck_assert_int_eq(ow_unlink_name(dfd, "pipe.csv", "pipe.csv", NULL, &e),
	    0);
	alarm(0);
	ck_assert(!tu_exists(dir, "pipe.csv"));
	close(dfd);
	free(dir);
}
END_TEST

START_TEST(a_hard_linked_file_is_refused_and_both_names_stay)
{
	const char *marker = "MARKER-hardlink-55\n";
	char *dir = testdir(), a[4200], b[4200];
	struct ow_opts o = { .pattern = PATTERN_ZERO, .links_ok = 1 };
	struct ow_result r;
	struct err e = { "" };
	unsigned char before[32], after[32];
	int dfd;

	if (dir == NULL)
		return;
	fill(dir, "a.csv", marker, 10000);
	snprintf(a, sizeof(a), "%s/a.csv", dir);
	snprintf(b, sizeof(b), "%s/outside-link", dir);
	ck_assert_int_eq(link(a, b), 0);
	sha256_file(dir, "a.csv", before);
	dfd = opendir_fd(dir);
	ck_assert_int_eq(ow_file(dfd, "a.csv", "a.csv", &o, &r, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "hard links"));
	ck_assert(tu_exists(dir, "a.csv"));
	ck_assert(tu_exists(dir, "outside-link"));
	sha256_file(dir, "outside-link", after);
	ck_assert_mem_eq(before, after, 32);
	/* With both links in the disposition it goes ahead. */
	o.links_ok = 2;
	ck_assert_msg(ow_file(dfd, "a.csv", "a.csv", &o, &r, &e) == 0, "%s",
	    e.msg);
	ck_assert_int_eq(ow_unlink_name(dfd, "outside-link", "l", NULL, &e), 0);
	close(dfd);
	if (g_have_img)
		ck_assert_int_eq(raw_count(marker), 0);
	free(dir);
}
END_TEST

START_TEST(an_immutable_file_is_refused_with_a_clear_message)
{
	char *dir = testdir(), path[4200];
	struct ow_opts o = { .links_ok = 1 };
	struct ow_result r;
	struct err e = { "" };
	int fd, dfd, flags = 0;

	if (dir == NULL)
		return;
	fill(dir, "locked.csv", "immutable\n", 5000);
	snprintf(path, sizeof(path), "%s/locked.csv", dir);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == -1 || (flags |= FS_IMMUTABLE_FL,
	    ioctl(fd, FS_IOC_SETFLAGS, &flags)) == -1) {
		fprintf(stderr, "SKIPPED: cannot set the immutable flag (%s)\n",
		    strerror(errno));
		close(fd);
		free(dir);
		return;
	}
	dfd = opendir_fd(dir);
	ck_assert_int_eq(ow_file(dfd, "locked.csv", "locked.csv", &o, &r, &e),
	    -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "locked.csv is immutable (chattr +i)"));
	ck_assert_ptr_nonnull(strstr(e.msg, "chattr -i"));
	ck_assert(tu_exists(dir, "locked.csv"));
	flags &= ~FS_IMMUTABLE_FL;
	ck_assert_int_eq(ioctl(fd, FS_IOC_SETFLAGS, &flags), 0);
	close(fd);
	close(dfd);
	free(dir);
}
END_TEST

START_TEST(a_file_replaced_since_it_was_located_is_refused)
{
	char *dir = testdir(), path[4200];
	struct ow_opts o = { .links_ok = 1 };
	struct ow_result r;
	struct err e = { "" };
	struct stat st;
	int dfd;

	if (dir == NULL)
		return;
	fill(dir, "x.csv", "first\n", 100);
	snprintf(path, sizeof(path), "%s/x.csv", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	o.dev = st.st_dev;
	o.ino = st.st_ino + 1;	/* as if a different file were there now */
	dfd = opendir_fd(dir);
	ck_assert_int_eq(ow_file(dfd, "x.csv", "x.csv", &o, &r, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "replaced"));
	ck_assert(tu_exists(dir, "x.csv"));
	o.ino = st.st_ino;
	ck_assert_msg(ow_file(dfd, "x.csv", "x.csv", &o, &r, &e) == 0, "%s",
	    e.msg);
	close(dfd);
	free(dir);
}
END_TEST

/* progress hook that appends to the file once, mid-pass. */
struct grower {
	const char *path;
	int done;
};

static void
grow(uint64_t done, void *arg)
{
	struct grower *g = arg;
	int fd;

	(void)done;
	if (g->done++)
		return;
	fd = open(g->path, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(write(fd, "APPENDED-LATE-MARKER\n", 21), 21);
	close(fd);
}

START_TEST(a_file_appended_to_during_the_pass_is_overwritten_to_its_end)
{
	char *dir = testdir(), path[4200];
	struct grower g = { 0 };
	struct ow_opts o = { .links_ok = 1, .progress = grow, .arg = &g };
	struct ow_result r;
	struct err e = { "" };
	int dfd;

	if (dir == NULL)
		return;
	fill(dir, "log.csv", "growing\n", 20 << 20);
	snprintf(path, sizeof(path), "%s/log.csv", dir);
	g.path = path;
	dfd = opendir_fd(dir);
	ck_assert_msg(ow_file(dfd, "log.csv", "log.csv", &o, &r, &e) == 0, "%s",
	    e.msg);
	close(dfd);
	ck_assert_uint_eq(r.size, (20 << 20) + 2100);
	ck_assert_uint_eq(r.verified, r.size);
	ck_assert_int_eq(r.sha_ok, 0);
	if (g_have_img)
		ck_assert_int_eq(raw_count("APPENDED-LATE-MARKER"), 0);
	free(dir);
}
END_TEST

START_TEST(user_xattrs_are_overwritten_and_removed)
{
	const char *secret = "XATTR-Alvarez-Jordan-504-plan";
	char *dir = testdir(), path[4200];
	struct ow_opts o = { .links_ok = 1 };
	struct ow_result r;
	struct err e = { "" };
	int dfd;

	if (dir == NULL)
		return;
	fill(dir, "x.csv", "with xattr\n", 100);
	snprintf(path, sizeof(path), "%s/x.csv", dir);
	if (setxattr(path, "user.comment", secret, strlen(secret), 0) == -1) {
		fprintf(stderr, "SKIPPED: no user xattrs here (%s)\n",
		    strerror(errno));
		free(dir);
		return;
	}
	/* A value too big for the inode lives in its own block, which is
	 * freed on removal: it must be scrubbed before that. */
	char big[600];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = "XATTRBLOCK-Alvarez-"[i % 19];
	ck_assert_int_eq(setxattr(path, "user.notes", big, sizeof(big), 0), 0);
	if (g_have_img) {
		ck_assert_int_ge(raw_count(secret), 1);
		ck_assert_int_ge(raw_count("XATTRBLOCK-Alvarez-"), 1);
	}
	dfd = opendir_fd(dir);
	ck_assert_msg(ow_file(dfd, "x.csv", "x.csv", &o, &r, &e) == 0, "%s",
	    e.msg);
	close(dfd);
	ck_assert(!tu_exists(dir, "x.csv"));
	if (g_have_img) {
		purge_journal();
		ck_assert_int_eq(raw_count(secret), 0);
		ck_assert_int_eq(raw_count("XATTRBLOCK-Alvarez-"), 0);
	}
	free(dir);
}
END_TEST

START_TEST(symlinks_are_removed_as_links_and_their_targets_stay)
{
	char *dir = testdir(), link[4200], *target;
	unsigned char before[32], after[32];
	struct err e = { "" };
	struct ow_result r;
	struct ow_opts o = { .links_ok = 1 };
	int dfd;

	if (dir == NULL)
		return;
	fill(dir, "target.csv", "keep me\n", 1000);
	sha256_file(dir, "target.csv", before);
	ck_assert_int_ge(asprintf(&target, "%s/target.csv", dir), 0);
	snprintf(link, sizeof(link), "%s/link.csv", dir);
	ck_assert_int_eq(symlink(target, link), 0);
	dfd = opendir_fd(dir);
	ck_assert_int_eq(ow_file(dfd, "link.csv", "link.csv", &o, &r, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "symlink"));
	ck_assert_int_eq(ow_unlink_name(dfd, "link.csv", "link.csv", NULL, &e),
	    0);
	close(dfd);
	ck_assert(!tu_exists(dir, "link.csv"));
	sha256_file(dir, "target.csv", after);
	ck_assert_mem_eq(before, after, 32);
	free(target);
	free(dir);
}
END_TEST

START_TEST(empty_directories_are_removed_and_full_ones_kept)
{
	char *dir = testdir(), path[4200];
	struct ow_opts o = { .links_ok = 1 };
	struct ow_result r;
	struct err e = { "" };
	int dfd, sub;

	if (dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/alvarez_jordan", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/kept", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	fill(path, "f", "x", 1);
	/* An old file: its name is in the directory's home block. */
	snprintf(path, sizeof(path), "%s/alvarez_jordan", dir);
	fill(path, "Jordan_Alvarez_504_plan.csv", "x", 1);
	sub = opendir_fd(path);
	ck_assert_int_eq(syncfs(sub), 0);
	media_checkpoint(sub);
	if (g_have_img)
		ck_assert_int_ge(raw_count("Jordan_Alvarez_504_plan"), 1);
	ck_assert_msg(ow_file(sub, "Jordan_Alvarez_504_plan.csv", "f", &o, &r,
	    &e) == 0, "%s", e.msg);
	close(sub);
	dfd = opendir_fd(dir);
	ck_assert_int_eq(ow_rmdir_if_empty(dfd, "kept", "kept", &e), 0);
	ck_assert(tu_exists(dir, "kept"));
	ck_assert_int_eq(ow_rmdir_if_empty(dfd, "alvarez_jordan", "d", &e), 1);
	ck_assert(!tu_exists(dir, "alvarez_jordan"));
	close(dfd);
	if (g_have_img) {
		/* The name is still in the journal until it is purged. */
		purge_journal();
		ck_assert_int_eq(raw_count("alvarez_jordan"), 0);
		ck_assert_int_eq(raw_count("Jordan_Alvarez_504_plan"), 0);
	}
	free(dir);
}
END_TEST

START_TEST(ow_path_destroys_a_state_file)
{
	char *dir = testdir(), path[4200];
	struct err e = { "" };

	if (dir == NULL)
		return;
	fill(dir, "old.kek", "KEK-MATERIAL-0123456789abcdef\n", 32);
	snprintf(path, sizeof(path), "%s/old.kek", dir);
	ck_assert_msg(ow_path(path, &e) == 0, "%s", e.msg);
	ck_assert(!tu_exists(dir, "old.kek"));
	ck_assert_int_eq(ow_path("relative/x", &e), -1);
	free(dir);
}
END_TEST

START_TEST(copy_on_write_filesystems_are_refused_naming_crypto_shred)
{
	const char *cow[] = { "btrfs", "zfs", "bcachefs", "f2fs", "nilfs2",
	    "overlayfs", "nfs", "cifs", "fuse" };

	for (size_t i = 0; i < sizeof(cow) / sizeof(cow[0]); i++) {
		const char *why = media_overwrite_refusal(cow[i]);
		ck_assert_ptr_nonnull(why);
		ck_assert_ptr_nonnull(strstr(why, cow[i]));
		ck_assert_ptr_nonnull(strstr(why, "crypto-shred"));
	}
	ck_assert_ptr_nonnull(media_overwrite_refusal("unknown (0x1234)"));
	ck_assert_ptr_nonnull(strstr(media_overwrite_refusal("mystery"),
	    "crypto-shred"));
	ck_assert_ptr_null(media_overwrite_refusal("ext4"));
	ck_assert_ptr_null(media_overwrite_refusal("ext3"));
	ck_assert_ptr_null(media_overwrite_refusal("xfs"));
	ck_assert_ptr_null(media_overwrite_refusal("tmpfs"));
}
END_TEST

START_TEST(media_probe_names_the_loop_device_and_purges_the_ext4_journal)
{
	struct media m;
	struct err e = { "" };
	char detail[256];
	int fd, rc;

	if (!g_have_img) {
		fprintf(stderr, "SKIPPED: media probe needs the ext4 image\n");
		return;
	}
	fd = opendir_fd(g_mnt);
	ck_assert_int_eq(media_probe(fd, &m, &e), 0);
	ck_assert_str_eq(m.fstype, "ext4");
	ck_assert_ptr_nonnull(strstr(m.device, "/dev/loop"));
	ck_assert_ptr_nonnull(strstr(m.device, "fs.img"));
	ck_assert_str_ne(m.uuid, "unknown");
	ck_assert_uint_eq(strlen(m.uuid), 36);
	rc = media_purge_journal(fd, &m, detail, sizeof(detail), &e);
	ck_assert_msg(rc == 1, "%s / %s", detail, e.msg);
	ck_assert_ptr_nonnull(strstr(detail, "zeroed"));
	close(fd);
}
END_TEST

START_TEST(the_xfs_log_is_reported_as_not_purgeable)
{
	struct media m = { .fstype = "xfs" };
	struct err e = { "" };
	char detail[256];

	ck_assert_int_eq(media_purge_journal(0, &m, detail, sizeof(detail), &e),
	    0);
	ck_assert_ptr_nonnull(strstr(detail, "xfs log cannot be purged from user "
	    "space"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("overwrite");
	TCase *tc = tcase_create("overwrite");
	int rc;

	suite_setup();
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, overwrite_leaves_zeros_on_the_device_before_the_name_goes);
	tcase_add_test(tc, random_pattern_leaves_neither_the_content_nor_zeros);
	tcase_add_test(tc, sample_verification_reads_a_part_spread_over_the_file);
	tcase_add_test(tc, a_fifo_is_refused_without_hanging);
	tcase_add_test(tc,
	    a_sparse_file_is_overwritten_where_it_has_data_never_in_its_holes);
	tcase_add_test(tc, a_sparse_file_is_sampled_only_where_it_was_written);
	tcase_add_test(tc, a_preallocated_file_is_overwritten_in_all_its_blocks);
	tcase_add_test(tc, a_hard_linked_file_is_refused_and_both_names_stay);
	tcase_add_test(tc, an_immutable_file_is_refused_with_a_clear_message);
	tcase_add_test(tc, a_file_replaced_since_it_was_located_is_refused);
	tcase_add_test(tc,
	    a_file_appended_to_during_the_pass_is_overwritten_to_its_end);
	tcase_add_test(tc, user_xattrs_are_overwritten_and_removed);
	tcase_add_test(tc, symlinks_are_removed_as_links_and_their_targets_stay);
	tcase_add_test(tc, empty_directories_are_removed_and_full_ones_kept);
	tcase_add_test(tc, ow_path_destroys_a_state_file);
	tcase_add_test(tc, copy_on_write_filesystems_are_refused_naming_crypto_shred);
	tcase_add_test(tc,
	    media_probe_names_the_loop_device_and_purges_the_ext4_journal);
	tcase_add_test(tc, the_xfs_log_is_reported_as_not_purgeable);
	suite_add_tcase(s, tc);
	rc = tu_run(s);
	suite_teardown();
	return rc;
}
