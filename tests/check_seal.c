/* check_seal.c: the sealed stream format (seal.h) and secure memory. */
#include "testutil.h"

#include "state/durable.h"
#include "base/err.h"
#include "keys/seal.h"
#include "base/secmem.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define CC (SEAL_CHUNK + SEAL_TAG)
#define H SEAL_HEADER_LEN

static struct dek *key_a, *key_b;
static char *dir;

static void
setup(void)
{
	struct err e;

	dir = tu_tmpdir();
	key_a = secmem_alloc(sizeof(*key_a), &e);
	key_b = secmem_alloc(sizeof(*key_b), &e);
	ck_assert_ptr_nonnull(key_a);
	ck_assert_ptr_nonnull(key_b);
	ck_assert_int_eq(RAND_bytes(key_a->key, DEK_LEN), 1);
	ck_assert_int_eq(RAND_bytes(key_b->key, DEK_LEN), 1);
	strcpy(key_a->id, "osde-2024/assessment/1");
	strcpy(key_b->id, "osde-2024/assessment/1");	/* same id, other key */
}

static void
teardown(void)
{
	secmem_free(key_a, sizeof(*key_a));
	secmem_free(key_b, sizeof(*key_b));
	tu_rmtree(dir);
}

/* seal_lookup: hands out the dek in arg when the id matches. */
static int
lookup(const char *id, struct dek *k, void *arg, struct err *e)
{
	const struct dek *src = arg;

	if (strcmp(id, src->id) != 0)
		return err_set(e, "key %s is not in the keystore", id);
	*k = *src;
	return 0;
}

static unsigned char *
pattern(size_t n, unsigned seed)
{
	unsigned char *p = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)((i * 2654435761u + seed) >> 13);
	return p;
}

