/*
 * config.c: lethe.conf (see config.h, SPEC §3).
 *
 * MUST rules, because allowed_roots bounds everything lethe may destroy:
 *   - every allowed root is absolute and normalised: no "." or ".."
 *     component, no "//", no trailing '/';
 *   - "/" and anything equal to or inside a system directory is refused,
 *     also when the root resolves there through a symbolic link;
 *   - an unknown section or key is an error, never ignored;
 *   - running as root, everything root trusts (this file, state_dir, the
 *     KEK, the signing key, certificate and chain, the sendmail and
 *     tsa_command programs) passes StrictModes (strict.h), or the config
 *     is refused;
 *   - sendmail and tsa_command are split into words here by the rule
 *     spawn_parse runs them with, so `lethe check` reports what `run`
 *     would refuse.
 */
#include "conf/config.h"
#include "conf/rootalias.h"

#include "base/err.h"
#include "base/num.h"
#include "base/spawn.h"
#include "base/text.h"
#include "locate/resolve.h"
#include "conf/iniread.h"
#include "conf/strict.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum key {
	K_STATE_DIR, K_POLICY_DIR, K_ROOTS, K_HOST,
	K_VNAME, K_VCONTACT,
	K_SKEY, K_SCERT, K_SCHAIN, K_TSA, K_TSA_TIMEOUT,
	K_KEK,
	K_SENDMAIL, K_FROM, K_SM_TIMEOUT,
	K_COUNT
};

enum kind { V_PATH, V_ROOTS, V_HOST, V_TEXT, V_EMAIL, V_COMMAND, V_OPTCMD,
    V_SECONDS };

static const struct {
	const char *section, *name;
	enum kind kind;
} keys[K_COUNT] = {
	[K_STATE_DIR] = { "agent", "state_dir", V_PATH },
	[K_POLICY_DIR] = { "agent", "policy_dir", V_PATH },
	[K_ROOTS] = { "agent", "allowed_roots", V_ROOTS },
	[K_HOST] = { "agent", "host", V_HOST },
	[K_VNAME] = { "vendor", "name", V_TEXT },
	[K_VCONTACT] = { "vendor", "contact", V_EMAIL },
	[K_SKEY] = { "signing", "key", V_PATH },
	[K_SCERT] = { "signing", "cert", V_PATH },
	[K_SCHAIN] = { "signing", "chain", V_PATH },
	[K_TSA] = { "signing", "tsa_command", V_OPTCMD },
	[K_TSA_TIMEOUT] = { "signing", "tsa_timeout", V_SECONDS },
	[K_KEK] = { "keys", "kek", V_PATH },
	[K_SENDMAIL] = { "notify", "sendmail", V_COMMAND },
	[K_FROM] = { "notify", "from", V_EMAIL },
	[K_SM_TIMEOUT] = { "notify", "sendmail_timeout", V_SECONDS },
};

static const char *const sections[] = { "agent", "vendor", "signing",
    "keys", "notify" };
#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

/* Directories no allowed root may be, or lie in (SPEC §3). */
static const char *const sysdirs[] = { "/etc", "/usr", "/bin", "/sbin",
    "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/proc", "/sys", "/dev",
    "/run" };

struct cstate {
	struct config *c;
	struct diags *d;
	char *val[K_COUNT];
	int line[K_COUNT];
	int sec_line[NSECTIONS];
	int cur;		/* index into sections, -1 unknown, -2 none */
};

static int
section_index(const char *s)
{
	for (size_t i = 0; i < NSECTIONS; i++)
		if (strcmp(s, sections[i]) == 0)
			return (int)i;
	return -1;
}

static int
on_section(void *arg, const char *file, int line, const char *section)
{
	struct cstate *st = arg;
	const char *near;

	st->cur = section_index(section);
	if (st->cur >= 0) {
		if (st->sec_line[st->cur] == 0)
			st->sec_line[st->cur] = line;
		return 0;
	}
	near = iniread_suggest(section, sections, NSECTIONS);
	if (near != NULL)
		diag_add(st->d, file, line,
		    "unknown section [%s]; did you mean [%s]?", section, near);
	else
		diag_add(st->d, file, line, "unknown section [%s] (known: "
		    "[agent] [vendor] [signing] [keys] [notify])", section);
	return -1;
}

