/*
 * cmd_hold.c: legal holds (SPEC §4, §5): `lethe hold`, `lethe release`.
 *
 * MUST rules:
 *  - everything is validated before anything is written: a usage or
 *    validation error (a reason that is not UTF-8, holds a control
 *    character or is too long) exits 2 having changed nothing;
 *  - `hold` never takes the state lock: a hold is never refused because a
 *    run is going on; it waits only for the short journal lock;
 *  - `hold` records the hold even on a journal that fails the trust gate
 *    (it only adds protection, and run refuses that journal anyway), and
 *    says so; `release` takes the state lock and refuses such a journal,
 *    as it lifts protection.
 */
#include "cmd/cmd.h"
#include "cmd/session.h"
#include "base/text.h"
#include "base/num.h"
#include "plan/events.h"
#include "state/journal.h"

#include <stdio.h>
#include <string.h>

/* Appends ",name" (or "name") to list; -1 if it does not fit. */
static int
list_add(char *list, size_t len, const char *name)
{
	size_t n = strlen(list);
	int w = snprintf(list + n, len - n, "%s%s", n ? "," : "", name);

	return w < 0 || (size_t)w >= len - n ? -1 : 0;
}

/* Whether the comma-separated list holds name. */
static int
list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		if (len == n && strncmp(p, name, n) == 0)
			return 1;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int
max_hold_id(const struct jrec *r, void *arg)
{
	int64_t *max = arg, n;
	const char *id = jrec_get(r, "id");

	if ((strcmp(r->event, "hold") == 0 ||
	    strcmp(r->event, "release") == 0) && id != NULL && id[0] == 'H' &&
	    id[1] == '-' && num_parse(id + 2, 1, 999999999, &n) == 0 &&
	    n > *max)
		*max = n;
	return 0;
}

/* The next hold id when the journal does not replay: one above every
 * H-N a hold or release line names, whatever else is wrong. */
static int
next_hold_id_raw(const char *state_dir, char id[16])
{
	int64_t max = 0;
	struct err e;

	if (journal_read(state_dir, max_hold_id, &max, &e) != 0) {
		warnx_("%s", e.msg);
		return -1;
	}
	/* max <= 999999999: "H-" and ten digits fit in 16. */
	snprintf(id, 16, "H-%04d", (int)(max + 1));
	return 0;
}

/* The agreement and reason of `hold` (--dataset and --category are read
 * once the policies are loaded: hold_targets).  0, or -1 for usage. */
static int
hold_args(int argc, char **argv, const char **agr, const char **reason)
{
	*agr = *reason = NULL;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (strcmp(o, "--reason") == 0 || strcmp(o, "--dataset") == 0 ||
		    strcmp(o, "--category") == 0) {
			if (i + 1 >= argc)
				return -1;
			i++;
		}
		if (strcmp(o, "--reason") == 0)
			*reason = argv[i];
		else if (strcmp(o, "--dataset") == 0 || strcmp(o, "--category") == 0)
			continue;
		else if (o[0] == '-' || *agr != NULL)
			return -1;
		else
			*agr = o;
	}
	return 0;
}

/* What the hold covers: --dataset names of a ("a,b" into names) and
 * --category sets (formatted into cats); neither: the whole agreement.
 * Returns EXIT_OK, or EXIT_USAGE after saying why. */
static int
hold_targets(const struct agreement *a, int argc, char **argv,
    char *names, size_t nlen, char *cats, size_t clen)
{
	char msg[256];
	catset_t set = 0;
	int matched = 0;

	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--dataset") == 0) {
			const char *n = argv[++i];
			size_t k = 0;
			while (k < a->nds && strcmp(a->ds[k].name, n) != 0)
				k++;
			if (k == a->nds) {
				warnx_("agreement %s has no dataset '%s'", a->id,
				    n);
				return EXIT_USAGE;
			}
			if (list_has(names, n))
				continue;
			if (strchr(n, ',') != NULL ||
			    list_add(names, nlen, n) != 0) {
				warnx_("dataset '%s': name cannot be recorded "
				    "in a hold", n);
				return EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "--category") == 0) {
			catset_t c;
			if (category_parse_list(argv[++i], &c, msg,
			    sizeof(msg)) != 0) {
				warnx_("%s", msg);
				return EXIT_USAGE;
			}
			set |= c;
		} else if (strcmp(argv[i], "--reason") == 0) {
			i++;
		}
	}
	if (set == 0)
		return EXIT_OK;
	category_format(set, cats, clen);
	for (size_t k = 0; k < a->nds; k++)
		if (a->ds[k].categories & set)
			matched = 1;
	if (!matched)
		warnx_("warning: no dataset of %s holds %s: the hold freezes "
		    "the whole agreement (holds fail closed)", a->id, cats);
	return EXIT_OK;
}

/* Records the hold (never under the state lock: it is not refused because
 * a run is going on, and waits only for the short journal lock) and says
 * so.  Returns an exit code. */
