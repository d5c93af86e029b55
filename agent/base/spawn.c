/*
 * spawn.c: running sendmail and the TSA command (see spawn.h).
 *
 * MUST rules:
 *  - no shell: the words of the command line go to execve as they are,
 *    and the program is named by an absolute path (no PATH search);
 *  - the child gets descriptors 0, 1 and 2 and nothing else (close_range
 *    from 3 after the dup2s), a fixed PATH-only environment, default
 *    signal dispositions and an empty signal mask;
 *  - it runs in its own process group, and at the time limit the whole
 *    group is killed (TERM, then KILL), whether or not its pipes are still
 *    open: lethe never waits on a child without a deadline;
 *  - lethe writes the child's stdin and reads its stdout and stderr in one
 *    poll loop, so a child that writes before it has read everything
 *    cannot deadlock against us; SIGPIPE is ignored while writing;
 *  - between fork and exec the child only calls async-signal-safe
 *    functions, on data prepared before the fork.
 */
#include "base/spawn.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SHELL_CHARS "|&;<>()$`*?[]{}~#"
#define DRAIN_MS 200		/* reading on after the child exited */
#define SLICE_MS 100		/* longest poll: the deadline is checked */

static char *const child_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	NULL,
};

int
spawn_parse(const char *cmd, const char *what, char ***argvp, struct err *e)
{
	size_t n = strlen(cmd), maxw = (n + 1) / 2 + 1, argc = 0;
	char **argv, *out;
	const char *p = cmd;

	*argvp = NULL;
	/* One block: the pointers, then the words' text. */
	argv = malloc((maxw + 1) * sizeof(*argv) + n + maxw + 1);
	if (argv == NULL)
		return err_set(e, "%s: out of memory", what);
	out = (char *)(argv + maxw + 1);
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		argv[argc++] = out;
		while (*p != '\0' && *p != ' ' && *p != '\t') {
			char q = *p;

			if (iscntrl((unsigned char)q)) {
				err_set(e, "%s: control character at character "
				    "%zu", what, (size_t)(p - cmd) + 1);
				goto bad;
			}
			if (q == '\'' || q == '"') {
				const char *open = p++;

				while (*p != '\0' && *p != q) {
					if (iscntrl((unsigned char)*p)) {
						err_set(e, "%s: control "
						    "character at character "
						    "%zu", what,
						    (size_t)(p - cmd) + 1);
						goto bad;
					}
					if (q == '"' && *p == '\\' &&
					    (p[1] == '"' || p[1] == '\\'))
						p++;
					*out++ = *p++;
				}
				if (*p == '\0') {
					err_set(e, "%s: the quote %c at character "
					    "%zu is never closed", what, q,
					    (size_t)(open - cmd) + 1);
					goto bad;
				}
				p++;
			} else if (q == '\\') {
				if (p[1] == '\0' ||
				    iscntrl((unsigned char)p[1])) {
					err_set(e, "%s: the backslash at "
					    "character %zu escapes nothing",
					    what, (size_t)(p - cmd) + 1);
					goto bad;
				}
				p++;
				*out++ = *p++;
			} else if (strchr(SHELL_CHARS, q) != NULL) {
				err_set(e, "%s: unquoted '%c' at character %zu: "
				    "no shell reads this line, so shell syntax "
				    "does not work here; put the commands in a "
				    "script and name the script", what, q,
				    (size_t)(p - cmd) + 1);
				goto bad;
			} else
				*out++ = *p++;
		}
		*out++ = '\0';
	}
	argv[argc] = NULL;
	if (argc == 0) {
		err_set(e, "%s: no program named", what);
		goto bad;
	}
	if (argv[0][0] != '/') {
		err_set(e, "%s must start with an absolute path (cron's PATH "
		    "is short, and no PATH search is done), not '%s'", what,
		    argv[0]);
		goto bad;
	}
	*argvp = argv;
	return 0;
bad:
	free(argv);
	return -1;
}

void
spawn_argv_free(char **argv)
{
	free(argv);
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The child's side of the fork: only async-signal-safe calls. */
static void __attribute__((noreturn))
child(char *const argv[], int in, int out, int err)
{
	static const char msg[] = "cannot execute: ";
	struct sigaction dfl;
	sigset_t none;
	const char *why;
	int fds[3];

	(void)setpgid(0, 0);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		(void)sigaction(s, &dfl, NULL);	/* fails harmlessly for some */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	/* Above 2 first, so that no dup2 below overwrites a source. */
	fds[0] = fcntl(in, F_DUPFD, 3);
	fds[1] = fcntl(out, F_DUPFD, 3);
	fds[2] = fcntl(err, F_DUPFD, 3);
	if (fds[0] == -1 || fds[1] == -1 || fds[2] == -1)
		_exit(127);
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) == -1)
			_exit(127);
	if (close_range(3, ~0U, 0) == -1) {
		for (int fd = 3; fd < 65536; fd++)
			(void)close(fd);
	}
	execve(argv[0], argv, child_env);
	why = strerror(errno);	/* glibc: a static table, no allocation */
	if (write(2, msg, sizeof(msg) - 1) < 0 ||
	    write(2, why, strlen(why)) < 0 || write(2, "\n", 1) < 0)
		_exit(127);
	_exit(127);
}

