/*
 * checkpoint.h: signed journal checkpoints (SPEC §9), and the trust gate
 * every command that writes state passes first.
 *
 * state_dir/checkpoint is the text
 *     seq N
 *     head HEX
 *     time 2026-11-23T09:00:00Z
 * (the journal's sequence number and that line's hash, and when), and
 * state_dir/checkpoint.p7s its CMS detached signature, made like a
 * certificate's, so stock openssl verifies it:
 *   openssl cms -verify -binary -inform PEM -in checkpoint.p7s \
 *       -content checkpoint -CAfile ca.pem -out /dev/null
 */
#ifndef LETHE_CHECKPOINT_H
#define LETHE_CHECKPOINT_H

#include <stdint.h>
#include <time.h>

struct err;
struct journal;
struct signer;

/* Signs (seq, head, now) and writes state_dir/checkpoint.next, then
 * state_dir/checkpoint.p7s, then renames checkpoint.next to checkpoint,
 * each durably (0644); a crash between the steps leaves a pair that
 * checkpoint_verify still accepts (see checkpoint.c).  head is 64
 * lowercase hex digits (64 '0's with seq 0, an empty journal).  The
 * caller holds the journal lock (journal_lock), so checkpoints are
 * written one at a time and never read half-written.  Returns 0, or -1
 * with *e set. */
int checkpoint_write(const char *state_dir, uint64_t seq, const char *head,
    const struct signer *s, struct err *e);

struct checkpoint_report {
	uint64_t seq;		/* the checkpoint's sequence number */
	char head[65];
	time_t time;		/* when it was written */
	char signer[256];	/* the signer's subject */
	uint64_t journal_seq;	/* the journal's last sequence number */
	uint64_t unsealed;	/* lines written after the checkpoint */
};

/* Verifies the checkpoint: its signature and chain against cafile as of
 * its own time, its form, and that the journal's line seq exists with
 * exactly that hash (the chain from line 1 checked up to the end).  Lines
 * after seq are "not yet sealed" (r->unsealed).  Returns 0 when good, 1
 * when there is no checkpoint yet (both files absent), or -1 with *e
 * saying what is wrong (a forged or mismatched checkpoint, a broken
 * journal).  *r is filled as far as it got. */
int checkpoint_verify(const char *state_dir, const char *cafile,
    struct checkpoint_report *r, struct err *e);

/* What the trust gate found. */
enum gate_state {
	GATE_OK,		/* trusted */
	GATE_NO_CHECKPOINT,	/* runs recorded (or seen in state_dir), no
				 * checkpoint: tampered */
	GATE_FORGED,		/* the checkpoint's signature or form is bad */
	GATE_MISMATCH,		/* the journal's line seq is not the one signed */
	GATE_SHORT,		/* the journal has no line seq: lines removed */
	GATE_UNSEALED,		/* after the checkpoint, a record that lifts
				 * protection or adds a trigger, never sealed */
	GATE_BROKEN,		/* the chain itself is broken (journal verify) */
	GATE_ERROR,		/* could not check (unreadable, no CA) */
};

struct gate_report {
	int state;		/* enum gate_state */
	uint64_t lines;		/* complete journal lines */
	char head[65];		/* the journal's head */
	int have_ckpt;		/* a checkpoint was found and its signature good */
	uint64_t seq;		/* the checkpoint's seq (0 if none) */
	char expected[65];	/* the checkpoint's head ("" if none) */
	char found[65];		/* the journal's hash at seq ("" if no line) */
	time_t ckpt_time;	/* -1 if none */
	char signer[256];
	uint64_t unsealed;	/* lines after the checkpoint */
	uint64_t run_line;	/* first line only a run writes, 0 if none */
	char run_event[32];	/* its event */
	uint64_t lift_line;	/* first unsealed line that lifts protection
				 * or adds a trigger, 0 if none */
	char lift_event[32];	/* its event */
};

/* The trust gate (SPEC §9 "Trusted only as far as signed"), one function
 * for every command that writes state: the journal's chain must be intact
 * from line 1, and the last signed checkpoint (signature and chain to
 * cafile as of its own time) must be the journal's line at its sequence
 * number.  A journal that records a run (any event beyond the admin's own
 * records) without a checkpoint counts as tampered, and so does one
 * without a checkpoint beside certificates or disposition records in
 * state_dir.  An empty or absent journal without a checkpoint is trusted.
 * With j (open, and locked by the caller with journal_lock) it reads under
 * that lock; with j NULL it takes a shared lock itself.  Fills *g in every
 * case.  Returns 0 when trusted, or -1 with *e saying exactly what does
 * not match (the line, the hash expected and the one found). */
int checkpoint_gate(const char *state_dir, const char *cafile,
    struct journal *j, struct gate_report *g, struct err *e);
/* "mismatch", "short", "no-checkpoint", "forged", "broken", "error", "ok". */
const char *checkpoint_gate_name(int state);

#endif
