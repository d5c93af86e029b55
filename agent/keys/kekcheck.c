/*
 * kekcheck.c: `lethe check` on where the KEK lies (see
 * keystore_check_kek_location in keystore.h): a KEK beside the keys it
 * wraps, or under a dataset, would be backed up or destroyed with them.
 * Containment is resolve_which_root's, and a glob's fixed part
 * glob_literal_prefix's: the rules the walk itself uses.
 */
#include "keys/keystore.h"
#include "base/err.h"
#include "conf/config.h"
#include "conf/policy.h"
#include "keys/kek.h"
#include "locate/locate.h"
#include "locate/resolve.h"

#include <stdio.h>
#include <sys/stat.h>

void
keystore_check_kek_location(const struct config *c,
    const struct policyset *ps, struct diags *d)
{
	char keys[4200], root[4200], why[128];
	const char *rest, *kv[1];
	const char *bad;
	struct stat st;
	int n;

	if (c->kek == NULL || c->state_dir == NULL)
		return;
	n = snprintf(keys, sizeof(keys), "%s/keys", c->state_dir);
	kv[0] = keys;
	if (n > 0 && (size_t)n < sizeof(keys) &&
	    resolve_which_root(kv, 1, c->kek, &rest) == 0)
		diag_warn(d, c->path, 0, "the KEK %s is inside %s: a backup "
		    "of the keystore would carry its KEK, and crypto-shred "
		    "would not destroy anything", c->kek, keys);
	for (size_t i = 0; ps != NULL && i < ps->n; i++) {
		const struct agreement *a = &ps->a[i];
		for (size_t j = 0; j < a->nds; j++) {
			const char *g[2] = { a->ds[j].path, a->ds[j].archive };
			for (int k = 0; k < 2; k++) {
				if (g[k] == NULL)
					continue;
				glob_literal_prefix(g[k], root, sizeof(root));
				kv[0] = root;
				if (resolve_which_root(kv, 1, c->kek,
				    &rest) == 0)
					diag_warn(d, a->file, a->ds[j].line,
					    "the KEK %s lies under %s, the "
					    "root of dataset %s: move it out "
					    "of dataset and backed-up paths",
					    c->kek, root, a->ds[j].name);
			}
		}
	}
	/* Mode problems are config_load's to report; the rest are ours. */
	if (lstat(c->kek, &st) != 0 || (S_ISREG(st.st_mode) &&
	    (st.st_mode & 077) != 0))
		return;
	if ((bad = kek_refusal(&st, why, sizeof(why))) != NULL)
		diag_add(d, c->path, 0, "the KEK %s %s; lethe refuses it",
		    c->kek, bad);
}
