/*
 * archive_walk.c: the walker as its users see it (archive_int.h): one
 * interface over the tar walker (archive_tar.c) and the cpio walker
 * (archive_cpio.c), chosen by kind.
 */
#include "sanitize/archive_int.h"

#include <stdlib.h>
#include <string.h>

int
walk_init(struct walker *w, int kind)
{
	memset(w, 0, sizeof(*w));
	w->kind = kind;
	return 0;
}

void
walk_free(struct walker *w)
{
	if (w->kind == WK_TAR)
		tar_free(w);
	else if (w->kind == WK_CPIO)
		cpio_free(w);
	free(w->q);
	memset(w, 0, sizeof(*w));
}

int
walk_feed(struct walker *w, const unsigned char *p, size_t n)
{
	if (w->failed)
		return -1;
	return w->kind == WK_TAR ? tar_feed(w, p, n) : cpio_feed(w, p, n);
}

int
walk_end(struct walker *w)
{
	if (w->failed)
		return -1;
	return w->kind == WK_TAR ? tar_end(w) : cpio_end(w);
}

uint64_t
walk_block(const struct walker *w, uint64_t len)
{
	if (w->kind == WK_TAR && len % 10240 == 0)
		return 10240;
	return len % 512 == 0 ? 512 : 0;
}
