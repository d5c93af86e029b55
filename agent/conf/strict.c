/*
 * strict.c: StrictModes (see strict.h, SPEC §3).
 *
 * MUST rules:
 *  - the walk starts at "/" and checks every component lethe's open would
 *    pass through: each directory, each symbolic link's target (absolute
 *    targets restart at "/", relative ones continue where the link is),
 *    and the object itself;
 *  - a component is trusted only when owned by root or the running user
 *    and not writable by group or others (no sticky-bit exception);
 *  - a component that cannot be examined (other than not existing) is an
 *    error: the check fails closed;
 *  - at most STRICT_MAX_LINKS links are followed, as the kernel would.
 */
#include "conf/strict.h"
#include "base/err.h"
#include "base/spawn.h"
#include "conf/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define STRICT_MAX_LINKS 40
#define MARK "(StrictModes"	/* in every message, to find repeats */

/* Whether *d already has a StrictModes error about comp. */
static int
reported(const struct diags *d, const char *comp)
{
	size_t n = strlen(comp);

	for (size_t i = 0; i < d->n; i++)
		if (strncmp(d->v[i], comp, n) == 0 &&
		    strncmp(d->v[i] + n, ": ", 2) == 0 &&
		    strstr(d->v[i], MARK) != NULL)
			return 1;
	return 0;
}

/* Why st breaks the rule, into buf; 0 when it does not. */
static int
why_untrusted(const struct stat *st, uid_t euid, char *buf, size_t len)
{
	mode_t w = st->st_mode & 022;

	if (st->st_uid != 0 && st->st_uid != euid) {
		struct passwd *pw = getpwuid(st->st_uid);

		snprintf(buf, len, "owned by %s%s%s (uid %u), not root",
		    pw ? "user '" : "another user", pw ? pw->pw_name : "",
		    pw ? "'" : "", (unsigned)st->st_uid);
		return 1;
	}
	if (w != 0) {
		snprintf(buf, len, "writable by %s (mode %04o)",
		    w == 022 ? "group and others" : w == 020 ? "group" :
		    "others", (unsigned)(st->st_mode & 07777));
		return 1;
	}
	return 0;
}

/* Checks one component; comp is its path, top the object checked. */
static int
check_one(const char *comp, const struct stat *st, const char *what,
    const char *top, int is_top, int via_link, uid_t euid,
    struct diags *d)
{
	char why[160];

	if (!why_untrusted(st, euid, why, sizeof(why)))
		return 0;
	if (reported(d, comp))
		return -1;
	if (is_top)
		diag_add(d, comp, 0, "%s%s is %s; lethe runs as root and "
		    "trusts only what root alone can change " MARK ", see "
		    "lethe.conf(5))", what, via_link ? " (through a symbolic "
		    "link)" : "", why);
	else
		diag_add(d, comp, 0, "%s, and it is above %s %s%s; lethe runs "
		    "as root and trusts only what root alone can change " MARK
		    ", see lethe.conf(5))", why, what, top, via_link ?
		    " (through a symbolic link)" : "");
	return -1;
}

/* Appends "/" and the n bytes of name to the real path cur (len cap). */
static int
push(char *cur, size_t cap, const char *name, size_t n)
{
	size_t l = strlen(cur);

	if (l + 1 + n >= cap)
		return -1;
	if (l > 1 || cur[0] != '/')
		cur[l++] = '/';
	memcpy(cur + l, name, n);
	cur[l + n] = '\0';
	return 0;
}

/* Removes the last component of the real path cur ("/" stays "/"). */
static void
pop(char *cur)
{
	char *s = strrchr(cur, '/');

	if (s == NULL || s == cur)
		strcpy(cur, "/");
	else
		*s = '\0';
}

int
strict_path(const char *path, const char *what, uid_t euid,
    struct diags *d)
{
	char cur[PATH_MAX], todo[2 * PATH_MAX + 2], link[PATH_MAX];
	struct stat st;
	int bad = 0, links = 0;
	size_t pos = 0;

