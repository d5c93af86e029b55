/*
 * extents.c: where a file's bytes lie (see media_extents in media.h):
 * the FIEMAP map that proves an overwrite landed in the same blocks, and
 * refuses files that share blocks with another (reflinks).
 *
 * MUST rules:
 *  - an extent whose place is unknown or delayed is never compared: it
 *    cannot prove anything either way;
 *  - a filesystem without FIEMAP says so (0), never "kept".
 */
#include "locate/media.h"
#include "base/array.h"
#include "base/err.h"

#include <errno.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define FIEMAP_BATCH 128

static int
add_extent(struct extents *x, unsigned long long lo, unsigned long long ph,
    unsigned long long len)
{
	struct extent *p = x->n ? &x->v[x->n - 1] : NULL;

	/* Coalesce contiguous mappings so a filesystem merging extents after
	 * the overwrite does not look like a move. */
	if (p != NULL && p->logical + p->length == lo &&
	    p->physical + p->length == ph) {
		p->length += len;
		return 0;
	}
	if ((p = array_grow(x->v, x->n, &x->cap, sizeof(*p), 16)) == NULL)
		return -1;
	x->v = p;
	x->v[x->n++] = (struct extent){ lo, ph, len };
	return 0;
}

int
media_extents(int fd, struct extents *x, struct err *e)
{
	struct fiemap *fm;
	unsigned long long start = 0;
	int rc = -1, last = 0;
	uint32_t flags = FIEMAP_FLAG_SYNC;

	memset(x, 0, sizeof(*x));
	fm = calloc(1, sizeof(*fm) + FIEMAP_BATCH * sizeof(struct fiemap_extent));
	if (fm == NULL)
		return err_set(e, "out of memory");
	while (!last) {
		memset(fm, 0, sizeof(*fm));
		fm->fm_start = start;
		fm->fm_length = FIEMAP_MAX_OFFSET - start;
		fm->fm_flags = flags;
		fm->fm_extent_count = FIEMAP_BATCH;
		flags = 0;	/* synced once is enough */
		if (ioctl(fd, FS_IOC_FIEMAP, fm) == -1) {
			if (errno == EOPNOTSUPP || errno == ENOTTY ||
			    errno == EBADR)
				rc = 0;
			else
				err_sys(e, "FIEMAP");
			goto out;
		}
		if (fm->fm_mapped_extents == 0)
			break;
		for (uint32_t i = 0; i < fm->fm_mapped_extents; i++) {
			struct fiemap_extent *fe = &fm->fm_extents[i];
			if (fe->fe_flags & FIEMAP_EXTENT_SHARED)
				x->shared = 1;
			if (fe->fe_flags & FIEMAP_EXTENT_LAST)
				last = 1;
			start = fe->fe_logical + fe->fe_length;
			/* An unknown or delayed place cannot be compared. */
			if (fe->fe_flags & (FIEMAP_EXTENT_UNKNOWN |
			    FIEMAP_EXTENT_DELALLOC))
				continue;
			if (add_extent(x, fe->fe_logical, fe->fe_physical,
			    fe->fe_length) == -1) {
				err_set(e, "out of memory");
				goto out;
			}
		}
	}
	rc = 1;
out:
	free(fm);
	if (rc != 1)
		media_extents_free(x);
	return rc;
}

int
media_extents_kept(const struct extents *before, const struct extents *after)
{
	size_t j = 0;

	/* Both lists are sorted by logical offset and coalesced. */
	for (size_t i = 0; i < before->n; i++) {
		const struct extent *b = &before->v[i];
		unsigned long long lo = b->logical, end = b->logical + b->length;

		while (lo < end) {
			while (j < after->n &&
			    after->v[j].logical + after->v[j].length <= lo)
				j++;
			if (j == after->n || after->v[j].logical > lo)
				return 0;
			const struct extent *a = &after->v[j];
			if (a->physical + (lo - a->logical) !=
			    b->physical + (lo - b->logical))
				return 0;
			lo = a->logical + a->length < end ?
			    a->logical + a->length : end;
		}
	}
	return 1;
}

void
media_extents_free(struct extents *x)
{
	free(x->v);
	memset(x, 0, sizeof(*x));
}
