/*
 * directive.c: reading an Exhibit D directive (see directive.h).
 * Every problem is reported at FILE:LINE, all of them in one go, and a
 * directive with any error is never recorded.
 */
#include "conf/directive.h"
#include "conf/config.h"
#include "base/err.h"
#include "conf/iniread.h"
#include "locate/locate.h"
#include "locate/resolve.h"
#include "conf/policy.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const keys[] = {
	"agreement", "received", "extent", "categories", "nature",
	"transfer_to", "schedule", "requested_by",
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct parse {
	struct directive *dv;
	struct diags *d;
	int line[NKEYS];	/* where each key was set, 0 = not set */
	char *val[NKEYS];
	int sections;
	int oom;
};

static char *
keep(struct parse *p, const char *s)
{
	char *c = strdup(s);

	if (c == NULL)
		p->oom = 1;
	return c;
}

static int
key_index(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i], name) == 0)
			return (int)i;
	return -1;
}

static int
on_section(void *arg, const char *file, int line, const char *section)
{
	struct parse *p = arg;

	if (strcmp(section, "directive") != 0) {
		diag_add(p->d, file, line, "unknown section [%s]; a directive "
		    "has only [directive]", section);
		return -1;
	}
	if (p->sections++ > 0) {
		diag_add(p->d, file, line, "[directive] given twice");
		return -1;
	}
	return 0;
}

static int
on_pair(void *arg, const char *file, int line, const char *section,
    const char *name, const char *value)
{
	struct parse *p = arg;
	int k;

	if (strcmp(section, "directive") != 0) {
		if (*section != '\0')
			return 0;	/* its section was reported already */
		diag_add(p->d, file, line, "'%s' outside [directive]", name);
		return -1;
	}
	k = key_index(name);
	if (k < 0) {
		const char *s = iniread_suggest(name, keys, NKEYS);
		if (s != NULL)
			diag_add(p->d, file, line, "unknown key '%s'; did you "
			    "mean '%s'?", name, s);
		else
			diag_add(p->d, file, line, "unknown key '%s'", name);
		return -1;
	}
	if (p->line[k] != 0) {
		diag_add(p->d, file, line, "'%s' given twice (first at line "
		    "%d)", name, p->line[k]);
		return -1;
	}
	p->val[k] = keep(p, value);
	p->line[k] = line;
	return 0;
}

enum { K_AGREEMENT, K_RECEIVED, K_EXTENT, K_CATEGORIES, K_NATURE,
    K_TRANSFER_TO, K_SCHEDULE, K_REQUESTED_BY };

/* A present, non-empty value of key k, or NULL after "missing" is added. */
static const char *
need(struct parse *p, const char *file, int k)
{
	if (p->val[k] == NULL || *p->val[k] == '\0') {
		diag_add(p->d, file, p->line[k], "%s '%s'%s",
		    p->val[k] == NULL ? "missing" : "empty", keys[k],
		    p->val[k] == NULL ? " in [directive]" : "");
		return NULL;
	}
	return p->val[k];
}

static void
check_agreement(struct parse *p, const char *file,
    const struct policyset *ps)
{
	const char *id = need(p, file, K_AGREEMENT), *s;
	const char **ids;

	if (id == NULL)
		return;
	if (policy_find(ps, id) != NULL) {
		p->dv->agreement = keep(p, id);
		return;
	}
	ids = calloc(ps->n + 1, sizeof(*ids));
	for (size_t i = 0; ids != NULL && i < ps->n; i++)
		ids[i] = ps->a[i].id;
	s = ids != NULL ? iniread_suggest(id, ids, ps->n) : NULL;
	if (s != NULL)
		diag_add(p->d, file, p->line[K_AGREEMENT], "unknown agreement "
		    "'%s'; did you mean '%s'?", id, s);
	else
		diag_add(p->d, file, p->line[K_AGREEMENT], "unknown agreement "
		    "'%s': no policy in the policy directory has that id", id);
	free(ids);
}

