/* check_sched.c: the scheduler of SPEC §5, on policies and events built in
 * memory (no policy files, no journal), plus journal replay into events. */
#include "testutil.h"

#include "base/err.h"
#include "plan/events.h"
#include "state/journal.h"
#include "conf/policy.h"
#include "plan/sched.h"

static day_t
D(const char *s)
{
	day_t d;
	ck_assert_msg(date_parse(s, &d) == 0, "bad date %s", s);
	return d;
}

/* The instant noon UTC on date s. */
static time_t
noon(const char *s)
{
	return (time_t)D(s) * 86400 + 12 * 3600;
}

static const char *
fmt(day_t d)
{
	static char buf[4][11];
	static int k;
	k = (k + 1) % 4;
	return date_format(d, buf[k]);
}

/*
 * One agreement "osde" with three datasets: exports (Assessment, Student
 * Identifiers), attendance (Attendance), research (de-identified, with
 * Assessment).  30d after termination, 60d after a request, 10d to certify.
 */
static struct dataset dss[3];
static struct agreement agr;
static struct policyset ps;

static void
setup(void)
{
	memset(dss, 0, sizeof(dss));
	dss[0].name = "exports";
	dss[0].categories = 1u << category_find("Assessment") |
	    1u << category_find("Student Identifiers");
	dss[1].name = "attendance";
	dss[1].categories = 1u << category_find("Attendance");
	dss[2].name = "research";
	dss[2].categories = 1u << category_find("Assessment");
	dss[2].deidentified = 1;
	memset(&agr, 0, sizeof(agr));
	agr.id = "osde";
	agr.terminated = DAY_NONE;
	agr.after_termination = (struct duration){ 30, 'd' };
	agr.after_request = (struct duration){ 60, 'd' };
	agr.certify_within = (struct duration){ 10, 'd' };
	agr.notice_before = (struct duration){ 0, 'd' };
	agr.timezone = "America/Chicago";
	agr.ds = dss;
	agr.nds = 3;
	ps.a = &agr;
	ps.n = 1;
}

static struct plan
plan_on(const struct events *ev, const char *today)
{
	struct plan p;
	struct err e;

	ck_assert_msg(sched_plan_on(&ps, ev, noon(today), D(today), &p, &e) ==
	    0, "%s", e.msg);
	return p;
}

static const struct plan_row *
row(const struct plan *p, const char *trigger)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->rows[i].trigger, trigger) == 0)
			return &p->rows[i];
	ck_abort_msg("no row %s", trigger);
	return NULL;
}

static const char *
state_of(const struct events *ev, const char *today, const char *trigger)
{
	struct plan p = plan_on(ev, today);
	const char *s = plan_state_name(row(&p, trigger)->state);
	plan_free(&p);
	return s;
}

static struct ev_termination term1;

static struct events
terminated(const char *date)
{
	struct events ev = { 0 };
	term1 = (struct ev_termination){ .agreement = "osde", .date = D(date) };
	ev.term = &term1;
	ev.nterm = 1;
	return ev;
}

START_TEST(termination_plus_30_days_is_overdue_after_the_deadline)
{
	struct events ev = terminated("2026-10-15");
	struct plan p = plan_on(&ev, "2026-11-22");
	const struct plan_row *r = row(&p, "termination");

	ck_assert_str_eq(fmt(r->deadline), "2026-11-14");
	ck_assert_str_eq(fmt(r->start), "2026-10-15");
	ck_assert_str_eq(fmt(r->due_from), "2026-10-15");
	ck_assert_str_eq(plan_state_name(r->state), "overdue");
	ck_assert(plan_overdue(&p));
	/* The de-identified dataset is never in scope. */
	ck_assert_uint_eq(r->nscope, 2);
	ck_assert_uint_eq(r->ntodo, 2);
	ck_assert_uint_eq(r->todo[0], 0);
	ck_assert_uint_eq(r->todo[1], 1);
	plan_free(&p);
	ck_assert_str_eq(state_of(&ev, "2026-11-14", "termination"), "due");
	ck_assert_str_eq(state_of(&ev, "2026-10-15", "termination"), "due");
	ck_assert_str_eq(state_of(&ev, "2026-10-14", "termination"), "waiting");
	p = plan_on(&ev, "2026-11-14");
	ck_assert(!plan_overdue(&p));
	plan_free(&p);
}
END_TEST

START_TEST(every_agreement_gets_a_waiting_row_without_a_termination)
{
	struct events ev = { 0 };
	struct plan p = plan_on(&ev, "2026-11-22");

	ck_assert_uint_eq(p.n, 1);
	ck_assert_str_eq(p.rows[0].trigger, "termination");
	ck_assert_str_eq(plan_state_name(p.rows[0].state), "waiting");
	ck_assert_int_eq(p.rows[0].deadline, DAY_NONE);
	ck_assert_uint_eq(p.rows[0].ntodo, 0);
	ck_assert_ptr_nonnull(strstr(p.rows[0].note, "no termination"));
	ck_assert(!plan_overdue(&p));
	plan_free(&p);
}
END_TEST

