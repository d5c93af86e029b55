/*
 * policy.c: agreements as policies (see policy.h, SPEC §3).
 *
 * MUST rules, because a policy names what lethe destroys:
 *   - every path and archive glob is absolute, has no "." or ".."
 *     component, and its literal prefix (the components before the first
 *     one with a wildcard) lies inside an allowed root;
 *   - an unknown section, key or category is an error, never ignored;
 *   - running as root, a policy file or directory that fails StrictModes
 *     (strict.h: it or a directory above it not owned by root, or
 *     writable by group or others) is refused;
 *   - every problem is reported (FILE:LINE: message) and loading goes on,
 *     so `lethe check` lists them all; a set with any error is not used.
 */
#include "conf/policy.h"

#include "conf/config.h"
#include "base/err.h"
#include "base/text.h"
#include "conf/iniread.h"
#include "conf/own.h"
#include "conf/strict.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Every name made from an agreement id must fit, or a disposition could
 * destroy data and then fail to issue its certificate.  The tightest is
 * the certificate id "ID-YYYYMMDD-SEQ", at most 64 bytes (cert.h) with a
 * journal sequence number of up to 20 digits: 64 - 1 - 8 - 1 - 20 = 34.
 * The notice id "NOTICE-ID-YYYY-MM-DD" (at most 52 of deliver.c's 128),
 * the certificate's file names and the mail subject and attachment names
 * are all shorter.
 */
#define ID_MAX (64 - 1 - 8 - 1 - 20)
/* A dataset name is written whole in certificate values ([media] source,
 * retained), which can be wrapped only at spaces and 160 bytes a line,
 * and in journal and record lines.  Its section header [dataset "NAME"]
 * must fit inih's 49 bytes (iniread.h) anyway: 39 bytes. */
#define DS_NAME_MAX (INIREAD_MAX_SECTION - 10)

enum akey { A_ID, A_LEA, A_CONTACT, A_TERMINATED, A_AFTER_TERM,
	A_AFTER_REQ, A_CERTIFY, A_NOTICE, A_TZ, A_METHOD, A_VERIFY, A_PATTERN,
	A_COUNT };
static const char *const akeys[A_COUNT] = { "id", "lea", "contact",
    "terminated", "dispose_after_termination", "dispose_after_request",
    "certify_within", "notice_before", "timezone", "method", "verify",
    "pattern" };

enum dkey { D_PATH, D_ARCHIVE, D_MEMBERS, D_CATEGORIES, D_METHOD, D_VERIFY,
	D_PATTERN, D_DEID, D_EXEMPT, D_COUNT };
static const char *const dkeys[D_COUNT] = { "path", "archive", "members",
    "categories", "method", "verify", "pattern", "deidentified",
    "exempt_reason" };

static const char *const sections[] = { "agreement", "dataset" };

struct dsmeta {
	int line[D_COUNT];	/* where each key was set, 0 = not set */
};

struct pstate {
	const char *file;
	const struct config *c;
	struct diags *d;
	struct agreement *a;
	struct dsmeta *meta;	/* parallel to a->ds */
	int aline[A_COUNT];
	int where;		/* WHERE_* */
	size_t cur;		/* dataset index when WHERE_DATASET */
};

enum { WHERE_NONE, WHERE_SKIP, WHERE_AGREEMENT, WHERE_DATASET };

static const char *const method_names[] = { "auto", "overwrite",
    "crypto-shred" };
static const char *const verify_names[] = { "full", "sample" };
static const char *const pattern_names[] = { "zero", "random" };

const char *
method_name(int m)
{
	if (m < 0 || m > METHOD_CRYPTO)
		return "inherit";
	return method_names[m];
}

static int
pick(const char *v, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return i;
	return -1;
}

static int
valid_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > ID_MAX || !(islower((unsigned char)s[0]) ||
	    isdigit((unsigned char)s[0])))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) ||
		    isdigit((unsigned char)s[i]) || s[i] == '-'))
			return 0;
	return 1;
}

