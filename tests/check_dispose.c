/*
 * check_dispose.c: carrying out one disposition (dispose/dispose.h,
 * dispose_run) on a host made on disk, with the scope context a run
 * uses (decide_open).  What a user cares about: exactly the scope's files
 * are gone, every byte overwritten and read back; nothing outside
 * is touched, however it is reached (a symbolic link, a hard link); an
 * ambiguous file is refused and kept whole; a disposition killed halfway
 * and resumed destroys and counts each file once.
 */
#include "testutil.h"

#include "run/decide.h"
#include "dispose/dispose.h"
#include "plan/events.h"
#include "state/journal.h"

#include <fcntl.h>
#include <signal.h>
#include <time.h>

static struct tu_host h;

static void
setup(void)
{
	tu_host_init(&h);
	tu_host_policy(&h, "acme", "method = overwrite\n\n"
	    "[dataset \"all\"]\npath = %s/srv/acme/**\n"
	    "categories = Assessment\n", h.top);
}

static void
teardown(void)
{
	tu_host_free(&h);
}

/* top/rel: n KiB of a marker line, repeated. */
static void
mkdata(const char *rel, const char *marker, int kib)
{
	TU_SH(h.top, "mkdir -p \"$(dirname '%1$s')\" && for i in $(seq %2$d); "
	    "do printf '%3$s %%059d\\n' $i; done > '%1$s'", rel, kib * 16,
	    marker);
}

/* The size of top/rel. */
static uint64_t
size_of(const char *rel)
{
	char *p = tu_path(h.top, rel);
	struct stat st;

	ck_assert_int_eq(stat(p, &st), 0);
	free(p);
	return (uint64_t)st.st_size;
}

/* The SHA-256 of top/rel, by sha256sum. */
static void
digest(const char *rel, char out[65])
{
	char *p = tu_path(h.top, "digest.out");
	char *text;

	TU_SH(h.top, "sha256sum < '%s' | cut -c1-64 > digest.out", rel);
	text = tu_readall(p, NULL);
	ck_assert_ptr_nonnull(text);
	snprintf(out, 65, "%s", text);
	free(text);
	free(p);
}

/* One disposition of every dataset of acme, as run carries it out. */
struct disp {
	struct events ev;
	struct decide d;
	struct journal j;
	struct dispose_req rq;
	struct dispose_out out;
	struct diags problems;
	size_t ds[1];
	int rc;
	struct err e;
};

static void
disp_open(struct disp *x, const char *id, int resume)
{
	struct err e = { "" };

	memset(x, 0, sizeof(*x));
	ck_assert_msg(events_load(h.state, &x->ev, &e) == 0, "%s", e.msg);
	ck_assert_msg(decide_open(&x->d, &h.cfg, &h.ps, &x->ev, time(NULL),
	    DAY_NONE, &e) == 0, "%s", e.msg);
	ck_assert_msg(journal_open(h.state, &x->j, &e) == 0, "%s", e.msg);
	x->rq.cfg = &h.cfg;
	x->rq.sx = &x->d.sx;
	x->rq.a = policy_find(&h.ps, "acme");
	ck_assert_ptr_nonnull(x->rq.a);
	x->rq.id = id;
	x->rq.ds = x->ds;
	x->rq.nds = 1;
	x->rq.resume = resume;
	x->rq.j = &x->j;
	x->rq.problems = &x->problems;
}

static void
disp_run(struct disp *x)
{
	x->rc = dispose_run(&x->rq, &x->out, &x->e);
}

static void
disp_close(struct disp *x)
{
	decide_close(&x->d);
	journal_close(&x->j);
	events_free(&x->ev);
	diag_free(&x->problems);
}

/* Whether a diagnostic mentions needle. */
static int
said(const struct diags *d, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->v[i], needle) != NULL)
			return 1;
	return 0;
}

/* How many rows of the final manifest name top/rel. */
static int
manifest_rows_of(const char *id, const char *rel)
{
	char *m, *needle;
	int n;

	ck_assert_int_ge(asprintf(&m, "%s/work/%s/manifest.final", h.state,
	    id), 0);
	ck_assert_int_ge(asprintf(&needle, "%s/%s\t", h.top, rel), 0);
	n = tu_count(m, needle);
	free(m);
	free(needle);
	return n;
}