START_TEST(the_policys_terminated_counts_unless_lethe_terminate_overrides)
{
	struct events none = { 0 }, ev = terminated("2026-11-01");
	struct plan p;

	agr.terminated = D("2026-10-15");
	p = plan_on(&none, "2026-11-22");
	ck_assert_str_eq(fmt(p.rows[0].deadline), "2026-11-14");
	plan_free(&p);
	p = plan_on(&ev, "2026-11-22");
	ck_assert_str_eq(fmt(p.rows[0].deadline), "2026-12-01");
	ck_assert_str_eq(plan_state_name(p.rows[0].state), "due");
	plan_free(&p);
}
END_TEST

START_TEST(month_durations_end_on_the_last_day_of_february)
{
	struct events ev = terminated("2028-01-31");
	struct plan p;

	agr.after_termination = (struct duration){ 1, 'm' };
	p = plan_on(&ev, "2028-02-01");
	ck_assert_str_eq(fmt(p.rows[0].deadline), "2028-02-29");
	plan_free(&p);
	ck_assert_str_eq(state_of(&ev, "2028-02-29", "termination"), "due");
	ck_assert_str_eq(state_of(&ev, "2028-03-01", "termination"), "overdue");
}
END_TEST

static struct ev_directive dir1;

static struct events
directive(const char *received, const char *schedule, int complete,
    catset_t cats)
{
	struct events ev = { 0 };

	dir1 = (struct ev_directive){ .id = "D-0001", .agreement = "osde",
	    .received = D(received), .complete = complete,
	    .categories = cats, .requested_by = "J. Smith" };
	dir1.schedule = schedule ? D(schedule) : DAY_NONE;
	ev.dir = &dir1;
	ev.ndir = 1;
	return ev;
}

START_TEST(a_directive_asap_is_due_from_receipt_with_a_60_day_deadline)
{
	struct events ev = directive("2026-11-02", NULL, 1, 0);
	struct plan p = plan_on(&ev, "2026-11-03");
	const struct plan_row *r = row(&p, "directive D-0001");

	ck_assert_uint_eq(p.n, 2);	/* termination row + the directive */
	ck_assert_str_eq(fmt(r->deadline), "2027-01-01");
	ck_assert_str_eq(fmt(r->due_from), "2026-11-02");
	ck_assert_str_eq(plan_state_name(r->state), "due");
	ck_assert_uint_eq(r->ntodo, 2);
	ck_assert_str_eq(r->trigger_id, "D-0001");
	ck_assert(!plan_overdue(&p));
	plan_free(&p);
	ck_assert_str_eq(state_of(&ev, "2027-01-01", "directive D-0001"), "due");
	ck_assert_str_eq(state_of(&ev, "2027-01-02", "directive D-0001"),
	    "overdue");
}
END_TEST

START_TEST(a_schedule_date_before_the_limit_becomes_the_deadline)
{
	struct events ev = directive("2026-11-02", "2026-11-20", 1, 0);
	struct plan p = plan_on(&ev, "2026-11-03");
	const struct plan_row *r = row(&p, "directive D-0001");

	ck_assert_str_eq(fmt(r->deadline), "2026-11-20");
	/* Still due from receipt: the LEA asked for "by" that date. */
	ck_assert_str_eq(plan_state_name(r->state), "due");
	plan_free(&p);
	ck_assert_str_eq(state_of(&ev, "2026-11-21", "directive D-0001"),
	    "overdue");
	/* A schedule after received + 60d never moves the deadline later. */
	ev = directive("2026-11-02", "2027-03-01", 1, 0);
	p = plan_on(&ev, "2026-11-03");
	r = row(&p, "directive D-0001");
	ck_assert_str_eq(fmt(r->deadline), "2027-01-01");
	ck_assert_ptr_nonnull(strstr(r->note, "the limit wins"));
	plan_free(&p);
}
END_TEST

START_TEST(a_partial_directive_covers_only_intersecting_non_exempt_datasets)
{
	struct events ev = directive("2026-11-02", NULL, 0,
	    1u << category_find("Assessment"));
	struct plan p = plan_on(&ev, "2026-11-03");
	const struct plan_row *r = row(&p, "directive D-0001");

	/* exports has Assessment; research too, but is de-identified. */
	ck_assert_uint_eq(r->nscope, 1);
	ck_assert_uint_eq(r->scope[0], 0);
	ck_assert_uint_eq(r->ntodo, 1);
	plan_free(&p);
	ev = directive("2026-11-02", NULL, 0, 1u << category_find("Transcript"));
	p = plan_on(&ev, "2026-11-03");
	r = row(&p, "directive D-0001");
	ck_assert_uint_eq(r->nscope, 0);
	ck_assert_ptr_nonnull(strstr(r->note, "no non-exempt dataset"));
	plan_free(&p);
}
END_TEST

