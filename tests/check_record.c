/*
 * check_record.c: a finished disposition's record (certify/record.h), the
 * one thing a certificate is issued from after a crash.  What is written
 * must read back exactly; free text (a hold's reason, an exception) must
 * never forge another field; a damaged record is refused, never read as
 * zeros (a certificate saying "0 files" for a disposition that destroyed
 * some would be a false statement).
 */
#include "testutil.h"

#include "certify/record.h"
#include "conf/category.h"
#include "dispose/dispose.h"
#include "base/text.h"
#include "plan/events.h"
#include "state/journal.h"

#include <inttypes.h>

static struct tu_host h;

static void
setup(void)
{
	tu_host_init(&h);
	tu_host_policy(&h, "osde",
	    "timezone = America/Chicago\n\n"
	    "[dataset \"exports\"]\npath = %1$s/srv/exports/**\n"
	    "categories = Assessment\n\n"
	    "[dataset \"attendance\"]\npath = %1$s/srv/attendance/**\n"
	    "categories = Attendance\n\n"
	    "[dataset \"research\"]\npath = %1$s/srv/research/**\n"
	    "deidentified = yes\n", h.top);
	tu_host_load(&h);
}

static void
teardown(void)
{
	tu_host_free(&h);
}

/* Appends events to the host's journal, then replays it into *ev. */
static void
journal_holds(int n, const char *reason, struct events *ev)
{
	struct journal j;
	struct err e = { "" };

	ck_assert_msg(journal_open(h.state, &j, &e) == 0, "%s", e.msg);
	for (int i = 1; i <= n; i++) {
		char id[16];
		snprintf(id, sizeof(id), "H-%04d", i);
		ck_assert_msg(journal_appendv(&j, &e, "hold", "id", id,
		    "agreement", "osde", "reason", reason, "by", "root",
		    NULL) == 0, "%s", e.msg);
	}
	if (n > 1)
		ck_assert_int_eq(journal_appendv(&j, &e, "release", "id",
		    "H-0001", "by", "root", NULL), 0);
	journal_close(&j);
	ck_assert_msg(events_load(h.state, ev, &e) == 0, "%s", e.msg);
}

/* state_dir/work/ID, as a disposition makes it before its record. */
static void
workdir(const char *id)
{
	TU_SH(h.top, "mkdir -p -m 0700 state/work/%s", id);
}

/* A disposition's outcome with every field the record keeps set to a
 * value of its own. */
static void
full_out(struct dispose_out *o)
{
	uint64_t v = 1000;

	memset(o, 0, sizeof(*o));
	o->started = 1795000000;
	o->completed = 1795000321;
	o->files = ++v; o->bytes = ++v; o->links = ++v; o->specials = ++v;
	o->dirs = ++v; o->sealed_files = ++v; o->sealed_clean = ++v;
	o->sealed_cleared = ++v; o->sealed_kept = ++v;
	o->ciphertext_overwritten = ++v; o->keys = ++v; o->key_usec = ++v;
	snprintf(o->key_sealed_after, sizeof(o->key_sealed_after),
	    "2026-10-01");
	snprintf(o->kept_on, sizeof(o->kept_on), "2026-10-02");
	o->archives = ++v; o->members = ++v; o->member_bytes = ++v;
	o->categories = 5;
	o->member_links = ++v; o->transferred = ++v;
	memset(o->transfer_sha256, 'a', 64);
	o->verified_bytes = ++v; o->overwritten_bytes = ++v;
	o->digests_missing = ++v; o->remaining = ++v;
	o->techniques = DT_OVERWRITE | DT_CRYPTO | DT_ARCHIVE | DT_TRANSFER;
	o->pattern = 1;
	o->verify = 1;
	for (int i = 0; i < 2; i++) {
		struct dispose_media *m = &o->media[i];
		snprintf(m->m.fstype, sizeof(m->m.fstype), i ? "xfs" : "ext4");
		snprintf(m->m.uuid, sizeof(m->m.uuid), "uuid-%d", i);
		snprintf(m->m.device, sizeof(m->m.device), "/dev/loop%d "
		    "(backing file /x %d.img)", i, i);
		snprintf(m->m.model, sizeof(m->m.model), "Model %d", i);
		snprintf(m->m.serial, sizeof(m->m.serial), "SN-%d", i);
		m->m.rotational = i ? -1 : 0;
		snprintf(m->sources, sizeof(m->sources), "exports, attendance");
		m->purge = i ? -1 : 1;
		snprintf(m->purge_detail, sizeof(m->purge_detail),
		    "journal %d checkpointed; verified", i);
	}
	o->nmedia = 2;
	snprintf(o->exceptions, sizeof(o->exceptions), "a file of dataset "
	    "exports could not be destroyed; 1 refused: 1 with a hard link "
	    "outside the disposition");
	o->nexceptions = 2;
	snprintf(o->manifest_path, sizeof(o->manifest_path),
	    "%s/work/osde-20261123-7/manifest.final", h.state);
}

