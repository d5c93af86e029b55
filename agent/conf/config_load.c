/*
 * config_load.c: reading lethe.conf (see config.h, SPEC §3); allowed_roots
 * are checked by roots.c.
 *
 * MUST rules:
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
#include "conf/roots.h"

#include "base/err.h"
#include "base/num.h"
#include "base/spawn.h"
#include "base/text.h"
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

/* Drops trailing slashes (never the first character). */
static void
strip_slashes(char *p)
{
	size_t n = strlen(p);

	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
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
		roots_parse(st->val[K_ROOTS], &c->roots, &c->nroots, st->d,
		    file, st->line[K_ROOTS]);
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