START_TEST(a_cancelled_directive_has_no_row)
{
	struct events ev = directive("2026-11-02", NULL, 1, 0);
	struct plan p;

	dir1.cancelled = 1;
	p = plan_on(&ev, "2027-02-01");
	ck_assert_uint_eq(p.n, 1);
	ck_assert(!plan_overdue(&p));
	plan_free(&p);
}
END_TEST

static struct ev_hold hold1;

START_TEST(a_held_agreement_is_never_overdue_and_a_release_restores_it)
{
	struct events ev = terminated("2026-10-15");
	struct plan p;

	hold1 = (struct ev_hold){ .id = "H-0001", .agreement = "osde",
	    .reason = "litigation" };
	ev.hold = &hold1;
	ev.nhold = 1;
	p = plan_on(&ev, "2027-06-01");
	ck_assert_str_eq(plan_state_name(p.rows[0].state), "held");
	ck_assert_ptr_nonnull(strstr(p.rows[0].note, "held by H-0001: litigation"));
	ck_assert_uint_eq(p.rows[0].ntodo, 0);
	ck_assert_uint_eq(p.rows[0].nheld, 2);
	ck_assert(!plan_overdue(&p));
	plan_free(&p);
	hold1.released = 1;
	p = plan_on(&ev, "2027-06-01");
	ck_assert_str_eq(plan_state_name(p.rows[0].state), "overdue");
	ck_assert_uint_eq(p.rows[0].ntodo, 2);
	plan_free(&p);
	ck_assert_str_eq(state_of(&ev, "2026-11-01", "termination"), "due");
}
END_TEST

START_TEST(a_hold_on_one_dataset_leaves_the_others_due)
{
	struct events ev = terminated("2026-10-15");
	char *names[] = { "exports" };
	struct plan p;

	hold1 = (struct ev_hold){ .id = "H-0001", .agreement = "osde",
	    .reason = "subpoena", .datasets = names, .ndatasets = 1 };
	ev.hold = &hold1;
	ev.nhold = 1;
	p = plan_on(&ev, "2026-11-01");
	ck_assert_str_eq(plan_state_name(p.rows[0].state), "due");
	ck_assert_uint_eq(p.rows[0].ntodo, 1);
	ck_assert_uint_eq(p.rows[0].todo[0], 1);	/* attendance */
	ck_assert_uint_eq(p.rows[0].nheld, 1);
	ck_assert_ptr_nonnull(strstr(p.rows[0].note, "partly held"));
	plan_free(&p);
	/* Past the deadline the unheld part is overdue. */
	ck_assert_str_eq(state_of(&ev, "2026-11-20", "termination"), "overdue");
}
END_TEST

START_TEST(a_hold_by_category_freezes_the_datasets_holding_it)
{
	struct events ev = terminated("2026-10-15");
	struct plan p;

	hold1 = (struct ev_hold){ .id = "H-0001", .agreement = "osde",
	    .reason = "audit", .categories = "Attendance",
	    .catset = 1u << category_find("Attendance") };
	ev.hold = &hold1;
	ev.nhold = 1;
	p = plan_on(&ev, "2026-11-01");
	ck_assert_uint_eq(p.rows[0].ntodo, 1);
	ck_assert_uint_eq(p.rows[0].todo[0], 0);
	plan_free(&p);
}
END_TEST

START_TEST(a_hold_that_matches_nothing_freezes_the_whole_agreement)
{
	struct events ev = terminated("2026-10-15");
	char *names[] = { "no-such-dataset" };
	struct plan p;

	hold1 = (struct ev_hold){ .id = "H-0001", .agreement = "osde",
	    .reason = "subpoena", .datasets = names, .ndatasets = 1 };
	ev.hold = &hold1;
	ev.nhold = 1;
	p = plan_on(&ev, "2026-12-01");
	ck_assert_str_eq(plan_state_name(p.rows[0].state), "held");
	ck_assert_ptr_nonnull(strstr(p.rows[0].note, "whole agreement held"));
	ck_assert(!plan_overdue(&p));
	plan_free(&p);
	/* A category present in no dataset fails closed too. */
	hold1 = (struct ev_hold){ .id = "H-0001", .agreement = "osde",
	    .reason = "x", .categories = "Transcript",
	    .catset = 1u << category_find("Transcript") };
	ck_assert_str_eq(state_of(&ev, "2026-12-01", "termination"), "held");
	hold1.cat_unknown = 1;
	hold1.categories = "Atendance";
	ck_assert_str_eq(state_of(&ev, "2026-12-01", "termination"), "held");
}
END_TEST

static struct ev_notice notice1;

