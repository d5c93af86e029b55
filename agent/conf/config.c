/*
 * config.c: lethe.conf (see config.h, SPEC §3): what a loaded config
 * answers (is a path inside an allowed root, the roots for messages,
 * e-mail addresses).  Loading is config_load.c, allowed_roots roots.c.
 */
#include "conf/config.h"

#include "conf/roots.h"
#include "locate/resolve.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

	if (p == NULL || p[0] != '/' || roots_has_dot(p))
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