static void
check_rest(struct parse *p, const char *file, const struct config *c,
    const struct policyset *ps)
{
	struct directive *dv = p->dv;
	const char *v;
	char msg[256];

	dv->received_line = p->line[K_RECEIVED];
	if ((v = need(p, file, K_RECEIVED)) != NULL &&
	    date_parse(v, &dv->received) != 0)
		diag_add(p->d, file, p->line[K_RECEIVED], "received '%s' is "
		    "not a date (YYYY-MM-DD)", v);
	if ((v = need(p, file, K_EXTENT)) != NULL) {
		if (strcmp(v, "complete") == 0)
			dv->complete = 1;
		else if (strcmp(v, "partial") != 0)
			diag_add(p->d, file, p->line[K_EXTENT], "extent '%s' "
			    "must be partial or complete", v);
	}
	if (!dv->complete && (v = p->val[K_CATEGORIES]) != NULL) {
		if (category_parse_list(v, &dv->categories, msg,
		    sizeof(msg)) != 0)
			diag_add(p->d, file, p->line[K_CATEGORIES], "%s", msg);
	} else if (!dv->complete && p->val[K_EXTENT] != NULL &&
	    strcmp(p->val[K_EXTENT], "partial") == 0) {
		diag_add(p->d, file, p->line[K_EXTENT], "a partial directive "
		    "needs 'categories'");
	} else if (dv->complete && p->val[K_CATEGORIES] != NULL) {
		diag_add(p->d, file, p->line[K_CATEGORIES], "categories given "
		    "but extent is complete: a complete directive covers every "
		    "category");
	}
	if ((v = need(p, file, K_NATURE)) != NULL) {
		if (strcmp(v, "transfer") == 0)
			dv->transfer = 1;
		else if (strcmp(v, "destroy") != 0)
			diag_add(p->d, file, p->line[K_NATURE], "nature '%s' "
			    "must be destroy or transfer", v);
	}
	v = p->val[K_TRANSFER_TO];
	if (dv->transfer) {
		if ((v = need(p, file, K_TRANSFER_TO)) == NULL)
			;
		else if (v[0] != '/')
			diag_add(p->d, file, p->line[K_TRANSFER_TO],
			    "transfer_to '%s' must be an absolute path", v);
		else if (config_root_of(c, v) < 0) {
			char roots[1024];

			config_roots_list(c, roots, sizeof(roots));
			diag_add(p->d, file, p->line[K_TRANSFER_TO],
			    "transfer_to '%s' is not inside allowed_roots (%s)",
			    v, roots);
		} else {
			struct err e;
			dv->transfer_to = keep(p, v);
			if (directive_check_transfer(c, ps, v, &e) != 0)
				diag_add(p->d, file, p->line[K_TRANSFER_TO],
				    "%s", e.msg);
		}
	} else if (v != NULL) {
		diag_add(p->d, file, p->line[K_TRANSFER_TO], "transfer_to "
		    "given but nature is not transfer");
	}
	v = p->val[K_SCHEDULE];
	if (v == NULL || strcmp(v, "asap") == 0)
		dv->schedule = DAY_NONE;
	else if (date_parse(v, &dv->schedule) != 0)
		diag_add(p->d, file, p->line[K_SCHEDULE], "schedule '%s' must "
		    "be asap or a date (YYYY-MM-DD)", v);
	else if (dv->received != DAY_NONE && dv->schedule < dv->received)
		diag_add(p->d, file, p->line[K_SCHEDULE], "schedule %s is "
		    "before the directive was received (%s)", v,
		    p->val[K_RECEIVED]);
	if ((v = need(p, file, K_REQUESTED_BY)) != NULL)
		dv->requested_by = keep(p, v);
}

int
directive_load(const char *path, const struct policyset *ps,
    const struct config *c, struct directive *out, struct diags *d)
{
	struct parse p = { .dv = out, .d = d };
	size_t before = diag_errors(d);

	memset(out, 0, sizeof(*out));
	out->received = DAY_NONE;
	out->schedule = DAY_NONE;
	out->file = keep(&p, path);
	if (iniread_file(path, on_pair, on_section, &p, d) == 0 ||
	    p.sections > 0) {
		if (p.sections == 0)
			diag_add(d, path, 0, "no [directive] section");
		else {
			check_agreement(&p, path, ps);
			check_rest(&p, path, c, ps);
		}
	}
	for (size_t i = 0; i < NKEYS; i++)
		free(p.val[i]);
	if (p.oom)
		diag_add(d, path, 0, "out of memory");
	return diag_errors(d) == before ? 0 : -1;
}