/* Keeps the first line of stderr, printable ASCII only. */
static void
keep_errline(struct spawn_io *io, size_t *elen, int *edone, const char *s,
    size_t n)
{
	for (size_t i = 0; i < n && !*edone; i++) {
		if (s[i] == '\n' || s[i] == '\r') {
			*edone = *elen > 0;
			continue;
		}
		if (*elen == SPAWN_ERRLINE) {
			*edone = 1;
			break;
		}
		io->errline[(*elen)++] = (s[i] >= 0x20 && s[i] < 0x7f) ?
		    s[i] : '?';
		io->errline[*elen] = '\0';
	}
}

/* One read from the pipe at *fd into the kept output; closes it at end
 * of file.  Returns 0, or -1 with *e set. */
static int
read_out(struct spawn_io *io, int *fd, int is_err, size_t *elen,
    int *edone, struct err *e)
{
	char b[8192];
	ssize_t r = read(*fd, b, sizeof(b));

	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (r < 0)
		return err_sys(e, "reading from the command");
	if (r == 0) {
		close(*fd);
		*fd = -1;
		return 0;
	}
	if (is_err) {
		keep_errline(io, elen, edone, b, (size_t)r);
		return 0;
	}
	for (size_t i = 0; i < (size_t)r; i++) {
		if (io->outlen == io->outmax) {
			io->out_over = 1;	/* drained, not kept */
			break;
		}
		io->out[io->outlen++] = (unsigned char)b[i];
	}
	return 0;
}

static void
kill_group(pid_t pid, int sig)
{
	(void)kill(-pid, sig);
	(void)kill(pid, sig);	/* in case setpgid lost a race */
}

/* One command being run: its pipes, its clock and how far it got. */
struct run {
	struct spawn_io *io;
	const char *prog;		/* for messages */
	pid_t pid;
	int pin[2], pout[2], perr[2];
	struct timespec t0;
	size_t inoff, elen;
	long limit_ms, exited_ms;
	int edone, exited, termed, killed;
};

/* Makes the pipes and forks; in the parent, keeps its own ends only.
 * Returns 0, or -1 with *e set (no child then). */
static int
start(struct run *r, char *const argv[], struct err *e)
{
	struct spawn_io *io = r->io;

	if ((io->infd < 0 && pipe2(r->pin, O_CLOEXEC) == -1) ||
	    pipe2(r->pout, O_CLOEXEC) == -1 || pipe2(r->perr, O_CLOEXEC) == -1)
		return err_sys(e, "%s: pipe", r->prog);
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	r->pid = fork();
	if (r->pid == -1)
		return err_sys(e, "%s: fork", r->prog);
	if (r->pid == 0)
		child(argv, io->infd >= 0 ? io->infd : r->pin[0], r->pout[1],
		    r->perr[1]);
	(void)setpgid(r->pid, r->pid);
	if (r->pin[0] != -1)
		close(r->pin[0]);
	close(r->pout[1]);
	close(r->perr[1]);
	r->pin[0] = r->pout[1] = r->perr[1] = -1;
	if (r->pin[1] != -1)
		(void)fcntl(r->pin[1], F_SETFL, O_NONBLOCK);
	return 0;
}

/* Notes an exit, enforces the time limit (SIGTERM, then SIGKILL after
 * the grace period) and closes stdin once it is written or the command is
 * being stopped.  Returns 1 when the run is over, else 0. */
static int
settle(struct run *r)
{
	long now;
	int st = 0;

	if (!r->exited && waitpid(r->pid, &st, WNOHANG) == r->pid) {
		r->exited = 1;
		r->io->status = st;
		r->exited_ms = ms_since(&r->t0);
	}
	now = ms_since(&r->t0);
	if (r->exited && (r->pout[0] == -1 && r->perr[0] == -1))
		return 1;
	if (r->exited && now - r->exited_ms >= DRAIN_MS)
		return 1;	/* a background child holds the pipes */
	if (!r->exited && r->limit_ms >= 0 && now >= r->limit_ms &&
	    !r->termed) {
		r->termed = r->io->timed_out = 1;
		kill_group(r->pid, SIGTERM);
	}
	if (!r->exited && r->termed && !r->killed &&
	    now >= r->limit_ms + SPAWN_GRACE_S * 1000) {
		r->killed = 1;
		kill_group(r->pid, SIGKILL);
	}
	if (r->pin[1] != -1 && (r->inoff == r->io->inlen || r->termed)) {
		close(r->pin[1]);
		r->pin[1] = -1;
	}
	return 0;
}

