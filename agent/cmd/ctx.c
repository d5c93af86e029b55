/*
 * ctx.c: what every command shares: loading the config and policies (and
 * refusing to go on under one that fails `lethe check`), and the two
 * printing helpers of the command layer.
 */
#include "cmd/cmd.h"
#include "base/err.h"
#include "conf/iniread.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void
warnx_(const char *fmt, ...)
{
	va_list ap;

	fputs("lethe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Who is recording: $SUDO_USER when set, else our login name or uid. */
const char *
cmd_whoami(char *buf, size_t len)
{
	const char *s = getenv("SUDO_USER");
	struct passwd *pw;

	if (s != NULL && *s != '\0') {
		snprintf(buf, len, "%s", s);
		return buf;
	}
	pw = getpwuid(geteuid());
	if (pw != NULL && pw->pw_name != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "uid %ld", (long)geteuid());
	return buf;
}

void
cmd_print_diags(const struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "%s\n", d->v[i]);
}

/* After a loader: its diagnostics said, and when it failed, that nothing
 * was done.  Returns 0, or -1 when it failed. */
static int
loaded(int rc, struct diags *d, const char *path, const char *what)
{
	cmd_print_diags(d);
	diag_free(d);
	if (rc == 0)
		return 0;
	warnx_("%s: %s; nothing was done", path, what);
	return -1;
}

int
ctx_load_config(struct ctx *x)
{
	struct diags d = { 0 };

	if (x->loaded)
		return 0;
	return loaded(config_load(x->conf_path, &x->cfg, &d), &d, x->conf_path,
	    "configuration has errors");
}

int
ctx_load(struct ctx *x)
{
	struct diags d = { 0 };

	if (x->loaded)
		return 0;
	if (ctx_load_config(x) != 0)
		return -1;
	if (loaded(policy_load_dir(x->cfg.policy_dir, &x->cfg, &x->ps, &d), &d,
	    x->cfg.policy_dir, "policies have errors") != 0)
		return -1;
	x->loaded = 1;
	return 0;
}

void
ctx_free(struct ctx *x)
{
	policy_free(&x->ps);
	config_free(&x->cfg);
	x->loaded = 0;
}


void
cmd_human_bytes(uint64_t n, char *buf, size_t len)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

const char *
cmd_suggest_agreement(struct ctx *x, const char *id)
{
	const char **ids = calloc(x->ps.n + 1, sizeof(*ids));
	const char *s;

	if (ids == NULL)
		return NULL;
	for (size_t i = 0; i < x->ps.n; i++)
		ids[i] = x->ps.a[i].id;
	s = iniread_suggest(id, ids, x->ps.n);
	free(ids);
	return s;
}

const struct agreement *
cmd_find_agreement(struct ctx *x, const char *id)
{
	const struct agreement *a = policy_find(&x->ps, id);
	const char *s;

	if (a != NULL)
		return a;
	if ((s = cmd_suggest_agreement(x, id)) != NULL)
		warnx_("unknown agreement '%s'; did you mean '%s'?", id, s);
	else
		warnx_("unknown agreement '%s': no policy in %s has that id",
		    id, x->cfg.policy_dir);
	return NULL;
}
