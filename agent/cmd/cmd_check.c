/*
 * cmd_check.c: `lethe check` (SPEC §4).  Lints the config and every policy
 * in one go, printing each problem as FILE:LINE: message on stderr and a
 * one-line summary on stdout.  Exit 0 when there are no errors (warnings
 * alone do not fail), 2 otherwise.  A broken config does not stop the
 * policies from being checked, as long as the config file could be read.
 */
#include "cmd/cmd.h"
#include "base/err.h"
#include "keys/keystore.h"

#include <stdio.h>
#include <sys/stat.h>
#include <string.h>

/* Warns about a dataset whose glob's fixed directory does not exist: it
 * matches nothing, so a typo would be certified as a disposition of zero
 * files.  (A warning: the directory may simply not have been made yet.) */
static void
warn_missing_prefixes(const struct config *c, const struct policyset *ps,
    struct diags *d)
{
	for (size_t i = 0; i < ps->n; i++)
		for (size_t k = 0; k < ps->a[i].nds; k++) {
			const struct dataset *ds = &ps->a[i].ds[k];
			const char *g = ds->path ? ds->path : ds->archive;
			char dir[4096], *slash;
			struct stat st;
			int r;
			size_t n;

			if (g == NULL)
				continue;
			n = strcspn(g, "*?[");
			if (n >= sizeof(dir))
				continue;
			memcpy(dir, g, n);
			dir[n] = '\0';
			/* The directory holding the first wildcard component
			 * (or, for a literal path, the file). */
			if ((slash = strrchr(dir, '/')) != NULL)
				*slash = '\0';
			if (dir[0] == '\0' || lstat(dir, &st) == 0)
				continue;
			/* A host whose allowed root is not there yet (an
			 * example config) is not a typo in the glob. */
			r = config_root_of(c, g);
			if (r < 0 || lstat(c->roots[r], &st) != 0)
				continue;
			diag_warn(d, ps->a[i].file, ds->line, "dataset %s: %s "
			    "does not exist: the dataset matches nothing now",
			    ds->name, dir);
		}
}

int
cmd_check(struct ctx *x, int argc, char **argv)
{
	struct diags d = { 0 };
	size_t nds = 0, nerr;
	int rc;

	(void)argv;
	if (argc != 1) {
		/* Not usage(): keeps this file linkable without main.o. */
		fputs("usage: lethe [-c FILE] check\n", stderr);
		return EXIT_USAGE;
	}
	(void)config_load(x->conf_path, &x->cfg, &d);
	if (x->cfg.parsed && x->cfg.policy_dir != NULL)
		(void)policy_load_dir(x->cfg.policy_dir, &x->cfg, &x->ps, &d);
	/* SPEC §7: the KEK must not lie where datasets or keys/ are backed up. */
	if (x->cfg.parsed && x->cfg.state_dir != NULL)
		keystore_check_kek_location(&x->cfg, &x->ps, &d);
	if (x->cfg.parsed)
		warn_missing_prefixes(&x->cfg, &x->ps, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.v[i]);
	for (size_t i = 0; i < x->ps.n; i++)
		nds += x->ps.a[i].nds;
	nerr = diag_errors(&d);
	printf("lethe: %zu agreement%s, %zu dataset%s: ", x->ps.n,
	    x->ps.n == 1 ? "" : "s", nds, nds == 1 ? "" : "s");
	if (nerr == 0)
		printf("OK");
	else
		printf("%zu problem%s", nerr, nerr == 1 ? "" : "s");
	if (d.nwarn > 0)
		printf(" (%zu warning%s)", d.nwarn, d.nwarn == 1 ? "" : "s");
	printf("\n");
	rc = nerr == 0 ? EXIT_OK : EXIT_USAGE;
	diag_free(&d);
	return rc;
}
