/*
 * cmd_check.c: `lethe check` (SPEC §4).  Lints the config and every policy
 * in one go, printing each problem as FILE:LINE: message on stderr and a
 * one-line summary on stdout.  Exit 0 when there are no errors (warnings
 * alone do not fail), 2 otherwise.  A broken config does not stop the
 * policies from being checked, as long as the config file could be read.
 */
#include "cmd/cmd.h"
#include "base/err.h"
#include "conf/directive.h"
#include "conf/lint.h"
#include "plan/events.h"
#include "keys/keystore.h"
#include "base/secmem.h"

#include <stdio.h>
#include <string.h>

/* Recorded Exhibit D transfers must still go where no dataset reaches and
 * no symlink leads (policies may have changed since `directive add`). */
static void
check_transfers(const struct ctx *x, struct diags *d)
{
	struct events ev = { 0 };
	struct err e;

	if (events_load(x->cfg.state_dir, &ev, &e) != 0) {
		events_free(&ev);
		return;		/* journal problems are journal verify's */
	}
	for (size_t i = 0; i < ev.ndir; i++) {
		const struct ev_directive *dv = &ev.dir[i];
		if (dv->cancelled || !dv->transfer || dv->transfer_to == NULL)
			continue;
		if (directive_check_transfer(&x->cfg, &x->ps, dv->transfer_to,
		    &e) != 0)
			diag_add(d, dv->id, 0, "%s", e.msg);
	}
	events_free(&ev);
}

/* Keys live in locked memory (base/secmem.h); where this process may lock
 * none (no CAP_IPC_LOCK, RLIMIT_MEMLOCK too small), they could reach swap.
 * One buffer, as a run would take, tells. */
static void
check_secmem(struct diags *d)
{
	struct err e;
	void *p = secmem_alloc(32, &e);

	if (p == NULL)
		diag_warn(d, "lethe", 0, "%s", e.msg);
	else if (secmem_unlocked() > 0)
		diag_warn(d, "lethe", 0, "secure memory cannot be locked "
		    "(mlock: no CAP_IPC_LOCK and RLIMIT_MEMLOCK too small), so "
		    "keys could be written to swap");
	secmem_free(p, 32);
}

int
cmd_check(struct ctx *x, int argc, char **argv)
{
	struct diags d = { 0 };
	size_t nds = 0, nerr;
	int rc;

	(void)argv;
	if (argc != 1)
		return cmd_usage("check");
	(void)config_load(x->conf_path, &x->cfg, &d);
	if (x->cfg.parsed && x->cfg.policy_dir != NULL)
		(void)policy_load_dir(x->cfg.policy_dir, &x->cfg, &x->ps, &d);
	/* SPEC §7: the KEK must not lie where datasets or keys/ are backed up. */
	if (x->cfg.parsed && x->cfg.state_dir != NULL)
		keystore_check_kek_location(&x->cfg, &x->ps, &d);
	/* How the datasets meet each other and the disk (conf/lint.c). */
	if (x->cfg.parsed)
		lint_datasets(&x->cfg, &x->ps, &d);
	if (x->cfg.parsed && x->cfg.state_dir != NULL)
		check_transfers(x, &d);
	check_secmem(&d);
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
