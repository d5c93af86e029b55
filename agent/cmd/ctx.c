/*
 * ctx.c: what every command shares: loading the config and policies (and
 * refusing to go on under one that fails `lethe check`), and the two
 * printing helpers of the command layer.
 */
#include "cmd/cmd.h"
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>

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

int
usage(const char *synopsis)
{
	fprintf(stderr, "usage: lethe [-c FILE] %s\n", synopsis);
	return EXIT_USAGE;
}

static void
print_diags(const struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "%s\n", d->v[i]);
}

int
ctx_load_config(struct ctx *x)
{
	struct diags d = { 0 };
	int rc;

	if (x->loaded)
		return 0;
	rc = config_load(x->conf_path, &x->cfg, &d);
	print_diags(&d);
	diag_free(&d);
	if (rc != 0) {
		warnx_("%s: configuration has errors; nothing was done",
		    x->conf_path);
		return -1;
	}
	return 0;
}

int
ctx_load(struct ctx *x)
{
	struct diags d = { 0 };
	int rc;

	if (x->loaded)
		return 0;
	if (ctx_load_config(x) != 0)
		return -1;
	rc = policy_load_dir(x->cfg.policy_dir, &x->cfg, &x->ps, &d);
	print_diags(&d);
	diag_free(&d);
	if (rc != 0) {
		warnx_("%s: policies have errors; nothing was done",
		    x->cfg.policy_dir);
		return -1;
	}
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
