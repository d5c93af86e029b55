/*
 * policy_parse.c: a policy file's sections and keys (see policy.h): which
 * section a key is in, unknown and duplicate keys, and the checks of the
 * whole file; each value is policy_value.c's.
 *
 * MUST rules:
 *   - an unknown section or key is an error, never ignored (with a
 *     suggestion when one is near);
 *   - a key given twice is an error naming both lines.
 */
#include "conf/policy.h"
#include "conf/policy_int.h"

#include "base/err.h"
#include "conf/iniread.h"

#include <stdlib.h>
#include <string.h>

static const char *const sections[] = { "agreement", "dataset" };

/* Finds key name among names[0..n) or reports it; returns index or -1. */
static int
find_key(struct pstate *st, int line, const char *section, const char *name,
    const char *const *names, int n, const char *const *other, int nother,
    const char *other_section)
{
	const char *near;

	for (int i = 0; i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	near = iniread_suggest(name, names, (size_t)n);
	if (near != NULL) {
		diag_add(st->d, st->file, line, "unknown key '%s' in [%s]; did "
		    "you mean '%s'?", name, section, near);
		return -1;
	}
	for (int i = 0; i < nother; i++) {
		if (strcmp(name, other[i]) == 0) {
			diag_add(st->d, st->file, line, "unknown key '%s' in "
			    "[%s]; it belongs in %s", name, section,
			    other_section);
			return -1;
		}
	}
	diag_add(st->d, st->file, line, "unknown key '%s' in [%s]", name,
	    section);
	return -1;
}

int
policy_on_key(void *arg, const char *file, int line, const char *section,
    const char *name, const char *value)
{
	struct pstate *st = arg;
	int k, *seen;

	(void)file;
	switch (st->where) {
	case WHERE_SKIP:
		return 0;	/* its section was reported */
	case WHERE_NONE:
		diag_add(st->d, st->file, line, "key '%s' is outside any "
		    "section", name);
		return -1;
	case WHERE_AGREEMENT:
		k = find_key(st, line, section, name, policy_akeys, A_COUNT,
		    policy_dkeys, D_COUNT, "a [dataset \"NAME\"] section");
		if (k < 0)
			return -1;
		seen = &st->aline[k];
		break;
	default:
		k = find_key(st, line, section, name, policy_dkeys, D_COUNT,
		    policy_akeys, A_COUNT, "[agreement]");
		if (k < 0)
			return -1;
		seen = &st->meta[st->cur].line[k];
		break;
	}
	if (*seen != 0) {
		diag_add(st->d, st->file, line, "duplicate key '%s' (first at "
		    "line %d)", name, *seen);
		return -1;
	}
	*seen = line;
	if (*value == '\0') {
		diag_add(st->d, st->file, line, "%s is empty", name);
		return -1;
	}
	if (st->where == WHERE_AGREEMENT)
		policy_agreement_key(st, line, k, value);
	else
		policy_dataset_key(st, line, k, value);
	return 0;
}

static void
new_dataset(struct pstate *st, int line, const char *name, size_t n)
{
	struct agreement *a = st->a;
	struct dataset *v;
	struct dsmeta *m;

	for (size_t i = 0; i < a->nds; i++) {
		if (strlen(a->ds[i].name) == n &&
		    strncmp(a->ds[i].name, name, n) == 0) {
			diag_add(st->d, st->file, line, "duplicate dataset "
			    "'%s' (first at line %d)", a->ds[i].name,
			    a->ds[i].line);
			st->where = WHERE_SKIP;
			return;
		}
	}
	v = realloc(a->ds, (a->nds + 1) * sizeof(*v));
	if (v != NULL)
		a->ds = v;
	m = realloc(st->meta, (a->nds + 1) * sizeof(*m));
	if (m != NULL)
		st->meta = m;
	if (v == NULL || m == NULL) {
		diag_add(st->d, st->file, line, "out of memory");
		st->where = WHERE_SKIP;
		return;
	}
	memset(&a->ds[a->nds], 0, sizeof(a->ds[0]));
	memset(&st->meta[a->nds], 0, sizeof(st->meta[0]));
	if ((a->ds[a->nds].name = strndup(name, n)) == NULL) {
		diag_add(st->d, st->file, line, "out of memory");
		st->where = WHERE_SKIP;
		return;
	}
	a->ds[a->nds].line = line;
	a->ds[a->nds].method = METHOD_INHERIT;
	a->ds[a->nds].verify = VERIFY_INHERIT;
	a->ds[a->nds].pattern = PATTERN_INHERIT;
	st->cur = a->nds++;
	st->where = WHERE_DATASET;
}

int
policy_on_section(void *arg, const char *file, int line, const char *section)
{
	struct pstate *st = arg;
	const char *near, *q, *end;

	(void)file;
	st->where = WHERE_SKIP;
	if (strcmp(section, "agreement") == 0) {
		if (st->a->line != 0) {
			diag_add(st->d, st->file, line, "second [agreement] "
			    "section (first at line %d); one agreement per "
			    "file", st->a->line);
			return -1;
		}
		st->a->line = line;
		st->where = WHERE_AGREEMENT;
		return 0;
	}
	if (strncmp(section, "dataset", 7) == 0 &&
	    (section[7] == '\0' || section[7] == ' ' || section[7] == '\t')) {
		q = section + 7;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '\0') {
			diag_add(st->d, st->file, line, "dataset section needs "
			    "a name: [dataset \"NAME\"]");
			return -1;
		}
		end = q[0] == '"' ? strchr(q + 1, '"') : NULL;
		if (end == NULL || end[1] != '\0') {
			diag_add(st->d, st->file, line, "dataset name must be "
			    "in double quotes: [dataset \"NAME\"]");
			return -1;
		}
		if (!policy_valid_ds_name(q + 1, (size_t)(end - q - 1))) {
			diag_add(st->d, st->file, line, "dataset name '%.*s' "
			    "must be letters, digits, '.', '_' or '-', at most "
			    "%d bytes",
			    (int)(end - q - 1), q + 1, DS_NAME_MAX);
			return -1;
		}
		new_dataset(st, line, q + 1, (size_t)(end - q - 1));
		return st->where == WHERE_DATASET ? 0 : -1;
	}
	near = iniread_suggest(section, sections, 2);
	if (near != NULL)
		diag_add(st->d, st->file, line, "unknown section [%s]; did you "
		    "mean [%s]?", section, near);
	else
		diag_add(st->d, st->file, line, "unknown section [%s] (known: "
		    "[agreement], [dataset \"NAME\"])", section);
	return -1;
}