static int
on_key(void *arg, const char *file, int line, const char *section,
    const char *name, const char *value)
{
	struct cstate *st = arg;
	const char *cands[K_COUNT];
	const char *near;
	size_t nc = 0;

	if (st->cur == -1)
		return 0;	/* its unknown section was reported */
	if (st->cur == -2 || *section == '\0') {
		diag_add(st->d, file, line,
		    "key '%s' is outside any section", name);
		return -1;
	}
	for (int k = 0; k < K_COUNT; k++) {
		if (strcmp(keys[k].section, section) != 0)
			continue;
		cands[nc++] = keys[k].name;
		if (strcmp(keys[k].name, name) != 0)
			continue;
		if (st->val[k] != NULL) {
			diag_add(st->d, file, line, "duplicate key '%s' in "
			    "[%s] (first at line %d)", name, section,
			    st->line[k]);
			return -1;
		}
		if ((st->val[k] = strdup(value)) == NULL) {
			diag_add(st->d, file, line, "out of memory");
			return -1;
		}
		st->line[k] = line;
		return 0;
	}
	near = iniread_suggest(name, cands, nc);
	if (near != NULL) {
		diag_add(st->d, file, line, "unknown key '%s' in [%s]; did you "
		    "mean '%s'?", name, section, near);
		return -1;
	}
	for (int k = 0; k < K_COUNT; k++) {
		if (strcmp(keys[k].name, name) == 0) {
			diag_add(st->d, file, line, "unknown key '%s' in [%s]; "
			    "it belongs in [%s]", name, section,
			    keys[k].section);
			return -1;
		}
	}
	diag_add(st->d, file, line, "unknown key '%s' in [%s]", name, section);
	return -1;
}

int
config_valid_email(const char *s)
{
	const char *at, *dot;

	/* An addr-spec of RFC 5322 atoms, ASCII only, that sendmail(8) can
	 * never read as an option. */
	if (s == NULL || *s == '\0' || *s == '-' || strlen(s) > 254)
		return 0;
	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x7f || isspace((unsigned char)*p) ||
		    iscntrl((unsigned char)*p) ||
		    strchr("<>\"(),;:[]\\", *p) != NULL)
			return 0;
	at = strchr(s, '@');
	if (at == NULL || at == s || strchr(at + 1, '@') != NULL)
		return 0;
	dot = strrchr(at + 1, '.');
	if (dot == NULL || dot == at + 1 || dot[1] == '\0' ||
	    strstr(at + 1, "..") != NULL)
		return 0;
	return 1;
}

/* Drops trailing slashes (never the first character). */
static void
strip_slashes(char *p)
{
	size_t n = strlen(p);

	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
}

/* The system directory p is or lies in, or NULL. */
static const char *
system_dir(const char *p)
{
	for (size_t i = 0; i < sizeof(sysdirs) / sizeof(sysdirs[0]); i++) {
		size_t n = strlen(sysdirs[i]);

		if (strncmp(p, sysdirs[i], n) == 0 &&
		    (p[n] == '\0' || p[n] == '/'))
			return sysdirs[i];
	}
	return NULL;
}

/* Whether p (absolute) has a "." or ".." component. */
static int
has_dot_component(const char *p)
{
	while (*p != '\0') {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 1;
		p += n;
	}
	return 0;
}

