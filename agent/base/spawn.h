/*
 * spawn.h: the one way lethe runs another program (sendmail(8) and
 * `[signing] tsa_command`, SPEC §3): never through a shell, with a time
 * limit, in a process group of its own, and with nothing of lethe's but
 * three pipes (or a file as standard input).
 *
 * Command lines are split into words by spawn_parse with this rule,
 * documented in lethe.conf(5):
 *   - words are separated by blanks (spaces and tabs);
 *   - '...' quotes everything up to the next ' literally;
 *   - "..." quotes up to the next unescaped ", where \" and \\ stand for
 *     " and \ (any other backslash is kept as it is);
 *   - outside quotes a backslash takes the next character literally;
 *   - an unquoted | & ; < > ( ) $ ` * ? [ ] { } ~ # or a control character
 *     is refused: no shell reads the line, so shell syntax would not mean
 *     what it says (put it in a script and name the script);
 *   - the first word must be an absolute path (cron's PATH is short and no
 *     PATH search is ever done).
 */
#ifndef LETHE_SPAWN_H
#define LETHE_SPAWN_H

#include <stddef.h>

struct err;

/* Splits cmd into a NULL-terminated argument vector by the rule above.
 * `what` names the setting in messages ("tsa_command").  On success
 * *argv is malloc'd (free it with spawn_argv_free) and holds at least one
 * word.  Returns 0, or -1 with *e set saying what is wrong and where. */
int spawn_parse(const char *cmd, const char *what, char ***argv,
    struct err *e);
void spawn_argv_free(char **argv);

#define SPAWN_GRACE_S 2		/* from SIGTERM to SIGKILL at the limit */
#define SPAWN_ERRLINE 160	/* bytes of the first line of stderr kept */

struct spawn_io {
	/* What the program reads: infd >= 0 is given as its standard input
	 * as it is (a message file, read from its current offset); else the
	 * in/inlen bytes are written to a pipe, while its output is read, so
	 * neither side can block the other; then the pipe is closed. */
	int infd;
	const void *in;
	size_t inlen;
	size_t outmax;		/* bytes of standard output kept */
	int timeout_s;		/* > 0: the whole run, from fork to exit */

	/* Filled by spawn_run. */
	unsigned char *out;	/* malloc'd standard output (outlen bytes) */
	size_t outlen;
	int out_over;		/* it printed more than outmax: output cut */
	char errline[SPAWN_ERRLINE + 1];	/* first line of stderr,
						   printable ASCII */
	int status;		/* as from waitpid */
	int timed_out;		/* killed at the limit (status is then the
				   kill's) */
};

/* Runs argv[0] (an absolute path; argv as from spawn_parse) with
 *   - no shell and no PATH search (execve);
 *   - the environment PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:
 *     /usr/bin:/sbin:/bin and nothing else;
 *   - its own process group, default signal dispositions, no blocked
 *     signals;
 *   - descriptors 0, 1 and 2 only (stdin as io says, stdout and stderr
 *     pipes to lethe); every other descriptor is closed before exec;
 *   - at most io->timeout_s seconds: then its whole process group gets
 *     SIGTERM and, SPAWN_GRACE_S seconds later, SIGKILL.  A program that
 *     closes its pipes and hangs is killed all the same; once it has
 *     exited, its output is drained only briefly, so a background child
 *     holding the pipes open (an MTA's delivery process) never holds lethe.
 * Returns 0 when the program ran and was reaped (see io->status and
 * io->timed_out: a program that could not be executed exits 127 with the
 * reason on its stderr), or -1 with *e set when it could not be started.
 * io->out is allocated on success only; free it. */
int spawn_run(char *const argv[], struct spawn_io *io, struct err *e);

/* "exited 3", "killed by signal 9", "timed out after 60 s and was killed",
 * followed by ": FIRST LINE OF STDERR" when there is one, into buf. */
void spawn_describe(const struct spawn_io *io, char *buf, size_t len);

#endif