START_TEST(prior_notice_is_due_first_then_disposal_notice_before_days_later)
{
	struct events ev = terminated("2026-10-15");
	struct plan p;

	agr.notice_before = (struct duration){ 14, 'd' };
	ck_assert_str_eq(state_of(&ev, "2026-10-10", "termination"), "waiting");
	p = plan_on(&ev, "2026-10-20");
	ck_assert_str_eq(plan_state_name(p.rows[0].state), "notice-due");
	ck_assert(p.rows[0].notice_needed);
	ck_assert_str_eq(fmt(p.rows[0].notice_planned), "2026-11-03");
	ck_assert_uint_eq(p.rows[0].ntodo, 0);
	plan_free(&p);
	notice1 = (struct ev_notice){ .agreement = "osde",
	    .trigger = "termination", .terminated = D("2026-10-15"),
	    .sent = noon("2026-10-20") };
	ev.notice = &notice1;
	ev.nnotice = 1;
	p = plan_on(&ev, "2026-11-02");
	ck_assert_str_eq(fmt(p.rows[0].due_from), "2026-11-03");
	ck_assert_str_eq(plan_state_name(p.rows[0].state), "waiting");
	plan_free(&p);
	ck_assert_str_eq(state_of(&ev, "2026-11-03", "termination"), "due");
	/* The termination recorded again with another date: the notice
	 * announced 2026-10-15, so a new one is due. */
	term1.date = D("2026-10-18");
	p = plan_on(&ev, "2026-11-03");
	ck_assert_str_eq(plan_state_name(p.rows[0].state), "notice-due");
	ck_assert(p.rows[0].notice_needed);
	ck_assert_uint_eq(p.rows[0].ntodo, 0);
	plan_free(&p);
	/* A notice line from an older lethe (no terminated=) that replay
	 * found no `lethe terminate` before: the policy's own date. */
	notice1.terminated = DAY_NONE;
	agr.terminated = D("2026-10-18");
	ck_assert_str_eq(state_of(&ev, "2026-11-03", "termination"), "due");
	agr.terminated = D("2026-10-15");
	ck_assert_str_eq(state_of(&ev, "2026-11-03", "termination"),
	    "notice-due");
}
END_TEST

/* Replay of notice-sent: terminated= as journaled, and for a line without
 * it (an older lethe) the termination in effect when it was written. */
