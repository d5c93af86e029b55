/* check_journal.c: the hash-chained journal and the state lock. */
#include "testutil.h"

#include "base/err.h"
#include "plan/events.h"
#include "state/durable.h"
#include "state/journal.h"
#include "state/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <openssl/evp.h>

/* The journal's lines, read back as a malloc'd array of strings. */
struct lines {
	char *v[64];
	size_t n;
};

static void
read_lines(const char *dir, struct lines *l)
{
	char path[4200], buf[70000];
	FILE *f;

	snprintf(path, sizeof(path), "%s/journal", dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	l->n = 0;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		ck_assert_uint_lt(l->n, 64);
		l->v[l->n++] = strdup(buf);
	}
	fclose(f);
}

/* Rewrites the journal from lines, in the given order (-1 ends). */
static void
write_lines(const char *dir, struct lines *l, const int *order)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/journal", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (; *order >= 0; order++)
		fputs(l->v[*order], f);
	ck_assert_int_eq(fclose(f), 0);
}

static void
free_lines(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

/* Appends n "terminate" events to a fresh journal in dir. */
static void
fill(const char *dir, int n)
{
	struct journal j;
	struct err e;
	char v[16];

	ck_assert_msg(journal_open(dir, &j, &e) == 0, "%s", e.msg);
	for (int i = 1; i <= n; i++) {
		snprintf(v, sizeof(v), "a%d", i);
		ck_assert_msg(journal_appendv(&j, &e, "terminate", "agreement",
		    v, "date", "2026-10-15", "by", "root", NULL) == 0, "%s",
		    e.msg);
	}
	journal_close(&j);
}

struct collected {
	int n;
	char agreement[8][64];
	char note[8][256];
	uint64_t seq[8];
};

static int
collect(const struct jrec *r, void *arg)
{
	struct collected *c = arg;
	const char *a = jrec_get(r, "agreement"), *n = jrec_get(r, "note");

	ck_assert_int_lt(c->n, 8);
	snprintf(c->agreement[c->n], 64, "%s", a ? a : "");
	snprintf(c->note[c->n], 256, "%s", n ? n : "");
	c->seq[c->n] = r->seq;
	c->n++;
	return 0;
}

START_TEST(appended_events_read_back_in_order_with_their_fields)
{
	char *dir = tu_tmpdir();
	struct collected c = { 0 };
	struct err e;

	fill(dir, 3);
	ck_assert_msg(journal_read(dir, collect, &c, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(c.n, 3);
	ck_assert_str_eq(c.agreement[0], "a1");
	ck_assert_str_eq(c.agreement[2], "a3");
	ck_assert_uint_eq(c.seq[0], 1);
	ck_assert_uint_eq(c.seq[2], 3);
	tu_rmtree(dir);
}
END_TEST

START_TEST(values_with_spaces_equals_percent_and_newlines_round_trip)
{
	static const char *vals[] = {
		"J. Smith, Data Privacy Officer",
		"a=b c=d", "100% sure %41", "line\nFORGED 2 x", "tab\there", "",
	};
	char *dir = tu_tmpdir();
	struct collected c = { 0 };
	struct journal j;
	struct lines l;
	struct err e;

	ck_assert(journal_open(dir, &j, &e) == 0);
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		ck_assert_msg(journal_appendv(&j, &e, "hold", "note", vals[i],
		    NULL) == 0, "%s", e.msg);
	journal_close(&j);
	ck_assert_msg(journal_read(dir, collect, &c, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(c.n, 6);
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		ck_assert_str_eq(c.note[i], vals[i]);
	/* One line per event: the newline in a value did not split it. */
	read_lines(dir, &l);
	ck_assert_uint_eq(l.n, 6);
	ck_assert_ptr_nonnull(strstr(l.v[1], "note=a%3Db%20c%3Dd "));
	free_lines(&l);
	tu_rmtree(dir);
}
END_TEST

START_TEST(reopening_continues_the_sequence_and_the_chain)
{
	char *dir = tu_tmpdir();
	struct journal_report r;
	struct journal j;
	struct err e;

	fill(dir, 2);
	ck_assert(journal_open(dir, &j, &e) == 0);
	ck_assert_uint_eq(j.seq, 2);
	ck_assert(journal_appendv(&j, &e, "release", "id", "H-0001", NULL) == 0);
	ck_assert_uint_eq(j.seq, 3);
	journal_close(&j);
	ck_assert_msg(journal_verify(dir, &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.lines, 3);
	ck_assert_uint_eq(r.bad_line, 0);
	ck_assert_uint_eq(r.seq, 3);
	ck_assert_uint_eq(strlen(r.head), 64);
	tu_rmtree(dir);
}
END_TEST

START_TEST(the_journal_is_created_mode_0600)
{
	char *dir = tu_tmpdir(), path[4200];
	struct stat st;

	fill(dir, 1);
	snprintf(path, sizeof(path), "%s/journal", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_missing_journal_verifies_as_empty_and_intact)
{
	char *dir = tu_tmpdir();
	struct journal_report r;
	struct err e;

	ck_assert(journal_verify(dir, &r, &e) == 0);
	ck_assert_uint_eq(r.lines, 0);
	ck_assert_str_eq(r.head, "0000000000000000000000000000000000000000000000000000000000000000");
	tu_rmtree(dir);
}
END_TEST

START_TEST(an_edited_line_is_named_by_verify)
{
	char *dir = tu_tmpdir();
	struct journal_report r;
	struct lines l;
	struct err e;
	char *p;

	fill(dir, 4);
	read_lines(dir, &l);
	p = strstr(l.v[1], "agreement=a2");
	ck_assert_ptr_nonnull(p);
	p[strlen("agreement=a")] = '7';	/* a2 -> a7 */
	write_lines(dir, &l, (int[]){ 0, 1, 2, 3, -1 });
	ck_assert(journal_verify(dir, &r, &e) == -1);
	ck_assert_uint_eq(r.bad_line, 2);
	ck_assert_uint_eq(r.lines, 1);
	ck_assert_ptr_nonnull(strstr(e.msg, "journal:2: hash chain broken"));
	free_lines(&l);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_removed_line_is_found_at_the_line_after_it)
{
	char *dir = tu_tmpdir();
	struct journal_report r;
	struct lines l;
	struct err e;

	fill(dir, 4);
	read_lines(dir, &l);
	write_lines(dir, &l, (int[]){ 0, 2, 3, -1 });
	ck_assert(journal_verify(dir, &r, &e) == -1);
	ck_assert_uint_eq(r.bad_line, 2);
	ck_assert_ptr_nonnull(strstr(e.msg, "journal:2:"));
	/* Removing the last line cannot be seen by the chain alone (a signed
	 * checkpoint covers that), but removing the first line can. */
	write_lines(dir, &l, (int[]){ 1, 2, 3, -1 });
	ck_assert(journal_verify(dir, &r, &e) == -1);
	ck_assert_uint_eq(r.bad_line, 1);
	free_lines(&l);
	tu_rmtree(dir);
}
END_TEST

START_TEST(two_reordered_lines_are_detected)
{
	char *dir = tu_tmpdir();
	struct journal_report r;
	struct lines l;
	struct err e;

	fill(dir, 4);
	read_lines(dir, &l);
	write_lines(dir, &l, (int[]){ 0, 2, 1, 3, -1 });
	ck_assert(journal_verify(dir, &r, &e) == -1);
	ck_assert_uint_eq(r.bad_line, 2);
	free_lines(&l);
	tu_rmtree(dir);
}
END_TEST

/* Hex SHA-256 of a + " " + b, as a forger without the chain would. */
static void
sha_hex(const char *a, const char *b, char out[65])
{
	char *s;

	ck_assert_int_ge(asprintf(&s, "%s %s", a, b), 0);
	tu_sha256_hex(s, strlen(s), out);
	free(s);
}

START_TEST(a_forged_appended_line_with_a_plausible_hash_is_detected)
{
	char *dir = tu_tmpdir(), path[4200], h[65];
	const char *text = "4 2026-11-23T09:00:00Z release id=H-0001 by=root";
	struct journal_report r;
	struct journal j;
	struct lines l;
	struct err e;
	FILE *f;

	fill(dir, 3);
	read_lines(dir, &l);
	/* Chained to line 2 instead of line 3: well-formed, wrong. */
	char prev[65];
	memcpy(prev, l.v[1] + strlen(l.v[1]) - 65, 64);
	prev[64] = '\0';
	sha_hex(prev, text, h);
	snprintf(path, sizeof(path), "%s/journal", dir);
	f = fopen(path, "a");
	fprintf(f, "%s %s\n", text, h);
	fclose(f);
	ck_assert(journal_verify(dir, &r, &e) == -1);
	ck_assert_uint_eq(r.bad_line, 4);
	ck_assert_uint_eq(r.lines, 3);
	/* And the writer refuses to chain onto it. */
	ck_assert(journal_open(dir, &j, &e) == -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "journal:4:"));
	free_lines(&l);
	tu_rmtree(dir);
}
END_TEST

START_TEST(an_inserted_line_is_detected)
{
	char *dir = tu_tmpdir(), *other = tu_tmpdir();
	struct journal_report r;
	struct lines l, o;
	struct err e;

	struct journal j;

	fill(dir, 3);
	/* A genuine line 2 of another journal: right form, right seq. */
	ck_assert(journal_open(other, &j, &e) == 0);
	ck_assert(journal_appendv(&j, &e, "hold", "id", "H-0001", NULL) == 0);
	ck_assert(journal_appendv(&j, &e, "release", "id", "H-0001", NULL) == 0);
	journal_close(&j);
	read_lines(dir, &l);
	read_lines(other, &o);
	l.v[l.n++] = strdup(o.v[1]);
	write_lines(dir, &l, (int[]){ 0, 3, 1, 2, -1 });
	ck_assert(journal_verify(dir, &r, &e) == -1);
	ck_assert_uint_eq(r.bad_line, 2);
	ck_assert_ptr_nonnull(strstr(e.msg, "hash chain broken"));
	free_lines(&l);
	free_lines(&o);
	tu_rmtree(dir);
	tu_rmtree(other);
}
END_TEST

START_TEST(a_torn_last_line_is_skipped_by_readers_and_repaired_by_a_writer)
{
	char *dir = tu_tmpdir(), path[4200];
	struct journal_report r;
	struct collected c = { 0 };
	struct journal j;
	struct lines l;
	struct stat st, st2;
	struct err e;

	fill(dir, 3);
	snprintf(path, sizeof(path), "%s/journal", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(truncate(path, st.st_size - 10), 0);
	/* Readers: the two complete lines, and the torn one counted apart. */
	ck_assert_msg(journal_verify(dir, &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.lines, 2);
	ck_assert_uint_gt(r.torn, 60);
	ck_assert(journal_read(dir, collect, &c, &e) == 0);
	ck_assert_int_eq(c.n, 2);
	/* Nothing was repaired by reading. */
	ck_assert_int_eq(stat(path, &st2), 0);
	ck_assert_int_eq(st2.st_size, st.st_size - 10);
	/* A writer removes it and journals the repair, then appends on. */
	ck_assert_msg(journal_open(dir, &j, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(j.repaired, r.torn);
	ck_assert_uint_eq(j.seq, 3);
	ck_assert(journal_appendv(&j, &e, "terminate", "agreement", "z",
	    "date", "2026-10-15", NULL) == 0);
	journal_close(&j);
	ck_assert_msg(journal_verify(dir, &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.lines, 4);
	ck_assert_uint_eq(r.torn, 0);
	read_lines(dir, &l);
	ck_assert_ptr_nonnull(strstr(l.v[2], " journal-repair line=3 bytes="));
	ck_assert_ptr_nonnull(strstr(l.v[2], " sha256="));
	free_lines(&l);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_sequence_gap_is_named_even_when_the_hashes_were_recomputed)
{
	char *dir = tu_tmpdir(), path[4200], h1[65], h2[65];
	const char *zero = "0000000000000000000000000000000000000000000000000000000000000000";
	const char *t1 = "1 2026-11-23T09:00:00Z terminate agreement=a";
	const char *t2 = "3 2026-11-23T09:00:00Z terminate agreement=b";
	struct journal_report r;
	struct err e;
	FILE *f;

	sha_hex(zero, t1, h1);
	sha_hex(h1, t2, h2);
	snprintf(path, sizeof(path), "%s/journal", dir);
	f = fopen(path, "w");
	fprintf(f, "%s %s\n%s %s\n", t1, h1, t2, h2);
	fclose(f);
	ck_assert(journal_verify(dir, &r, &e) == -1);
	ck_assert_uint_eq(r.bad_line, 2);
	ck_assert_ptr_nonnull(strstr(e.msg, "sequence number 3, expected 2"));
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_line_with_a_bad_time_is_named)
{
	char *dir = tu_tmpdir(), path[4200], h1[65];
	const char *zero = "0000000000000000000000000000000000000000000000000000000000000000";
	const char *t1 = "1 yesterday terminate agreement=a";
	struct journal_report r;
	struct err e;
	FILE *f;

	sha_hex(zero, t1, h1);
	snprintf(path, sizeof(path), "%s/journal", dir);
	f = fopen(path, "w");
	fprintf(f, "%s %s\n", t1, h1);
	fclose(f);
	ck_assert(journal_verify(dir, &r, &e) == -1);
	ck_assert_uint_eq(r.bad_line, 1);
	ck_assert_ptr_nonnull(strstr(e.msg, "journal:1: bad time"));
	tu_rmtree(dir);
}
END_TEST

START_TEST(hash_at_gives_each_lines_hash_for_checkpoints)
{
	char *dir = tu_tmpdir(), h[65];
	struct journal_report r;
	struct lines l;
	struct err e;

	fill(dir, 3);
	read_lines(dir, &l);
	ck_assert_msg(journal_hash_at(dir, 2, h, &e) == 0, "%s", e.msg);
	ck_assert(strncmp(h, l.v[1] + strlen(l.v[1]) - 65, 64) == 0);
	ck_assert(journal_hash_at(dir, 3, h, &e) == 0);
	ck_assert(journal_verify(dir, &r, &e) == 0);
	ck_assert_str_eq(h, r.head);
	ck_assert(journal_hash_at(dir, 4, h, &e) == -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "no line"));
	ck_assert(journal_hash_at(dir, 0, h, &e) == -1);
	free_lines(&l);
	tu_rmtree(dir);
}
END_TEST

START_TEST(verify_reports_the_last_checkpoint_event)
{
	char *dir = tu_tmpdir(), h[65];
	struct journal_report r;
	struct journal j;
	struct err e;

	fill(dir, 2);
	ck_assert(journal_hash_at(dir, 2, h, &e) == 0);
	ck_assert(journal_open(dir, &j, &e) == 0);
	ck_assert(journal_appendv(&j, &e, "checkpoint", "seq", "2", "head", h,
	    NULL) == 0);
	journal_close(&j);
	ck_assert(journal_verify(dir, &r, &e) == 0);
	ck_assert_uint_eq(r.ckpt_line, 3);
	ck_assert_uint_eq(r.ckpt_seq, 2);
	ck_assert_str_eq(r.ckpt_head, h);
	tu_rmtree(dir);
}
END_TEST

START_TEST(bad_event_and_field_names_are_refused)
{
	char *dir = tu_tmpdir();
	struct journal j;
	struct err e;

	ck_assert(journal_open(dir, &j, &e) == 0);
	ck_assert(journal_appendv(&j, &e, "Bad Event", NULL) == -1);
	ck_assert(journal_appendv(&j, &e, "hold", "a key", "v", NULL) == -1);
	ck_assert(journal_appendv(&j, &e, "hold", "k=", "v", NULL) == -1);
	ck_assert_uint_eq(j.seq, 0);
	journal_close(&j);
	tu_rmtree(dir);
}
END_TEST

/* ---- several appenders: the run and a `lethe hold` at once ---- */

START_TEST(two_handles_appending_in_turn_extend_one_chain)
{
	char *dir = tu_tmpdir();
	struct journal_report r;
	struct collected c = { 0 };
	struct journal a, b;
	struct err e;

	ck_assert(journal_open(dir, &a, &e) == 0);
	ck_assert(journal_open(dir, &b, &e) == 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_msg(journal_appendv(&a, &e, "terminate", "agreement",
		    "run", NULL) == 0, "%s", e.msg);
		ck_assert_msg(journal_appendv(&b, &e, "hold", "agreement",
		    "hold", NULL) == 0, "%s", e.msg);
	}
	ck_assert_uint_eq(a.seq, 5);
	ck_assert_uint_eq(b.seq, 6);
	journal_close(&a);
	journal_close(&b);
	ck_assert_msg(journal_verify(dir, &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.lines, 6);
	ck_assert(journal_read(dir, collect, &c, &e) == 0);
	ck_assert_str_eq(c.agreement[0], "run");
	ck_assert_str_eq(c.agreement[1], "hold");
	ck_assert_str_eq(c.agreement[5], "hold");
	tu_rmtree(dir);
}
END_TEST

START_TEST(sync_passes_each_line_another_appended_once_and_none_of_ours)
{
	char *dir = tu_tmpdir();
	struct collected c = { 0 };
	struct journal run, other;
	struct err e;

	fill(dir, 2);
	ck_assert(journal_open(dir, &run, &e) == 0);
	ck_assert(journal_appendv(&run, &e, "terminate", "agreement", "own1",
	    NULL) == 0);
	ck_assert(journal_open(dir, &other, &e) == 0);
	ck_assert(journal_appendv(&other, &e, "hold", "agreement", "x1",
	    NULL) == 0);
	/* Our next append chains to it (and keeps it for sync). */
	ck_assert_msg(journal_appendv(&run, &e, "terminate", "agreement",
	    "own2", NULL) == 0, "%s", e.msg);
	ck_assert(journal_appendv(&other, &e, "hold", "agreement", "x2",
	    NULL) == 0);
	journal_close(&other);
	ck_assert_msg(journal_sync(&run, collect, &c, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(c.n, 2);
	ck_assert_str_eq(c.agreement[0], "x1");
	ck_assert_uint_eq(c.seq[0], 4);
	ck_assert_str_eq(c.agreement[1], "x2");
	ck_assert_uint_eq(c.seq[1], 6);
	ck_assert_uint_eq(run.seq, 6);
	/* Each once: nothing new, nothing again. */
	ck_assert(journal_sync(&run, collect, &c, &e) == 0);
	ck_assert_int_eq(c.n, 2);
	journal_close(&run);
	tu_rmtree(dir);
}
END_TEST

static int
apply(const struct jrec *r, void *arg)
{
	struct err e;

	ck_assert_msg(events_apply(arg, r, &e) == 0, "%s", e.msg);
	return 0;
}

START_TEST(a_hold_recorded_during_a_run_reaches_its_loaded_events)
{
	char *dir = tu_tmpdir();
	struct journal run, hold;
	struct events ev;
	struct err e;

	ck_assert(journal_open(dir, &run, &e) == 0);
	ck_assert(journal_appendv(&run, &e, "hold", "id", "H-0001",
	    "agreement", "a", "reason", "first", NULL) == 0);
	ck_assert(events_load(dir, &ev, &e) == 0);
	ck_assert_uint_eq(ev.nhold, 1);
	/* Mid-run: an admin holds agreement b, then releases H-0001. */
	ck_assert(journal_open(dir, &hold, &e) == 0);
	ck_assert(journal_appendv(&hold, &e, "hold", "id", "H-0002",
	    "agreement", "b", "reason", "subpoena", "datasets", "exports",
	    NULL) == 0);
	ck_assert(journal_appendv(&hold, &e, "release", "id", "H-0001",
	    "agreement", "a", NULL) == 0);
	journal_close(&hold);
	ck_assert_msg(journal_sync(&run, apply, &ev, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(ev.nhold, 2);
	ck_assert_str_eq(ev.hold[1].id, "H-0002");
	ck_assert_str_eq(ev.hold[1].agreement, "b");
	ck_assert_uint_eq(ev.hold[1].ndatasets, 1);
	ck_assert_str_eq(ev.hold[1].datasets[0], "exports");
	ck_assert_int_eq(ev.hold[0].released, 1);
	ck_assert_uint_eq(ev.seq, 3);
	events_free(&ev);
	/* After a reload the same lines are already in: applying them again
	 * changes nothing (no duplicate hold id). */
	ck_assert_msg(events_load(dir, &ev, &e) == 0, "%s", e.msg);
	ck_assert(journal_open(dir, &hold, &e) == 0);
	ck_assert(journal_appendv(&hold, &e, "hold", "id", "H-0003",
	    "agreement", "c", "reason", "late", NULL) == 0);
	journal_close(&hold);
	ck_assert(journal_appendv(&run, &e, "config-loaded", "policies", "1",
	    NULL) == 0);
	events_free(&ev);
	ck_assert_msg(events_load(dir, &ev, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(ev.nhold, 3);
	ck_assert_msg(journal_sync(&run, apply, &ev, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(ev.nhold, 3);
	events_free(&ev);
	journal_close(&run);
	tu_rmtree(dir);
}
END_TEST

START_TEST(many_processes_appending_at_once_leave_one_intact_chain)
{
	char *dir = tu_tmpdir();
	struct journal_report r;
	struct err e;
	enum { PROCS = 6, EACH = 40 };

	fill(dir, 1);
	for (int p = 0; p < PROCS; p++) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			struct journal j;
			struct err ce;
			char v[16];
			if (journal_open(dir, &j, &ce) != 0)
				_exit(1);
			for (int i = 0; i < EACH; i++) {
				snprintf(v, sizeof(v), "p%d-%d", p, i);
				if (journal_appendv(&j, &ce, "hold", "agreement",
				    v, NULL) != 0)
					_exit(2);
			}
			journal_close(&j);
			_exit(0);
		}
	}
	for (int p = 0; p < PROCS; p++) {
		int st;
		ck_assert_int_gt(wait(&st), 0);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	ck_assert_msg(journal_verify(dir, &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.lines, 1 + PROCS * EACH);
	ck_assert_uint_eq(r.torn, 0);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_line_another_left_torn_is_repaired_by_the_next_append)
{
	char *dir = tu_tmpdir(), path[4200];
	struct journal_report r;
	struct journal run;
	struct lines l;
	struct err e;
	FILE *f;

	fill(dir, 1);
	ck_assert(journal_open(dir, &run, &e) == 0);
	/* Another process dies mid-write. */
	snprintf(path, sizeof(path), "%s/journal", dir);
	f = fopen(path, "a");
	fputs("2 2026-11-23T09:00:00Z hold agreement=x", f);
	fclose(f);
	ck_assert_msg(journal_appendv(&run, &e, "terminate", "agreement", "b",
	    NULL) == 0, "%s", e.msg);
	ck_assert_uint_eq(run.repaired, 39);
	journal_close(&run);
	ck_assert_msg(journal_verify(dir, &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.lines, 3);
	read_lines(dir, &l);
	ck_assert_ptr_nonnull(strstr(l.v[1], " journal-repair line=2 bytes=39 "));
	ck_assert_ptr_nonnull(strstr(l.v[2], " terminate agreement=b "));
	free_lines(&l);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_journal_changed_behind_an_open_handle_is_refused)
{
	char *dir = tu_tmpdir(), path[4200];
	struct journal j;
	struct err e;

	fill(dir, 3);
	ck_assert(journal_open(dir, &j, &e) == 0);
	snprintf(path, sizeof(path), "%s/journal", dir);
	ck_assert_int_eq(truncate(path, 10), 0);
	ck_assert(journal_appendv(&j, &e, "hold", "agreement", "x", NULL) == -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "shrank"));
	journal_close(&j);
	tu_rmtree(dir);
}
END_TEST

START_TEST(an_append_waits_for_a_reader_and_nested_locks_keep_others_out)
{
	char *dir = tu_tmpdir(), path[4200];
	struct timespec t0, t1;
	struct journal j;
	struct err e;
	int fd, st, ready[2];
	pid_t pid;
	char c;

	fill(dir, 1);
	ck_assert(journal_open(dir, &j, &e) == 0);
	snprintf(path, sizeof(path), "%s/journal", dir);
	ck_assert_int_eq(pipe(ready), 0);
	/* A reader (journal verify) holds a shared lock for a second. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int rfd = open(path, O_RDONLY);
		if (rfd < 0 || flock(rfd, LOCK_SH) != 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		sleep(1);
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_msg(journal_appendv(&j, &e, "hold", "agreement", "x",
	    NULL) == 0, "%s", e.msg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_ge((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000, 700);
	ck_assert_int_gt(waitpid(pid, &st, 0), 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* Nested: the append inside keeps the lock; only the last unlock
	 * lets anyone else in. */
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert(journal_lock(&j, &e) == 0);
	ck_assert(journal_appendv(&j, &e, "hold", "agreement", "y", NULL) == 0);
	ck_assert_int_eq(flock(fd, LOCK_SH | LOCK_NB), -1);
	journal_unlock(&j);
	ck_assert_int_eq(flock(fd, LOCK_SH | LOCK_NB), 0);
	close(fd);
	close(ready[0]);
	close(ready[1]);
	journal_close(&j);
	tu_rmtree(dir);
}
END_TEST

START_TEST(an_append_only_file_loses_only_its_torn_last_line)
{
	char *dir = tu_tmpdir(), *p;
	struct err e;
	off_t cut;
	char buf[64];
	FILE *f;

	p = tu_write(dir, "names", "row 1\nrow 2\nrow 3 cut sho");
	ck_assert_msg(durable_trim_torn(p, &cut, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(cut, 13);
	f = fopen(p, "r");
	ck_assert_uint_eq(fread(buf, 1, sizeof(buf), f), 12);
	fclose(f);
	ck_assert_mem_eq(buf, "row 1\nrow 2\n", 12);
	/* Whole: nothing cut.  No newline at all: all of it.  Missing: fine. */
	ck_assert(durable_trim_torn(p, &cut, &e) == 0);
	ck_assert_int_eq(cut, 0);
	free(p);
	p = tu_write(dir, "one", "no newline at all");
	ck_assert(durable_trim_torn(p, &cut, &e) == 0);
	ck_assert_int_eq(cut, 17);
	free(p);
	p = tu_write(dir, "x", "");
	ck_assert_int_eq(unlink(p), 0);
	ck_assert(durable_trim_torn(p, &cut, &e) == 0);
	free(p);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_second_writer_is_told_who_holds_the_lock)
{
	char *dir = tu_tmpdir(), want[64];
	struct err e;
	int fd1, fd2;

	ck_assert_msg(lock_acquire(dir, 0, &fd1, &e) == 0, "%s", e.msg);
	ck_assert(lock_acquire(dir, 0, &fd2, &e) == -1);
	ck_assert_int_eq(fd2, -1);
	snprintf(want, sizeof(want), "another lethe (pid %ld) holds",
	    (long)getpid());
	ck_assert_msg(strstr(e.msg, want) != NULL, "%s", e.msg);
	ck_assert_ptr_nonnull(strstr(e.msg, "/lock"));
	lock_release(fd1);
	ck_assert(lock_acquire(dir, 0, &fd2, &e) == 0);
	lock_release(fd2);
	tu_rmtree(dir);
}
END_TEST

START_TEST(the_lock_never_follows_a_symlink)
{
	char *dir = tu_tmpdir(), path[4200], target[4200];
	struct err e;
	int fd;

	snprintf(path, sizeof(path), "%s/lock", dir);
	snprintf(target, sizeof(target), "%s/victim", dir);
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert(lock_acquire(dir, 0, &fd, &e) == -1);
	ck_assert_int_eq(access(target, F_OK), -1);
	tu_rmtree(dir);
}
END_TEST

START_TEST(lock_creates_the_state_dir)
{
	char *dir = tu_tmpdir(), sub[4200];
	struct stat st;
	struct err e;
	int fd;

	snprintf(sub, sizeof(sub), "%s/state/x", dir);
	ck_assert_msg(lock_acquire(sub, 1, &fd, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(stat(sub, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	lock_release(fd);
	tu_rmtree(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("journal");
	TCase *t = tcase_create("journal");

	tcase_add_test(t, appended_events_read_back_in_order_with_their_fields);
	tcase_add_test(t, values_with_spaces_equals_percent_and_newlines_round_trip);
	tcase_add_test(t, reopening_continues_the_sequence_and_the_chain);
	tcase_add_test(t, the_journal_is_created_mode_0600);
	tcase_add_test(t, a_missing_journal_verifies_as_empty_and_intact);
	tcase_add_test(t, an_edited_line_is_named_by_verify);
	tcase_add_test(t, a_removed_line_is_found_at_the_line_after_it);
	tcase_add_test(t, two_reordered_lines_are_detected);
	tcase_add_test(t, a_forged_appended_line_with_a_plausible_hash_is_detected);
	tcase_add_test(t, an_inserted_line_is_detected);
	tcase_add_test(t, a_torn_last_line_is_skipped_by_readers_and_repaired_by_a_writer);
	tcase_add_test(t, a_sequence_gap_is_named_even_when_the_hashes_were_recomputed);
	tcase_add_test(t, a_line_with_a_bad_time_is_named);
	tcase_add_test(t, hash_at_gives_each_lines_hash_for_checkpoints);
	tcase_add_test(t, verify_reports_the_last_checkpoint_event);
	tcase_add_test(t, bad_event_and_field_names_are_refused);
	tcase_add_test(t, two_handles_appending_in_turn_extend_one_chain);
	tcase_add_test(t, sync_passes_each_line_another_appended_once_and_none_of_ours);
	tcase_add_test(t, a_hold_recorded_during_a_run_reaches_its_loaded_events);
	tcase_add_test(t, many_processes_appending_at_once_leave_one_intact_chain);
	tcase_add_test(t, a_line_another_left_torn_is_repaired_by_the_next_append);
	tcase_add_test(t, a_journal_changed_behind_an_open_handle_is_refused);
	tcase_add_test(t, an_append_waits_for_a_reader_and_nested_locks_keep_others_out);
	tcase_add_test(t, an_append_only_file_loses_only_its_torn_last_line);
	tcase_add_test(t, a_second_writer_is_told_who_holds_the_lock);
	tcase_add_test(t, the_lock_never_follows_a_symlink);
	tcase_add_test(t, lock_creates_the_state_dir);
	suite_add_tcase(s, t);
	return tu_run(s);
}
