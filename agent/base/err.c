/* err.c: error values and diagnostic lists (see err.h). */
#include "base/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Formats into e->msg (truncated safely). */
static void
err_vset(struct err *e, const char *fmt, va_list ap)
{
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

int
err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	err_vset(e, fmt, ap);
	va_end(ap);
	return -1;
}

int
err_sys(struct err *e, const char *fmt, ...)
{
	int saved = errno;
	size_t len;
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	err_vset(e, fmt, ap);
	va_end(ap);
	len = strlen(e->msg);
	if (len < sizeof(e->msg))
		snprintf(e->msg + len, sizeof(e->msg) - len, ": %s",
		    strerror(saved));
	errno = saved;
	return -1;
}

/* Puts fmt's text and sep before what e->msg says (the whole kept to
 * e->msg's size: the inner message is what is cut). */
static void
err_vprepend(struct err *e, const char *sep, const char *fmt, va_list ap)
{
	char inner[sizeof(e->msg)];
	size_t sl = strlen(sep);
	int n;

	snprintf(inner, sizeof(inner), "%s", e->msg);
	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	if (n >= 0 && (size_t)n + sl < sizeof(e->msg)) {
		size_t off = (size_t)n, room = sizeof(e->msg) - off - sl;
		size_t il = strlen(inner);
		memcpy(e->msg + off, sep, sl);
		off += sl;
		if (il > room - 1)
			il = room - 1;
		memcpy(e->msg + off, inner, il);
		e->msg[off + il] = '\0';
	}
}

int
err_prefix(struct err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vprepend(e, ": ", fmt, ap);
	va_end(ap);
	return -1;
}

int
err_prepend(struct err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vprepend(e, "", fmt, ap);
	va_end(ap);
	return -1;
}

static void
diag_vadd(struct diags *d, int warn, const char *file, int line,
    const char *fmt, va_list ap)
{
	char msg[1024], *s;
	int n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line > 0)
		n = asprintf(&s, "%s:%d: %s%s", file, line,
		    warn ? "warning: " : "", msg);
	else
		n = asprintf(&s, "%s: %s%s", file, warn ? "warning: " : "", msg);
	if (n < 0) {
		fputs("lethe: out of memory\n", stderr);
		exit(2);
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		char **v = realloc(d->v, cap * sizeof(*v));
		if (v == NULL) {
			fputs("lethe: out of memory\n", stderr);
			exit(2);
		}
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = s;
	if (warn)
		d->nwarn++;
}

void
diag_add(struct diags *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(d, 0, file, line, fmt, ap);
	va_end(ap);
}

void
diag_warn(struct diags *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(d, 1, file, line, fmt, ap);
	va_end(ap);
}

size_t
diag_errors(const struct diags *d)
{
	return d->n - d->nwarn;
}

void
diag_free(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i]);
	free(d->v);
	d->v = NULL;
	d->n = d->cap = d->nwarn = 0;
}

int
err_wrap(struct err *e, const char *before, const char *after)
{
	char inner[sizeof(e->msg)];

	snprintf(inner, sizeof(inner), "%s", e->msg);
	snprintf(e->msg, sizeof(e->msg), "%s%s%s", before, inner, after);
	return -1;
}