	if (euid != 0 || path == NULL || *path == '\0')
		return 0;
	if (path[0] == '/')
		snprintf(todo, sizeof(todo), "%s", path);
	else {
		if (getcwd(cur, sizeof(cur)) == NULL) {
			diag_add(d, path, 0, "%s: cannot find the working "
			    "directory to check it " MARK ")", what);
			return -1;
		}
		if (snprintf(todo, sizeof(todo), "%s/%s", cur, path) >=
		    (int)sizeof(todo))
			goto too_long;
	}
	strcpy(cur, "/");
	if (lstat("/", &st) != 0 ||
	    check_one("/", &st, what, path, 0, 0, euid, d) != 0)
		bad = 1;
	for (;;) {
		const char *c;
		size_t n;

		while (todo[pos] == '/')
			pos++;
		if (todo[pos] == '\0')
			break;
		c = todo + pos;
		n = strcspn(c, "/");
		pos += n;
		if (n == 1 && c[0] == '.')
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			pop(cur);
			continue;
		}
		if (push(cur, sizeof(cur), c, n) != 0)
			goto too_long;
		if (lstat(cur, &st) != 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				break;	/* checked as far as it exists */
			diag_add(d, cur, 0, "cannot be examined (%s), so %s %s "
			    "cannot be trusted " MARK ", see lethe.conf(5))",
			    strerror(errno), what, path);
			return -1;
		}
		if (S_ISLNK(st.st_mode)) {
			ssize_t k;
			char rest[sizeof(todo)];

			if (++links > STRICT_MAX_LINKS) {
				diag_add(d, path, 0, "%s: too many symbolic "
				    "links on the way " MARK ")", what);
				return -1;
			}
			k = readlink(cur, link, sizeof(link) - 1);
			if (k < 0) {
				diag_add(d, cur, 0, "cannot read the symbolic "
				    "link (%s), so %s %s cannot be trusted "
				    MARK ", see lethe.conf(5))",
				    strerror(errno), what, path);
				return -1;
			}
			link[k] = '\0';
			/* The link's directory stays; its target replaces
			 * it: todo = target + what was left. */
			snprintf(rest, sizeof(rest), "%s", todo + pos);
			if (snprintf(todo, sizeof(todo), "%s%s", link, rest) >=
			    (int)sizeof(todo))
				goto too_long;
			pos = 0;
			pop(cur);
			if (link[0] == '/')
				strcpy(cur, "/");
			continue;
		}
		{
			int is_top = todo[pos + strspn(todo + pos, "/")] ==
			    '\0';

			if (check_one(cur, &st, what, path, is_top, links > 0,
			    euid, d) != 0)
				bad = 1;
		}
	}
	return bad ? -1 : 0;
too_long:
	diag_add(d, path, 0, "%s: path too long to check " MARK ")", what);
	return -1;
}

int
strict_stat(const char *path, const char *what, const struct stat *st,
    uid_t euid, struct diags *d)
{
	if (euid != 0)
		return 0;
	return check_one(path, st, what, path, 1, 0, euid, d);
}

/* A command line's words must all be root's alone: the program (its first
 * word), and every file any other word could name (a script given to an
 * interpreter, a config given to sendmail, a PATH or LD_PRELOAD given to
 * env, a library directory given to an interpreter).  Each word is read
 * every way it could name a file: whole; from the first '/' (with a "./"
 * or "../" before it) and, for an option, from each character after its
 * dashes (-C/x.cf, -Csub/x.cf, -I/lib); after each '=' (VAR=VALUE,
 * --opt=VALUE) and each ':'-separated part of that (PATH=/a:/b).  Every
 * such path is checked by strict_path, as far as it exists: a file that
 * will only appear later is judged by who may create it.  A URL
 * (scheme://..., not file://) names no file.  A word with a '/' that
 * names nothing and reads as a shell command line (blanks or shell syntax
 * in it: `sh -c 'cmd /path'`) is refused: lethe cannot vouch for it. */
static int
shell_line(const char *w)
{
	return strpbrk(w, " \t\n;|&$`<>(){}*?[]~") != NULL;
}

static int
is_url(const char *w)
{
	size_t n = 0;

	if (!isalpha((unsigned char)w[0]))
		return 0;
	while (isalnum((unsigned char)w[n]) || w[n] == '+' || w[n] == '-' ||
	    w[n] == '.')
		n++;
	return strncmp(w + n, "://", 3) == 0 && strncasecmp(w, "file:", 5) != 0;
}