START_TEST(exactly_the_scope_is_destroyed_and_nothing_outside)
{
	struct disp x;
	char keep[65], secret[65], now[65];
	uint64_t bytes;

	mkdata("srv/acme/a.csv", "MARK-A", 8);
	mkdata("srv/acme/sub/b.csv", "MARK-B", 4);
	mkdata("srv/acme/sub/deeper/c.csv", "MARK-C", 4);
	mkdata("srv/other/keep.csv", "MARK-KEEP", 4);
	mkdata("outside/secret.csv", "MARK-SECRET", 4);
	/* Names in scope that lead outside it: removed as names, never
	 * followed. */
	TU_SH(h.top, "ln -s ../other/keep.csv srv/acme/link.csv && "
	    "ln -s '%s/outside' srv/acme/escape", h.top);
	digest("srv/other/keep.csv", keep);
	digest("outside/secret.csv", secret);
	bytes = size_of("srv/acme/a.csv") + size_of("srv/acme/sub/b.csv") +
	    size_of("srv/acme/sub/deeper/c.csv");
	tu_host_load(&h);
	disp_open(&x, "acme-1", 0);
	disp_run(&x);
	ck_assert_msg(x.rc == 0, "dispose_run: %s", x.e.msg);
	/* Gone: every file and link the dataset matched. */
	ck_assert(!tu_exists(h.top, "srv/acme/a.csv"));
	ck_assert(!tu_exists(h.top, "srv/acme/sub/b.csv"));
	ck_assert(!tu_exists(h.top, "srv/acme/sub/deeper/c.csv"));
	ck_assert(!tu_exists(h.top, "srv/acme/link.csv"));
	ck_assert(!tu_exists(h.top, "srv/acme/escape"));
	ck_assert_int_eq(tu_shq(h.top, "test -z \"$(find srv/acme -mindepth 1 "
	    "-not -type d)\""), 0);
	/* Untouched: what lies outside, and what the links pointed at. */
	digest("srv/other/keep.csv", now);
	ck_assert_str_eq(now, keep);
	digest("outside/secret.csv", now);
	ck_assert_str_eq(now, secret);
	/* Counted once each, and each destroyed name in the manifest once. */
	ck_assert_uint_eq(x.out.files, 3);
	ck_assert_uint_eq(x.out.links, 2);
	ck_assert_uint_eq(x.out.bytes, bytes);
	/* Every byte written over and read back (what the certificate
	 * claims; tests/forensic looks at the disk itself). */
	ck_assert_uint_eq(x.out.overwritten_bytes, bytes);
	ck_assert_uint_eq(x.out.verified_bytes, bytes);
	ck_assert_uint_eq(x.out.remaining, 0);
	ck_assert_uint_eq(x.out.nexceptions, 0);
	ck_assert_int_eq(manifest_rows_of("acme-1", "srv/acme/a.csv"), 1);
	ck_assert_int_eq(manifest_rows_of("acme-1", "srv/acme/sub/deeper/c.csv"),
	    1);
	ck_assert_int_eq(manifest_rows_of("acme-1", "srv/acme/link.csv"), 1);
	ck_assert_int_eq(manifest_rows_of("acme-1", "srv/other/keep.csv"), 0);
	disp_close(&x);
}
END_TEST

START_TEST(a_hard_link_to_a_file_outside_the_scope_is_refused_and_kept_whole)
{
	struct disp x;
	char before[65], now[65];

	mkdata("srv/acme/a.csv", "MARK-A", 4);
	mkdata("srv/acme/shared.csv", "MARK-SHARED", 4);
	TU_SH(h.top, "mkdir -p srv/other && ln srv/acme/shared.csv "
	    "srv/other/shared-copy.csv");
	digest("srv/acme/shared.csv", before);
	tu_host_load(&h);
	disp_open(&x, "acme-2", 0);
	disp_run(&x);
	/* Not complete: a refusal fails the disposition, never silently. */
	ck_assert_int_eq(x.rc, -1);
	ck_assert_msg(strstr(x.out.exceptions, "hard link") != NULL, "%s",
	    x.out.exceptions);
	ck_assert_msg(said(&x.problems, "srv/acme/shared.csv"), "the refused "
	    "file is not named for the admin");
	/* Both names there, the data whole. */
	ck_assert(tu_exists(h.top, "srv/acme/shared.csv"));
	ck_assert(tu_exists(h.top, "srv/other/shared-copy.csv"));
	digest("srv/other/shared-copy.csv", now);
	ck_assert_str_eq(now, before);
	ck_assert_int_eq(manifest_rows_of("acme-2", "srv/acme/shared.csv"), 0);
	/* The rest of the scope was still done, and counted. */
	ck_assert(!tu_exists(h.top, "srv/acme/a.csv"));
	ck_assert_uint_eq(x.out.files, 1);
	disp_close(&x);
}
END_TEST

