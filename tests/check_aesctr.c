/* check_aesctr.c: the random overwrite pattern's keystream
 * (agent/sanitize/aesctr.c). */
#include "testutil.h"

#include "base/err.h"
#include "base/secmem.h"
#include "sanitize/aesctr.h"

#include <stdint.h>

START_TEST(the_stream_is_the_same_from_any_aligned_offset)
{
	struct aesctr a;
	struct err e;
	unsigned char whole[4096], part[1024];

	ck_assert_int_eq(aesctr_init(&a, &e), 0);
	ck_assert_int_eq(aesctr_stream(&a, 0, whole, sizeof(whole), &e), 0);
	ck_assert_int_eq(aesctr_stream(&a, 1024, part, sizeof(part), &e), 0);
	ck_assert_int_eq(memcmp(part, whole + 1024, sizeof(part)), 0);
	ck_assert_int_eq(aesctr_stream(&a, 4080, part, 16, &e), 0);
	ck_assert_int_eq(memcmp(part, whole + 4080, 16), 0);
	/* Not zeros, and not a short repeat. */
	ck_assert_int_ne(memcmp(whole, whole + 2048, 2048), 0);
	ck_assert_int_eq(aesctr_stream(&a, 8, part, 16, &e), -1);
	aesctr_free(&a);
}
END_TEST

START_TEST(each_key_is_fresh_secure_memory_and_gone_after_free)
{
	struct aesctr a, b;
	struct err e;
	unsigned char x[64], y[64];
	long pg = sysconf(_SC_PAGESIZE);

	ck_assert_int_eq(aesctr_init(&a, &e), 0);
	ck_assert_int_eq(aesctr_init(&b, &e), 0);
	/* A secure buffer is a mapping of its own (base/secmem.h), never a
	 * heap chunk beside other data. */
	ck_assert_uint_eq((uintptr_t)a.key % (uintptr_t)pg, 0);
	ck_assert_uint_eq((uintptr_t)b.key % (uintptr_t)pg, 0);
	ck_assert_int_eq(secmem_unlocked(), 0);
	ck_assert_int_eq(aesctr_stream(&a, 0, x, sizeof(x), &e), 0);
	ck_assert_int_eq(aesctr_stream(&b, 0, y, sizeof(y), &e), 0);
	ck_assert_int_ne(memcmp(x, y, sizeof(x)), 0);
	aesctr_free(&a);
	aesctr_free(&b);
	ck_assert_ptr_null(a.key);
	ck_assert_ptr_null(a.ctx);
	aesctr_free(&a);	/* twice is harmless */
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("aesctr");
	TCase *tc = tcase_create("aesctr");

	tcase_add_test(tc, the_stream_is_the_same_from_any_aligned_offset);
	tcase_add_test(tc, each_key_is_fresh_secure_memory_and_gone_after_free);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