/* Checks one allowed root (trailing '/' already stripped) and appends it. */
static void
add_root(struct cstate *st, const char *file, int line, char *r)
{
	struct config *c = st->c;
	char resolved[PATH_MAX];
	const char *sys;
	char **v;

	if (r[0] != '/') {
		diag_add(st->d, file, line, "allowed root '%s' is not an "
		    "absolute path", r);
		return;
	}
	if (strcmp(r, "/") == 0) {
		diag_add(st->d, file, line, "allowed root '/' is the whole "
		    "filesystem; name the directories that hold student data");
		return;
	}
	if (strstr(r, "//") != NULL || r[strlen(r) - 1] == '/') {
		diag_add(st->d, file, line, "allowed root '%s' has an empty "
		    "component ('//')", r);
		return;
	}
	if (has_dot_component(r)) {
		diag_add(st->d, file, line, "allowed root '%s' has a '.' or "
		    "'..' component; write it normalised", r);
		return;
	}
	if ((sys = system_dir(r)) != NULL) {
		diag_add(st->d, file, line, "allowed root '%s' %s %s, a system "
		    "directory; lethe never writes or removes there", r,
		    strcmp(r, sys) == 0 ? "is" : "is inside", sys);
		return;
	}
	/* A root reached through a symlink counts where it leads. */
	if (realpath(r, resolved) != NULL && strcmp(resolved, r) != 0) {
		if (strcmp(resolved, "/") == 0) {
			diag_add(st->d, file, line, "allowed root '%s' resolves "
			    "to '/', the whole filesystem", r);
			return;
		}
		if ((sys = system_dir(resolved)) != NULL) {
			diag_add(st->d, file, line, "allowed root '%s' resolves "
			    "to '%s', inside %s, a system directory; lethe "
			    "never writes or removes there", r, resolved, sys);
			return;
		}
	}
	for (size_t i = 0; i < c->nroots; i++) {
		if (strcmp(c->roots[i], r) == 0) {
			diag_warn(st->d, file, line, "allowed root '%s' is "
			    "listed twice", r);
			return;
		}
	}
	v = realloc(c->roots, (c->nroots + 1) * sizeof(*v));
	if (v == NULL) {
		diag_add(st->d, file, line, "out of memory");
		return;
	}
	c->roots = v;
	if ((c->roots[c->nroots] = strdup(r)) == NULL) {
		diag_add(st->d, file, line, "out of memory");
		return;
	}
	c->nroots++;
}

static void
parse_roots(struct cstate *st, const char *file, int line, const char *val)
{
	const char *p = val;
	size_t ntok = 0;
	char *tok;

	while (*p != '\0') {
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, " \t");
		if ((tok = strndup(p, n)) == NULL) {
			diag_add(st->d, file, line, "out of memory");
			return;
		}
		if (n > 1 && tok[n - 1] == '/')
			tok[n - 1] = '\0';	/* one trailing '/' is harmless */
		add_root(st, file, line, tok);
		free(tok);
		ntok++;
		p += n;
	}
	if (ntok == 0)
		diag_add(st->d, file, line, "allowed_roots lists no directory");
}

/* Validates value k and stores it into *out (malloc'd); errors to *d. */
static void
take(struct cstate *st, const char *file, int k, char **out)
{
	const char *v = st->val[k], *name = keys[k].name;
	int line = st->line[k];
	size_t n;

	if (v == NULL)
		return;
	if (*v == '\0') {
		if (keys[k].kind != V_OPTCMD)
			diag_add(st->d, file, line, "%s is empty", name);
		return;
	}
	switch (keys[k].kind) {
	case V_PATH:
		if (v[0] != '/') {
			diag_add(st->d, file, line, "%s must be an absolute "
			    "path, not '%s'", name, v);
			return;
		}
		break;
	case V_COMMAND:
	case V_OPTCMD: {
		struct err e;
		char **argv;

		/* The rule it runs by (spawn.h): no shell. */
		if (spawn_parse(v, name, &argv, &e) != 0) {
			diag_add(st->d, file, line, "%s", e.msg);
			return;
		}
		spawn_argv_free(argv);
		break;
	}
	case V_TEXT: {
		const char *why = text_unsafe(v, 160);
		if (why != NULL) {
			diag_add(st->d, file, line, "%s: %s; it goes into every "
			    "certificate and mail", name, why);
			return;
		}
		break;
	}
	case V_EMAIL:
		if (!config_valid_email(v)) {
			diag_add(st->d, file, line, "%s '%s' is not an e-mail "
			    "address", name, v);
			return;
		}
		break;
	case V_HOST:
		n = strcspn(v, " \t/");
		if (v[n] != '\0' || n > 253) {
			diag_add(st->d, file, line, "host '%s' is not a host "
			    "name", v);
			return;
		}
		break;
	default:
		break;
	}
	if ((*out = strdup(v)) == NULL) {
		diag_add(st->d, file, line, "out of memory");
		return;
	}
	if (keys[k].kind == V_PATH)
		strip_slashes(*out);
}

