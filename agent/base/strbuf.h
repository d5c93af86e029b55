/*
 * strbuf.h: the one growable, NUL-terminated text buffer (certificates,
 * mail, journal lines, records).  An allocation failure is remembered in
 * oom and every later append is a no-op, so callers check once at the end.
 */
#ifndef LETHE_STRBUF_H
#define LETHE_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *p;	/* NULL until the first append, then NUL-terminated */
	size_t len, cap;
	int oom;	/* an append failed: the text is incomplete */
};

void strbuf_add(struct strbuf *b, const void *s, size_t n);
void strbuf_puts(struct strbuf *b, const char *s);
void strbuf_printf(struct strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* snprintf into a fixed buffer where an over-long result is cut and ends
 * in "...", never silently (journal details, display text). */
void strbuf_fit(char *out, size_t sz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Hands the text over: *out (malloc'd, NUL-terminated; the caller frees
 * it) and its length *len; b is then empty.  Returns 0, or -1 when an
 * append failed (b->oom): the incomplete text is freed and *out is NULL. */
int strbuf_take(struct strbuf *b, char **out, size_t *len);
/* Frees the text (not cleansed: use OPENSSL_cleanse first for secrets). */
void strbuf_free(struct strbuf *b);

#endif
