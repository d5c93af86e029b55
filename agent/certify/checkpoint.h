/*
 * checkpoint.h: signed journal checkpoints (SPEC §9).
 *
 * state_dir/checkpoint is the text
 *     seq N
 *     head HEX
 *     time 2026-11-23T09:00:00Z
 * (the journal's last sequence number and its line hash when the run
 * ended, and when), and state_dir/checkpoint.p7s its CMS detached
 * signature, made like a certificate's, so stock openssl verifies it:
 *   openssl cms -verify -binary -inform PEM -in checkpoint.p7s \
 *       -content checkpoint -CAfile ca.pem -out /dev/null
 */
#ifndef LETHE_CHECKPOINT_H
#define LETHE_CHECKPOINT_H

#include <stdint.h>
#include <time.h>

struct err;
struct signer;

/* Signs (seq, head, now) and writes state_dir/checkpoint.p7s then
 * state_dir/checkpoint, each durably (0644).  head is 64 lowercase hex
 * digits (64 '0's with seq 0, an empty journal).  Returns 0, or -1 with
 * *e set. */
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

#endif
