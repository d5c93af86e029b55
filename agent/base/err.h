/*
 * err.h: the one error value every module fills and only the command layer
 * prints.  A message names the thing it is about (file:line, agreement,
 * dataset or path), so the caller never has to add context it lacks.
 */
#ifndef LETHE_ERR_H
#define LETHE_ERR_H

#include <stddef.h>

struct err {
	char msg[1024];
};

/* Sets e->msg from fmt (truncated safely).  Always returns -1, so
 * `return err_set(e, "...")` is the usual failure exit. */
int err_set(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Like err_set, appending ": strerror(errno)" (errno as it was on entry). */
int err_sys(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes e->msg with fmt and ": " ("dataset x: " + what it said), for
 * a caller that knows the context the callee did not.  Returns -1. */
int err_prefix(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same without the ": " ("DIR/" + "NAME: what it said").  Returns -1. */
int err_prepend(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Puts before and after around e->msg (truncated safely), for a caller
 * whose words go on both sides of what the callee said: "... (" + msg +
 * "); nothing was done".  Returns -1. */
int err_wrap(struct err *e, const char *before, const char *after);

/* A list of diagnostics, "FILE:LINE: message" each, for `lethe check` and
 * every loader that must report all problems rather than the first. */
struct diags {
	char **v;
	size_t n, cap;
	size_t nwarn;	/* how many of v are warnings (prefixed "warning: ") */
};

/* Adds "FILE:LINE: message" (line 0: "FILE: message").  Never fails: on
 * allocation failure the process exits, as an unreported problem would be
 * worse than a crash. */
void diag_add(struct diags *d, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Same, as a warning: reported, but does not make the input invalid. */
void diag_warn(struct diags *d, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Number of errors (not warnings). */
size_t diag_errors(const struct diags *d);
void diag_free(struct diags *d);

#endif
