/*
 * directive_add.h: recording an Exhibit D directive as received (SPEC §3,
 * §4 `lethe directive add`), below the command layer: its text read and
 * named by its SHA-256, the same text never recorded twice, its copy kept
 * in state_dir/directives/ID.ini before its journal line is written.
 * Validating the form is conf/directive.h's; when it is due is the
 * scheduler's (plan/sched.h).
 */
#ifndef LETHE_DIRECTIVE_ADD_H
#define LETHE_DIRECTIVE_ADD_H

#include <stddef.h>

struct config;
struct directive;
struct err;
struct events;
struct journal;

#define DIRECTIVE_MAX 65536	/* bytes: a directive is a short form */

/* A directive's text as received, and the SHA-256 (hex) that names it. */
struct directive_text {
	char *buf;
	size_t len;
	char sha256[65];
};

/* Reads path (at most DIRECTIVE_MAX bytes).  Returns 0, or -1 with *e
 * set.  *t is freeable either way. */
int directive_add_read(const char *path, struct directive_text *t,
    struct err *e);
/* Frees t's text. */
void directive_add_text_free(struct directive_text *t);

/* Returned by directive_add_record when the same text is recorded. */
#define DIRECTIVE_ADD_DUP 1

/* Records directive dv, whose text is t, by `by`: the caller holds the
 * state lock and j's journal lock, and ev was replayed under them.  When
 * the same text was recorded already, returns DIRECTIVE_ADD_DUP with its
 * id in id.  Else the next directive id goes into id (16 bytes), the text
 * is kept (0600, durable) as state_dir/directives/ID.ini, and then the
 * directive-add line is journaled, with forced=received-in-future when
 * forced (a received date in the future let through).  Returns 0, or -1
 * with *e set (nothing journaled). */
int directive_add_record(const struct config *c, struct journal *j,
    const struct events *ev, const struct directive *dv,
    const struct directive_text *t, const char *by, int forced, char *id,
    struct err *e);

#endif