static int
hold_record(struct ctx *x, const struct agreement *a, const char *reason,
    const char *names, const char *cats)
{
	struct session s = { .lockfd = -1, .j = { .fd = -1 } };
	char by[256], id[16];
	int rc = EXIT_FAIL;

	if (session_begin(x, &s, 0) != 0)
		goto out;
	if (s.unreplayable && s.g.state != GATE_OK)
		warnx_("warning: %s", s.replay_error.msg);
	if (!s.trusted)
		warnx_("warning: %s; the hold is recorded anyway (it only adds "
		    "protection), but nothing else will be done until the "
		    "journal is %s", s.why.msg, s.unreplayable ? "put right "
		    "(restore it from a backup)" : "accepted (`lethe journal "
		    "accept --reason TEXT`)");
	/* Its id is chosen under the journal lock, from a replay made under
	 * it: two holds at once never get the same id. */
	if (!s.unreplayable)
		events_next_hold_id(&s.ev, id);
	else if (next_hold_id_raw(x->cfg.state_dir, id) != 0)
		goto out;
	struct jfield f[6] = {
		{ "id", id }, { "agreement", a->id }, { "reason", reason },
	};
	size_t nf = 3;
	if (names[0] != '\0')
		f[nf++] = (struct jfield){ "datasets", names };
	if (cats[0] != '\0')
		f[nf++] = (struct jfield){ "categories", cats };
	f[nf++] = (struct jfield){ "by", cmd_whoami(by, sizeof(by)) };
	if (session_append(&s, "hold", f, nf) != 0)
		goto out;
	(void)session_seal(x, &s, 0);
	printf("%s: legal hold on %s", id, a->id);
	if (names[0] != '\0' || cats[0] != '\0') {
		printf(" (");
		if (names[0] != '\0')
			printf("datasets %s%s", names, cats[0] ? "; " : "");
		if (cats[0] != '\0')
			printf("categories %s", cats);
		printf(")");
	}
	printf(" recorded: nothing it covers is destroyed until `lethe "
	    "release %s`\n", a->id);
	rc = EXIT_OK;
out:
	session_end(&s);
	return rc;
}

/* lethe hold AGREEMENT --reason TEXT [--dataset NAME]... [--category C]... */
int
cmd_hold(struct ctx *x, int argc, char **argv)
{
	const struct agreement *a;
	const char *agr, *reason;
	char names[2048] = "", cats[1024] = "", msg[256];
	int rc;

	if (hold_args(argc, argv, &agr, &reason) != 0)
		return cmd_usage("hold");
	if (agr == NULL || reason == NULL || reason[0] == '\0') {
		if (agr != NULL)
			warnx_("a hold needs --reason TEXT (it is listed on the "
			    "certificate)");
		return cmd_usage("hold");
	}
	/* The reason goes whole onto certificates: never cut, never raw. */
	if (text_reason_check(reason, msg, sizeof(msg)) != 0) {
		warnx_("hold on %s: %s; nothing was recorded", agr, msg);
		return EXIT_USAGE;
	}
	if (ctx_load(x) != 0)
		return EXIT_USAGE;
	if ((a = cmd_find_agreement(x, agr)) == NULL)
		return EXIT_USAGE;
	if ((rc = hold_targets(a, argc, argv, names, sizeof(names), cats,
	    sizeof(cats))) != EXIT_OK)
		return rc;
	return hold_record(x, a, reason, names, cats);
}

/* Says why `release agr [--id hid]` found no active hold to release. */
static void
release_nothing(struct ctx *x, const struct events *ev, const char *agr,
    const char *hid)
{
	const struct ev_hold *h = hid != NULL ? events_hold(ev, hid) : NULL;
	char ts[32];

	if (hid != NULL && h == NULL)
		warnx_("unknown hold '%s': none was recorded with that id", hid);
	else if (h != NULL && strcmp(h->agreement, agr) != 0)
		warnx_("hold %s is on agreement %s, not %s", hid, h->agreement,
		    agr);
	else if (h != NULL)
		warnx_("hold %s on %s was already released (%s)", hid, agr,
		    time_format_utc(h->released_at, ts));
	else {
		for (size_t i = 0; i < ev->nhold; i++)
			if (strcmp(ev->hold[i].agreement, agr) == 0) {
				warnx_("no active hold on %s", agr);
				return;
			}
		if (policy_find(&x->ps, agr) != NULL)
			warnx_("no active hold on %s", agr);
		else
			(void)cmd_find_agreement(x, agr);
	}
}

/* lethe release AGREEMENT [--id H-0001] */
int
cmd_release(struct ctx *x, int argc, char **argv)
{
	struct session s = { .lockfd = -1, .j = { .fd = -1 } };
	const char *agr = NULL, *hid = NULL;
	char by[256];
	int rc = EXIT_FAIL, found = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--id") == 0 && i + 1 < argc)
			hid = argv[++i];
		else if (argv[i][0] == '-' || agr != NULL)
			return cmd_usage("release");
		else
			agr = argv[i];
	}
	if (agr == NULL)
		return cmd_usage("release");
	/* The config is needed; the agreement may have left the policies
	 * since its hold was placed, and must still be releasable. */
	if (ctx_load(x) != 0)
		return EXIT_USAGE;
	if (session_begin(x, &s, 1) != 0 || session_refuse(x, &s) != 0)
		goto out;
	cmd_whoami(by, sizeof(by));
	for (size_t i = 0; i < s.ev.nhold; i++) {
		const struct ev_hold *h = &s.ev.hold[i];
		if (h->released || strcmp(h->agreement, agr) != 0 ||
		    (hid != NULL && strcmp(h->id, hid) != 0))
			continue;
		found++;
		struct jfield f[] = {
			{ "id", h->id }, { "agreement", agr }, { "by", by },
		};
		if (session_append(&s, "release", f, 3) != 0)
			goto out;
		printf("%s: hold on %s released\n", h->id, agr);
	}
	if (found == 0) {
		release_nothing(x, &s.ev, agr, hid);
		rc = EXIT_USAGE;
		goto out;
	}
	rc = session_seal(x, &s, 1) == 0 ? EXIT_OK : EXIT_FAIL;
out:
	session_end(&s);
	return rc;
}