/* Whole-file checks: required keys and combinations, at the section. */
void
policy_finish(struct pstate *st)
{
	struct agreement *a = st->a;
	int al = a->line;

	if (al == 0) {
		diag_add(st->d, st->file, 0, "no [agreement] section");
	} else {
		for (int k = A_ID; k <= A_CONTACT; k++)
			if (st->aline[k] == 0)
				diag_add(st->d, st->file, al, "missing required "
				    "key '%s' in [agreement]", policy_akeys[k]);
	}
	if (a->nds == 0)
		diag_add(st->d, st->file, al, "no [dataset \"NAME\"] section: "
		    "an agreement must name the data it covers");
	for (size_t i = 0; i < a->nds; i++) {
		struct dataset *ds = &a->ds[i];
		struct dsmeta *m = &st->meta[i];

		if (m->line[D_PATH] == 0 && m->line[D_ARCHIVE] == 0)
			diag_add(st->d, st->file, ds->line, "dataset '%s' needs "
			    "'path' or 'archive'", ds->name);
		if (m->line[D_ARCHIVE] != 0 && m->line[D_PATH] == 0 &&
		    m->line[D_MEMBERS] == 0)
			diag_add(st->d, st->file, ds->line, "dataset '%s' needs "
			    "'members': what to remove from each archive",
			    ds->name);
		if (m->line[D_MEMBERS] != 0 && m->line[D_ARCHIVE] == 0)
			diag_add(st->d, st->file, m->line[D_MEMBERS], "members "
			    "is only for archive datasets; '%s' has no "
			    "'archive'", ds->name);
		if (m->line[D_CATEGORIES] == 0 && !ds->deidentified)
			diag_add(st->d, st->file, ds->line, "dataset '%s' needs "
			    "'categories' (NDPA Exhibit B) unless deidentified "
			    "= yes", ds->name);
		if (m->line[D_EXEMPT] != 0 && !ds->deidentified)
			diag_add(st->d, st->file, m->line[D_EXEMPT], "exempt_"
			    "reason is only for datasets with deidentified = "
			    "yes");
		if (ds->deidentified && ds->exempt_reason == NULL)
			(void)policy_dup_str(st, ds->line, &ds->exempt_reason,
			    "de-identified data (NDPA IV.6)");
	}
}