struct cmdcheck {
	const char *cwd, *label;
	uid_t euid;
	struct diags *d;
	int bad;
};

/* Checks one way a word could name a file (n bytes of p). */
static void
cand(struct cmdcheck *k, const char *p, size_t n)
{
	char path[PATH_MAX * 2];

	if (n == 0 || n >= PATH_MAX)
		return;
	if (p[0] == '/')
		snprintf(path, sizeof(path), "%.*s", (int)n, p);
	else
		snprintf(path, sizeof(path), "%s/%.*s", k->cwd, (int)n, p);
	k->bad |= strict_path(path, k->label, k->euid, k->d) != 0;
}

/* Every ':'-separated part of v (n bytes) that holds a '/'. */
static void
cand_list(struct cmdcheck *k, const char *v, size_t n)
{
	while (n > 0) {
		const char *c = memchr(v, ':', n);
		size_t len = c ? (size_t)(c - v) : n;
		if (memchr(v, '/', len) != NULL)
			cand(k, v, len);
		if (c == NULL)
			break;
		n -= len + 1;
		v = c + 1;
	}
}

/* Every way the argument w could name a file (see above). */
static void
arg_paths(struct cmdcheck *k, const char *w)
{
	const char *slash = strchr(w, '/'), *from, *eq;
	size_t dashes = strspn(w, "-");

	if (slash == NULL) {
		struct stat st;
		if (fstatat(AT_FDCWD, w, &st, AT_SYMLINK_NOFOLLOW) == 0)
			cand(k, w, strlen(w));	/* a file in the cwd */
		return;
	}
	if (dashes == 0)
		cand(k, w, strlen(w));
	from = slash;
	while (from > w + dashes && from[-1] == '.')
		from--;
	cand(k, from, strlen(from));
	for (const char *q = w + dashes; dashes > 0 && q < slash; q++)
		cand(k, q, strlen(q));
	for (eq = strchr(w, '='); eq != NULL; eq = strchr(eq + 1, '='))
		cand_list(k, eq + 1, strlen(eq + 1));
}

static int
strict_command(const char *cmd, const char *what, const char *arg,
    uid_t euid, struct diags *d)
{
	struct cmdcheck k = { .euid = euid, .d = d };
	struct err e;
	struct stat st;
	char **argv, cwd[PATH_MAX];

	if (cmd == NULL)
		return 0;
	if (spawn_parse(cmd, "command", &argv, &e) != 0)
		return 0;	/* the config's own check says why */
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		snprintf(cwd, sizeof(cwd), "/");
	k.cwd = cwd;
	for (size_t i = 0; argv[i] != NULL; i++) {
		const char *w = argv[i];
		if (i == 0) {
			k.label = what;
			cand(&k, w, strlen(w));	/* missing: said at run time,
						 * judged by who may create it */
			continue;
		}
		k.label = arg;
		if (is_url(w))
			continue;
		if (strchr(w, '/') != NULL && shell_line(w) &&
		    fstatat(AT_FDCWD, w, &st, 0) != 0) {
			diag_add(d, w, 0, "%s names no file but reads as a shell "
			    "command line: lethe runs as root only what root "
			    "alone can change, and cannot vouch for it (give a "
			    "script that root owns instead)", arg);
			k.bad = 1;
			continue;
		}
		arg_paths(&k, w);
	}
	spawn_argv_free(argv);
	return k.bad ? -1 : 0;
}

int
strict_config(const struct config *c, uid_t euid, struct diags *d)
{
	int bad = 0;

	if (euid != 0)
		return 0;
	bad |= strict_path(c->state_dir, "state_dir", euid, d);
	bad |= strict_path(c->kek, "the KEK", euid, d);
	bad |= strict_path(c->sign_key, "the signing key", euid, d);
	bad |= strict_path(c->sign_cert, "the signing certificate", euid, d);
	bad |= strict_path(c->sign_chain, "the signing chain", euid, d);
	bad |= strict_command(c->sendmail, "sendmail", "an argument of sendmail",
	    euid, d);
	bad |= strict_command(c->tsa_command, "tsa_command's program",
	    "an argument of tsa_command", euid, d);
	return bad ? -1 : 0;
}
