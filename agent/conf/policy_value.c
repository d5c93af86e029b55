/*
 * policy_value.c: each value of a policy file (see policy.h), checked and
 * stored: ids, texts that go into certificates, dates, durations, globs
 * and the dataset settings.
 *
 * MUST rules, because a policy names what lethe destroys:
 *   - every path and archive glob is absolute, has no "." or ".."
 *     component, and its literal prefix (glob_literal_prefix, the rule the
 *     walk starts by) lies inside an allowed root;
 *   - an unknown category is an error, never ignored;
 *   - text that goes into a certificate or mail passes text_unsafe.
 */
#include "conf/policy.h"
#include "conf/policy_int.h"

#include "base/err.h"
#include "base/text.h"
#include "conf/config.h"
#include "locate/locate.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const policy_akeys[A_COUNT] = { "id", "lea", "contact",
    "terminated", "dispose_after_termination", "dispose_after_request",
    "certify_within", "notice_before", "timezone", "method", "verify",
    "pattern" };
const char *const policy_dkeys[D_COUNT] = { "path", "archive", "members",
    "categories", "method", "verify", "pattern", "deidentified",
    "exempt_reason" };

int
policy_valid_ds_name(const char *s, size_t n)
{
	if (n == 0 || n > DS_NAME_MAX || !isalnum((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-' ||
		    s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

int
policy_dup_str(struct pstate *st, int line, char **dst, const char *v)
{
	if ((*dst = strdup(v)) == NULL) {
		diag_add(st->d, st->file, line, "out of memory");
		return -1;
	}
	return 0;
}

/* Whether g's components are absolute, non-empty and normalised (one
 * trailing '/' allowed); else reports why.  1 or 0. */
static int
glob_normalised(struct pstate *st, int line, const char *key, const char *g)
{
	if (g[0] != '/') {
		diag_add(st->d, st->file, line, "%s '%s' must be absolute",
		    key, g);
		return 0;
	}
	for (const char *p = g + 1; *p != '\0';) {
		size_t n = strcspn(p, "/");

		if (n == 0) {
			diag_add(st->d, st->file, line, "%s '%s' has an empty "
			    "component ('//')", key, g);
			return 0;
		}
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.')) {
			diag_add(st->d, st->file, line, "%s '%s' has a '%.*s' "
			    "component; globs must be normalised", key, g,
			    (int)n, p);
			return 0;
		}
		p += n;
		if (*p == '/' && p[1] == '\0')
			break;	/* one trailing '/' */
		if (*p == '/')
			p++;
	}
	return 1;
}

/*
 * Checks a path or archive glob: absolute, no "."/".." or empty component,
 * and its literal prefix inside an allowed root (a glob without a
 * wildcard names one file: the whole of it is checked).  Skips the root
 * check when there are no roots (a broken config was reported already).
 */
static void
check_glob(struct pstate *st, int line, const char *key, const char *g)
{
	char prefix[4096], roots[512];

	if (!glob_normalised(st, line, key, g))
		return;
	if (st->c == NULL || st->c->nroots == 0)
		return;
	glob_literal_prefix(g, prefix, sizeof(prefix));
	if (config_root_of(st->c, glob_is_literal(g) ? g : prefix) >= 0)
		return;
	config_roots_list(st->c, roots, sizeof(roots));
	diag_add(st->d, st->file, line, "%s '%s' is not inside an allowed "
	    "root (%s)", key, g, roots);
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

static void
duration_key(struct pstate *st, int line, const char *key, const char *v,
    struct duration *out)
{
	if (duration_parse(v, out) != 0)
		diag_add(st->d, st->file, line, "%s '%s' is not a duration "
		    "(Nd, Nw, Nm or Ny, e.g. 30d)", key, v);
}

/* A text that goes into every certificate (and, where says so, mail):
 * stored when text_unsafe finds nothing wrong with it. */
static void
text_key(struct pstate *st, int line, const char *key, const char *v,
    const char *where, char **dst)
{
	const char *why = text_unsafe(v, 160);

	if (why != NULL)
		diag_add(st->d, st->file, line, "%s: %s; it goes into %s", key,
		    why, where);
	else
		(void)policy_dup_str(st, line, dst, v);
}

/* method, verify or pattern (of the agreement or a dataset): v one of its
 * names, stored as its index into *out. */
static void
setting_key(struct pstate *st, int line, const char *key, const char *v,
    int *out)
{
	const char *const *names = strcmp(key, "method") == 0 ?
	    policy_method_names : strcmp(key, "verify") == 0 ?
	    policy_verify_names : policy_pattern_names;
	int n = names == policy_method_names ? 3 : 2;

	for (int i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0) {
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
contact_key(struct pstate *st, int line, const char *v)
{
	if (v[0] == '-')
		diag_add(st->d, st->file, line, "contact '%s' starts with "
		    "'-': sendmail(8) would read it as an option, and no "
		    "certificate could be sent", v);
	else if (!config_valid_email(v))
		diag_add(st->d, st->file, line, "contact '%s' is not an "
		    "e-mail address", v);
	else
		(void)policy_dup_str(st, line, &st->a->contact, v);
}

void
policy_agreement_key(struct pstate *st, int line, int k, const char *v)
{
	struct agreement *a = st->a;
	const char *key = policy_akeys[k];

	switch (k) {
	case A_ID:
		if (!policy_valid_id(v, ID_MAX))
			diag_add(st->d, st->file, line, "agreement id '%s' must "
			    "match [a-z0-9][a-z0-9-]* and be at most %d bytes "
			    "(certificate ids add a date and a sequence number "
			    "to it, and are at most 64)", v, ID_MAX);
		else if (policy_dup_str(st, line, &a->id, v) == 0)
			a->line_id = line;
		break;
	case A_LEA:
		text_key(st, line, key, v, "every certificate and mail",
		    &a->lea);
		break;
	case A_CONTACT:
		contact_key(st, line, v);
		break;
	case A_TERMINATED:
		if (date_parse(v, &a->terminated) != 0) {
			a->terminated = DAY_NONE;
			diag_add(st->d, st->file, line, "terminated '%s' is not "
			    "a date (YYYY-MM-DD)", v);
		}
		break;
	case A_AFTER_TERM:
		duration_key(st, line, key, v, &a->after_termination);
		break;
	case A_AFTER_REQ:
		duration_key(st, line, key, v, &a->after_request);
		break;
	case A_CERTIFY:
		duration_key(st, line, key, v, &a->certify_within);
		break;
	case A_NOTICE:
		duration_key(st, line, key, v, &a->notice_before);
		break;
	case A_TZ:
		if (!tz_valid(v))
			diag_add(st->d, st->file, line, "unknown timezone '%s'",
			    v);
		else
			(void)policy_dup_str(st, line, &a->timezone, v);
		break;
	default:
		setting_key(st, line, key, v, k == A_METHOD ? &a->method :
		    k == A_VERIFY ? &a->verify : &a->pattern);
		break;
	}
}

/* A dataset's path or archive glob (never both). */
static void
glob_key(struct pstate *st, int line, int k, const char *v)
{
	struct dataset *ds = &st->a->ds[st->cur];

	if (st->meta[st->cur].line[k == D_PATH ? D_ARCHIVE : D_PATH] != 0) {
		diag_add(st->d, st->file, line, "dataset '%s' has both "
		    "'path' and 'archive'; use one", ds->name);
		return;
	}
	check_glob(st, line, policy_dkeys[k], v);
	(void)policy_dup_str(st, line, k == D_PATH ? &ds->path : &ds->archive,
	    v);
}

/* A dataset's members glob: relative to each archive, never "..". */
static void
members_key(struct pstate *st, int line, const char *v)
{
	for (const char *p = v; *p != '\0';) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			diag_add(st->d, st->file, line, "members '%s' has a "
			    "'..' component", v);
			return;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	(void)policy_dup_str(st, line, &st->a->ds[st->cur].members, v);
}

void
policy_dataset_key(struct pstate *st, int line, int k, const char *v)
{
	struct dataset *ds = &st->a->ds[st->cur];
	const char *key = policy_dkeys[k];
	char msg[512];
	int b;

	switch (k) {
	case D_PATH:
	case D_ARCHIVE:
		glob_key(st, line, k, v);
		break;
	case D_MEMBERS:
		members_key(st, line, v);
		break;
	case D_CATEGORIES:
		if (category_parse_list(v, &ds->categories, msg,
		    sizeof(msg)) != 0)
			diag_add(st->d, st->file, line, "%s", msg);
		break;
	case D_DEID:
		if ((b = parse_bool(v)) < 0)
			diag_add(st->d, st->file, line, "deidentified '%s' is "
			    "not yes or no", v);
		else
			ds->deidentified = b;
		break;
	case D_EXEMPT:
		text_key(st, line, key, v, "every certificate",
		    &ds->exempt_reason);
		break;
	default:
		setting_key(st, line, key, v, k == D_METHOD ? &ds->method :
		    k == D_VERIFY ? &ds->verify : &ds->pattern);
		break;
	}
}
