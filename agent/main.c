/*
 * main.c: lethe's entry point.  Parses the global -c option, finds the
 * command, and hands it the context.  Commands load config and policies
 * through ctx_load, which refuses to go on under a config that fails
 * `lethe check`.
 */
#include "cmd/cmd.h"
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const struct {
	const char *name;
	cmd_fn fn;
	const char *synopsis;
} commands[] = {
	{ "check", cmd_check, "check" },
	{ "plan", cmd_plan, "plan [--now DATE] [--tsv]" },
	{ "terminate", cmd_terminate, "terminate AGREEMENT DATE" },
	{ "directive", cmd_directive, "directive add FILE | list [--tsv] | show ID | cancel ID --reason TEXT" },
	{ "hold", cmd_hold, "hold AGREEMENT --reason TEXT [--dataset NAME]... [--category C]..." },
	{ "release", cmd_release, "release AGREEMENT [--id H-0001]" },
	{ "journal", cmd_journal, "journal verify [--ca FILE]" },
	{ "verify", cmd_verify, "verify [--ca FILE] [--tsa-ca FILE] [--manifest FILE] [-q] CERT..." },
	{ "cert", cmd_cert, "cert list [--tsv] | show ID | resend ID" },
	{ "run", cmd_run, "run [--verbose] [--dry-run [--now DATE]]" },
	{ "demo", cmd_demo, "demo [DIR]" },
	{ "seal", cmd_seal, "seal --agreement A [--category C] [IN [OUT]] | seal --agreement A [--category C] --replace FILE" },
	{ "unseal", cmd_unseal, "unseal [IN [OUT]]" },
	/* COMMANDS: one line each, keep this marker */
};

static int
main_usage(void)
{
	fprintf(stderr, "usage: lethe [-c FILE] COMMAND [ARGS]\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  lethe %s\n", commands[i].synopsis);
	return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	struct ctx x = { 0 };
	int i = 1, rc;

	x.argv0 = argv[0];
	x.conf_path = getenv("LETHE_CONF");
	if (x.conf_path == NULL || *x.conf_path == '\0')
		x.conf_path = "/etc/lethe/lethe.conf";
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			x.conf_path = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "--version") == 0 ||
		    strcmp(argv[i], "-V") == 0) {
			printf("lethe %s\n", LETHE_VERSION);
			return EXIT_OK;
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			main_usage();
			return EXIT_OK;
		} else {
			return main_usage();
		}
	}
	if (i >= argc)
		return main_usage();
	x.interactive = isatty(STDERR_FILENO);
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
		if (strcmp(argv[i], commands[k].name) == 0) {
			rc = commands[k].fn(&x, argc - i, argv + i);
			ctx_free(&x);
			return rc;
		}
	}
	warnx_("unknown command '%s'", argv[i]);
	return main_usage();
}
