/*
 * directive_add.c: recording an Exhibit D directive (see directive_add.h).
 *
 * MUST rules:
 *  - the directive's copy is durable (0600) before its journal line is
 *    written, so a recorded directive always has its copy for
 *    `directive show`;
 *  - the same text (by SHA-256) is never recorded twice;
 *  - a copy whose journal line could not be written is no one's: the
 *    next directive recorded gets its id, and replaces it.
 */
#include "run/directive_add.h"

#include "base/err.h"
#include "certify/cert.h"
#include "conf/config.h"
#include "conf/directive.h"
#include "conf/policy.h"
#include "plan/events.h"
#include "state/durable.h"
#include "state/journal.h"

#include <stdio.h>
#include <stdlib.h>

int
directive_add_read(const char *path, struct directive_text *t,
    struct err *e)
{
	t->buf = NULL;
	t->len = 0;
	t->sha256[0] = '\0';
	if (slurp(path, DIRECTIVE_MAX, &t->buf, &t->len, e) != 0)
		return -1;
	cert_sha256_hex(t->buf, t->len, t->sha256);
	return 0;
}

void
directive_add_text_free(struct directive_text *t)
{
	free(t->buf);
	t->buf = NULL;
}

/* Keeps the text as state_dir/directives/ID.ini.  0, or -1 with *e set. */
static int
keep_copy(const struct config *c, const char *id,
    const struct directive_text *t, struct err *e)
{
	char path[4200];
	int n;

	n = snprintf(path, sizeof(path), "%s/directives", c->state_dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return err_set(e, "state_dir path too long");
	if (mkdirs(path, 0700, e) != 0)
		return -1;
	n = snprintf(path, sizeof(path), "%s/directives/%s.ini", c->state_dir,
	    id);
	if (n < 0 || (size_t)n >= sizeof(path))
		return err_set(e, "state_dir path too long");
	return durable_write(path, t->buf, t->len, 0600, e);
}

int
directive_add_record(const struct config *c, struct journal *j,
    const struct events *ev, const struct directive *dv,
    const struct directive_text *t, const char *by, int forced, char *id,
    struct err *e)
{
	const struct ev_directive *dup;
	char rec[11], sch[11], cats[512];

	if ((dup = events_directive_by_sha(ev, t->sha256)) != NULL) {
		snprintf(id, 16, "%s", dup->id);
		return DIRECTIVE_ADD_DUP;
	}
	events_next_directive_id(ev, id);
	if (keep_copy(c, id, t, e) != 0)
		return -1;
	date_format(dv->received, rec);
	if (dv->schedule == DAY_NONE)
		snprintf(sch, sizeof(sch), "asap");
	else
		date_format(dv->schedule, sch);
	struct jfield f[] = {
		{ "id", id }, { "agreement", dv->agreement },
		{ "received", rec },
		{ "extent", dv->complete ? "complete" : "partial" },
		{ "categories", directive_categories(dv, cats, sizeof(cats)) },
		{ "nature", dv->transfer ? "transfer" : "destroy" },
		{ "transfer_to", dv->transfer_to ? dv->transfer_to : "" },
		{ "schedule", sch }, { "requested_by", dv->requested_by },
		{ "sha256", t->sha256 }, { "by", by },
		{ "forced", "received-in-future" },
	};
	/* forced= only when --force let a future date through */
	return journal_append(j, "directive-add", f, sizeof(f) / sizeof(f[0]) -
	    (forced ? 0 : 1), e);
}