void
directive_free(struct directive *dv)
{
	free(dv->file);
	free(dv->agreement);
	free(dv->transfer_to);
	free(dv->requested_by);
	memset(dv, 0, sizeof(*dv));
}

char *
directive_categories(const struct directive *dv, char *buf, size_t len)
{
	if (dv->complete || dv->categories == 0) {
		if (len > 0)
			buf[0] = '\0';
		return buf;
	}
	return category_format(dv->categories, buf, len);
}

/* The first component of rel (at most NAME_MAX) into comp; its length. */
static size_t
first_comp(const char *rel, char *comp, size_t len)
{
	size_t n = strcspn(rel, "/");

	if (n >= len)
		n = len - 1;
	memcpy(comp, rel, n);
	comp[n] = '\0';
	return n;
}

int
directive_check_transfer(const struct config *c, const struct policyset *ps,
    const char *to, struct err *e)
{
	struct rootdir root;
	const char *rel;
	char comp[NAME_MAX + 1];
	int r, fd, next, rc = 0;

	r = resolve_which_root((const char *const *)c->roots, c->nroots, to,
	    &rel);
	if (r < 0)
		return err_set(e, "transfer_to %s is not inside an allowed root",
		    to);
	/* The archive must not become data: no dataset of any agreement
	 * may reach where it goes, or the next run would destroy it. */
	for (size_t i = 0; ps != NULL && i < ps->n; i++)
		for (size_t k = 0; k < ps->a[i].nds; k++) {
			const struct dataset *d = &ps->a[i].ds[k];
			const char *g = d->path != NULL &&
			    glob_reaches(d->path, to) ? d->path :
			    d->archive != NULL && glob_reaches(d->archive, to) ?
			    d->archive : NULL;
			if (g != NULL)
				return err_set(e, "transfer_to %s lies inside "
				    "agreement %s's dataset %s (%s): the "
				    "transfer archive would itself be data to "
				    "destroy; choose a place no dataset "
				    "reaches", to, ps->a[i].id, d->name, g);
		}
	/* What exists of it must be reached without a symlink or a mount
	 * point, as the transfer itself will be.  (A root not there yet
	 * holds no symlink; the transfer will say it is missing.) */
	if (resolve_root(c->roots[r], &root, e) != 0)
		return errno == ENOENT ? 0 : -1;
	fd = dup(root.fd);
	while (fd != -1 && *rel != '\0') {
		size_t n = first_comp(rel, comp, sizeof(comp));
		next = resolve_child_dir(&root, fd, comp);
		if (next == -1 && errno != ENOENT) {
			rc = errno == ELOOP ? err_set(e, "transfer_to %s: %s is "
			    "a symbolic link; lethe never follows one below an "
			    "allowed root", to, comp) : errno == EXDEV ?
			    err_set(e, "transfer_to %s: %s is a mount point; "
			    "lethe never crosses one", to, comp) :
			    err_sys(e, "transfer_to %s: %s", to, comp);
		}
		close(fd);
		fd = next;
		rel += n;
		while (*rel == '/')
			rel++;
	}
	if (fd != -1)
		close(fd);
	resolve_root_close(&root);
	return rc;
}

int
directive_check_received(const struct directive *dv,
    const struct agreement *a, time_t now, struct diags *d)
{
	day_t today = tz_date_at(a->timezone, now);
	char r[11], t[11];

	if (dv->received == DAY_NONE || dv->received <= today)
		return 0;
	diag_add(d, dv->file, dv->received_line, "received %s is in the "
	    "future (today is %s in %s, the time zone of %s): a directive is "
	    "recorded once it has been received; if the date is right, give "
	    "--force", date_format(dv->received, r), date_format(today, t),
	    a->timezone != NULL ? a->timezone : "the host's zone", a->id);
	return -1;
}
