/*
 * journal_int.h: what journal.c (the line format), journal_read.c (the
 * readers) and journal_write.c (the appending handle) share.  Not for
 * other modules.
 */
#ifndef LETHE_JOURNAL_INT_H
#define LETHE_JOURNAL_INT_H

#include <stddef.h>
#include <stdint.h>

struct err;
struct jrec;
struct strbuf;

#define JOURNAL_MAX_LINE 65536	/* bytes of one line, newline included */
#define JOURNAL_ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"

/* [a-z0-9-]+ (with allow_underscore, also '_'): event and field names. */
int jr_is_word(const char *s, int allow_underscore);
/* 64 lowercase hex digits. */
int jr_is_hash(const char *s, size_t len);
/* out = hex SHA-256 of prev + " " + text[0..len).  Returns 0 or -1. */
int jr_chain_hash(const char *prev, const char *text, size_t len,
    char out[65]);
/* Appends v percent-encoded: '%', '=', and bytes outside 0x21..0x7e. */
void jr_encode(struct strbuf *b, const char *v);
/* Parses raw (one line without its newline) into *r, using work (at least
 * strlen(raw) + 1 bytes) for the decoded tokens.  Checks the form only,
 * not the chain.  Returns 0, or -1 with *e naming path:lineno. */
int jr_parse_line(const char *raw, char *work, struct jrec *r,
    const char *path, uint64_t lineno, struct err *e);
/* flock(fd, op) waiting at most JOURNAL_LOCK_WAIT seconds.  Returns 0, or
 * -1 with *e naming path. */
int jr_flock(int fd, int op, const char *path, struct err *e);

#endif