static int
valid_ds_name(const char *s, size_t n)
{
	if (n == 0 || n > DS_NAME_MAX || !isalnum((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-' ||
		    s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

static int
is_wild(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[' || s[i] == '\\')
			return 1;
	return 0;
}

/*
 * Checks a path or archive glob: absolute, no "."/".." or empty component,
 * and its literal prefix inside an allowed root.  Skips the root check when
 * there are no roots (a broken config was reported already).
 */
static void
check_glob(struct pstate *st, int line, const char *key, const char *g)
{
	char prefix[4096] = "";
	size_t plen = 0;
	int literal = 1;	/* still in the literal prefix */

	if (g[0] != '/') {
		diag_add(st->d, st->file, line, "%s '%s' must be absolute",
		    key, g);
		return;
	}
	for (const char *p = g + 1; *p != '\0';) {
		size_t n = strcspn(p, "/");

		if (n == 0) {
			diag_add(st->d, st->file, line, "%s '%s' has an empty "
			    "component ('//')", key, g);
			return;
		}
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.')) {
			diag_add(st->d, st->file, line, "%s '%s' has a '%.*s' "
			    "component; globs must be normalised", key, g,
			    (int)n, p);
			return;
		}
		if (literal && is_wild(p, n))
			literal = 0;
		if (literal) {
			if (plen + 1 + n >= sizeof(prefix)) {
				diag_add(st->d, st->file, line, "%s is too "
				    "long", key);
				return;
			}
			prefix[plen++] = '/';
			memcpy(prefix + plen, p, n);
			plen += n;
			prefix[plen] = '\0';
		}
		p += n;
		if (*p == '/' && p[1] == '\0')
			break;	/* one trailing '/' */
		if (*p == '/')
			p++;
	}
	if (plen == 0)
		strcpy(prefix, "/");
	if (st->c == NULL || st->c->nroots == 0)
		return;
	if (config_root_of(st->c, prefix) < 0) {
		char roots[512];
		size_t used = 0;

		roots[0] = '\0';
		for (size_t i = 0; i < st->c->nroots; i++) {
			int n = snprintf(roots + used, sizeof(roots) - used,
			    "%s%s", i ? " " : "", st->c->roots[i]);
			if (n < 0 || (size_t)n >= sizeof(roots) - used)
				break;	/* the list is only a hint */
			used += (size_t)n;
		}
		diag_add(st->d, st->file, line, "%s '%s' is not inside an "
		    "allowed root (%s)", key, g, roots);
	}
}

static int
parse_bool(const char *v)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0)
		return 1;
	if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0)
		return 0;
	return -1;
}

static int
dup_str(struct pstate *st, int line, char **dst, const char *v)
{
	if ((*dst = strdup(v)) == NULL) {
		diag_add(st->d, st->file, line, "out of memory");
		return -1;
	}
	return 0;
}

static void
duration_key(struct pstate *st, int line, const char *key, const char *v,
    struct duration *out)
{
	if (duration_parse(v, out) != 0)
		diag_add(st->d, st->file, line, "%s '%s' is not a duration "
		    "(Nd, Nw, Nm or Ny, e.g. 30d)", key, v);
}

static void
enum_key(struct pstate *st, int line, const char *key, const char *v,
    const char *const *names, int n, int *out)
{
	int i = pick(v, names, n);

	if (i >= 0) {
		*out = i;
		return;
	}
	if (n == 3)
		diag_add(st->d, st->file, line, "%s '%s' is not one of %s, %s, "
		    "%s", key, v, names[1], names[2], names[0]);
	else
		diag_add(st->d, st->file, line, "%s '%s' is not %s or %s", key,
		    v, names[0], names[1]);
}

static void
agreement_key(struct pstate *st, int line, int k, const char *v)
{
	struct agreement *a = st->a;

	switch (k) {
	case A_ID:
		if (!valid_id(v))
			diag_add(st->d, st->file, line, "agreement id '%s' must "
			    "match [a-z0-9][a-z0-9-]* and be at most %d bytes "
			    "(certificate ids add a date and a sequence number "
			    "to it, and are at most 64)", v, ID_MAX);
		else if (dup_str(st, line, &a->id, v) == 0)
			a->line_id = line;
		break;
	case A_LEA: {
		const char *why = text_unsafe(v, 160);
		if (why != NULL)
			diag_add(st->d, st->file, line, "lea: %s; it goes into "
			    "every certificate and mail", why);
		else
			(void)dup_str(st, line, &a->lea, v);
		break;
	}
	case A_CONTACT:
		if (v[0] == '-')
			diag_add(st->d, st->file, line, "contact '%s' starts with "
			    "'-': sendmail(8) would read it as an option, and no "
			    "certificate could be sent", v);
		else if (!config_valid_email(v))
			diag_add(st->d, st->file, line, "contact '%s' is not an "
			    "e-mail address", v);
		else
			(void)dup_str(st, line, &a->contact, v);
		break;
	case A_TERMINATED:
		if (date_parse(v, &a->terminated) != 0) {
			a->terminated = DAY_NONE;
			diag_add(st->d, st->file, line, "terminated '%s' is not "
			    "a date (YYYY-MM-DD)", v);
		}
		break;
	case A_AFTER_TERM:
		duration_key(st, line, akeys[k], v, &a->after_termination);
		break;
	case A_AFTER_REQ:
		duration_key(st, line, akeys[k], v, &a->after_request);
		break;
	case A_CERTIFY:
		duration_key(st, line, akeys[k], v, &a->certify_within);
		break;
	case A_NOTICE:
		duration_key(st, line, akeys[k], v, &a->notice_before);
		break;
	case A_TZ:
		if (!tz_valid(v))
			diag_add(st->d, st->file, line, "unknown timezone '%s'",
			    v);
		else
			(void)dup_str(st, line, &a->timezone, v);
		break;
	case A_METHOD:
		enum_key(st, line, akeys[k], v, method_names, 3, &a->method);
		break;
	case A_VERIFY:
		enum_key(st, line, akeys[k], v, verify_names, 2, &a->verify);
		break;
	case A_PATTERN:
		enum_key(st, line, akeys[k], v, pattern_names, 2, &a->pattern);
		break;
	}
}

static void
dataset_key(struct pstate *st, int line, int k, const char *v)
{
	struct dataset *ds = &st->a->ds[st->cur];
	struct dsmeta *m = &st->meta[st->cur];
	char msg[512];
	int b;

	switch (k) {
	case D_PATH:
	case D_ARCHIVE:
		if (m->line[k == D_PATH ? D_ARCHIVE : D_PATH] != 0) {
			diag_add(st->d, st->file, line, "dataset '%s' has both "
			    "'path' and 'archive'; use one", ds->name);
			break;
		}
		check_glob(st, line, dkeys[k], v);
		(void)dup_str(st, line, k == D_PATH ? &ds->path : &ds->archive,
		    v);
		break;
	case D_MEMBERS:
		for (const char *p = v; *p != '\0';) {
			size_t n = strcspn(p, "/");

			if (n == 2 && p[0] == '.' && p[1] == '.') {
				diag_add(st->d, st->file, line, "members '%s' "
				    "has a '..' component", v);
				return;
			}
			p += n;
			if (*p == '/')
				p++;
		}
		(void)dup_str(st, line, &ds->members, v);
		break;
	case D_CATEGORIES:
		if (category_parse_list(v, &ds->categories, msg,
		    sizeof(msg)) != 0)
			diag_add(st->d, st->file, line, "%s", msg);
		break;
	case D_METHOD:
		enum_key(st, line, dkeys[k], v, method_names, 3, &ds->method);
		break;
	case D_VERIFY:
		enum_key(st, line, dkeys[k], v, verify_names, 2, &ds->verify);
		break;
	case D_PATTERN:
		enum_key(st, line, dkeys[k], v, pattern_names, 2, &ds->pattern);
		break;
	case D_DEID:
		if ((b = parse_bool(v)) < 0)
			diag_add(st->d, st->file, line, "deidentified '%s' is "
			    "not yes or no", v);
		else
			ds->deidentified = b;
		break;
	case D_EXEMPT: {
		const char *why = text_unsafe(v, 160);
		if (why != NULL)
			diag_add(st->d, st->file, line, "exempt_reason: %s; it "
			    "goes into every certificate", why);
		else
			(void)dup_str(st, line, &ds->exempt_reason, v);
		break;
	}
	}
}

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

static int
on_key(void *arg, const char *file, int line, const char *section,
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
		k = find_key(st, line, section, name, akeys, A_COUNT, dkeys,
		    D_COUNT, "a [dataset \"NAME\"] section");
		if (k < 0)
			return -1;
		seen = &st->aline[k];
		break;
	default:
		k = find_key(st, line, section, name, dkeys, D_COUNT, akeys,
		    A_COUNT, "[agreement]");
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
		agreement_key(st, line, k, value);
	else
		dataset_key(st, line, k, value);
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

static int
on_section(void *arg, const char *file, int line, const char *section)
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
		if (!valid_ds_name(q + 1, (size_t)(end - q - 1))) {
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
static void
finish(struct pstate *st)
{
	struct agreement *a = st->a;
	int al = a->line;

	if (al == 0) {
		diag_add(st->d, st->file, 0, "no [agreement] section");
	} else {
		for (int k = A_ID; k <= A_CONTACT; k++)
			if (st->aline[k] == 0)
				diag_add(st->d, st->file, al, "missing required "
				    "key '%s' in [agreement]", akeys[k]);
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
			(void)dup_str(st, ds->line, &ds->exempt_reason,
			    "de-identified data (NDPA IV.6)");
	}
}

static void
agreement_free(struct agreement *a)
{
	free(a->file);
	free(a->id);
	free(a->lea);
	free(a->contact);
	free(a->timezone);
	for (size_t i = 0; i < a->nds; i++) {
		free(a->ds[i].name);
		free(a->ds[i].path);
		free(a->ds[i].archive);
		free(a->ds[i].members);
		free(a->ds[i].exempt_reason);
	}
	free(a->ds);
	memset(a, 0, sizeof(*a));
}

/* Parses the open file fd (named path) and appends its agreement. */
static void
load_fd(const char *path, int fd, const struct config *c,
    struct policyset *ps, struct diags *d)
{
	struct pstate st;
	struct agreement a, *v;
	const struct agreement *o = NULL;
	size_t from = d->n;

	memset(&a, 0, sizeof(a));
	a.terminated = DAY_NONE;
	a.after_termination = (struct duration){ 30, 'd' };
	a.after_request = (struct duration){ 60, 'd' };
	a.certify_within = (struct duration){ 10, 'd' };
	a.notice_before = (struct duration){ 0, 'd' };
	a.method = METHOD_AUTO;
	a.verify = VERIFY_FULL;
	a.pattern = PATTERN_ZERO;
	memset(&st, 0, sizeof(st));
	st.file = path;
	st.c = c;
	st.d = d;
	st.a = &a;
	st.where = WHERE_NONE;
	if ((a.file = strdup(path)) == NULL) {
		diag_add(d, path, 0, "out of memory");
		return;
	}
	if (iniread_fd(path, fd, on_key, on_section, &st, d) ==
	    INIREAD_UNREAD) {
		/* Its one error says why; nothing about its content. */
		free(st.meta);
		agreement_free(&a);
		return;
	}
	finish(&st);
	free(st.meta);
	iniread_sort_diags(d, from, path);
	/* Ids are unique across files: report both places. */
	if (a.id != NULL && (o = policy_find(ps, a.id)) != NULL) {
		diag_add(d, path, a.line_id, "duplicate agreement id '%s' "
		    "(also in %s:%d)", a.id, o->file, o->line_id);
		diag_add(d, o->file, o->line_id, "duplicate agreement id '%s' "
		    "(also in %s:%d)", a.id, path, a.line_id);
	}
	v = realloc(ps->a, (ps->n + 1) * sizeof(*v));
	if (v != NULL)
		ps->a = v;
	if (v == NULL || (a.id != NULL && o == NULL &&
	    strmap_put(&ps->ids, a.id, ps->n) != 0)) {
		diag_add(d, path, 0, "out of memory");
		agreement_free(&a);
		return;
	}
	ps->a = v;
	ps->a[ps->n++] = a;
}

/* Opens name (relative to dirfd, or a path with AT_FDCWD), checks it is a
 * trusted regular file and loads it. */
static void
load_at(int dirfd, const char *name, const char *path,
    const struct config *c, struct policyset *ps, struct diags *d)
{
	struct stat sb;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1) {
		diag_add(d, path, 0, "cannot open: %s", strerror(errno));
		return;
	}
	if (fstat(fd, &sb) != 0) {
		diag_add(d, path, 0, "cannot stat: %s", strerror(errno));
	} else if (!S_ISREG(sb.st_mode)) {
		diag_add(d, path, 0, "not a regular file");
	} else {
		/* The file read is the file checked; and as a policy may be
		 * a link, the way to it is checked too. */
		(void)strict_path(path, "the policy", geteuid(), d);
		(void)strict_stat(path, "the policy", &sb, geteuid(), d);
		load_fd(path, fd, c, ps, d);
	}
	close(fd);
}

int
policy_load_file(const char *path, const struct config *c,
    struct policyset *ps, struct diags *d)
{
	size_t before = diag_errors(d);

	load_at(AT_FDCWD, path, path, c, ps, d);
	return diag_errors(d) == before ? 0 : -1;
}

static int
cmp_names(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int
is_policy_name(const char *n)
{
	size_t len = strlen(n);

	return n[0] != '.' && len > 4 && strcmp(n + len - 4, ".ini") == 0;
}

int
policy_load_dir(const char *dir, const struct config *c,
    struct policyset *ps, struct diags *d)
{
	size_t before = diag_errors(d), n = 0, cap = 0;
	char **names = NULL, path[4096];
	struct dirent *e;
	struct stat sb;
	DIR *dp = NULL;
	int dfd;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1) {
		diag_add(d, dir, 0, "cannot open the policy directory: %s",
		    strerror(errno));
		goto out;
	}
	(void)strict_path(dir, "the policy directory", geteuid(), d);
	if (fstat(dfd, &sb) == 0)
		(void)strict_stat(dir, "the policy directory", &sb, geteuid(),
		    d);
	if ((dp = fdopendir(dfd)) == NULL) {
		diag_add(d, dir, 0, "cannot read: %s", strerror(errno));
		close(dfd);
		goto out;
	}
	while ((e = readdir(dp)) != NULL) {
		if (!is_policy_name(e->d_name))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nv = realloc(names, ncap * sizeof(*nv));

			if (nv == NULL) {
				diag_add(d, dir, 0, "out of memory");
				goto out;
			}
			names = nv;
			cap = ncap;
		}
		if ((names[n] = strdup(e->d_name)) == NULL) {
			diag_add(d, dir, 0, "out of memory");
			goto out;
		}
		n++;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	if (n == 0)
		diag_warn(d, dir, 0, "no policies (*.ini) here: nothing will "
		    "ever be disposed of");
	for (size_t i = 0; i < n; i++) {
		int len = snprintf(path, sizeof(path), "%s%s%s", dir,
		    dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/",
		    names[i]);

		if (len < 0 || (size_t)len >= sizeof(path)) {
			diag_add(d, dir, 0, "path of %s is too long", names[i]);
			continue;
		}
		load_at(dirfd(dp), names[i], path, c, ps, d);
	}
	/* lethe's own files are never data (SPEC §5): a glob that can reach
	 * one is an error, so nothing acts under such a policy. */
	if (c != NULL && c->state_dir != NULL)
		own_check_reach(c, ps, d);
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (dp != NULL)
		closedir(dp);
	return diag_errors(d) == before ? 0 : -1;
}

void
policy_free(struct policyset *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		agreement_free(&ps->a[i]);
	free(ps->a);
	ps->a = NULL;
	ps->n = 0;
	strmap_free(&ps->ids);
}

const struct agreement *
policy_find(const struct policyset *ps, const char *id)
{
	size_t i;

	if (ps->ids.cap == 0) {		/* built by hand: no index */
		for (i = 0; i < ps->n; i++)
			if (ps->a[i].id != NULL && strcmp(ps->a[i].id, id) == 0)
				return &ps->a[i];
		return NULL;
	}
	if (strmap_get(&ps->ids, id, &i) == 0 && i < ps->n &&
	    ps->a[i].id != NULL && strcmp(ps->a[i].id, id) == 0)
		return &ps->a[i];
	return NULL;
}

int
dataset_exempt(const struct agreement *a, size_t i)
{
	return a->ds[i].deidentified || a->ds[i].exempt_reason != NULL;
}

int
dataset_method(const struct agreement *a, const struct dataset *ds)
{
	return ds->method != METHOD_INHERIT ? ds->method : a->method;
}

int
dataset_verify(const struct agreement *a, const struct dataset *ds)
{
	return ds->verify != VERIFY_INHERIT ? ds->verify : a->verify;
}

int
dataset_pattern(const struct agreement *a, const struct dataset *ds)
{
	return ds->pattern != PATTERN_INHERIT ? ds->pattern : a->pattern;
}
