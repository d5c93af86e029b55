/*
 * dispose_intents.c: the files a disposition set out to destroy, as a
 * killed run left them: work/ID/intents ("N\tDEV\tINO\tSIZE" lines, made
 * durable a batch at a time before any of the batch is written), and the
 * file-intent / file-destroyed lines of a journal written before intents
 * moved there.  A file with an open intent is finished under the number
 * and size it was announced with, never processed twice.
 */
#include "dispose/dispose_int.h"

#include "base/err.h"
#include "base/num.h"
#include "state/journal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Adds an open intent; 0, or -1 when out of memory. */
static int
add(struct dctx *x, uint64_t n, uint64_t dev, uint64_t ino, uint64_t size)
{
	struct intent *v = realloc(x->open, (x->nopen + 1) * sizeof(*v));

	if (v == NULL)
		return -1;
	x->open = v;
	v[x->nopen].n = n;
	v[x->nopen].dev = (dev_t)dev;
	v[x->nopen].ino = (ino_t)ino;
	v[x->nopen].size = size;
	v[x->nopen].done = 0;
	x->nopen++;
	if (n > x->seq)
		x->seq = n;
	return 0;
}

int
dispose_intents_scan(const struct jrec *r, void *arg)
{
	struct dctx *x = arg;
	const char *disp = jrec_get(r, "disp");
	const char *n = jrec_get(r, "n");
	uint64_t k;

	if (disp != NULL && strcmp(r->event, "key-destroyed") == 0 &&
	    strcmp(disp, x->rq->id) == 0) {
		const char *key = jrec_get(r, "key");
		/* Counted when the keystore's tombstones are (resume). */
		return key != NULL && strmap_put(&x->keys_journaled, key,
		    1) != 0 ? -1 : 0;
	}
	if (disp == NULL || n == NULL || strcmp(disp, x->rq->id) != 0 ||
	    dctx_u64(n, &k) != 0)
		return 0;
	if (strcmp(r->event, "file-intent") == 0) {
		const char *dev = jrec_get(r, "dev"), *ino = jrec_get(r, "ino");
		const char *size = jrec_get(r, "size");
		uint64_t d, i, z = 0;
		if (dev == NULL || ino == NULL || dctx_u64(dev, &d) ||
		    dctx_u64(ino, &i) || (size != NULL &&
		    dctx_u64(size, &z)))
			return 0;
		return add(x, k, d, i, z);
	}
	if (strcmp(r->event, "file-destroyed") == 0)
		for (size_t i = 0; i < x->nopen; i++)
			if (x->open[i].n == k)
				x->open[i].done = 1;
	if (k > x->seq)
		x->seq = k;
	return 0;
}

/* One "N\tDEV\tINO\tSIZE" line; a damaged one is skipped.  0, or -1 when
 * out of memory. */
static int
intent_line(struct dctx *x, char *line, void *arg)
{
	int64_t f[4];
	char *t = line;
	int k = 0;

	(void)arg;
	for (; k < 4 && t != NULL; k++) {
		char *tab = strchr(t, '\t');
		if (tab != NULL)
			*tab = '\0';
		if (num_parse(t, 0, INT64_MAX, &f[k]) != 0)
			break;
		t = tab != NULL ? tab + 1 : NULL;
	}
	if (k != 4)
		return 0;
	return add(x, (uint64_t)f[0], (uint64_t)f[1], (uint64_t)f[2],
	    (uint64_t)f[3]);
}

int
dispose_intents_read(struct dctx *x)
{
	return dctx_work_lines(x, "intents", SIZE_MAX / 4, intent_line,
	    NULL);
}

struct intent *
dispose_intents_find(struct dctx *x, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < x->nopen; i++)
		if (!x->open[i].done && x->open[i].dev == dev &&
		    x->open[i].ino == ino)
			return &x->open[i];
	return NULL;
}

struct intent *
dispose_intents_num(struct dctx *x, uint64_t n)
{
	struct intent *in = NULL;

	/* The last open one numbered n. */
	for (size_t i = 0; i < x->nopen; i++)
		if (x->open[i].n == n && !x->open[i].done)
			in = &x->open[i];
	return in;
}
