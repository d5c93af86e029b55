/*
 * journal.h: the append-only, hash-chained audit journal (SPEC §9).
 *
 * state_dir/journal is text, one event per line:
 *     SEQ TIME EVENT KEY=VALUE ... HASH
 * SEQ counts from 1; TIME is UTC ISO 8601 ("2026-11-23T09:00:00Z"); EVENT
 * is a word like "terminate"; values are percent-encoded (%XX for '%',
 * '=', space, and bytes outside 0x21..0x7e) so a line never holds a blank
 * inside a value.  HASH is the lowercase hex SHA-256 of
 *     (previous line's HASH, or 64 '0's for line 1) + " " + the line's text
 *     up to and excluding the space before HASH.
 * No student data ever goes in: no file names or paths below a dataset
 * root (SPEC §8); callers pass counts, sizes, digests and policy names.
 */
#ifndef LETHE_JOURNAL_H
#define LETHE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct err;

struct jfield {
	const char *key;
	const char *val;
};

struct journal {
	int fd;			/* O_APPEND, -1 when closed */
	uint64_t seq;		/* last written sequence number, 0 if empty */
	char head[65];		/* hash of the last line, or 64 '0's */
	char *path;
};

/* Opens (creating 0600 if missing) state_dir/journal for appending and
 * reads its last line to learn seq and head; refuses a journal whose last
 * line does not parse.  Returns 0, or -1 with *e set. */
int journal_open(const char *state_dir, struct journal *j, struct err *e);
/* Appends one event with one write(2) and fsyncs before returning, so a
 * journaled intent is on disk before the destructive step it announces.
 * Returns 0, or -1 with *e set (nothing or a partial line was written; the
 * next journal_open repairs a torn last line by refusing it). */
int journal_append(struct journal *j, const char *event,
    const struct jfield *f, size_t nf, struct err *e);
/* printf-style helper: fields as alternating key, value strings ending in
 * NULL.  journal_appendv(j, e, "terminate", "agreement", id, NULL). */
int journal_appendv(struct journal *j, struct err *e, const char *event, ...)
    __attribute__((sentinel));
void journal_close(struct journal *j);

/* One parsed line, valid during the callback only. */
struct jrec {
	uint64_t seq;
	time_t time;
	const char *event;
	size_t nf;
	struct jfield f[32];	/* decoded values */
	char hash[65];
	const char *text;	/* the raw line, without newline */
};
/* Value of key in r, or NULL. */
const char *jrec_get(const struct jrec *r, const char *key);

/* Reads state_dir/journal in order, checking the chain as it goes, and
 * calls fn for each line (fn returns 0 to go on, -1 to stop with its own
 * error in *e).  A missing journal is an empty one.  Returns 0, or -1 with
 * *e naming the first bad line ("journal:17: hash chain broken"). */
int journal_read(const char *state_dir,
    int (*fn)(const struct jrec *r, void *arg), void *arg, struct err *e);

/* What journal_verify found. */
struct journal_report {
	uint64_t lines;		/* complete, well-formed lines read in chain order */
	uint64_t bad_line;	/* first line that breaks the journal, 0 if none */
	uint64_t seq;		/* sequence number of the last good line */
	char head[65];		/* hash of the last good line, or 64 '0's */
	uint64_t ckpt_line;	/* line of the last "checkpoint" event, 0 if none */
	uint64_t ckpt_seq;	/* that event's seq= value */
	char ckpt_head[65];	/* that event's head= value ("" if none) */
};

/* Reads the whole journal checking every line: its form, that SEQ is the
 * previous line's plus one, that TIME parses, and the hash chain; so an
 * edited, removed, reordered, inserted or torn line is found.  Fills *r in
 * every case (r->bad_line names the first bad line).  Returns 0 when intact
 * (a missing journal is an empty, intact one), or -1 with *e naming the
 * line ("/var/lib/lethe/journal:17: hash chain broken ..."). */
int journal_verify(const char *state_dir, struct journal_report *r,
    struct err *e);
/* The hash of line seq (head[] gets 64 hex digits and a NUL), after
 * checking the chain from line 1 up to it: what a signed checkpoint
 * (seq, head) must match.  Returns 0, or -1 with *e set when the chain is
 * broken at or before seq or the journal has no such line. */
int journal_hash_at(const char *state_dir, uint64_t seq, char head[65],
    struct err *e);

#endif
