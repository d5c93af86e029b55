/* check_strmap.c: the string index replay and policy loading use
 * (agent/base/strmap.c). */
#include "testutil.h"

#include "base/strmap.h"

#include <stdio.h>
#include <string.h>

START_TEST(every_key_put_is_found_with_its_latest_value)
{
	struct strmap m = { 0 };
	char k[32];
	size_t v;

	ck_assert_int_eq(strmap_get(&m, "x", &v), -1);
	for (size_t i = 0; i < 100000; i++) {
		snprintf(k, sizeof(k), "a%05zu-20261201-%zu", i % 10000, i);
		ck_assert_int_eq(strmap_put(&m, k, i), 0);
	}
	ck_assert_uint_eq(m.n, 100000);
	for (size_t i = 0; i < 100000; i++) {
		snprintf(k, sizeof(k), "a%05zu-20261201-%zu", i % 10000, i);
		ck_assert_int_eq(strmap_get(&m, k, &v), 0);
		ck_assert_uint_eq(v, i);
	}
	/* A replaced value; the count does not grow. */
	ck_assert_int_eq(strmap_put(&m, "a00007-20261201-7", 42), 0);
	ck_assert_int_eq(strmap_get(&m, "a00007-20261201-7", &v), 0);
	ck_assert_uint_eq(v, 42);
	ck_assert_uint_eq(m.n, 100000);
	/* Near misses are not found. */
	ck_assert_int_eq(strmap_get(&m, "a00007-20261201-", &v), -1);
	ck_assert_int_eq(strmap_get(&m, "a00007-20261201-10007", &v), 0);
	ck_assert_uint_eq(v, 10007);
	ck_assert_int_eq(strmap_get(&m, "", &v), -1);
	strmap_free(&m);
	ck_assert_uint_eq(m.n, 0);
	ck_assert_int_eq(strmap_get(&m, "a00001-20261201-1", &v), -1);
}
END_TEST

START_TEST(the_map_keeps_its_own_copy_of_each_key)
{
	struct strmap m = { 0 };
	char k[16] = "H-0001";
	size_t v;

	ck_assert_int_eq(strmap_put(&m, k, 3), 0);
	memcpy(k, "H-0002", 7);
	ck_assert_int_eq(strmap_get(&m, "H-0001", &v), 0);
	ck_assert_uint_eq(v, 3);
	ck_assert_int_eq(strmap_get(&m, "H-0002", &v), -1);
	strmap_free(&m);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("strmap");
	TCase *tc = tcase_create("strmap");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, every_key_put_is_found_with_its_latest_value);
	tcase_add_test(tc, the_map_keeps_its_own_copy_of_each_key);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
