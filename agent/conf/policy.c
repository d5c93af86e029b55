/*
 * policy.c: agreements as policies (see policy.h, SPEC §3): the set
 * loaded, its lookups and the settings a dataset inherits.  Loading is
 * policy_load.c, parsing policy_parse.c and policy_value.c.
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
#include "conf/policy_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

const char *const policy_method_names[3] = { "auto", "overwrite",
    "crypto-shred" };
const char *const policy_verify_names[2] = { "full", "sample" };
const char *const policy_pattern_names[2] = { "zero", "random" };

int
policy_valid_id(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || !(islower((unsigned char)s[0]) ||
	    isdigit((unsigned char)s[0])))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) ||
		    isdigit((unsigned char)s[i]) || s[i] == '-'))
			return 0;
	return 1;
}

const char *
method_name(int m)
{
	if (m < 0 || m > METHOD_CRYPTO)
		return "inherit";
	return policy_method_names[m];
}

void
policy_agreement_free(struct agreement *a)
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

void
policy_free(struct policyset *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		policy_agreement_free(&ps->a[i]);
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
