/* check_array.c: growing an array of records (agent/base/array.c). */
#include "testutil.h"

#include "base/array.h"

#include <stdint.h>

START_TEST(an_array_doubles_when_full_and_keeps_its_elements)
{
	uint64_t *v = NULL, *p;
	size_t n = 0, cap = 0, grew = 0;

	for (uint64_t i = 0; i < 100000; i++) {
		size_t before = cap;
		p = array_grow(v, n, &cap, sizeof(*v), 16);
		ck_assert_ptr_nonnull(p);
		v = p;
		if (cap != before) {
			ck_assert_uint_eq(cap, before ? before * 2 : 16);
			grew++;
		}
		v[n++] = i * 7;
	}
	/* 16 .. 131072: 14 allocations for 100,000 appends. */
	ck_assert_uint_eq(grew, 14);
	ck_assert_uint_eq(cap, 131072);
	for (uint64_t i = 0; i < n; i++)
		ck_assert_uint_eq(v[i], i * 7);
	free(v);
}
END_TEST

START_TEST(a_size_that_would_overflow_is_refused_and_nothing_is_lost)
{
	uint64_t *v = malloc(4 * sizeof(*v));
	size_t cap;

	ck_assert_ptr_nonnull(v);
	v[3] = 42;
	/* Twice the capacity times the element size overflows size_t. */
	cap = SIZE_MAX / sizeof(*v) / 2 + 1;
	ck_assert_ptr_null(array_grow(v, cap, &cap, sizeof(*v), 16));
	ck_assert_uint_eq(cap, SIZE_MAX / sizeof(*v) / 2 + 1);
	cap = SIZE_MAX / 2 + 1;
	ck_assert_ptr_null(array_grow(v, cap, &cap, 1, 16));
	ck_assert_uint_eq(cap, SIZE_MAX / 2 + 1);
	/* Not full: the same array back, untouched. */
	cap = 4;
	ck_assert_ptr_eq(array_grow(v, 3, &cap, sizeof(*v), 16), v);
	ck_assert_uint_eq(cap, 4);
	ck_assert_uint_eq(v[3], 42);
	free(v);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("array");
	TCase *tc = tcase_create("array");

	tcase_add_test(tc, an_array_doubles_when_full_and_keeps_its_elements);
	tcase_add_test(tc, a_size_that_would_overflow_is_refused_and_nothing_is_lost);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
