/*
 * dispose_batch.c: the files of a disposition overwritten in batches
 * (SPEC §6 "Many small files"): the durable steps are taken once for many
 * files, never skipped.
 *
 * MUST rules, for each batch, in this order:
 *  1. the intent of every file (its number, device, inode, size) is
 *     durable in work/ID/intents before the first byte of the batch is
 *     written (one fdatasync);
 *  2. every file is overwritten, every filesystem synced (syncfs), and
 *     every file read back from the device (ow_batch_*);
 *  3. the names line of every verified file (its manifest row and the
 *     random name it is about to get) is durable in work/ID/names before
 *     any name is touched (one fdatasync);
 *  4. names are renamed and unlinked with one fsync per directory and step;
 *  5. a file that fails a step is recorded as an exception and the others
 *     go on; a file in two steps is never lost: a kill at any instant is
 *     finished by the next run from intents and names (dispose_names.c).
 * Memory is bounded: at most BATCH_FILES files and BATCH_BYTES bytes wait
 * at once, and the overwrite keeps the buffers of one file at a time.
 */
#include "dispose/dispose_int.h"

#include "base/err.h"
#include "base/strbuf.h"
#include "certify/cert.h"
#include "conf/policy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH_FILES 256			/* files overwritten together */
#define BATCH_BYTES ((uint64_t)64 << 20)	/* and bytes */
#define BATCH_FILE_MAX ((uint64_t)1 << 20)	/* a larger file goes alone */

struct bslot {
	struct item *it;
	uint64_t n, size;	/* its number and size in the record */
	int lost;		/* an earlier run began on it: digest lost */
	char *label;
};

struct bdir {
	int root;
	char *dir;		/* below the root; "" for the root itself */
	int fd;
};

struct batch {
	struct ow_item *ow;
	struct bslot *slot;
	size_t n, cap;
	uint64_t bytes;
	struct bdir *dirs;
	size_t ndirs;
};

static void
on_progress(uint64_t done, void *arg)
{
	struct dctx *x = arg;

	if (x->rq->progress != NULL)
		x->rq->progress(x->dfiles, x->nfiles, x->dbytes + done,
		    x->nbytes, x->rq->arg);
}

/* The directory holding rel below root, opened once per batch. */
static int
dir_of(struct dctx *x, struct batch *b, int root, const char *rel,
    const char **base, struct err *e)
{
	const char *slash = strrchr(rel, '/');
	size_t dlen = slash ? (size_t)(slash - rel) : 0;
	struct bdir *v;
	int fd;

	*base = slash ? slash + 1 : rel;
	for (size_t i = 0; i < b->ndirs; i++)
		if (b->dirs[i].root == root && strlen(b->dirs[i].dir) == dlen &&
		    strncmp(b->dirs[i].dir, rel, dlen) == 0)
			return b->dirs[i].fd;
	if ((fd = dctx_open_parent(x, root, rel, base, e)) < 0)
		return -1;
	v = realloc(b->dirs, (b->ndirs + 1) * sizeof(*v));
	if (v == NULL || (v[b->ndirs].dir = strndup(rel, dlen)) == NULL) {
		if (v != NULL)
			b->dirs = v;
		close(fd);
		return err_set(e, "out of memory");
	}
	b->dirs = v;
	v[b->ndirs].root = root;
	v[b->ndirs].fd = fd;
	b->ndirs++;
	return fd;
}

static void
dirs_close(struct batch *b)
{
	for (size_t i = 0; i < b->ndirs; i++) {
		close(b->dirs[i].fd);
		free(b->dirs[i].dir);
	}
	free(b->dirs);
	b->dirs = NULL;
	b->ndirs = 0;
}

