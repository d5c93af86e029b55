/*
 * ow_int.h: what the files of the overwrite engine share (overwrite.c, the
 * entry points and the checks; ow_batch.c, batches; ow_pass.c, the data
 * pass; ow_verify.c, its read-back; ow_name.c, name removal).  Not for
 * other modules: overwrite.h is the contract.
 */
#ifndef LETHE_OW_INT_H
#define LETHE_OW_INT_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "locate/media.h"
#include "sanitize/aesctr.h"
#include "sanitize/overwrite.h"
#include "sanitize/span.h"

struct err;

#define CHUNK ((size_t)8 << 20)	/* bytes per read/write: device speed */
#define NBUF 3			/* chunks read ahead of the writer */
#define VUNIT ((size_t)1 << 20)	/* unit of sampled verification */
#define VMIN 16			/* units always checked when sampling */
#define ALIGN 4096		/* O_DIRECT-safe alignment */
#define GROW_ROUNDS 8		/* re-passes over a file being appended to */
#define DIRECT_MIN ((uint64_t)1 << 20)	/* smaller files: buffered pass */

struct pass {
	int fd;
	const char *label;
	const struct ow_opts *o;
	struct ow_result *r;
	struct err *e;
	unsigned char *rbuf[NBUF];	/* bufsz each, ALIGN-aligned */
	unsigned char *pbuf;		/* the pattern, bufsz */
	size_t bufsz;
	int direct;			/* fd is O_DIRECT for the pass */
	struct aesctr ctr;
	int random;
	uint64_t done;
};

/* One file's overwrite, in steps, so that a batch can make many files
 * durable at once between writing and reading back.  Buffers live only
 * within a step: a batch holds no file's buffers but the one being
 * worked on. */
struct ow_work {
	struct pass p;
	struct stat st;			/* as checked before the first write */
	struct extents before;		/* the blocks it had */
	struct spans sp;		/* what is written: never the holes */
	int mapped;			/* before is valid */
	uint64_t end;			/* the size written up to */
};

/* overwrite.c: opens dirfd/name for overwrite: regular files only, never
 * following a link, never blocking; explains the refusals a person can act
 * on.  The fd, or -1 with *e set. */
int ow_open_regular(int dirfd, const char *name, const char *label,
    const struct ow_opts *o, struct err *e);
/* overwrite.c: everything that must hold before the first write, checked
 * on the open fd (*st gets its fstat).  0, or -1 with *e set. */
int ow_check_fd(int fd, const char *label, const struct ow_opts *o,
    struct stat *st, struct err *e);

/* Before step 1, for a small file: starts reading it in the background. */
void ow_work_prefetch(struct ow_work *w);
/* Step 1: maps the file, refuses shared blocks, and overwrites every span
 * with the pattern while hashing the content it had (w->p.r->sha256).
 * Nothing is made durable.  0, or -1 with w->p.e set. */
int ow_work_write(struct ow_work *w);
/* Step 2: once the writes are on the device (synced: the caller made them
 * so for many files at once; else fdatasync here), overwrites whatever the
 * file grew by meanwhile, and checks its blocks stayed where they were.
 * 0, or -1. */
int ow_work_settle(struct ow_work *w, int synced);
/* Step 3 (ow_verify.c): reads what was written back from the device and
 * compares it with the pattern (all of it, or a NIST-style sample).  0,
 * or -1. */
int ow_work_verify(struct ow_work *w);
/* Frees what the steps kept (the map, the spans, the pattern key). */
void ow_work_free(struct ow_work *w);

/* What the read-back shares with the pass (ow_pass.c). */
/* Buffers for a pass over total bytes: up to CHUNK each, ALIGN-aligned,
 * the pattern buffer zeroed.  0, or -1 with p->e set. */
int ow_bufs_alloc(struct pass *p, uint64_t total);
void ow_bufs_free(struct pass *p);
/* The pattern bytes for [off, off+n) into p->pbuf (zeros stay zeros).
 * 0, or -1 with p->e set. */
int ow_pattern_at(struct pass *p, uint64_t off, size_t n);
/* pread until n bytes or the end of the file, which under O_DIRECT may
 * also be a read ending at an unaligned offset.  The count, or -1. */
ssize_t ow_pread(int fd, void *buf, size_t n, off_t off);

/* ow_name.c */
/* A uniform random number below n (n > 0). */
uint64_t ow_rand_below(uint64_t n);
/* Scrubs and removes the file's extended attributes (user.* and trusted.*
 * values zeroed first).  0, or -1 with *e set. */
int ow_strip_xattrs(int fd, const char *label, struct err *e);
/* Whether dirfd/name is still the inode want. */
int ow_same_inode(int dirfd, const char *name, const struct stat *want);
/* A fresh random name of name's length, free in dirfd, into out
 * (NAME_MAX + 1).  0, or -1 with *e set. */
int ow_pick_name(int dirfd, const char *name, const char *label, char *out,
    struct err *e);
/* Renames dirfd/name to the free name out (never replacing anything).
 * 0; 1 when out was taken meanwhile (pick again); -1 with *e set. */
int ow_rename_to(int dirfd, const char *name, const char *out,
    const char *label, struct err *e);
/* Same-length rename, fsync, re-check, unlink, fsync (SPEC §6.5). */
int ow_remove_name(int dirfd, const char *name, const char *label,
    const struct stat *want, const struct ow_opts *o, int *renamed,
    struct err *e);

#endif
