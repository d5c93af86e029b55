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
 *
 * Several processes may append (a `lethe hold` while a run is going on):
 * every append happens under a short exclusive flock(2) on the journal
 * itself, and every appender first reads, checks and chains to whatever
 * the others appended since it last looked (journal_write.c).
 *
 * A torn last line (a short write: ENOSPC, EIO, a kill mid-write) is a
 * line without its newline.  Readers skip it (an intent whose line never
 * completed was never acted on, since journal_append reported the failure
 * to its caller); the next writer to open the journal removes it and
 * journals a `journal-repair` event with the byte count it removed.
 */
#ifndef LETHE_JOURNAL_H
#define LETHE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "base/strbuf.h"

struct err;

struct jfield {
	const char *key;
	const char *val;
};

struct journal {
	int fd;			/* O_RDWR|O_APPEND, -1 when closed */
	uint64_t seq;		/* last sequence number in the file, as far as
				 * this handle has read it; 0 if empty */
	char head[65];		/* hash of that line, or 64 '0's */
	char *path;
	off_t end;		/* bytes of complete, checked lines read */
	int locked;		/* depth of journal_lock() */
	int collect;		/* keep others' lines for journal_sync */
	struct strbuf pending;	/* others' lines not yet given to journal_sync */
	uint64_t repaired;	/* bytes of torn last lines this handle removed */
};

/* Opens (creating 0600 if missing) state_dir/journal for appending, reads
 * and checks every line (form, sequence, hash chain) to learn seq and
 * head, and repairs a torn last line (see above; j->repaired says how many
 * bytes went).  Refuses a journal with a broken chain, naming the line.
 * Returns 0, or -1 with *e set. */
int journal_open(const char *state_dir, struct journal *j, struct err *e);
/* Appends one event with one write(2) and fsyncs before returning, so a
 * journaled intent is on disk before the destructive step it announces.
 * Takes the journal lock for the append (or nests in the caller's), and
 * first chains to lines others appended (kept for journal_sync).  Returns
 * 0, or -1 with *e set: then the caller must not act on the event; after a
 * short write the handle is closed (a torn line is never followed by
 * another through it), and the next journal_open repairs the line. */
int journal_append(struct journal *j, const char *event,
    const struct jfield *f, size_t nf, struct err *e);
/* printf-style helper: fields as alternating key, value strings ending in
 * NULL.  journal_appendv(j, e, "terminate", "agreement", id, NULL). */
int journal_appendv(struct journal *j, struct err *e, const char *event, ...)
    __attribute__((sentinel));
/* Takes the exclusive journal lock (waiting at most JOURNAL_LOCK_WAIT
 * seconds for another appender) and reads what others appended, so that
 * j->seq and j->head are the file's true end until journal_unlock: nobody
 * else appends meanwhile.  Nests.  Hold it only briefly (a hold waits on
 * it).  Returns 0, or -1 with *e set (not locked then). */
int journal_lock(struct journal *j, struct err *e);
void journal_unlock(struct journal *j);
/* Learns of events others appended since journal_open (a `lethe hold`
 * during a run): reads up to the end under the lock, then, with the lock
 * released, calls fn for each such line in order, each exactly once (fn
 * returns 0 to go on, -1 to stop with its own error in *e).  Lines this
 * handle wrote are not passed.  Returns 0, or -1 with *e set; after -1 the
 * lines not yet passed are dropped, so the caller must replay the journal
 * (events_load) before relying on what it knows.  A run calls it before
 * each destructive step with events_apply as fn (see events.h). */
struct jrec;
int journal_sync(struct journal *j, int (*fn)(const struct jrec *r,
    void *arg), void *arg, struct err *e);
void journal_close(struct journal *j);

#define JOURNAL_LOCK_WAIT 30	/* seconds */

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
 * calls fn for each complete line (fn returns 0 to go on, -1 to stop with
 * its own error in *e).  A missing journal is an empty one; a torn last
 * line is skipped (see above).  Takes no lock.  Returns 0, or -1 with *e
 * naming the first bad line ("journal:17: hash chain broken"). */
int journal_read(const char *state_dir,
    int (*fn)(const struct jrec *r, void *arg), void *arg, struct err *e);

/* What journal_verify found. */
struct journal_report {
	uint64_t lines;		/* complete, well-formed lines read in chain order */
	uint64_t bad_line;	/* first line that breaks the journal, 0 if none */
	uint64_t seq;		/* sequence number of the last good line */
	char head[65];		/* hash of the last good line, or 64 '0's */
	uint64_t torn;		/* bytes of a torn last line (skipped), 0 if none */
	int read_errno;		/* nonzero: the journal could not be read at all
				 * (EACCES...): not a broken journal */
	uint64_t ckpt_line;	/* line of the last "checkpoint" event, 0 if none */
	uint64_t ckpt_seq;	/* that event's seq= value */
	char ckpt_head[65];	/* that event's head= value ("" if none) */
};

/* Reads the whole journal checking every line: its form, that SEQ is the
 * previous line's plus one, that TIME parses, and the hash chain; so an
 * edited, removed, reordered or inserted line is found, and a torn last
 * line is reported in r->torn.  Holds a shared journal lock while it
 * reads, so it never mistakes a line being written for a torn one.  Fills
 * *r in every case (r->bad_line names the first bad line, r->read_errno a
 * file that cannot be read).  Returns 0 when intact (a missing journal is
 * an empty, intact one), or -1 with *e naming the line
 * ("/var/lib/lethe/journal:17: hash chain broken ...") or the error. */
int journal_verify(const char *state_dir, struct journal_report *r,
    struct err *e);
/* The same as journal_read, also filling *r (lines, seq, head, torn). */
int journal_scan(const char *state_dir,
    int (*fn)(const struct jrec *r, void *arg), void *arg,
    struct journal_report *r, struct err *e);
/* The hash of line seq (head[] gets 64 hex digits and a NUL), after
 * checking the chain from line 1 up to it: what a signed checkpoint
 * (seq, head) must match.  Returns 0, or -1 with *e set when the chain is
 * broken at or before seq or the journal has no such line. */
int journal_hash_at(const char *state_dir, uint64_t seq, char head[65],
    struct err *e);
/* A shared journal lock for a reader that must see the journal and the
 * checkpoint files as one (no checkpoint is written while it is held):
 * *fd = -1 when there is no journal.  Never call it while this process
 * holds journal_lock.  Returns 0, or -1 with *e set. */
int journal_share(const char *state_dir, int *fd, struct err *e);
void journal_unshare(int fd);

#endif
