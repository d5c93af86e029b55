/*
 * config.h: lethe.conf (SPEC §3).  Loading validates everything `lethe
 * check` reports; a config with any error is never used to act.
 */
#ifndef LETHE_CONFIG_H
#define LETHE_CONFIG_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct diags;

struct config {
	char *path;		/* the file it came from */
	char *state_dir;	/* default /var/lib/lethe */
	char *policy_dir;	/* default /etc/lethe/policies.d */
	char **roots;		/* allowed_roots: absolute, normalised, no trailing '/' */
	size_t nroots;
	char *host;		/* default gethostname() */
	char *vendor_name, *vendor_contact;
	char *sign_key, *sign_cert, *sign_chain;	/* may be NULL */
	char *tsa_command;	/* NULL when unset or empty (spawn.h syntax) */
	int tsa_timeout;	/* seconds, default 60 */
	char *kek;		/* default state_dir/kek */
	char *sendmail;		/* default /usr/sbin/sendmail (spawn.h syntax) */
	int sendmail_timeout;	/* seconds, default 60 */
	char *mail_from;	/* default vendor_contact */
	int line_roots;		/* line of allowed_roots, for later diagnostics */
	int parsed;		/* the file was read (even if it had errors) */
};

/* Parses path into *c, adding every problem to *d as FILE:LINE: message
 * (unknown sections and keys, bad values, allowed_roots that are "/" or
 * lie in a system directory, relative paths, over-long lines, a sendmail
 * or tsa_command that spawn_parse refuses, and, when running as root, a
 * StrictModes violation (strict.h) of this file, state_dir, the KEK, the
 * signing key, certificate and chain, or the sendmail or tsa_command
 * program, each as "PATH: why").  Returns 0 when *d gained no errors,
 * else -1.  *c is always freeable. */
int config_load(const char *path, struct config *c, struct diags *d);
void config_free(struct config *c);
/* Whether s is an address certificates can be sent to: a plain RFC 5322
 * addr-spec (local@domain.tld) in ASCII, with no blanks, quotes or angle
 * brackets, that does not start with '-' (sendmail would read an
 * option).  1 or 0. */
int config_valid_email(const char *s);
/* The allowed roots, blank-separated, into buf (cut with "..." when they
 * do not fit), for messages that must say what the roots are. */
void config_roots_list(const struct config *c, char *buf, size_t len);
/* Index of the allowed root that holds the absolute path p: the deepest
 * one, by path components (resolve_which_root, the one containment rule);
 * a path with "." or ".." components is never inside.  Or -1. */
int config_root_of(const struct config *c, const char *p);

#endif