static int
fd_with(const unsigned char *b, size_t n)
{
	int fd = tu_tmpfd(dir);

	ck_assert_int_eq(pwrite(fd, b, n, 0), (ssize_t)n);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static unsigned char *
fd_contents(int fd, size_t *n)
{
	off_t end = lseek(fd, 0, SEEK_END);
	unsigned char *b;

	ck_assert_int_ge(end, 0);
	b = malloc((size_t)end + 1);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(pread(fd, b, (size_t)end, 0), (ssize_t)end);
	*n = (size_t)end;
	return b;
}

/* Seals n pattern bytes; returns the sealed bytes. */
static unsigned char *
seal_bytes(const unsigned char *p, size_t n, size_t *sn)
{
	struct err e = { "" };
	int in = fd_with(p, n), out = tu_tmpfd(dir);
	unsigned char *s;

	ck_assert_msg(seal_stream(in, out, key_a, NULL, NULL, &e) == 0, "%s",
	    e.msg);
	s = fd_contents(out, sn);
	close(in);
	close(out);
	return s;
}

/* Unseals buf; returns 0 with the plaintext in *pt, or -1 with e. */
static int
unseal_bytes(const unsigned char *s, size_t sn, const struct dek *k,
    unsigned char **pt, size_t *pn, struct err *e)
{
	int in = fd_with(s, sn), out = tu_tmpfd(dir), rc;

	rc = unseal_stream(in, out, lookup, (void *)k, NULL, NULL, e);
	*pt = fd_contents(out, pn);
	close(in);
	close(out);
	return rc;
}

static void
round_trip(size_t n)
{
	unsigned char *p = pattern(n, (unsigned)n), *s, *u;
	size_t sn, un;
	struct err e = { "" };

	s = seal_bytes(p, n, &sn);
	ck_assert_uint_eq(sn, H + n + SEAL_TAG * (n / SEAL_CHUNK + 1));
	ck_assert_int_eq(memcmp(s, SEAL_MAGIC, 8), 0);
	ck_assert_msg(unseal_bytes(s, sn, key_a, &u, &un, &e) == 0,
	    "size %zu: %s", n, e.msg);
	ck_assert_uint_eq(un, n);
	ck_assert_int_eq(memcmp(p, u, n), 0);
	free(p);
	free(s);
	free(u);
}

START_TEST(an_empty_input_seals_to_one_empty_final_chunk_and_back)
{
	round_trip(0);
}
END_TEST

START_TEST(inputs_around_the_chunk_size_round_trip)
{
	size_t sizes[] = { 1, 65535, 65536, 65537, 3 * 65536, 16 * 65536,
	    16 * 65536 + 1, 17 * 65536 - 1, 32 * 65536 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		round_trip(sizes[i]);
}
END_TEST

START_TEST(two_seals_of_the_same_input_differ)
{
	unsigned char *p = pattern(1000, 1), *a, *b;
	size_t an, bn;

	a = seal_bytes(p, 1000, &an);
	b = seal_bytes(p, 1000, &bn);
	ck_assert_uint_eq(an, bn);
	ck_assert_int_ne(memcmp(a + 12, b + 12, 8), 0);	/* nonce prefix */
	ck_assert_int_ne(memcmp(a + H, b + H, an - H), 0);
	free(p);
	free(a);
	free(b);
}
END_TEST

START_TEST(the_header_names_the_key_and_is_fixed_size)
{
	unsigned char *p = pattern(10, 1), *s;
	struct seal_header h;
	struct err e;
	size_t sn;
	int fd;

	s = seal_bytes(p, 10, &sn);
	fd = fd_with(s, sn);
	ck_assert_int_eq(seal_is_sealed(fd), 1);
	ck_assert_int_eq(seal_peek(fd, &h, &e), 0);
	ck_assert_str_eq(h.keyid, "osde-2024/assessment/1");
	ck_assert_int_eq(h.version, 1);
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 0);	/* offset unmoved */
	close(fd);
	fd = fd_with(p, 10);
	ck_assert_int_eq(seal_is_sealed(fd), 0);
	ck_assert_int_eq(seal_peek(fd, &h, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a lethe sealed file (bad magic"));
	close(fd);
	free(p);
	free(s);
}
END_TEST

/* Unsealing must fail, and say something. */
static void
rejected(const unsigned char *s, size_t sn, const char *what)
{
	unsigned char *u;
	size_t un;
	struct err e = { "" };

	ck_assert_msg(unseal_bytes(s, sn, key_a, &u, &un, &e) == -1,
	    "%s was accepted", what);
	ck_assert_msg(e.msg[0] != '\0', "%s: no message", what);
	free(u);
}

static const size_t TN = 3 * 65536 + 100;	/* 4 chunks, last short */

START_TEST(a_flipped_bit_anywhere_in_the_header_is_rejected)
{
	unsigned char *p = pattern(TN, 7), *s;
	size_t sn;

	s = seal_bytes(p, TN, &sn);
	for (size_t i = 0; i < H; i++) {
		s[i] ^= 0x01;
		rejected(s, sn, "a flipped header bit");
		s[i] ^= 0x01;
	}
	free(p);
	free(s);
}
END_TEST

START_TEST(a_flipped_bit_in_a_chunk_body_or_tag_is_rejected)
{
	unsigned char *p = pattern(TN, 7), *s;
	size_t sn;
	size_t at[] = { H, H + 1, H + 65535, H + 65536, H + CC - 1, H + CC,
	    H + 2 * CC + 500, H + 3 * CC, 0 };

	s = seal_bytes(p, TN, &sn);
	at[8] = sn - 1;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		s[at[i]] ^= 0x80;
		rejected(s, sn, "a flipped body or tag bit");
		s[at[i]] ^= 0x80;
	}
	free(p);
	free(s);
}
END_TEST

START_TEST(swapped_or_duplicated_chunks_are_rejected)
{
	unsigned char *p = pattern(TN, 7), *s, *t;
	size_t sn;

	s = seal_bytes(p, TN, &sn);
	t = malloc(sn);
	ck_assert_ptr_nonnull(t);
	memcpy(t, s, sn);
	memcpy(t + H, s + H + CC, CC);		/* 1, 0, 2, 3 */
	memcpy(t + H + CC, s + H, CC);
	rejected(t, sn, "swapped chunks");
	memcpy(t, s, sn);
	memcpy(t + H + CC, s + H, CC);		/* 0, 0, 2, 3 */
	rejected(t, sn, "a duplicated chunk");
	free(p);
	free(s);
	free(t);
}
END_TEST

START_TEST(truncation_at_any_byte_is_rejected)
{
	unsigned char *p = pattern(TN, 7), *s;
	size_t sn;

	s = seal_bytes(p, TN, &sn);
	/* Every byte inside the header and around each boundary, and a
	 * stride through the bodies. */
	for (size_t cut = 0; cut < sn; cut++) {
		size_t m = (cut - H) % CC;
		if (cut > H + 40 && m > 40 && m < CC - 40 && cut < sn - 40 &&
		    cut % 4099 != 0)
			continue;
		rejected(s, cut, "a truncated stream");
	}
	free(p);
	free(s);
}
END_TEST

START_TEST(truncation_exactly_at_a_chunk_boundary_is_rejected)
{
	unsigned char *p = pattern(3 * 65536, 7), *s;
	size_t sn;

	s = seal_bytes(p, 3 * 65536, &sn);	/* 3 full + empty final */
	ck_assert_uint_eq(sn, H + 3 * CC + SEAL_TAG);
	rejected(s, H + 3 * CC, "the empty final chunk removed");
	rejected(s, H + 2 * CC, "cut at boundary 2");
	rejected(s, H + CC, "cut at boundary 1");
	rejected(s, H, "header only");
	free(p);
	free(s);
	p = pattern(TN, 7);
	s = seal_bytes(p, TN, &sn);
	rejected(s, H + 3 * CC, "the short final chunk removed");
	free(p);
	free(s);
}
END_TEST

START_TEST(anything_appended_after_the_final_chunk_is_rejected)
{
	unsigned char *p = pattern(TN, 7), *s, *t;
	size_t sn, add[] = { 1, 15, 16, 17, CC, CC + 16 };

	s = seal_bytes(p, TN, &sn);
	t = malloc(sn + 2 * CC);
	ck_assert_ptr_nonnull(t);
	for (size_t i = 0; i < sizeof(add) / sizeof(add[0]); i++) {
		memcpy(t, s, sn);
		/* Appended bytes copied from a real chunk of the stream. */
		memcpy(t + sn, s + H, add[i]);
		rejected(t, sn + add[i], "appended bytes");
	}
	free(p);
	free(s);
	free(t);
}
END_TEST

START_TEST(a_different_key_with_the_same_id_is_rejected)
{
	unsigned char *p = pattern(1000, 3), *s, *u;
	size_t sn, un;
	struct err e = { "" };

	s = seal_bytes(p, 1000, &sn);
	ck_assert_int_eq(unseal_bytes(s, sn, key_b, &u, &un, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "does not authenticate"));
	ck_assert_uint_eq(un, 0);
	free(p);
	free(s);
	free(u);
}
END_TEST

START_TEST(unsealing_to_a_file_leaves_no_output_when_the_stream_is_bad)
{
	unsigned char *p = pattern(TN, 9), *s;
	struct seal_out o;
	struct err e = { "" };
	char *out;
	size_t sn;
	int in, n = 0;
	DIR *d;
	struct dirent *de;

	s = seal_bytes(p, TN, &sn);
	s[H + 2 * CC + 3] ^= 1;		/* chunk 2 of 4 */
	ck_assert_int_ge(asprintf(&out, "%s/plain.csv", dir), 0);
	in = fd_with(s, sn);
	ck_assert_int_eq(seal_out_open(out, 0600, &o, &e), 0);
	ck_assert_int_eq(unseal_stream(in, o.fd, lookup, key_a, NULL, NULL,
	    &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "chunk 2"));
	seal_out_abort(&o);
	ck_assert_int_eq(access(out, F_OK), -1);
	d = opendir(dir);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.' || strstr(de->d_name, "tmp") != NULL;
	closedir(d);
	ck_assert_int_eq(n, 0);		/* no temporary left either */
	close(in);
	/* A good stream commits, with the plaintext only. */
	s[H + 2 * CC + 3] ^= 1;
	in = fd_with(s, sn);
	ck_assert_int_eq(seal_out_open(out, 0600, &o, &e), 0);
	ck_assert_int_eq(unseal_stream(in, o.fd, lookup, key_a, NULL, NULL,
	    &e), 0);
	ck_assert_int_eq(seal_out_commit(&o, &e), 0);
	{
		size_t un;
		char *u;
		struct stat st;
		ck_assert_int_eq(slurp(out, 1 << 30, &u, &un, &e), 0);
		ck_assert_uint_eq(un, TN);
		ck_assert_int_eq(memcmp(u, p, TN), 0);
		ck_assert_int_eq(stat(out, &st), 0);
		ck_assert_int_eq(st.st_mode & 07777, 0600);
		free(u);
	}
	close(in);
	free(out);
	free(p);
	free(s);
}
END_TEST

START_TEST(a_lookup_failure_is_the_error_reported)
{
	unsigned char *p = pattern(10, 3), *s, *u;
	size_t sn, un;
	struct err e = { "" };

	s = seal_bytes(p, 10, &sn);
	strcpy(key_b->id, "other/all/1");
	ck_assert_int_eq(unseal_bytes(s, sn, key_b, &u, &un, &e), -1);
	ck_assert_str_eq(e.msg, "key osde-2024/assessment/1 is not in the "
	    "keystore");
	free(p);
	free(s);
	free(u);
}
END_TEST

/* Pattern source for the streaming test: deterministic, cheap. */
static void
produce(int fd, uint64_t total)
{
	unsigned char *b = malloc(1 << 20);
	uint64_t done = 0;

	for (size_t i = 0; i < (1 << 20); i++)
		b[i] = (unsigned char)(i * 131 + 7);
	while (done < total) {
		size_t n = total - done < (1 << 20) ? total - done : 1 << 20;
		/* Odd sizes, so chunks straddle the pipe's writes. */
		n = n > 77777 ? n - (done % 77777) : n;
		b[0] = (unsigned char)(done >> 20);
		for (size_t o = 0; o < n;) {
			ssize_t w = write(fd, b + o, n - o);
			if (w <= 0)
				_exit(3);
			o += (size_t)w;
		}
		done += n;
	}
	free(b);
}

START_TEST(a_large_stream_seals_and_unseals_through_pipes_in_constant_memory)
{
	const uint64_t total = 300ull << 20;	/* 300 MiB, never in memory */
	int a[2], b[2], c[2], st;
	pid_t p1, p2, p3;
	uint64_t got = 0;
	unsigned char *buf = malloc(1 << 20);
	struct rusage ru;
	/* Secure buffers read as zeros in a forked child (MADV_WIPEONFORK):
	 * the children get an ordinary copy. */
	struct dek kc = *key_a;

	ck_assert_int_eq(pipe(a), 0);
	ck_assert_int_eq(pipe(b), 0);
	ck_assert_int_eq(pipe(c), 0);
	if ((p1 = fork()) == 0) {
		close(a[0]); close(b[0]); close(b[1]); close(c[0]); close(c[1]);
		produce(a[1], total);
		_exit(0);
	}
	if ((p2 = fork()) == 0) {
		struct err e;
		close(a[1]); close(b[0]); close(c[0]); close(c[1]);
		_exit(seal_stream(a[0], b[1], &kc, NULL, NULL, &e) == 0 ?
		    0 : 4);
	}
	if ((p3 = fork()) == 0) {
		struct err e;
		close(a[0]); close(a[1]); close(b[1]); close(c[0]);
		_exit(unseal_stream(b[0], c[1], lookup, &kc, NULL, NULL,
		    &e) == 0 ? 0 : 5);
	}
	close(a[0]); close(a[1]); close(b[0]); close(b[1]); close(c[1]);
	/* Compare with a second, local run of the same producer. */
	{
		int q[2];
		pid_t p4;
		ck_assert_int_eq(pipe(q), 0);
		if ((p4 = fork()) == 0) {
			close(q[0]);
			close(c[0]);
			produce(q[1], total);
			_exit(0);
		}
		close(q[1]);
		unsigned char *want = malloc(1 << 20);
		for (;;) {
			ssize_t r = read(c[0], buf, 1 << 20);
			ck_assert_int_ge(r, 0);
			if (r == 0)
				break;
			for (ssize_t o = 0; o < r;) {
				ssize_t w = read(q[0], want, (size_t)(r - o));
				ck_assert_int_gt(w, 0);
				ck_assert_int_eq(memcmp(want, buf + o,
				    (size_t)w), 0);
				o += w;
			}
			got += (uint64_t)r;
		}
		close(q[0]);
		ck_assert_int_eq(waitpid(p4, &st, 0), p4);
		free(want);
	}
	close(c[0]);
	{
		int s1, s2, s3;
		ck_assert_int_eq(waitpid(p1, &s1, 0), p1);
		ck_assert_int_eq(waitpid(p2, &s2, 0), p2);
		ck_assert_int_eq(waitpid(p3, &s3, 0), p3);
		ck_assert_msg(s1 == 0 && s2 == 0 && s3 == 0, "producer %d, "
		    "seal %d, unseal %d, %" PRIu64 " bytes", s1, s2, s3, got);
	}
	ck_assert_uint_eq(got, total);
	OPENSSL_cleanse(&kc, sizeof(kc));
	/* The largest child's peak RSS: a small fraction of 300 MiB even
	 * under AddressSanitizer. */
	ck_assert_int_eq(getrusage(RUSAGE_CHILDREN, &ru), 0);
	ck_assert_msg(ru.ru_maxrss < 64 * 1024, "peak RSS %ld KiB",
	    ru.ru_maxrss);
	free(buf);
}
END_TEST

START_TEST(secure_buffers_are_zeroed_and_usable)
{
	struct err e;
	unsigned char *p = secmem_alloc(100, &e);

	ck_assert_ptr_nonnull(p);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(p[i], 0);
	memset(p, 0xAB, 100);
	secmem_free(p, 100);
	secmem_free(NULL, 100);
	ck_assert_ptr_null(secmem_alloc(0, &e));
}
END_TEST

START_TEST(a_forked_child_does_not_inherit_secure_buffers)
{
	struct err e;
	unsigned char *p = secmem_alloc(32, &e);
	pid_t pid;
	int st;

	memset(p, 0x5A, 32);
	if ((pid = fork()) == 0)
		_exit(p[0] == 0 && p[31] == 0 ? 0 : 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
#ifdef MADV_WIPEONFORK
	ck_assert_int_eq(st, 0);
#endif
	ck_assert_int_eq(p[0], 0x5A);
	secmem_free(p, 32);
}
END_TEST

START_TEST(disabling_core_dumps_sets_the_core_limit_to_zero)
{
	struct rlimit rl;
	struct err e;

	ck_assert_int_eq(secmem_no_core(&e), 0);
	ck_assert_int_eq(getrlimit(RLIMIT_CORE, &rl), 0);
	ck_assert_uint_eq(rl.rlim_cur, 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("seal");
	TCase *t = tcase_create("seal");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 300);
	tcase_add_test(t, an_empty_input_seals_to_one_empty_final_chunk_and_back);
	tcase_add_test(t, inputs_around_the_chunk_size_round_trip);
	tcase_add_test(t, two_seals_of_the_same_input_differ);
	tcase_add_test(t, the_header_names_the_key_and_is_fixed_size);
	tcase_add_test(t, a_flipped_bit_anywhere_in_the_header_is_rejected);
	tcase_add_test(t, a_flipped_bit_in_a_chunk_body_or_tag_is_rejected);
	tcase_add_test(t, swapped_or_duplicated_chunks_are_rejected);
	tcase_add_test(t, truncation_at_any_byte_is_rejected);
	tcase_add_test(t, truncation_exactly_at_a_chunk_boundary_is_rejected);
	tcase_add_test(t, anything_appended_after_the_final_chunk_is_rejected);
	tcase_add_test(t, a_different_key_with_the_same_id_is_rejected);
	tcase_add_test(t, unsealing_to_a_file_leaves_no_output_when_the_stream_is_bad);
	tcase_add_test(t, a_lookup_failure_is_the_error_reported);
	tcase_add_test(t, a_large_stream_seals_and_unseals_through_pipes_in_constant_memory);
	tcase_add_test(t, secure_buffers_are_zeroed_and_usable);
	tcase_add_test(t, a_forked_child_does_not_inherit_secure_buffers);
	tcase_add_test(t, disabling_core_dumps_sets_the_core_limit_to_zero);
	suite_add_tcase(s, t);
	return tu_run(s);
}