/* dispose_req.progress in the child: dies like a killed run once two
 * files are done and the third is being overwritten. */
static void
die_midway(uint64_t files, uint64_t nfiles, uint64_t bytes, uint64_t nbytes,
    void *arg)
{
	(void)nfiles; (void)bytes; (void)nbytes; (void)arg;
	if (files >= 2)
		_exit(42);
}

START_TEST(a_disposition_killed_halfway_and_resumed_counts_each_file_once)
{
	static const char *const rel[] = { "srv/acme/f1.csv", "srv/acme/f2.csv",
	    "srv/acme/f3.csv", "srv/acme/f4.csv", "srv/acme/small.csv" };
	struct disp x;
	pid_t pid;
	int st, left = 0;
	uint64_t bytes = 0;
	char *intents;

	/* Files over 1 MiB go one batch each: a kill falls between them. */
	for (int i = 0; i < 4; i++) {
		char m[16];
		snprintf(m, sizeof(m), "MARK-F%d", i + 1);
		mkdata(rel[i], m, 2048);
	}
	mkdata(rel[4], "MARK-SMALL", 1);
	for (int i = 0; i < 5; i++)
		bytes += size_of(rel[i]);
	tu_host_load(&h);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		disp_open(&x, "acme-3", 0);
		x.rq.progress = die_midway;
		disp_run(&x);
		_exit(0);	/* finished: the test below fails */
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 42, "the first run "
	    "was not stopped halfway (status %d)", st);
	for (int i = 0; i < 5; i++)
		left += tu_exists(h.top, rel[i]);
	ck_assert_msg(left > 0 && left < 5, "%d files left after the kill",
	    left);
	/* A row the killed run wrote twice (an append retried) is one file. */
	TU_SH(h.state, "cd work/acme-3 && test -s names && cp names names.1 "
	    "&& cat names.1 >> names && rm names.1");
	/* The next run resumes the same disposition. */
	disp_open(&x, "acme-3", 1);
	disp_run(&x);
	ck_assert_msg(x.rc == 0, "resumed: %s", x.e.msg);
	for (int i = 0; i < 5; i++) {
		ck_assert_msg(!tu_exists(h.top, rel[i]), "%s survived", rel[i]);
		ck_assert_msg(manifest_rows_of("acme-3", rel[i]) == 1, "%s is "
		    "not in the manifest once", rel[i]);
	}
	ck_assert_uint_eq(x.out.files, 5);
	ck_assert_uint_eq(x.out.bytes, bytes);
	/* The file being overwritten when it died lost its digest, said. */
	ck_assert_uint_eq(x.out.digests_missing, 1);
	/* Each file set out for once: no intent number twice. */
	intents = tu_path(h.state, "work/acme-3/intents");
	ck_assert_int_eq(tu_shq(h.top, "test -s '%1$s' && test -z \"$(cut -f1 "
	    "'%1$s' | sort | uniq -d)\" && test -z \"$(cut -f2,3 '%1$s' | sort "
	    "| uniq -d)\"", intents), 0);
	free(intents);
	disp_close(&x);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("dispose");
	TCase *tc = tcase_create("dispose");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, exactly_the_scope_is_destroyed_and_nothing_outside);
	tcase_add_test(tc, a_hard_link_to_a_file_outside_the_scope_is_refused_and_kept_whole);
	tcase_add_test(tc, a_disposition_killed_halfway_and_resumed_counts_each_file_once);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