START_TEST(a_notice_counts_only_for_the_termination_date_it_announced)
{
	char *dir = tu_tmpdir();
	struct journal j;
	struct events ev;
	struct err e;
	struct plan p;

	agr.notice_before = (struct duration){ 14, 'd' };
	ck_assert(journal_open(dir, &j, &e) == 0);
	ck_assert(journal_appendv(&j, &e, "terminate", "agreement", "osde",
	    "date", "2026-11-25", "by", "root", NULL) == 0);
	ck_assert(journal_appendv(&j, &e, "notice-sent", "agreement", "osde",
	    "trigger", "termination", "planned", "2026-12-09", "to",
	    "privacy@sde.example", NULL) == 0);
	journal_close(&j);
	ck_assert_msg(events_load(dir, &ev, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(ev.nnotice, 1);
	ck_assert_str_eq(fmt(ev.notice[0].terminated), "2026-11-25");
	ck_assert_ptr_nonnull(events_notice(&ev, &agr, "termination",
	    D("2026-11-25")));
	ck_assert_ptr_null(events_notice(&ev, &agr, "termination",
	    D("2027-06-01")));
	events_free(&ev);

	/* A new termination date: the old notice does not count for it. */
	ck_assert(journal_open(dir, &j, &e) == 0);
	ck_assert(journal_appendv(&j, &e, "terminate", "agreement", "osde",
	    "date", "2027-06-01", "by", "root", NULL) == 0);
	journal_close(&j);
	ck_assert_msg(events_load(dir, &ev, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(fmt(ev.notice[0].terminated), "2026-11-25");
	p = plan_on(&ev, "2027-06-02");
	ck_assert_str_eq(plan_state_name(row(&p, "termination")->state),
	    "notice-due");
	ck_assert_msg(strstr(row(&p, "termination")->note, "not yet sent") !=
	    NULL, "%s", row(&p, "termination")->note);
	plan_free(&p);
	events_free(&ev);

	/* Its own notice, journaled with terminated=, does. */
	ck_assert(journal_open(dir, &j, &e) == 0);
	ck_assert(journal_appendv(&j, &e, "notice-sent", "agreement", "osde",
	    "trigger", "termination", "terminated", "2027-06-01", "planned",
	    "2027-06-16", "to", "privacy@sde.example", NULL) == 0);
	journal_close(&j);
	ck_assert_msg(events_load(dir, &ev, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(ev.nnotice, 2);
	ck_assert_ptr_eq(events_notice(&ev, &agr, "termination",
	    D("2027-06-01")), &ev.notice[1]);
	ck_assert_ptr_eq(events_notice(&ev, &agr, "termination",
	    D("2026-11-25")), &ev.notice[0]);
	ck_assert_str_ne(state_of(&ev, "2027-06-03", "termination"),
	    "notice-due");
	events_free(&ev);

	/* A bad terminated= is an error naming the line. */
	ck_assert(journal_open(dir, &j, &e) == 0);
	ck_assert(journal_appendv(&j, &e, "notice-sent", "agreement", "osde",
	    "trigger", "termination", "terminated", "2027-13-01", NULL) == 0);
	journal_close(&j);
	ck_assert_int_eq(events_load(dir, &ev, &e), -1);
	ck_assert_msg(strstr(e.msg, ":5: notice-sent event: bad date in field "
	    "'terminated'") != NULL, "%s", e.msg);
	events_free(&ev);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_late_notice_never_moves_the_deadline)
{
	struct events ev = terminated("2026-10-15");
	struct plan p;

	agr.notice_before = (struct duration){ 14, 'd' };
	notice1 = (struct ev_notice){ .agreement = "osde",
	    .trigger = "termination", .terminated = D("2026-10-15"),
	    .sent = noon("2026-11-06") };
	ev.notice = &notice1;
	ev.nnotice = 1;
	p = plan_on(&ev, "2026-11-10");
	ck_assert_str_eq(fmt(p.rows[0].due_from), "2026-11-14");
	ck_assert_str_eq(fmt(p.rows[0].deadline), "2026-11-14");
	ck_assert_str_eq(plan_state_name(p.rows[0].state), "waiting");
	ck_assert_msg(strstr(p.rows[0].note, "notice period ends 2026-11-20, "
	    "after the deadline 2026-11-14: the deadline wins") != NULL, "%s",
	    p.rows[0].note);
	plan_free(&p);
	ck_assert_str_eq(state_of(&ev, "2026-11-14", "termination"), "due");
	/* Never sent at all: past the deadline it is overdue, not waiting. */
	ev.nnotice = 0;
	ck_assert_str_eq(state_of(&ev, "2026-11-15", "termination"), "overdue");
}
END_TEST

static struct ev_disposition disp1;
static char *both[] = { "exports", "attendance" };

static struct events
disposed(void)
{
	struct events ev = terminated("2026-10-15");

	disp1 = (struct ev_disposition){ .id = "osde-20261101-7",
	    .agreement = "osde", .trigger = "termination", .datasets = both,
	    .ndatasets = 2, .started = noon("2026-11-01"),
	    .deadline = D("2026-11-14"), .certify_by = DAY_NONE };
	ev.disp = &disp1;
	ev.ndisp = 1;
	return ev;
}

START_TEST(dispositions_move_the_row_through_done_certified_delivered)
{
	struct events ev = disposed();
	struct plan p;

	p = plan_on(&ev, "2026-11-01");
	ck_assert_str_eq(plan_state_name(p.rows[0].state), "due");
	ck_assert_ptr_nonnull(strstr(p.rows[0].note, "in progress"));
	ck_assert_uint_eq(p.rows[0].ndisp, 1);
	plan_free(&p);
	disp1.completed = noon("2026-11-01");
	disp1.done_datasets = both;
	disp1.ndone_datasets = 2;
	ck_assert_str_eq(state_of(&ev, "2026-11-02", "termination"), "done");
	/* Past the deadline, done is not overdue. */
	ck_assert_str_eq(state_of(&ev, "2026-11-11", "termination"), "done");
	/* No certificate 10 days after completion: delivery is overdue. */
	ck_assert_str_eq(state_of(&ev, "2026-11-12", "termination"),
	    "delivery-overdue");
	disp1.cert = "osde-20261101-7";
	disp1.certify_by = D("2026-11-11");
	ck_assert_str_eq(state_of(&ev, "2026-11-05", "termination"),
	    "certified");
	p = plan_on(&ev, "2026-11-12");
	ck_assert_str_eq(plan_state_name(p.rows[0].state), "delivery-overdue");
	ck_assert(plan_overdue(&p));
	plan_free(&p);
	disp1.delivered = noon("2026-11-13");
	p = plan_on(&ev, "2026-11-20");
	ck_assert_str_eq(plan_state_name(p.rows[0].state), "delivered");
	ck_assert(!plan_overdue(&p));
	plan_free(&p);
}
END_TEST

START_TEST(a_partial_completion_leaves_the_rest_to_do)
{
	struct events ev = disposed();
	char *one[] = { "exports" };
	struct plan p;

	disp1.completed = noon("2026-11-01");
	disp1.done_datasets = one;
	disp1.ndone_datasets = 1;
	p = plan_on(&ev, "2026-11-02");
	ck_assert_str_eq(plan_state_name(p.rows[0].state), "due");
	ck_assert_uint_eq(p.rows[0].ntodo, 1);
	ck_assert_uint_eq(p.rows[0].todo[0], 1);
	plan_free(&p);
}
END_TEST

START_TEST(a_failed_disposition_stays_due_and_says_why)
{
	struct events ev = disposed();
	struct plan p;

	disp1.failed = noon("2026-11-01");
	disp1.fail_reason = "2 files remain";
	p = plan_on(&ev, "2026-11-20");
	ck_assert_str_eq(plan_state_name(p.rows[0].state), "overdue");
	ck_assert_ptr_nonnull(strstr(p.rows[0].note, "failed: 2 files remain"));
	plan_free(&p);
}
END_TEST

START_TEST(a_reappeared_disposition_gets_its_own_row)
{
	struct events ev = disposed();
	struct ev_disposition two[2];
	char *one[] = { "exports" };
	struct plan p;

	disp1.completed = noon("2026-11-01");
	disp1.done_datasets = both;
	disp1.ndone_datasets = 2;
	disp1.cert = "c";
	disp1.certify_by = D("2026-11-11");
	disp1.delivered = noon("2026-11-02");
	two[0] = disp1;
	two[1] = (struct ev_disposition){ .id = "osde-20261201-9",
	    .agreement = "osde", .trigger = "reappeared", .datasets = one,
	    .ndatasets = 1, .started = noon("2026-12-01"),
	    .deadline = D("2026-12-01"), .certify_by = DAY_NONE };
	ev.disp = two;
	ev.ndisp = 2;
	p = plan_on(&ev, "2026-12-01");
	ck_assert_uint_eq(p.n, 2);
	ck_assert_str_eq(plan_state_name(row(&p, "termination")->state),
	    "delivered");
	ck_assert_str_eq(plan_state_name(row(&p, "reappeared")->state), "due");
	ck_assert_uint_eq(row(&p, "reappeared")->ntodo, 1);
	plan_free(&p);
}
END_TEST

START_TEST(a_time_zone_far_from_utc_changes_today)
{
	struct events ev = terminated("2026-10-23");	/* deadline 11-22 */
	/* 2026-11-22T11:00Z is still the 22nd in UTC, already the 23rd on
	 * Kiritimati (UTC+14). */
	time_t t = (time_t)D("2026-11-22") * 86400 + 11 * 3600;
	struct plan p;
	struct err e;

	agr.timezone = "UTC";
	ck_assert(sched_plan(&ps, &ev, t, &p, &e) == 0);
	ck_assert_str_eq(fmt(p.rows[0].today), "2026-11-22");
	ck_assert_str_eq(plan_state_name(p.rows[0].state), "due");
	plan_free(&p);
	agr.timezone = "Pacific/Kiritimati";
	ck_assert(sched_plan(&ps, &ev, t, &p, &e) == 0);
	ck_assert_str_eq(fmt(p.rows[0].today), "2026-11-23");
	ck_assert_str_eq(plan_state_name(p.rows[0].state), "overdue");
	plan_free(&p);
}
END_TEST

/* Cancel never hides a destruction: which dispositions block it. */
START_TEST(a_destruction_is_uncertified_until_its_certificate_exists)
{
	struct ev_disposition d[3];
	struct events ev = { .disp = d, .ndisp = 1 };

	memset(d, 0, sizeof(d));
	d[0] = (struct ev_disposition){ .id = "osde-1", .agreement = "osde",
	    .trigger = "D-0001", .failed = 100, .ndestroyed = 0 };
	/* failed before destroying anything: nothing to certify */
	ck_assert_ptr_null(events_uncertified(&ev, "D-0001"));
	/* interrupted: whatever it destroyed is in work/, not the journal */
	d[0].failed = 0;
	ck_assert_ptr_eq(events_uncertified(&ev, "D-0001"), &d[0]);
	d[0].failed = 100;
	d[0].ndestroyed = 3;
	ck_assert_ptr_eq(events_uncertified(&ev, "D-0001"), &d[0]);
	ck_assert_ptr_null(events_uncertified(&ev, "D-0002"));
	/* a later disposition of the same directive completes ... */
	d[1] = (struct ev_disposition){ .id = "osde-2", .agreement = "osde",
	    .trigger = "D-0001", .completed = 200, .files = 1,
	    .ndestroyed = 1 };
	ev.ndisp = 2;
	ck_assert_ptr_eq(events_uncertified(&ev, "D-0001"), &d[0]);
	/* ... and is certified: both are finished (the failed one is from
	 * before partial certificates: nothing else could certify it) */
	d[1].cert = "osde-2";
	ck_assert_ptr_null(events_uncertified(&ev, "D-0001"));
	/* a partial one is finished only by its own certificate */
	d[0].partial = 1;
	d[0].files = 3;
	ck_assert_ptr_eq(events_uncertified(&ev, "D-0001"), &d[0]);
	d[0].cert = "osde-1";
	ck_assert_ptr_null(events_uncertified(&ev, "D-0001"));
	d[0].cert = NULL;
	d[0].partial = 0;
	/* another directive's completion finishes nothing of D-0001 */
	d[1].trigger = "D-0002";
	ck_assert_ptr_eq(events_uncertified(&ev, "D-0001"), &d[0]);
	d[1].trigger = "D-0001";
	/* completed with files but not certified yet */
	d[2] = (struct ev_disposition){ .id = "osde-3", .agreement = "osde",
	    .trigger = "D-0001", .completed = 300, .files = 2 };
	ev.ndisp = 3;
	ck_assert_ptr_eq(events_uncertified(&ev, "D-0001"), &d[2]);
	/* a partial certificate of the failed one counts as its own */
	d[2].cert = "osde-3";
	d[1].cert = NULL;
	d[0].cert = "osde-1p";
	ck_assert_ptr_eq(events_uncertified(&ev, "D-0001"), &d[1]);
}
END_TEST

/* Replay: events_load over a real journal. */
START_TEST(replay_builds_events_from_the_journal)
{
	char *dir = tu_tmpdir(), id[16];
	struct journal j;
	struct events ev;
	struct err e;

	ck_assert(journal_open(dir, &j, &e) == 0);
	ck_assert(journal_appendv(&j, &e, "terminate", "agreement", "osde",
	    "date", "2026-10-01", "by", "root", NULL) == 0);
	ck_assert(journal_appendv(&j, &e, "terminate", "agreement", "osde",
	    "date", "2026-10-15", "by", "root", NULL) == 0);
	ck_assert(journal_appendv(&j, &e, "directive-add", "id", "D-0001",
	    "agreement", "osde", "received", "2026-11-02", "extent", "partial",
	    "categories", "Assessment, Attendance", "nature", "destroy",
	    "schedule", "2026-11-20", "requested_by", "J. Smith, DPO",
	    "sha256", "ab", "by", "root", NULL) == 0);
	ck_assert(journal_appendv(&j, &e, "directive-add", "id", "D-0002",
	    "agreement", "osde", "received", "2026-11-03", "extent", "complete",
	    "nature", "transfer", "transfer_to", "/srv/x", "schedule", "asap",
	    "requested_by", "X", "by", "root", NULL) == 0);
	ck_assert(journal_appendv(&j, &e, "directive-cancel", "id", "D-0002",
	    "reason", "sent in error", "by", "root", NULL) == 0);
	ck_assert(journal_appendv(&j, &e, "hold", "id", "H-0001", "agreement",
	    "osde", "reason", "litigation", "datasets", "exports,attendance",
	    "by", "root", NULL) == 0);
	ck_assert(journal_appendv(&j, &e, "release", "id", "H-0001",
	    "agreement", "osde", "by", "root", NULL) == 0);
	ck_assert(journal_appendv(&j, &e, "some-future-event", "x", "y",
	    NULL) == 0);
	ck_assert(journal_appendv(&j, &e, "disposition-start", "id",
	    "osde-20261101-9", "agreement", "osde", "trigger", "D-0001",
	    "datasets", "exports,attendance", "deadline", "2026-11-20",
	    NULL) == 0);
	ck_assert(journal_appendv(&j, &e, "file-intent", "disp",
	    "osde-20261101-9", "n", "1", "size", "10", NULL) == 0);
	ck_assert(journal_appendv(&j, &e, "file-destroyed", "disp",
	    "osde-20261101-9", "n", "1", "size", "10", "sha256", "ab",
	    NULL) == 0);
	ck_assert(journal_appendv(&j, &e, "disposition-complete", "id",
	    "osde-20261101-9", "files", "1", "bytes", "10", "remaining", "0",
	    "datasets", "exports,attendance", NULL) == 0);
	ck_assert(journal_appendv(&j, &e, "certificate-issued", "id",
	    "osde-20261101-9", "disp", "osde-20261101-9", "certify_by",
	    "2026-11-11", NULL) == 0);
	ck_assert(journal_appendv(&j, &e, "delivery-attempt", "cert",
	    "osde-20261101-9", "ok", "no", "detail", "sendmail exit 75",
	    NULL) == 0);
	ck_assert(journal_appendv(&j, &e, "delivery-attempt", "cert",
	    "osde-20261101-9", "ok", "yes", "detail", "accepted", NULL) == 0);
	journal_close(&j);

	ck_assert_msg(events_load(dir, &ev, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(ev.lines, 15);
	ck_assert_uint_eq(ev.nterm, 1);
	ck_assert_str_eq(fmt(ev.term[0].date), "2026-10-15");
	ck_assert_str_eq(fmt(events_terminated(&ev, &agr)), "2026-10-15");
	ck_assert_uint_eq(ev.ndir, 2);
	ck_assert(!ev.dir[0].complete);
	ck_assert_uint_eq(ev.dir[0].categories,
	    1u << category_find("Assessment") | 1u << category_find("Attendance"));
	ck_assert_str_eq(fmt(ev.dir[0].schedule), "2026-11-20");
	ck_assert_str_eq(ev.dir[0].requested_by, "J. Smith, DPO");
	ck_assert(ev.dir[1].cancelled && ev.dir[1].transfer);
	ck_assert_str_eq(ev.dir[1].cancel_reason, "sent in error");
	ck_assert_str_eq(events_next_directive_id(&ev, id), "D-0003");
	ck_assert_str_eq(events_next_hold_id(&ev, id), "H-0002");
	ck_assert_uint_eq(ev.nhold, 1);
	ck_assert_uint_eq(ev.hold[0].ndatasets, 2);
	ck_assert_str_eq(ev.hold[0].datasets[1], "attendance");
	ck_assert(ev.hold[0].released);
	ck_assert_uint_eq(ev.ndisp, 1);
	ck_assert_uint_eq(ev.disp[0].nintent, 1);
	ck_assert_uint_eq(ev.disp[0].ndestroyed, 1);
	ck_assert(ev.disp[0].completed != 0);
	ck_assert_uint_eq(ev.disp[0].files, 1);
	ck_assert_str_eq(ev.disp[0].cert, "osde-20261101-9");
	ck_assert_uint_eq(ev.disp[0].attempts, 2);
	ck_assert(ev.disp[0].delivered != 0);
	ck_assert_ptr_nonnull(events_directive_by_sha(&ev, "ab"));

	/* And the plan from it: the partial directive is delivered. */
	struct plan p = plan_on(&ev, "2026-11-05");
	ck_assert_str_eq(plan_state_name(row(&p, "directive D-0001")->state),
	    "delivered");
	ck_assert_uint_eq(p.n, 2);
	plan_free(&p);
	events_free(&ev);
	tu_rmtree(dir);
}
END_TEST

START_TEST(replay_names_the_line_of_a_malformed_known_event)
{
	char *dir = tu_tmpdir();
	struct journal j;
	struct events ev;
	struct err e;

	ck_assert(journal_open(dir, &j, &e) == 0);
	ck_assert(journal_appendv(&j, &e, "hold", "id", "H-0001", "agreement",
	    "osde", NULL) == 0);
	ck_assert(journal_appendv(&j, &e, "terminate", "agreement", "osde",
	    "date", "2026-02-30", NULL) == 0);
	journal_close(&j);
	ck_assert(events_load(dir, &ev, &e) == -1);
	ck_assert_msg(strstr(e.msg, "journal:2: terminate event: bad date") !=
	    NULL, "%s", e.msg);
	events_free(&ev);
	tu_rmtree(dir);
}
END_TEST

START_TEST(replay_of_a_missing_journal_is_empty)
{
	char *dir = tu_tmpdir();
	struct events ev;
	struct err e;

	ck_assert(events_load(dir, &ev, &e) == 0);
	ck_assert_uint_eq(ev.lines, 0);
	ck_assert_uint_eq(ev.ndir + ev.nterm + ev.nhold + ev.ndisp, 0);
	events_free(&ev);
	tu_rmtree(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sched");
	TCase *t = tcase_create("sched");

	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, termination_plus_30_days_is_overdue_after_the_deadline);
	tcase_add_test(t, every_agreement_gets_a_waiting_row_without_a_termination);
	tcase_add_test(t, the_policys_terminated_counts_unless_lethe_terminate_overrides);
	tcase_add_test(t, month_durations_end_on_the_last_day_of_february);
	tcase_add_test(t, a_directive_asap_is_due_from_receipt_with_a_60_day_deadline);
	tcase_add_test(t, a_schedule_date_before_the_limit_becomes_the_deadline);
	tcase_add_test(t, a_partial_directive_covers_only_intersecting_non_exempt_datasets);
	tcase_add_test(t, a_cancelled_directive_has_no_row);
	tcase_add_test(t, a_held_agreement_is_never_overdue_and_a_release_restores_it);
	tcase_add_test(t, a_hold_on_one_dataset_leaves_the_others_due);
	tcase_add_test(t, a_hold_by_category_freezes_the_datasets_holding_it);
	tcase_add_test(t, a_hold_that_matches_nothing_freezes_the_whole_agreement);
	tcase_add_test(t, prior_notice_is_due_first_then_disposal_notice_before_days_later);
	tcase_add_test(t, a_late_notice_never_moves_the_deadline);
	tcase_add_test(t, a_notice_counts_only_for_the_termination_date_it_announced);
	tcase_add_test(t, a_destruction_is_uncertified_until_its_certificate_exists);
	tcase_add_test(t, dispositions_move_the_row_through_done_certified_delivered);
	tcase_add_test(t, a_partial_completion_leaves_the_rest_to_do);
	tcase_add_test(t, a_failed_disposition_stays_due_and_says_why);
	tcase_add_test(t, a_reappeared_disposition_gets_its_own_row);
	tcase_add_test(t, a_time_zone_far_from_utc_changes_today);
	tcase_add_test(t, replay_builds_events_from_the_journal);
	tcase_add_test(t, replay_names_the_line_of_a_malformed_known_event);
	tcase_add_test(t, replay_of_a_missing_journal_is_empty);
	suite_add_tcase(s, t);
	return tu_run(s);
}
