/*
 * msglog.h: what the journal says about the outbox's messages (SPEC §8
 * "Delivery": each queued message's digest is recorded, and checked before
 * it is sent and before any manifest copy is sanitized).
 *
 * The journal is the trusted record; the outbox is only storage.  Queueing
 * a message first journals
 *     message-queued id=STEM msgid=<...> sha256=HEX bytes=N manifest=yes|no
 * (STEM: the message's file stem, ID or ID+rN; manifest: whether it carries
 * the certificate's manifest), then writes the file.  The latest line for a
 * stem counts: a damaged or lost message rebuilt is queued again under the
 * same stem.  A notice superseded by a newer one is journaled as
 *     message-withdrawn id=STEM reason=TEXT
 * A message is accepted when a delivery-attempt line with ok=yes names its
 * msgid; once accepted, the vendor's copies of the manifest it carried are
 * sanitized and that is journaled as
 *     manifest-sanitized cert=ID msg=STEM
 * (lines of an older lethe have no msg=).  Nothing here writes a file.
 */
#ifndef LETHE_MSGLOG_H
#define LETHE_MSGLOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct err;
struct journal;

struct msglog_rec {
	char *stem;		/* ID or ID+rN */
	char *msgid;		/* "<...>" */
	char sha256[65];	/* of the whole message file */
	uint64_t bytes;
	int manifest;		/* carries the certificate's manifest */
	time_t queued;
	int withdrawn;		/* a message-withdrawn line came after it */
};

struct msglog_acc {
	char *msgid;
	time_t at;
};

struct msglog_san {
	char *cert;
	char *msg;		/* stem of the accepted message, or NULL */
	time_t at;
};

struct msglog {
	struct msglog_rec *rec;	/* the latest line per stem, in journal order */
	size_t nrec;
	struct msglog_acc *acc;	/* accepted Message-IDs */
	size_t nacc;
	struct msglog_san *san;	/* manifest-sanitized lines */
	size_t nsan;
};

/* Replays state_dir/journal (chain checked) into *lg.  Returns 0, or -1
 * with *e set; *lg is always freeable with msglog_free. */
int msglog_load(const char *state_dir, struct msglog *lg, struct err *e);
void msglog_free(struct msglog *lg);

/* The latest record of stem, or NULL when it was never journaled. */
const struct msglog_rec *msglog_find(const struct msglog *lg,
    const char *stem);
/* 1 (with *at, if not NULL) when a delivery attempt with msgid was
 * accepted, else 0. */
int msglog_accepted(const struct msglog *lg, const char *msgid, time_t *at);
/* The latest manifest-sanitized line of certificate cert, or NULL. */
const struct msglog_san *msglog_sanitized(const struct msglog *lg,
    const char *cert);

/* Journals message-queued for msg (len bytes, a message mime_build made:
 * its Message-ID is read from it) about to be queued as stem.  Returns 0,
 * or -1 with *e set. */
int msglog_record(struct journal *j, const char *stem, const char *msg,
    size_t len, int manifest, struct err *e);
/* Journals message-withdrawn for stem.  Returns 0, or -1 with *e set. */
int msglog_withdraw(struct journal *j, const char *stem, const char *reason,
    struct err *e);

/* Reads all of fd (a queued message, from offset 0) and checks it against
 * rec: its size, then its SHA-256.  With copy not NULL, what was read goes
 * into a new sealed memory file, returned in *copy at offset 0, so that
 * what is later sent is exactly what was checked.  Returns 1 when it
 * matches, 0 when it does not (why says how: "truncated: 300 of 5120
 * bytes", "changed: its SHA-256 is not the one journaled"), -1 with *e
 * set when it cannot be read. */
int msglog_check(int fd, const struct msglog_rec *rec, int *copy,
    char *why, size_t whysz, struct err *e);

#endif