/* Waits a slice for the pipes, then feeds stdin and reads stdout and
 * stderr as far as they are ready.  Returns 0, or -1 with *e set. */
static int
pump(struct run *r, struct err *e)
{
	struct spawn_io *io = r->io;
	struct pollfd pf[3];
	nfds_t np = 0;
	int iw = -1, ix = -1, ie = -1;

	if (r->pin[1] != -1) {
		iw = (int)np;
		pf[np++] = (struct pollfd){ r->pin[1], POLLOUT, 0 };
	}
	if (r->pout[0] != -1) {
		ix = (int)np;
		pf[np++] = (struct pollfd){ r->pout[0], POLLIN, 0 };
	}
	if (r->perr[0] != -1) {
		ie = (int)np;
		pf[np++] = (struct pollfd){ r->perr[0], POLLIN, 0 };
	}
	if (poll(pf, np, r->exited ? 10 : SLICE_MS) < 0)
		return errno == EINTR ? 0 : err_sys(e, "%s: poll", r->prog);
	if (iw >= 0 && pf[iw].revents) {
		ssize_t k = write(r->pin[1], (const char *)io->in + r->inoff,
		    io->inlen - r->inoff);
		if (k > 0)
			r->inoff += (size_t)k;
		else if (k < 0 && errno != EINTR && errno != EAGAIN)
			r->inoff = io->inlen;	/* it stopped reading */
	}
	if (ix >= 0 && pf[ix].revents &&
	    read_out(io, &r->pout[0], 0, &r->elen, &r->edone, e) != 0)
		return -1;
	if (ie >= 0 && pf[ie].revents &&
	    read_out(io, &r->perr[0], 1, &r->elen, &r->edone, e) != 0)
		return -1;
	return 0;
}

/* Waits for a child that has not exited (killing it first when the run
 * failed), and closes every pipe end still open. */
static void
finish(struct run *r, int failed)
{
	if (r->pid > 0 && !r->exited) {
		int st = 0;

		if (failed)
			kill_group(r->pid, SIGKILL);
		while (waitpid(r->pid, &st, 0) == -1 && errno == EINTR)
			;
		r->io->status = st;
	}
	for (int i = 0; i < 2; i++) {
		if (r->pin[i] != -1)
			close(r->pin[i]);
		if (r->pout[i] != -1)
			close(r->pout[i]);
		if (r->perr[i] != -1)
			close(r->perr[i]);
	}
}

int
spawn_run(char *const argv[], struct spawn_io *io, struct err *e)
{
	struct run r = { .io = io, .pid = -1, .pin = { -1, -1 },
	    .pout = { -1, -1 }, .perr = { -1, -1 }, .exited_ms = -1 };
	struct sigaction ign, old;
	int rc = -1;

	io->out = NULL;
	io->outlen = 0;
	io->out_over = io->timed_out = 0;
	io->errline[0] = '\0';
	io->status = 0;
	if (argv == NULL || argv[0] == NULL || argv[0][0] != '/')
		return err_set(e, "no program to run (an absolute path)");
	r.prog = argv[0];
	r.limit_ms = io->timeout_s > 0 ? (long)io->timeout_s * 1000 : -1;
	if ((io->out = malloc(io->outmax ? io->outmax : 1)) == NULL)
		return err_set(e, "%s: out of memory", argv[0]);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old);
	if (start(&r, argv, e) == 0) {
		while (!settle(&r))
			if (pump(&r, e) != 0)
				goto out;
		rc = 0;
	}
out:
	finish(&r, rc != 0);
	sigaction(SIGPIPE, &old, NULL);
	if (rc != 0) {
		free(io->out);
		io->out = NULL;
		io->outlen = 0;
	}
	return rc;
}

void
spawn_describe(const struct spawn_io *io, char *buf, size_t len)
{
	char how[64];

	if (io->timed_out)
		snprintf(how, sizeof(how), "timed out after %d s and was "
		    "killed", io->timeout_s);
	else if (WIFEXITED(io->status))
		snprintf(how, sizeof(how), "exited %d",
		    WEXITSTATUS(io->status));
	else if (WIFSIGNALED(io->status))
		snprintf(how, sizeof(how), "killed by signal %d",
		    WTERMSIG(io->status));
	else
		snprintf(how, sizeof(how), "status %d", io->status);
	strbuf_fit(buf, len, "%s%s%s", how, io->errline[0] ? ": " : "",
	    io->errline);
}
