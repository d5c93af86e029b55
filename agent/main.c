/*
 * main.c: lethe's entry point.  Parses the global -c option, finds the
 * command (cmd/commands.c), and hands it the context.  Commands load config
 * and policies through ctx_load, which refuses to go on under a config
 * that fails `lethe check`.
 */
#include "cmd/cmd.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
main_usage(void)
{
	cmd_usage_all();
	return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	const struct command *c;
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
	if ((c = cmd_find(argv[i])) == NULL) {
		warnx_("unknown command '%s'", argv[i]);
		return main_usage();
	}
	rc = c->fn(&x, argc - i, argv + i);
	ctx_free(&x);
	return rc;
}