/* Appends buf to the work file fd and makes it durable. */
static int
append_durable(struct dctx *x, int fd, const char *what,
    const struct strbuf *buf, struct err *e)
{
	size_t off = 0;

	if (buf->oom)
		return err_set(e, "%s/%s: out of memory", x->workdir, what);
	while (off < buf->len) {
		ssize_t w = write(fd, buf->p + off, buf->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return err_sys(e, "%s/%s: write", x->workdir, what);
		off += (size_t)w;
	}
	if (buf->len > 0 && fdatasync(fd) != 0)
		return err_sys(e, "%s/%s: fdatasync", x->workdir, what);
	return 0;
}

/* A file that failed: said to the admin, counted as an exception. */
static void
failed_one(struct dctx *x, struct bslot *s, const char *why)
{
	dctx_failed(x, s->label, s->it->ds, why);
}

/* A file whose every step went through: its other names, the tallies. */
static void
done_one(struct dctx *x, struct batch *b, size_t i)
{
	struct bslot *s = &b->slot[i];
	struct ow_item *ow = &b->ow[i];
	struct err e;

	x->out->techniques |= DT_OVERWRITE;
	x->out->pattern = ow->o.pattern;
	x->out->verify = ow->o.verify;
	x->dbytes += ow->r.size;
	(void)dctx_media_for(x, ow->dirfd, x->rq->a->ds[s->it->ds].name, &e);
	for (size_t k = 1; k < s->it->obj->nnames; k++) {
		if (dctx_remove_name(x, s->it, &s->it->obj->names[k], 0, "link",
		    &e) != 0) {
			failed_one(x, s, e.msg);
			return;
		}
	}
	dctx_gone(x, &s->it->obj->names[0]);
	s->it->done = ITEM_DONE;
	x->dfiles++;
	dctx_categories(x, s->it->obj);
}

/* Step 1: the batch's intents, durable.  -1 stops the disposition. */
static int
intents(struct dctx *x, struct batch *b, struct err *e)
{
	struct strbuf buf = { 0 };
	int rc;

	for (size_t i = 0; i < b->n; i++) {
		const struct bslot *s = &b->slot[i];
		if (!s->lost)
			strbuf_printf(&buf, "%" PRIu64 "\t%llu\t%llu\t%" PRIu64
			    "\n", s->n, (unsigned long long)s->it->f.dev,
			    (unsigned long long)s->it->f.ino, s->size);
	}
	rc = append_durable(x, x->intentsfd, "intents", &buf, e);
	free(buf.p);
	return rc;
}

/* Step 3: the names lines of the files about to lose their names. */
static int
names(struct dctx *x, struct batch *b, struct err *e)
{
	struct strbuf buf = { 0 };
	int rc;

	for (size_t i = 0; i < b->n; i++) {
		struct ow_item *ow = &b->ow[i];
		struct bslot *s = &b->slot[i];
		char sha[65];
		if (ow->state != OWI_NAMED)
			continue;
		if (ow->r.sha_ok && !s->lost)
			cert_hex(ow->r.sha256, sha);
		else
			snprintf(sha, sizeof(sha), "unavailable");
		/* A file a killed run began on keeps the size it was
		 * announced with, when that is the larger. */
		if (!s->lost || ow->r.size > s->size)
			s->size = ow->r.size;
		dispose_names_add(&buf, s->it, s->n, s->size, sha, &ow->r,
		    ow->newname, s->label);
	}
	rc = append_durable(x, x->namesfd, "names", &buf, e);
	free(buf.p);
	return rc;
}

/* Takes out of the batch, before its intents, the files a hold recorded
 * since they were queued now covers. */
static void
drop_held(struct dctx *x, struct batch *b)
{
	size_t k = 0;

	for (size_t i = 0; i < b->n; i++) {
		if (!b->slot[i].lost && dctx_held(x, b->slot[i].it->obj,
		    b->slot[i].it->ds)) {
			b->bytes -= (uint64_t)b->slot[i].it->f.size;
			free(b->slot[i].label);
			continue;
		}
		if (k != i) {
			b->slot[k] = b->slot[i];
			b->ow[k] = b->ow[i];
			b->ow[k].label = b->slot[k].label;
		}
		k++;
	}
	b->n = k;
}

int
dispose_batch_flush(struct dctx *x)
{
	struct batch *b = x->batch;
	struct err e = { { 0 } };
	int rc = 0;

	if (b == NULL || b->n == 0)
		return 0;
	/* A hold recorded since these were queued keeps them: asked once
	 * more, just before the first byte is written.  (A file a killed run
	 * began overwriting is finished: its content is already lost.) */
	if (dctx_sync(x) != 0) {
		snprintf(e.msg, sizeof(e.msg), "stopped: holds recorded during "
		    "the run cannot be read");
		rc = -2;	/* dctx_sync said so in the exceptions */
		goto out;
	}
	drop_held(x, b);
	if (intents(x, b, &e) != 0) {
		rc = -1;
		goto out;
	}
	ow_batch_write(b->ow, b->n);
	ow_batch_verify(b->ow, b->n);
	ow_batch_names(b->ow, b->n);
	if (names(x, b, &e) != 0) {
		/* No name may go before its line is durable.  The data is
		 * overwritten all the same: only a resume can count it. */
		x->out->unrecorded = 1;
		rc = -1;
		goto out;
	}
	ow_batch_remove(b->ow, b->n);
	for (size_t i = 0; i < b->n; i++) {
		if (b->ow[i].state == OWI_GONE)
			done_one(x, b, i);
		else
			failed_one(x, &b->slot[i], b->ow[i].e.msg);
	}
out:
	if (rc != 0) {
		/* The record cannot be written (a full state disk): said once
		 * for the batch, not once per file, and the disposition stops
		 * here; the next run resumes it from work/ID. */
		diag_add(x->problems, x->workdir, 0, "%zu file%s %s: %s; the "
		    "disposition stops, and the next run finishes and "
		    "certifies it", b->n, b->n == 1 ? "" : "s",
		    x->out->unrecorded ? "overwritten, their names not yet "
		    "removed" : "not touched", e.msg);
		if (rc == -1)
			dctx_exception(x, "the disposition's record could not "
			    "be written; it stopped");
		x->stop = 1;
		rc = -1;
	}
	ow_batch_close(b->ow, b->n);
	for (size_t i = 0; i < b->n; i++)
		free(b->slot[i].label);
	b->n = 0;
	b->bytes = 0;
	dirs_close(b);
	return rc;
}

int
dispose_batch_add(struct dctx *x, struct item *it, struct err *e)
{
	const struct agreement *a = x->rq->a;
	const struct dataset *ds = &a->ds[it->ds];
	struct batch *b = x->batch;
	struct intent *lost;
	struct ow_item *ow;
	struct bslot *s;
	char label[4200];
	const char *base;
	int dirfd;

	if (b == NULL) {
		if ((b = calloc(1, sizeof(*b))) == NULL)
			return err_set(e, "out of memory");
		x->batch = b;
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct ow_item *v = realloc(b->ow, cap * sizeof(*v));
		struct bslot *w;
		if (v == NULL)
			return err_set(e, "out of memory");
		b->ow = v;
		if ((w = realloc(b->slot, cap * sizeof(*w))) == NULL)
			return err_set(e, "out of memory");
		b->slot = w;
		b->cap = cap;
	}
	dctx_label(x, &it->f, label, sizeof(label));
	if ((dirfd = dir_of(x, b, it->f.root, it->f.rel, &base, e)) < 0)
		return -1;
	s = &b->slot[b->n];
	ow = &b->ow[b->n];
	memset(s, 0, sizeof(*s));
	memset(ow, 0, sizeof(*ow));
	if ((s->label = strdup(label)) == NULL)
		return err_set(e, "out of memory");
	s->it = it;
	/* A file a killed run began on keeps its number and its size as
	 * announced; its digest is lost (part of it may be zeros now). */
	lost = dispose_intents_find(x, it->f.dev, it->f.ino);
	if (lost != NULL) {
		s->n = lost->n;
		s->size = lost->size;
		s->lost = 1;
		lost->done = 1;
	} else {
		s->n = ++x->seq;
		s->size = (uint64_t)it->f.size;
	}
	ow->dirfd = dirfd;
	ow->name = base;
	ow->label = s->label;
	ow->o.pattern = dataset_pattern(a, ds);
	ow->o.verify = dataset_verify(a, ds);
	ow->o.links_ok = it->obj->nnames;	/* every name is in scope */
	ow->o.dev = it->f.dev;
	ow->o.ino = it->f.ino;
	ow->o.progress = on_progress;
	ow->o.arg = x;
	b->n++;
	b->bytes += (uint64_t)it->f.size;
	if (b->n >= BATCH_FILES || b->bytes >= BATCH_BYTES ||
	    (uint64_t)it->f.size > BATCH_FILE_MAX)
		return dispose_batch_flush(x) == 0 ? 0 :
		    err_set(e, "the disposition's record could not be written");
	return 0;
}

void
dispose_batch_free(struct dctx *x)
{
	struct batch *b = x->batch;

	if (b == NULL)
		return;
	ow_batch_close(b->ow, b->n);
	for (size_t i = 0; i < b->n; i++)
		free(b->slot[i].label);
	dirs_close(b);
	free(b->ow);
	free(b->slot);
	free(b);
	x->batch = NULL;
}
