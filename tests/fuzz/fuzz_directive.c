/*
 * fuzz_directive.c: directive_load (agent/directive.c) on arbitrary bytes,
 * against a fixed config (roots /srv/edtech /backups) and a fixed policy
 * set (agreements osde-2024 and ndpa-reachmyteach).
 *
 * Invariants besides "no crash, no leak, no UB":
 *   - directive_load returns 0 exactly when it added no error, and every
 *     diagnostic names the file;
 *   - a directive that loads clean names an agreement of the set, has a
 *     received date, a requester, categories exactly when it is partial,
 *     a transfer_to exactly when it transfers (absolute, inside a root)
 *     and a schedule that is asap or not before received.
 */
#include "fuzz_util.h"

#include "conf/config.h"
#include "conf/directive.h"
#include "base/err.h"
#include "conf/policy.h"

static struct config cfg;
static struct policyset ps;
static char dir_path[4096];

static void
setup_load(int rc, struct diags *d, const char *what)
{
	if (rc != 0) {
		for (size_t i = 0; i < d->n; i++)
			fprintf(stderr, "%s\n", d->v[i]);
		fprintf(stderr, "fuzz setup: %s does not load\n", what);
		_exit(2);
	}
	diag_free(d);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char conf[] =
	    "[agent]\n"
	    "allowed_roots = /srv/edtech /backups\n"
	    "host = app-1\n"
	    "[vendor]\n"
	    "name = Example Learning, Inc.\n"
	    "contact = privacy@example.com\n";
	static const char pol1[] =
	    "[agreement]\n"
	    "id = osde-2024\n"
	    "lea = Example Public Schools\n"
	    "contact = privacy@example.org\n"
	    "[dataset \"files\"]\n"
	    "path = /srv/edtech/osde/**\n"
	    "categories = Assessment, Attendance\n";
	static const char pol2[] =
	    "[agreement]\n"
	    "id = ndpa-reachmyteach\n"
	    "lea = Reach My Teach District\n"
	    "contact = dpo@example.net\n"
	    "[dataset \"backups\"]\n"
	    "archive = /backups/*.tar.gz\n"
	    "members = rmt/**\n"
	    "categories = Demographics\n";
	struct diags d = { 0 };
	char path[4096];

	(void)argc;
	(void)argv;
	fz_write(fz_path(path, "lethe.conf"), conf, sizeof(conf) - 1);
	setup_load(config_load(path, &cfg, &d), &d, "the config");
	fz_write(fz_path(path, "osde.ini"), pol1, sizeof(pol1) - 1);
	setup_load(policy_load_file(path, &cfg, &ps, &d), &d, "osde.ini");
	fz_write(fz_path(path, "rmt.ini"), pol2, sizeof(pol2) - 1);
	setup_load(policy_load_file(path, &cfg, &ps, &d), &d, "rmt.ini");
	fz_path(dir_path, "directive.ini");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct directive dv;
	struct diags d = { 0 };
	char buf[512];
	int rc;

	fz_write(dir_path, data, size);
	rc = directive_load(dir_path, &ps, &cfg, &dv, &d);
	FZ_CHECK((rc == 0) == (diag_errors(&d) == 0), "rc %d with %zu errors",
	    rc, diag_errors(&d));
	for (size_t i = 0; i < d.n; i++) {
		const char *m = d.v[i];

		if (strncmp(m, "warning: ", 9) == 0)
			m += 9;
		FZ_CHECK(fz_names_file(m, dir_path), "diagnostic does not name "
		    "the file: %s", d.v[i]);
	}
	if (rc == 0) {
		FZ_CHECK(dv.agreement != NULL &&
		    policy_find(&ps, dv.agreement) != NULL,
		    "accepted for an unknown agreement");
		FZ_CHECK(dv.received != DAY_NONE, "accepted without received");
		FZ_CHECK(dv.requested_by != NULL && dv.requested_by[0] != '\0',
		    "accepted without requested_by");
		FZ_CHECK(dv.complete == (dv.categories == 0),
		    "complete %d with categories %#llx", dv.complete,
		    (unsigned long long)dv.categories);
		FZ_CHECK(dv.transfer == (dv.transfer_to != NULL),
		    "transfer %d, transfer_to %s", dv.transfer,
		    dv.transfer_to ? dv.transfer_to : "(null)");
		if (dv.transfer_to != NULL)
			FZ_CHECK(config_root_of(&cfg, dv.transfer_to) >= 0,
			    "transfer_to '%s' outside the roots",
			    dv.transfer_to);
		FZ_CHECK(dv.schedule == DAY_NONE || dv.schedule >= dv.received,
		    "schedule before received");
		directive_categories(&dv, buf, sizeof(buf));
		FZ_CHECK(dv.complete == (buf[0] == '\0'), "categories '%s'",
		    buf);
	}
	directive_free(&dv);
	diag_free(&d);
	return 0;
}
