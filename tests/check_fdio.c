/* check_fdio.c: whole reads and writes on a descriptor
 * (agent/base/fdio.c). */
#include "testutil.h"

#include "base/fdio.h"

#include <fcntl.h>
#include <pthread.h>

START_TEST(a_read_gives_everything_up_to_the_end_of_the_file)
{
	char *dir = tu_tmpdir(), path[4200], buf[300];
	unsigned char data[256];
	size_t got = 99;
	int fd;

	for (int i = 0; i < 256; i++)
		data[i] = (unsigned char)i;
	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fdio_pwrite_all(fd, data, sizeof(data), 0), 0);
	ck_assert_int_eq(fdio_pread_full(fd, buf, 100, 10, &got), 100);
	ck_assert_uint_eq(got, 100);
	ck_assert_int_eq(memcmp(buf, data + 10, 100), 0);
	/* Past the end: what there is, then nothing. */
	ck_assert_int_eq(fdio_pread_full(fd, buf, sizeof(buf), 200, NULL), 56);
	ck_assert_int_eq(memcmp(buf, data + 200, 56), 0);
	ck_assert_int_eq(fdio_pread_full(fd, buf, sizeof(buf), 256, &got), 0);
	ck_assert_uint_eq(got, 0);
	close(fd);
	/* A descriptor that cannot read: -1 and errno, nothing read. */
	fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	got = 99;
	ck_assert_int_eq(fdio_pread_full(fd, buf, 10, 0, &got), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_uint_eq(got, 0);
	close(fd);
	tu_rmtree(dir);
}
END_TEST

static void *
drain(void *arg)
{
	int fd = *(int *)arg;
	char b[4096];
	size_t total = 0;
	ssize_t n;

	while ((n = read(fd, b, sizeof(b))) > 0)
		total += (size_t)n;
	return (void *)total;
}

START_TEST(a_write_larger_than_a_pipe_arrives_whole)
{
	size_t n = 1 << 20;
	char *big = calloc(1, n);
	pthread_t th;
	void *total;
	int p[2];

	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, drain, &p[0]), 0);
	ck_assert_int_eq(fdio_write_all(p[1], big, n), 0);
	close(p[1]);
	pthread_join(th, &total);
	ck_assert_uint_eq((size_t)total, n);
	close(p[0]);
	free(big);
}
END_TEST

START_TEST(a_write_to_a_full_device_fails_with_its_errno)
{
	char b[8192] = { 0 };
	int fd = open("/dev/full", O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fdio_write_all(fd, b, sizeof(b)), -1);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_int_eq(fdio_pwrite_all(fd, b, sizeof(b), -1), -1);
	ck_assert_int_eq(errno, EINVAL);
	close(fd);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("fdio");
	TCase *tc = tcase_create("fdio");

	tcase_add_test(tc, a_read_gives_everything_up_to_the_end_of_the_file);
	tcase_add_test(tc, a_write_larger_than_a_pipe_arrives_whole);
	tcase_add_test(tc, a_write_to_a_full_device_fails_with_its_errno);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