/* A time limit: N or Ns (seconds) or Nm (minutes), 1 s to 1 hour. */
static void
take_seconds(struct cstate *st, const char *file, int k, int *out)
{
	const char *v = st->val[k];
	char num[16];
	size_t n;
	int64_t x;
	int mul = 1;

	*out = 60;
	if (v == NULL)
		return;
	n = strlen(v);
	if (n > 0 && (v[n - 1] == 's' || v[n - 1] == 'm')) {
		mul = v[n - 1] == 'm' ? 60 : 1;
		n--;
	}
	if (n == 0 || n >= sizeof(num)) {
		x = -1;
	} else {
		memcpy(num, v, n);
		num[n] = '\0';
		if (num_parse(num, 1, 3600, &x) != 0)
			x = -1;
	}
	if (x < 1 || x * mul > 3600) {
		diag_add(st->d, file, st->line[k], "%s '%s' is not a time "
		    "limit from 1s to 60m (e.g. 60s or 2m)", keys[k].name, v);
		return;
	}
	*out = (int)(x * mul);
}

static int
set_default(char **dst, const char *v, struct diags *d, const char *file)
{
	if (*dst != NULL || v == NULL)
		return 0;
	if ((*dst = strdup(v)) == NULL) {
		diag_add(d, file, 0, "out of memory");
		return -1;
	}
	return 0;
}

/* Warns when path p lies in an allowed root (backed up, disposed of). */
static void
warn_inside_root(struct cstate *st, const char *file, int line,
    const char *p, const char *what)
{
	int r = config_root_of(st->c, p);

	if (r >= 0)
		diag_warn(st->d, file, line, "%s: %s is inside allowed root %s",
		    what, p, st->c->roots[r]);
}

/* A secret-key file must not be readable by group or others. */
static void
check_secret_mode(struct cstate *st, const char *file, int line,
    const char *p, const char *what)
{
	struct stat sb;

	if (p == NULL)
		return;
	if (stat(p, &sb) != 0) {
		if (errno == ENOENT && strcmp(what, "the KEK") != 0)
			diag_warn(st->d, file, line, "%s %s does not exist",
			    what, p);
		return;
	}
	if (sb.st_mode & 077)
		diag_add(st->d, file, line, "%s %s is mode %04o; it must be "
		    "0600 or stricter", what, p, (unsigned)(sb.st_mode & 07777));
}

static void
finish(struct cstate *st, const char *file)
{
	struct config *c = st->c;
	char host[256], *kek = NULL;
	int line;

	take(st, file, K_STATE_DIR, &c->state_dir);
	take(st, file, K_POLICY_DIR, &c->policy_dir);
	take(st, file, K_HOST, &c->host);
	take(st, file, K_VNAME, &c->vendor_name);
	take(st, file, K_VCONTACT, &c->vendor_contact);
	take(st, file, K_SKEY, &c->sign_key);
	take(st, file, K_SCERT, &c->sign_cert);
	take(st, file, K_SCHAIN, &c->sign_chain);
	take(st, file, K_TSA, &c->tsa_command);
	take(st, file, K_KEK, &c->kek);
	take(st, file, K_SENDMAIL, &c->sendmail);
	take(st, file, K_FROM, &c->mail_from);
	take_seconds(st, file, K_TSA_TIMEOUT, &c->tsa_timeout);
	take_seconds(st, file, K_SM_TIMEOUT, &c->sendmail_timeout);
	c->line_roots = st->line[K_ROOTS];
	if (st->val[K_ROOTS] != NULL) {
		parse_roots(st, file, st->line[K_ROOTS], st->val[K_ROOTS]);
		(void)rootalias_check((const char *const *)c->roots, c->nroots,
		    file, st->line[K_ROOTS], st->d);
	} else
		diag_add(st->d, file, st->sec_line[0], "allowed_roots is "
		    "required in [agent]: the directories lethe may remove "
		    "files from");

	if (set_default(&c->state_dir, "/var/lib/lethe", st->d, file) != 0 ||
	    set_default(&c->policy_dir, "/etc/lethe/policies.d", st->d,
	    file) != 0 ||
	    set_default(&c->sendmail, "/usr/sbin/sendmail", st->d, file) != 0 ||
	    set_default(&c->mail_from, c->vendor_contact, st->d, file) != 0)
		return;
	if (c->host == NULL) {
		if (gethostname(host, sizeof(host)) != 0)
			strcpy(host, "localhost");
		host[sizeof(host) - 1] = '\0';
		if (set_default(&c->host, host, st->d, file) != 0)
			return;
	}
	if (c->kek == NULL) {
		if (asprintf(&kek, "%s/kek", c->state_dir) < 0) {
			diag_add(st->d, file, 0, "out of memory");
			return;
		}
		c->kek = kek;
	}
	line = st->line[K_KEK] ? st->line[K_KEK] :
	    st->line[K_STATE_DIR] ? st->line[K_STATE_DIR] : c->line_roots;
	warn_inside_root(st, file, line, c->kek,
	    "the KEK must not be inside a backed-up path");
	warn_inside_root(st, file, st->line[K_STATE_DIR] ?
	    st->line[K_STATE_DIR] : c->line_roots, c->state_dir,
	    "state_dir (journal, keys, certificates) should not be inside "
	    "a disposable path");
	check_secret_mode(st, file, st->line[K_SKEY], c->sign_key,
	    "signing key");
	check_secret_mode(st, file, line, c->kek, "the KEK");
	(void)strict_config(c, geteuid(), st->d);
}

