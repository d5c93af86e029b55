/*
 * cmd.h: the command layer.  Only cmd/ and main.c print to the terminal
 * or choose exit codes (STYLE §3); modules below return 0/-1 with a
 * struct err naming what failed.
 */
#ifndef LETHE_CMD_H
#define LETHE_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"
#include "conf/policy.h"

/* Exit codes, SPEC §4. */
enum {
	EXIT_OK = 0,		/* all well */
	EXIT_FAIL = 1,		/* something failed; the rest was still done */
	EXIT_USAGE = 2,		/* usage or config error; nothing was done */
	EXIT_OVERDUE = 3,	/* nothing failed, but something is overdue */
};

struct ctx {
	const char *conf_path;	/* -c FILE, $LETHE_CONF, /etc/lethe/lethe.conf */
	struct config cfg;
	struct policyset ps;
	int loaded;		/* cfg and ps are valid */
	int interactive;	/* stderr is a terminal: show progress */
	const char *argv0;
};

/* Loads the config and every policy.  On any error prints each diagnostic
 * to stderr and returns -1: the caller must then exit EXIT_USAGE and do
 * nothing (SPEC §4).  Warnings are printed and do not fail. */
int ctx_load(struct ctx *x);
/* Loads only the config (for commands that need no policies). */
int ctx_load_config(struct ctx *x);
/* Frees the config and policies; x may be loaded again. */
void ctx_free(struct ctx *x);

/* Each diagnostic on a line of its own, on stderr. */
struct diags;
void cmd_print_diags(const struct diags *d);
/* "lethe: " + message on stderr. */
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "1.5 GiB" for people (progress lines). */
void cmd_human_bytes(uint64_t n, char *buf, size_t len);
/* Who is recording (for the journal's by= fields): $SUDO_USER when set,
 * else our login name or uid.  Returns buf. */
const char *cmd_whoami(char *buf, size_t len);
/* The agreement named id, or NULL after printing an error with a
 * suggestion ("did you mean ...?"). */
const struct agreement *cmd_find_agreement(struct ctx *x, const char *id);
/* The id of a loaded agreement close to id ("did you mean ...?"), or
 * NULL. */
const char *cmd_suggest_agreement(struct ctx *x, const char *id);
/* Each command: argv[0] is the command name; returns an exit code. */
typedef int (*cmd_fn)(struct ctx *x, int argc, char **argv);

/* commands.c: the one table of commands. */
struct command {
	const char *name;
	cmd_fn fn;
	const char *synopsis;	/* its usage line, after "lethe [-c FILE] " */
};
/* The command called name, or NULL. */
const struct command *cmd_find(const char *name);
/* Prints every command's usage line to stderr (`lethe -h`). */
void cmd_usage_all(void);
/* Prints the usage line of the command called name to stderr; returns
 * EXIT_USAGE. */
int cmd_usage(const char *name);

/* The commands (cmd_NAME.c each, cmd_release in cmd_hold.c and
 * cmd_unseal in cmd_seal.c): argv[0] is the command's name.  Each
 * returns its exit code (SPEC §4: EXIT_OK, EXIT_FAIL, EXIT_USAGE,
 * EXIT_OVERDUE). */
int cmd_check(struct ctx *x, int argc, char **argv);
int cmd_run(struct ctx *x, int argc, char **argv);
int cmd_demo(struct ctx *x, int argc, char **argv);
int cmd_plan(struct ctx *x, int argc, char **argv);
int cmd_terminate(struct ctx *x, int argc, char **argv);
int cmd_directive(struct ctx *x, int argc, char **argv);
int cmd_hold(struct ctx *x, int argc, char **argv);
int cmd_release(struct ctx *x, int argc, char **argv);
int cmd_journal(struct ctx *x, int argc, char **argv);
int cmd_verify(struct ctx *x, int argc, char **argv);
int cmd_cert(struct ctx *x, int argc, char **argv);
int cmd_seal(struct ctx *x, int argc, char **argv);
int cmd_unseal(struct ctx *x, int argc, char **argv);
/* cmd_verify.c: verifies one certificate file, printing "ok   ..." or
 * "FAIL ..." per check (failures only when quiet); manifest NULL = the
 * ID.manifest beside it, if any.  Returns the number of failed checks. */
struct sign_trust;
int cmd_verify_one(const char *path, const struct sign_trust *trust,
    const char *tsa_ca, const char *manifest, int quiet);

#endif
