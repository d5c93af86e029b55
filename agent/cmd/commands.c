/*
 * commands.c: lethe's commands, each once: its name, its function, and its
 * synopsis, the one home of the usage line both `lethe -h` and the
 * command's own usage error print.
 */
#include "cmd/cmd.h"

#include <stdio.h>
#include <string.h>

static const struct command commands[] = {
	{ "check", cmd_check, "check" },
	{ "plan", cmd_plan, "plan [--now DATE] [--tsv]" },
	{ "terminate", cmd_terminate, "terminate AGREEMENT DATE" },
	{ "directive", cmd_directive, "directive add [--force] FILE | list "
	    "[--tsv] | show ID | cancel ID --reason TEXT" },
	{ "hold", cmd_hold, "hold AGREEMENT --reason TEXT [--dataset NAME]... "
	    "[--category C]..." },
	{ "release", cmd_release, "release AGREEMENT [--id H-0001]" },
	{ "journal", cmd_journal, "journal verify [--ca FILE] | accept "
	    "--reason TEXT" },
	{ "verify", cmd_verify, "verify [--ca FILE] [--tsa-ca FILE] "
	    "[--manifest FILE] [-q] CERT..." },
	{ "cert", cmd_cert, "cert list [--tsv] | show ID | resend ID" },
	{ "run", cmd_run, "run [--verbose] [--dry-run [--now DATE]]" },
	{ "demo", cmd_demo, "demo [DIR]" },
	{ "seal", cmd_seal, "seal --agreement A [--category C] [IN [OUT]] | "
	    "seal --agreement A [--category C] --replace FILE" },
	{ "unseal", cmd_unseal, "unseal [IN [OUT]]" },
	/* COMMANDS: one line each, keep this marker */
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

const struct command *
cmd_find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

void
cmd_usage_all(void)
{
	fprintf(stderr, "usage: lethe [-c FILE] COMMAND [ARGS]\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(stderr, "  lethe %s\n", commands[i].synopsis);
}

int
cmd_usage(const char *name)
{
	const struct command *c = cmd_find(name);

	fprintf(stderr, "usage: lethe [-c FILE] %s\n", c != NULL ?
	    c->synopsis : name);
	return EXIT_USAGE;
}