/* The offset of the first byte where a and b differ, or -1. */
static long
first_difference(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return (long)i;
	return -1;
}

START_TEST(a_record_written_and_read_back_is_identical)
{
	const struct agreement *a = policy_find(&h.ps, "osde");
	size_t ds[] = { 0, 1 };
	struct dispose_out out;
	struct events ev;
	struct record *r = calloc(1, sizeof(*r)), *back = calloc(1,
	    sizeof(*back));
	struct err e = { "" };
	long d;

	ck_assert_ptr_nonnull(a);
	journal_holds(2, "litigation: Doe v. District", &ev);
	full_out(&out);
	record_from(r, &h.cfg, a, "osde-20261123-7", "D-0003", 20400, 20460,
	    ds, 2, &ev, &out);
	r->partial = 1;
	workdir("osde-20261123-7");
	ck_assert_msg(record_write(h.state, r, &e) == 0, "%s", e.msg);
	ck_assert_msg(record_read(h.state, "osde-20261123-7", back, &e) == 0,
	    "%s", e.msg);
	/* Readable failures for what matters most, then every byte. */
	ck_assert_str_eq(back->id, "osde-20261123-7");
	ck_assert_str_eq(back->trigger, "D-0003");
	ck_assert_str_eq(back->datasets, "exports, attendance");
	ck_assert_uint_eq(back->out.files, out.files);
	ck_assert_uint_eq(back->out.bytes, out.bytes);
	ck_assert_uint_eq(back->out.remaining, out.remaining);
	ck_assert_int_eq(back->partial, 1);
	ck_assert_uint_eq(back->out.nmedia, 2);
	ck_assert_str_eq(back->out.media[1].m.device, out.media[1].m.device);
	ck_assert_int_eq(back->out.media[1].purge, -1);
	ck_assert_str_eq(back->holds, r->holds);
	ck_assert_uint_eq(back->categories, 5);
	/* The categories are kept once, as the record's own (r->categories,
	 * what record_from took from out): out's copy is not read back. */
	r->out.categories = 0;
	d = first_difference(r, back, sizeof(*r));
	ck_assert_msg(d == -1, "the record read back differs at byte %ld of "
	    "%zu (a field record_write does not keep?)", d, sizeof(*r));
	events_free(&ev);
	free(r);
	free(back);
}
END_TEST

START_TEST(the_record_says_what_was_destroyed_not_what_could_have_been)
{
	const struct agreement *a = policy_find(&h.ps, "osde");
	size_t ds[] = { 0, 1 };
	struct dispose_out out;
	struct events ev;
	struct record r;
	catset_t assess = 0;
	char msg[256];

	ck_assert_int_eq(category_parse_list("Assessment", &assess, msg,
	    sizeof(msg)), 0);
	memset(&ev, 0, sizeof(ev));
	memset(&out, 0, sizeof(out));
	out.files = 3;
	out.categories = assess;	/* only exports had data */
	record_from(&r, &h.cfg, a, "osde-1", "termination", 20400, 20430, ds,
	    2, &ev, &out);
	ck_assert_uint_eq(r.categories, assess);
	ck_assert_str_eq(r.datasets, "exports, attendance");
	ck_assert_str_eq(r.agreement, "osde");
	ck_assert_str_eq(r.timezone, "America/Chicago");
	/* The de-identified dataset is named as retained, with why. */
	ck_assert_msg(strncmp(r.retained, "research (", 10) == 0, "%s",
	    r.retained);
	ck_assert_str_eq(r.holds, "none");
	ck_assert_int_eq(r.partial, 0);
}
END_TEST

