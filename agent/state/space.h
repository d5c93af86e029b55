/*
 * space.h: is there room in state_dir for what a disposition will journal
 * and record?  Checked before a disposition begins, so the common case of
 * a full state disk never tears a journal line mid-disposition (SPEC §9;
 * a torn tail is still repaired on the next open when it happens).
 */
#ifndef LETHE_SPACE_H
#define LETHE_SPACE_H

#include <stdint.h>

struct err;

/* What a disposition needs at least, whatever its size: journal lines,
 * its record, the certificate, its signature and the outbox message. */
#define STATE_SPACE_RESERVE ((uint64_t)1 << 20)	/* 1 MiB */
/* And per file destroyed: its intent and outcome lines in the journal
 * (about 350 bytes), its row in the manifest and the names file. */
#define STATE_SPACE_PER_FILE 600

/* The space to ask for before destroying nfiles files (nfiles unknown: 0,
 * the reserve alone). */
uint64_t state_space_need(uint64_t nfiles);
/* Whether the filesystem holding state_dir has need bytes free for an
 * unprivileged writer (statvfs f_bavail: the root reserve is kept for the
 * repair of a torn line and the final checkpoint).  Returns 0 when it
 * has, or -1 with *e saying how much is free and how much is needed. */
int state_space_ok(const char *state_dir, uint64_t need, struct err *e);

#endif
