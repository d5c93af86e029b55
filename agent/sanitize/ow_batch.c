/*
 * ow_batch.c: many files overwritten together (overwrite.h, "Batches";
 * the MUST rules are overwrite.c's): each step of ow_file taken for every
 * file before the next, so the durable ones (syncfs per filesystem, fsync
 * per directory) and the read-backs are shared, never skipped.
 */
#include "sanitize/ow_int.h"
#include "base/err.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Fails item it with the error already in it->e. */
static void
fail(struct ow_item *it)
{
	it->state = OWI_FAILED;
}

void
ow_batch_write(struct ow_item *v, size_t n)
{
	/* Open and check every file, and have the kernel read them all in
	 * at once, before the first is hashed and overwritten. */
	for (size_t i = 0; i < n; i++) {
		struct ow_item *it = &v[i];
		struct ow_work *w;

		if (it->state != OWI_NEW)
			continue;
		if ((w = calloc(1, sizeof(*w))) == NULL) {
			err_set(&it->e, "%s: out of memory", it->label);
			fail(it);
			continue;
		}
		it->w_ = w;
		w->p.fd = -1;
		w->p.label = it->label;
		w->p.o = &it->o;
		w->p.r = &it->r;
		w->p.e = &it->e;
		memset(&it->r, 0, sizeof(it->r));
		w->p.fd = ow_open_regular(it->dirfd, it->name, it->label, &it->o,
		    &it->e);
		if (w->p.fd == -1 || ow_check_fd(w->p.fd, it->label, &it->o, &w->st,
		    &it->e) == -1) {
			fail(it);
			continue;
		}
		ow_work_prefetch(w);
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i].state != OWI_NEW)
			continue;
		if (ow_work_write(v[i].w_) != 0)
			fail(&v[i]);
		else
			v[i].state = OWI_WRITTEN;
	}
}

/* Calls fn once for each filesystem (by st_dev) of items in state st,
 * with one of their descriptors.  Returns -1 when fn failed for any; the
 * items of that filesystem then fail with errno's message. */
static void
per_fs(struct ow_item *v, size_t n, int st, int (*fn)(int), const char *what)
{
	for (size_t i = 0; i < n; i++) {
		int dup = 0;
		if (v[i].state != st)
			continue;
		for (size_t k = 0; k < i && !dup; k++)
			dup = v[k].state == st &&
			    v[k].w_->st.st_dev == v[i].w_->st.st_dev;
		if (dup || fn(v[i].w_->p.fd) == 0)
			continue;
		for (size_t k = i; k < n; k++)
			if (v[k].state == st &&
			    v[k].w_->st.st_dev == v[i].w_->st.st_dev) {
				err_sys(&v[k].e, "%s: %s", v[k].label, what);
				fail(&v[k]);
			}
	}
}

static int
do_syncfs(int fd)
{
	return syncfs(fd);
}

static int
do_checkpoint(int fd)
{
	(void)media_checkpoint(fd);
	return 0;
}

/* The read-backs of a batch, READERS at a time: each is a device read
 * (O_DIRECT), so their latencies overlap instead of adding up. */
#define READERS 8

struct readers {
	pthread_mutex_t mu;
	struct ow_item *v;
	size_t n, next;
};

static void *
reader(void *arg)
{
	struct readers *r = arg;

	for (;;) {
		size_t i;
		pthread_mutex_lock(&r->mu);
		i = r->next++;
		pthread_mutex_unlock(&r->mu);
		if (i >= r->n)
			return NULL;
		if (r->v[i].state != OWI_WRITTEN)
			continue;
		/* Each item is its own: its pass, buffers and error. */
		if (ow_work_verify(r->v[i].w_) != 0)
			r->v[i].state = OWI_FAILED;
		else
			r->v[i].state = OWI_VERIFIED;
	}
}

static void
read_back(struct ow_item *v, size_t n)
{
	struct readers r = { .v = v, .n = n };
	pthread_t th[READERS];
	size_t nt = 0, want = 0;

	for (size_t i = 0; i < n; i++)
		want += v[i].state == OWI_WRITTEN;
	want = want < READERS ? want : READERS;
	pthread_mutex_init(&r.mu, NULL);
	/* Progress callbacks are not for threads: none are made here. */
	while (nt + 1 < want && pthread_create(&th[nt], NULL, reader, &r) == 0)
		nt++;
	(void)reader(&r);
	for (size_t k = 0; k < nt; k++)
		pthread_join(th[k], NULL);
	pthread_mutex_destroy(&r.mu);
}