START_TEST(a_newline_in_free_text_cannot_forge_another_field)
{
	const struct agreement *a = policy_find(&h.ps, "osde");
	size_t ds[] = { 0 };
	struct dispose_out out;
	struct events ev;
	struct record r, back;
	struct err e = { "" };
	char *path, *text;

	journal_holds(1, "court order\npartial=0\nfiles=0", &ev);
	memset(&out, 0, sizeof(out));
	out.files = 7;
	out.remaining = 3;
	snprintf(out.exceptions, sizeof(out.exceptions),
	    "stopped\nremaining=0\nnexceptions=0");
	out.nexceptions = 1;
	record_from(&r, &h.cfg, a, "osde-2", "termination", 20400, 20430, ds,
	    1, &ev, &out);
	r.partial = 1;
	workdir("osde-2");
	ck_assert_msg(record_write(h.state, &r, &e) == 0, "%s", e.msg);
	ck_assert_msg(record_read(h.state, "osde-2", &back, &e) == 0, "%s",
	    e.msg);
	ck_assert_int_eq(back.partial, 1);
	ck_assert_uint_eq(back.out.files, 7);
	ck_assert_uint_eq(back.out.remaining, 3);
	ck_assert_uint_eq(back.out.nexceptions, 1);
	ck_assert_ptr_null(strchr(back.holds, '\n'));
	ck_assert_msg(strstr(back.holds, "court order") != NULL, "%s",
	    back.holds);
	/* On disk: each key once. */
	path = tu_path(h.state, "work/osde-2/record");
	text = tu_readall(path, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(tu_count(path, "\npartial="), 1);
	ck_assert_int_eq(tu_count(path, "\nfiles="), 1);
	ck_assert_int_eq(tu_count(path, "\nremaining="), 1);
	free(text);
	free(path);
	events_free(&ev);
}
END_TEST

/* Rewrites the record of osde-3 with `from` replaced by `to`. */
static void
damage(const char *from, const char *to)
{
	char *path = tu_path(h.state, "work/osde-3/record");

	tu_replace(path, from, to);
	free(path);
}

START_TEST(a_damaged_record_is_refused_never_read_as_zeros)
{
	const struct agreement *a = policy_find(&h.ps, "osde");
	static const char *const bad[][2] = {
		{ "\nfiles=12\n", "\nfiles=twelve\n" },
		{ "\nbytes=4096\n", "\nbytes=-4096\n" },
		{ "\ndeadline=", "\ndeadline=2026-02-30x" },
		{ "\nmedia=ext4\t", "\nmedia=ext4 " },	/* a field short */
		{ "\nremaining=0\n", "\nremaining 0\n" },	/* no '=' */
	};
	size_t ds[] = { 0 };
	struct dispose_out out;
	struct events ev;
	struct record r, back;
	struct err e = { "" };

	memset(&ev, 0, sizeof(ev));
	memset(&out, 0, sizeof(out));
	out.files = 12;
	out.bytes = 4096;
	out.nmedia = 1;
	snprintf(out.media[0].m.fstype, sizeof(out.media[0].m.fstype), "ext4");
	record_from(&r, &h.cfg, a, "osde-3", "termination", 20400, 20430, ds,
	    1, &ev, &out);
	workdir("osde-3");
	ck_assert_int_eq(record_write(h.state, &r, &e), 0);
	ck_assert_int_eq(record_read(h.state, "osde-3", &back, &e), 0);
	ck_assert_uint_eq(back.out.files, 12);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(record_write(h.state, &r, &e), 0);
		damage(bad[i][0], bad[i][1]);
		e.msg[0] = '\0';
		ck_assert_msg(record_read(h.state, "osde-3", &back, &e) == -1,
		    "a record with '%s' was read", bad[i][1]);
		ck_assert_msg(strstr(e.msg, "work/osde-3/record: malformed "
		    "record") != NULL, "%s", e.msg);
	}
	/* And a missing one is an error too, naming it. */
	ck_assert_int_eq(record_read(h.state, "osde-4", &back, &e), -1);
	ck_assert_msg(strstr(e.msg, "osde-4") != NULL, "%s", e.msg);
}
END_TEST

START_TEST(every_hold_is_on_the_record_or_counted_never_dropped)
{
	const struct agreement *a = policy_find(&h.ps, "osde");
	size_t ds[] = { 0 }, listed = 0, more = 0;
	struct dispose_out out;
	struct events ev;
	struct record r;
	char reason[TEXT_REASON_MAX + 1];
	size_t rl = TEXT_REASON_MAX;
	const char *p;

	/* The longest reason `lethe hold` takes. */
	for (size_t i = 0; i < rl; i++)
		reason[i] = "subpoena 2026-77, "[i % 18];
	reason[rl - 1] = 'x';
	reason[rl] = '\0';
	journal_holds(60, reason, &ev);
	memset(&out, 0, sizeof(out));
	record_from(&r, &h.cfg, a, "osde-5", "termination", 20400, 20430, ds,
	    1, &ev, &out);
	for (p = r.holds; (p = strstr(p, "H-00")) != NULL; p++)
		listed++;
	p = strstr(r.holds, " more holds (listed in the journal)");
	ck_assert_msg(p != NULL, "%s", r.holds + strlen(r.holds) - 80);
	while (p > r.holds && p[-1] >= '0' && p[-1] <= '9')
		p--;
	more = strtoul(p, NULL, 10);
	ck_assert_uint_gt(listed, 0);
	ck_assert_uint_eq(listed + more, 60);
	/* Whole reasons, never cut mid-way: each listed one is all there. */
	ck_assert_int_eq((int)(strstr(r.holds, "H-0001 (") - r.holds), 0);
	ck_assert_msg(strncmp(r.holds + 8, reason, rl) == 0 &&
	    strncmp(r.holds + 8 + rl, ") placed ", 9) == 0, "cut: %.400s",
	    r.holds);
	ck_assert_msg(strstr(r.holds, ", released ") != NULL, "H-0001 was "
	    "released: %.200s", r.holds);
	events_free(&ev);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("record");
	TCase *tc = tcase_create("record");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_record_written_and_read_back_is_identical);
	tcase_add_test(tc, the_record_says_what_was_destroyed_not_what_could_have_been);
	tcase_add_test(tc, a_newline_in_free_text_cannot_forge_another_field);
	tcase_add_test(tc, a_damaged_record_is_refused_never_read_as_zeros);
	tcase_add_test(tc, every_hold_is_on_the_record_or_counted_never_dropped);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