int
config_load(const char *path, struct config *c, struct diags *d)
{
	struct cstate st;
	struct stat sb;
	size_t before = diag_errors(d), from = d->n;
	int fd = -1;

	memset(c, 0, sizeof(*c));
	memset(&st, 0, sizeof(st));
	st.c = c;
	st.d = d;
	st.cur = -2;
	if ((c->path = strdup(path)) == NULL) {
		diag_add(d, path, 0, "out of memory");
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1) {
		diag_add(d, path, 0, "cannot open the configuration: %s",
		    strerror(errno));
		goto defaults;
	}
	if (fstat(fd, &sb) != 0) {
		diag_add(d, path, 0, "cannot stat: %s", strerror(errno));
		goto defaults;
	}
	(void)strict_path(path, "the configuration", geteuid(), d);
	(void)strict_stat(path, "the configuration", &sb, geteuid(), d);
	if (iniread_fd(path, fd, on_key, on_section, &st, d) == INIREAD_UNREAD)
		goto defaults;
	c->parsed = 1;
	finish(&st, path);
	iniread_sort_diags(d, from, path);
	goto out;
defaults:
	/* Unreadable: still give the documented defaults, never roots. */
	(void)set_default(&c->state_dir, "/var/lib/lethe", d, path);
	(void)set_default(&c->policy_dir, "/etc/lethe/policies.d", d, path);
out:
	if (fd != -1)
		close(fd);
	for (int k = 0; k < K_COUNT; k++)
		free(st.val[k]);
	return diag_errors(d) == before ? 0 : -1;
}

void
config_free(struct config *c)
{
	free(c->path);
	free(c->state_dir);
	free(c->policy_dir);
	for (size_t i = 0; i < c->nroots; i++)
		free(c->roots[i]);
	free(c->roots);
	free(c->host);
	free(c->vendor_name);
	free(c->vendor_contact);
	free(c->sign_key);
	free(c->sign_cert);
	free(c->sign_chain);
	free(c->tsa_command);
	free(c->kek);
	free(c->sendmail);
	free(c->mail_from);
	memset(c, 0, sizeof(*c));
}

int
config_root_of(const struct config *c, const char *p)
{
	const char *rest;

	if (p == NULL || p[0] != '/' || has_dot_component(p))
		return -1;
	/* One containment rule everywhere: the deepest root, by path
	 * components (resolve.c). */
	return resolve_which_root((const char *const *)c->roots, c->nroots, p,
	    &rest);
}

void
config_roots_list(const struct config *c, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < c->nroots; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? " " : "",
		    c->roots[i]);

		if (n < 0 || (size_t)n >= len - off) {
			if (len >= 4)
				memcpy(buf + len - 4, "...", 4);
			return;
		}
		off += (size_t)n;
	}
	if (c->nroots == 0)
		snprintf(buf, len, "none");
}