void
ow_batch_verify(struct ow_item *v, size_t n)
{
	/* Every file's pattern on the device at once: one sync per
	 * filesystem where ow_file makes one fdatasync per file. */
	per_fs(v, n, OWI_WRITTEN, do_syncfs, "syncfs");
	for (size_t i = 0; i < n; i++)
		if (v[i].state == OWI_WRITTEN &&
		    ow_work_settle(v[i].w_, 1) != 0)
			fail(&v[i]);
	per_fs(v, n, OWI_WRITTEN, do_checkpoint, "journal checkpoint");
	read_back(v, n);
}

void
ow_batch_names(struct ow_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ow_item *it = &v[i];
		if (it->state != OWI_VERIFIED)
			continue;
		if (ow_strip_xattrs(it->w_->p.fd, it->label, &it->e) == -1)
			fail(it);
		else if (ftruncate(it->w_->p.fd, 0) == -1) {
			err_sys(&it->e, "%s: truncate", it->label);
			fail(it);
		}
	}
	per_fs(v, n, OWI_VERIFIED, do_syncfs, "syncfs after truncating");
	for (size_t i = 0; i < n; i++) {
		struct ow_item *it = &v[i];
		if (it->state != OWI_VERIFIED)
			continue;
		if (ow_pick_name(it->dirfd, it->name, it->label, it->newname,
		    &it->e) != 0)
			fail(it);
		else
			it->state = OWI_NAMED;
	}
}

/* fsyncs each distinct directory of the items in state st once; an item
 * whose directory fails to sync fails. */
static void
sync_dirs(struct ow_item *v, size_t n, int st, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		int dup = 0;
		if (v[i].state != st)
			continue;
		for (size_t k = 0; k < i && !dup; k++)
			dup = v[k].state == st && v[k].dirfd == v[i].dirfd;
		if (dup || fsync(v[i].dirfd) == 0)
			continue;
		for (size_t k = i; k < n; k++)
			if (v[k].state == st && v[k].dirfd == v[i].dirfd) {
				err_sys(&v[k].e, "%s: fsync directory %s",
				    v[k].label, what);
				fail(&v[k]);
			}
	}
}

void
ow_batch_remove(struct ow_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ow_item *it = &v[i];
		int r;
		if (it->state != OWI_NAMED)
			continue;
		if (!ow_same_inode(it->dirfd, it->name, &it->w_->st)) {
			err_set(&it->e, "%s: the name no longer refers to the "
			    "file that was checked; left in place", it->label);
			fail(it);
			continue;
		}
		r = ow_rename_to(it->dirfd, it->name, it->newname, it->label,
		    &it->e);
		if (r != 0) {
			if (r == 1)
				err_set(&it->e, "%s: its random name was taken "
				    "meanwhile; left in place", it->label);
			fail(it);
			continue;
		}
		it->renamed = it->r.renamed = 1;
	}
	sync_dirs(v, n, OWI_NAMED, "after renaming");
	for (size_t i = 0; i < n; i++) {
		struct ow_item *it = &v[i];
		if (it->state != OWI_NAMED)
			continue;
		if (!ow_same_inode(it->dirfd, it->newname, &it->w_->st)) {
			err_set(&it->e, "%s (renamed %s): replaced after the "
			    "rename; left in place", it->label, it->newname);
			fail(it);
		} else if (unlinkat(it->dirfd, it->newname, 0) == -1) {
			err_sys(&it->e, "%s (renamed %s): unlink", it->label,
			    it->newname);
			fail(it);
		}
	}
	sync_dirs(v, n, OWI_NAMED, "after unlinking");
	for (size_t i = 0; i < n; i++)
		if (v[i].state == OWI_NAMED)
			v[i].state = OWI_GONE;
}

void
ow_batch_close(struct ow_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ow_work *w = v[i].w_;
		if (w == NULL)
			continue;
		if (w->p.fd != -1)
			close(w->p.fd);
		ow_work_free(w);
		free(w);
		v[i].w_ = NULL;
	}
}
