/*
 * span.h: which bytes of a file the overwrite writes (SPEC §6.2).
 *
 * A sparse or preallocated file is overwritten only where it has storage:
 * the union of the extents the filesystem has allocated to it (FIEMAP,
 * written and unwritten alike: an unwritten extent reads as zeros but its
 * blocks may still hold what the file once had there, e.g. after
 * FALLOC_FL_ZERO_RANGE) and the ranges that read as data (SEEK_DATA /
 * SEEK_HOLE, which also sees data still in the page cache).  Holes are
 * never written: writing them would allocate new blocks, which may fill the
 * filesystem, and a hole holds nothing to destroy.  Allocated blocks past
 * the end of the file (fallocate --keep-size) never held data a reader of
 * the file could see and are not written (that would grow the file).
 * Where the filesystem can say neither, the whole file is one span.
 */
#ifndef LETHE_SPAN_H
#define LETHE_SPAN_H

#include <stddef.h>
#include <stdint.h>

struct err;
struct extents;

struct span {
	uint64_t off, len;	/* bytes [off, off + len) of the file */
	uint64_t before;	/* bytes in the spans before this one */
};

struct spans {
	struct span *v;
	size_t n, cap;
	uint64_t total;		/* bytes in all spans */
	int aligned;		/* every span starts on `align`, and ends on it
				   or at `to` (so O_DIRECT can write them) */
};

/* The spans of fd within [from, to), sorted and merged: map's extents
 * (from FIEMAP; NULL when the filesystem has none) united with the
 * SEEK_DATA ranges.  align (a power of two) is only for s->aligned.
 * Returns 0, or -1 with *e set (naming label). */
int spans_of(int fd, uint64_t from, uint64_t to, const struct extents *map,
    uint64_t align, const char *label, struct spans *s, struct err *e);
void spans_free(struct spans *s);
/* Appends the spans of more, all of which lie after every span of s (the
 * part a file grew by while it was overwritten).  Returns 0 or -1 (out of
 * memory; s unchanged). */
int spans_append(struct spans *s, const struct spans *more);

/* Steps through the spans in pieces of at most max bytes: start with
 * a zeroed cursor; each call gives the next piece.  Returns 1 with *off and
 * *len set, 0 at the end. */
struct span_cursor {
	size_t i;
	uint64_t done;		/* bytes of span i already given */
};
int span_next(const struct spans *s, struct span_cursor *c, size_t max,
    uint64_t *off, size_t *len);

/* Maps the byte at virtual offset v (counting only bytes inside spans,
 * v < s->total) to its file offset, and says how many bytes from there
 * stay inside the same span. */
uint64_t span_at(const struct spans *s, uint64_t v, uint64_t *run);

#endif
