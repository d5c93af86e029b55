/*
 * check_scope.c: the scope of a disposition (plan/scope.c): objects by
 * (device, inode) with all their names, protection subtracted by object.
 * Each test builds a small tree and policies in a temporary directory.
 */
#include "testutil.h"

#include "base/err.h"
#include "conf/config.h"
#include "conf/own.h"
#include "conf/policy.h"
#include "plan/events.h"
#include "plan/scope.h"
#include "plan/sched.h"

#include <errno.h>

struct fx {
	char *top;
	struct config cfg;
	struct policyset ps;
	struct events ev;
	struct own own;
	struct scope_ctx sx;
	char *roots[2];
};

static void
mkdirs_(const char *path)
{
	char cmd[4300];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	ck_assert_int_eq(system(cmd), 0);
}

/* Writes top/rel (making its directories), returns nothing. */
static void
put(struct fx *f, const char *rel)
{
	char path[4200], *slash;

	snprintf(path, sizeof(path), "%s/%s", f->top, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	mkdirs_(path);
	*slash = '/';
	free(tu_write(f->top, rel, "a student's data\n"));
}

static void
link_(struct fx *f, const char *from, const char *to)
{
	char a[4200], b[4200];

	snprintf(a, sizeof(a), "%s/%s", f->top, from);
	snprintf(b, sizeof(b), "%s/%s", f->top, to);
	ck_assert_int_eq(link(a, b), 0);
}

/* An agreement over top/srv: id, then dataset lines ("name|glob|extra").
 * The glob is below top/srv; extra is one more "key = value" or "". */
static void
agreement(struct fx *f, const char *id, const char *const *ds)
{
	struct agreement *a;

	f->ps.a = realloc(f->ps.a, (f->ps.n + 1) * sizeof(*f->ps.a));
	ck_assert_ptr_nonnull(f->ps.a);
	a = &f->ps.a[f->ps.n++];
	memset(a, 0, sizeof(*a));
	a->id = strdup(id);
	a->lea = strdup("District");
	a->contact = strdup("dpo@district.example");
	a->file = strdup("test.ini");
	a->terminated = DAY_NONE;
	for (const char *const *d = ds; *d != NULL; d++) {
		char name[64], glob[256], extra[64];
		struct dataset *x;
		ck_assert_int_ge(sscanf(*d, "%63[^|]|%255[^|]|%63[^|]", name, glob,
		    extra), 2);
		a->ds = realloc(a->ds, (a->nds + 1) * sizeof(*a->ds));
		ck_assert_ptr_nonnull(a->ds);
		x = &a->ds[a->nds++];
		memset(x, 0, sizeof(*x));
		x->name = strdup(name);
		ck_assert_int_ge(asprintf(&x->path, "%s/srv/%s", f->top, glob), 0);
		x->categories = 1;
		x->method = METHOD_INHERIT;
		x->verify = VERIFY_INHERIT;
		x->pattern = PATTERN_INHERIT;
		if (strstr(*d, "|exempt") != NULL) {
			x->deidentified = 1;
			x->exempt_reason = strdup("de-identified");
		}
	}
}

static void
fx_init(struct fx *f, int nested)
{
	memset(f, 0, sizeof(*f));
	f->top = tu_tmpdir();
	ck_assert_int_ge(asprintf(&f->roots[0], "%s/srv", f->top), 0);
	mkdirs_(f->roots[0]);
	f->cfg.roots = f->roots;
	f->cfg.nroots = 1;
	if (nested) {
		ck_assert_int_ge(asprintf(&f->roots[1], "%s/srv/acme", f->top), 0);
		mkdirs_(f->roots[1]);
		f->cfg.nroots = 2;
	}
	ck_assert_int_ge(asprintf(&f->cfg.state_dir, "%s/state", f->top), 0);
	mkdirs_(f->cfg.state_dir);
}

static void
fx_ready(struct fx *f)
{
	ck_assert_int_eq(own_paths(&f->cfg, &f->ps, &f->own), 0);
	f->sx.cfg = &f->cfg;
	f->sx.ps = &f->ps;
	f->sx.ev = &f->ev;
	f->sx.own = &f->own;
}

static void
fx_free(struct fx *f)
{
	own_free(&f->own);
	free(f->cfg.state_dir);
	free(f->cfg.kek);
	f->cfg.state_dir = f->cfg.kek = NULL;
	f->cfg.roots = NULL;
	free(f->roots[0]);
	free(f->roots[1]);
	policy_free(&f->ps);
	tu_rmtree(f->top);
}

/* Resolves the scope of every dataset of agreement 0. */
static void
resolve(struct fx *f, struct scope *s)
{
	size_t ds[16];
	struct err e = { "" };

	for (size_t i = 0; i < f->ps.a[0].nds; i++)
		ds[i] = i;
	ck_assert_msg(scope_resolve(&f->sx, &f->ps.a[0], ds, f->ps.a[0].nds, s,
	    &e) == 0, "scope_resolve: %s", e.msg);
}

/* The verdict of the object named rel (below top/srv, any root). */
static int
verdict_of(const struct fx *f, const struct scope *s, const char *rel)
{
	char want[4300], got[4300];

	snprintf(want, sizeof(want), "%s/srv/%s", f->top, rel);
	for (size_t k = 0; k < s->n; k++)
		for (size_t n = 0; n < s->v[k].nnames; n++) {
			snprintf(got, sizeof(got), "%s/%s",
			    f->cfg.roots[s->v[k].names[n].root],
			    s->v[k].names[n].rel);
			if (strcmp(got, want) == 0)
				return s->v[k].verdict;
		}
	return -1;
}

START_TEST(an_object_matched_by_overlapping_datasets_is_one_object)
{
	struct fx f;
	struct scope s;
	static const char *const ds[] = { "all|acme/**", "csv|acme/x/*.csv",
	    "again|acme/**/*.csv", NULL };

	fx_init(&f, 0);
	put(&f, "srv/acme/x/a.csv");
	put(&f, "srv/acme/b.txt");
	agreement(&f, "acme", ds);
	fx_ready(&f);
	resolve(&f, &s);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_uint_eq(s.destroy_files, 2);
	ck_assert_int_eq(verdict_of(&f, &s, "acme/x/a.csv"), SV_DESTROY);
	/* Its settings come from the first dataset in policy order. */
	for (size_t k = 0; k < s.n; k++) {
		ck_assert_uint_eq(s.v[k].ds, 0);
		ck_assert_uint_eq(s.v[k].nnames, 1);
	}
	scope_free(&s);
	fx_free(&f);
}
END_TEST

START_TEST(a_hard_link_named_twice_still_has_a_name_outside)
{
	struct fx f;
	struct scope s;
	static const char *const ds[] = { "all|acme/**", "csv|acme/x/*.csv",
	    NULL };

	fx_init(&f, _i);
	put(&f, "outside/p.txt");
	mkdirs_(f.roots[0]);
	put(&f, "srv/acme/x/keep.txt");
	link_(&f, "outside/p.txt", "srv/acme/x/hard.csv");
	agreement(&f, "acme", ds);
	fx_ready(&f);
	resolve(&f, &s);
	ck_assert_int_eq(verdict_of(&f, &s, "acme/x/hard.csv"), SV_LINKS);
	ck_assert_uint_eq(s.count[SV_LINKS], 1);
	ck_assert_uint_eq(s.destroy_files, 1);
	scope_free(&s);
	fx_free(&f);
}
END_TEST

START_TEST(both_names_inside_the_set_make_one_object_to_destroy)
{
	struct fx f;
	struct scope s;
	static const char *const ds[] = { "all|acme/**", NULL };

	fx_init(&f, 0);
	put(&f, "srv/acme/a.csv");
	link_(&f, "srv/acme/a.csv", "srv/acme/b.csv");
	agreement(&f, "acme", ds);
	fx_ready(&f);
	resolve(&f, &s);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(s.v[0].nnames, 2);
	ck_assert_int_eq(s.v[0].verdict, SV_DESTROY);
	scope_free(&s);
	fx_free(&f);
}
END_TEST

START_TEST(exempt_data_is_kept_by_object_whatever_name_reaches_it)
{
	struct fx f;
	struct scope s;
	static const char *const ds[] = { "all|acme/**",
	    "research|acme/research/**|exempt", NULL };

	fx_init(&f, 0);
	put(&f, "srv/acme/research/agg.csv");
	put(&f, "srv/acme/grades.csv");
	link_(&f, "srv/acme/research/agg.csv", "srv/acme/copy.csv");
	agreement(&f, "acme", ds);
	fx_ready(&f);
	{
		size_t only = 0;	/* "all" alone: exempt never in a scope */
		struct err e = { "" };
		ck_assert_int_eq(scope_resolve(&f.sx, &f.ps.a[0], &only, 1, &s,
		    &e), 0);
	}
	ck_assert_int_eq(verdict_of(&f, &s, "acme/research/agg.csv"), SV_EXEMPT);
	ck_assert_int_eq(verdict_of(&f, &s, "acme/copy.csv"), SV_EXEMPT);
	ck_assert_int_eq(verdict_of(&f, &s, "acme/grades.csv"), SV_DESTROY);
	ck_assert_uint_eq(s.destroy_files, 1);
	scope_free(&s);
	fx_free(&f);
}
END_TEST

START_TEST(another_agreements_data_not_due_is_a_conflict_naming_it)
{
	struct fx f;
	struct scope s;
	char why[512];
	static const char *const a[] = { "all|shared/**", NULL };
	static const char *const b[] = { "exports|shared/b/*.csv", NULL };

	fx_init(&f, 0);
	put(&f, "srv/shared/a.csv");
	put(&f, "srv/shared/b/x.csv");
	agreement(&f, "alpha", a);
	agreement(&f, "beta", b);
	fx_ready(&f);
	resolve(&f, &s);
	ck_assert_int_eq(verdict_of(&f, &s, "shared/b/x.csv"), SV_CONFLICT);
	ck_assert_int_eq(verdict_of(&f, &s, "shared/a.csv"), SV_DESTROY);
	for (size_t k = 0; k < s.n; k++)
		if (s.v[k].verdict == SV_CONFLICT) {
			scope_why(&s.v[k], why, sizeof(why));
			ck_assert_ptr_nonnull(strstr(why, "agreement beta"));
			ck_assert_ptr_nonnull(strstr(why, "exports"));
		}
	ck_assert_uint_eq(scope_nrefused(&s), 1);
	scope_free(&s);
	fx_free(&f);
}
END_TEST

START_TEST(lethes_own_files_are_never_data)
{
	struct fx f;
	struct scope s;
	static const char *const ds[] = { "all|acme/**", NULL };

	fx_init(&f, 0);
	free(f.cfg.state_dir);
	ck_assert_int_ge(asprintf(&f.cfg.state_dir, "%s/srv/acme/state",
	    f.top), 0);
	ck_assert_int_ge(asprintf(&f.cfg.kek, "%s/srv/acme/kek", f.top), 0);
	put(&f, "srv/acme/state/journal");
	put(&f, "srv/acme/kek");
	put(&f, "srv/acme/a.csv");
	link_(&f, "srv/acme/kek", "srv/acme/kek-copy.csv");
	agreement(&f, "acme", ds);
	fx_ready(&f);
	resolve(&f, &s);
	ck_assert_int_eq(verdict_of(&f, &s, "acme/state/journal"), SV_OWN);
	ck_assert_int_eq(verdict_of(&f, &s, "acme/kek"), SV_OWN);
	ck_assert_int_eq(verdict_of(&f, &s, "acme/kek-copy.csv"), SV_OWN);
	ck_assert_int_eq(verdict_of(&f, &s, "acme/a.csv"), SV_DESTROY);
	scope_free(&s);
	/* And a policy whose glob reaches them is an error. */
	{
		struct diags d = { 0 };
		own_check_reach(&f.cfg, &f.ps, &d);
		ck_assert_uint_eq(diag_errors(&d), 1);
		ck_assert_ptr_nonnull(strstr(d.v[0], "lethe's own files are never data"));
		diag_free(&d);
	}
	fx_free(&f);
}
END_TEST

START_TEST(nested_roots_give_each_name_once_against_the_deepest_root)
{
	struct fx f;
	struct scope s;
	static const char *const ds[] = { "all|**", "inner|acme/**", NULL };

	fx_init(&f, 1);
	put(&f, "srv/acme/a.csv");
	put(&f, "srv/other.csv");
	agreement(&f, "acme", ds);
	fx_ready(&f);
	resolve(&f, &s);
	ck_assert_uint_eq(s.n, 2);
	for (size_t k = 0; k < s.n; k++) {
		ck_assert_uint_eq(s.v[k].nnames, 1);
		if (strcmp(s.v[k].names[0].rel, "a.csv") == 0)
			ck_assert_int_eq(s.v[k].names[0].root, 1);
	}
	ck_assert_uint_eq(s.destroy_files, 2);
	scope_free(&s);
	fx_free(&f);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("scope");
	TCase *t = tcase_create("scope");

	tcase_add_test(t, an_object_matched_by_overlapping_datasets_is_one_object);
	tcase_add_loop_test(t, a_hard_link_named_twice_still_has_a_name_outside, 0, 2);
	tcase_add_test(t, both_names_inside_the_set_make_one_object_to_destroy);
	tcase_add_test(t, exempt_data_is_kept_by_object_whatever_name_reaches_it);
	tcase_add_test(t, another_agreements_data_not_due_is_a_conflict_naming_it);
	tcase_add_test(t, lethes_own_files_are_never_data);
	tcase_add_test(t, nested_roots_give_each_name_once_against_the_deepest_root);
	suite_add_tcase(s, t);
	return tu_run(s);
}
