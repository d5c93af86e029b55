/*
 * dispose.c: carrying out one disposition (see dispose.h for the MUST
 * rules this file follows to the letter).
 *
 * Order of work:
 *   1. locate every dataset's matches (files, links, specials, archives);
 *   2. transfer first when the directive says so (nothing is destroyed
 *      unless the archive at transfer_to read back complete);
 *   3. per file: journal the intent (n, size, dev, ino), overwrite and
 *      verify, remove the name, journal the outcome, append the manifest
 *      row; sealed files go by crypto-shred instead (their keys are
 *      destroyed once, after every ciphertext name is found);
 *   4. archives: rewrite without the matching members;
 *   5. emptied directories below each dataset's fixed prefix go too;
 *   6. purge the filesystem journals where the kernel allows it;
 *   7. locate again: anything left fails the disposition (SPEC §6.6).
 */
#include "dispose/dispose.h"
#include "dispose/dispose_int.h"

#include "base/err.h"
#include "certify/cert.h"
#include "certify/manifest.h"
#include "conf/config.h"
#include "conf/policy.h"
#include "state/durable.h"
#include "state/journal.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* What one object came to. */
enum outcome {
	OUT_DONE,	/* destroyed, every name removed */
	OUT_QUEUED,	/* in the batch being overwritten (dispose_batch.c) */
	OUT_LATER,	/* sealed: its name goes once its key is destroyed */
	OUT_KEPT,	/* not destroyed, recorded as an exception */
	OUT_FAILED,	/* a step failed; e says why */
};

/* Removes the other names of an object whose first name is gone. */
static enum outcome
other_names(struct dctx *x, struct item *it, struct err *e)
{
	for (size_t k = 1; k < it->obj->nnames; k++) {
		if (dctx_remove_name(x, it, &it->obj->names[k], 0, "link",
		    e) != 0)
			return OUT_FAILED;
	}
	return OUT_DONE;
}

/* A file of a crypto-shred dataset that cannot be crypto-erased here: it
 * is kept, never overwritten instead (the policy said which). */
static enum outcome
not_sealed(struct dctx *x, const struct item *it)
{
	const struct agreement *a = x->rq->a;
	char label[4200];

	dctx_label(x, &it->f, label, sizeof(label));
	if (it->obj->key >= 0)
		diag_add(x->problems, label, 0, "sealed under key %s, which "
		    "this host's keystore does not hold: it cannot be "
		    "crypto-erased here; dataset %s says method = "
		    "crypto-shred, so it is not overwritten either (use "
		    "method = auto)", x->scope.keys[it->obj->key].id,
		    a->ds[it->ds].name);
	else
		diag_add(x->problems, label, 0, "not sealed: dataset %s says "
		    "method = crypto-shred, but this file is plaintext; seal "
		    "it with `lethe seal` or use method = overwrite",
		    a->ds[it->ds].name);
	dctx_exception(x, "a file of dataset %s was not sealed and was not "
	    "destroyed", a->ds[it->ds].name);
	return OUT_KEPT;
}

/* Destroys one object of the scope, each once: every name of it is in the
 * disposition (scope.c refused any other), so its link count is covered. */
static enum outcome
destroy_object(struct dctx *x, struct item *it, struct err *e)
{
	const struct agreement *a = x->rq->a;

	/* A hold recorded while this run goes on wins before the next
	 * object of its scope (SPEC §5); a queued file is asked again
	 * when its batch is written. */
	if (dctx_sync(x) != 0) {
		snprintf(e->msg, sizeof(e->msg), "stopped: holds recorded "
		    "during the run cannot be read");
		return OUT_FAILED;
	}
	if (dctx_held(x, it->obj, it->ds))
		return OUT_KEPT;
	if (it->f.kind == FOUND_SYMLINK || it->f.kind == FOUND_OTHER) {
		if (dctx_remove_name(x, it, &it->obj->names[0], 0,
		    it->f.kind == FOUND_SYMLINK ? "link" : "special", e) != 0)
			return OUT_FAILED;
		return other_names(x, it, e);
	}
	if (it->sealed)
		return OUT_LATER;
	if (dataset_method(a, &a->ds[it->ds]) == METHOD_CRYPTO)
		return not_sealed(x, it);
	/* Ciphertext under a key no keystore here holds: Clear, not Purge. */
	if (it->obj->key >= 0)
		x->out->ciphertext_overwritten++;
	if (dispose_batch_add(x, it, e) != 0) {
		x->stop = 1;
		return OUT_FAILED;
	}
	return OUT_QUEUED;
}

/* Destroys every item, then the keys of the sealed ones, then their
 * names.  Returns -1 only when the journal failed (the run must stop). */
static int
do_items(struct dctx *x, struct item *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct item *it = &v[i];
		struct err e;
		char label[4200];

		if (it->done != ITEM_TODO)
			continue;
		e.msg[0] = '\0';
		switch (destroy_object(x, it, &e)) {
		case OUT_DONE:
			it->done = ITEM_DONE;
			x->dfiles++;
			dctx_categories(x, it->obj);
			break;
		case OUT_QUEUED:
			break;		/* the batch says what became of it */
		case OUT_LATER:
			it->done = ITEM_SEALED;
			break;
		case OUT_KEPT:
			break;
		case OUT_FAILED:
			if (x->stop)
				return -1;	/* said once, by the batch */
			dctx_label(x, &it->f, label, sizeof(label));
			dctx_failed(x, label, it->ds, e.msg);
			if (x->rq->j->fd == -1)
				return -1;
			break;
		}
	}
	if (dispose_batch_flush(x) != 0)
		return -1;
	/* Keys last: every ciphertext name was found first, so a failure to
	 * destroy a key leaves the data sealed and recorded, never orphaned. */
	return dispose_crypto_shred(x, v, n);
}

static void
purge_journals(struct dctx *x)
{
	for (size_t i = 0; i < x->out->nmedia; i++) {
		struct dispose_media *m = &x->out->media[i];
		struct err e;
		int fd = -1;

		/* Any root fd on that filesystem will do. */
		for (size_t r = 0; r < x->rq->cfg->nroots && fd == -1; r++) {
			struct stat st;
			if (x->roots[r].fd != -1 &&
			    fstat(x->roots[r].fd, &st) == 0 &&
			    st.st_dev == m->m.dev)
				fd = x->roots[r].fd;
		}
		if (fd == -1) {
			m->purge = 0;
			snprintf(m->purge_detail, sizeof(m->purge_detail),
			    "filesystem journal not purged: the dataset lies "
			    "on a filesystem mounted below its allowed root");
			continue;
		}
		m->purge = media_purge_journal(fd, &m->m, m->purge_detail,
		    sizeof(m->purge_detail), &e);
		if (m->purge < 0) {
			diag_add(x->problems, m->m.fstype, 0, "journal purge: %s",
			    e.msg);
			dctx_exception(x, "the %s journal purge failed", m->m.fstype);
		}
	}
}

/* The per-file records under work/ID, each a file of whole lines. */
static const char *const work_files[] = { "intents", "names", "dirs",
    "manifest", "archives", "removed" };

static int
open_work(struct dctx *x, struct err *e)
{
	const char *sd = x->rq->cfg->state_dir;
	char path[4200];
	struct stat st;
	int fresh;

	if (snprintf(x->workdir, sizeof(x->workdir), "%s/work/%s", sd,
	    x->rq->id) >= (int)sizeof(x->workdir))
		return err_set(e, "%s: path too long", x->rq->id);
	if (mkdirs(x->workdir, 0700, e) != 0)
		return -1;
	/* A row torn by a full disk or a kill in the middle of a write was
	 * never acted on: cut it, so the next row is not glued to it and lost
	 * with it (state/durable.h). */
	for (size_t i = 0; i < sizeof(work_files) / sizeof(work_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", x->workdir, work_files[i]);
		if (durable_trim_torn(path, NULL, e) != 0)
			return -1;
	}
	snprintf(path, sizeof(path), "%s/names", x->workdir);
	x->namesfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (x->namesfd == -1)
		return err_sys(e, "%s", path);
	snprintf(path, sizeof(path), "%s/intents", x->workdir);
	x->intentsfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (x->intentsfd == -1)
		return err_sys(e, "%s", path);
	snprintf(path, sizeof(path), "%s/removed", x->workdir);
	x->remfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (x->remfd == -1)
		return err_sys(e, "%s", path);
	snprintf(path, sizeof(path), "%s/manifest", x->workdir);
	fresh = lstat(path, &st) != 0;
	x->manfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (x->manfd == -1)
		return err_sys(e, "%s", path);
	if (snprintf(x->out->manifest_path, sizeof(x->out->manifest_path),
	    "%s", path) >= (int)sizeof(x->out->manifest_path))
		return err_set(e, "%s: path too long", path);
	if (fresh || st.st_size == 0) {
		ssize_t w = write(x->manfd, CERT_MANIFEST_HEADER,
		    strlen(CERT_MANIFEST_HEADER));
		if (w != (ssize_t)strlen(CERT_MANIFEST_HEADER) ||
		    fsync(x->manfd) != 0)
			return err_sys(e, "%s", path);
		if (fsync_dir(x->workdir, e) != 0)
			return -1;
	}
	return 0;
}

/* Resume: the filesystems an earlier run of this disposition touched are
 * those of its datasets' roots (nested mounts are never entered). */
static void
resume_media(struct dctx *x)
{
	for (size_t i = 0; i < x->rq->nds; i++) {
		const struct dataset *d = &x->rq->a->ds[x->rq->ds[i]];
		const char *glob = d->path ? d->path : d->archive;
		const char *rel;
		struct err e;
		int r;

		if (glob == NULL)
			continue;
		r = resolve_which_root((const char *const *)x->rq->cfg->roots,
		    x->rq->cfg->nroots, glob, &rel);
		if (r < 0 || dctx_root(x, r, &e) < 0)
			continue;
		(void)dctx_media_for(x, x->roots[r].fd, d->name, &e);
	}
}

/* Records what the scope refuses: each object for the admin (names), a
 * count for the certificate and journal (no names). */
static void
note_refusals(struct dctx *x)
{
	const struct scope *s = &x->scope;
	char buf[1024];

	for (size_t k = 0; k < s->n; k++) {
		const struct scope_obj *o = &s->v[k];
		char label[4200];

		if (o->verdict < SV_CONFLICT)
			continue;	/* kept, or to destroy */
		dctx_obj_label(x, o, label, sizeof(label));
		scope_why(o, buf, sizeof(buf));
		diag_add(x->problems, label, 0, "%s", buf);
	}
	scope_refusals(s, buf, sizeof(buf));
	if (buf[0] != '\0') {
		diag_add(x->problems, x->rq->a->id, 0, "%s", buf);
		dctx_exception(x, "%s", buf);
	}
}

int
dispose_run(const struct dispose_req *rq, struct dispose_out *out,
    struct err *e)
{
	struct dctx x;
	struct diags scratch = { 0 };
	struct item *v = NULL;
	size_t n = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->started = rq->started ? rq->started : time(NULL);
	out->pattern = PATTERN_ZERO;
	out->verify = VERIFY_FULL;
	if (dctx_init(&x, rq, out, &scratch, e) != 0)
		return -1;
	if (open_work(&x, e) != 0)
		goto out;
	if (rq->resume) {
		/* Intents in the journal (runs before they moved to the
		 * disposition's own record), then work/ID/intents. */
		if (journal_read(rq->cfg->state_dir, dispose_intents_scan, &x,
		    e) != 0 || dispose_intents_read(&x) != 0)
			goto out;
		dispose_names_resume(&x);
		dispose_dirs_resume(&x);
		resume_media(&x);
		if (dispose_keys_resume(&x, e) != 0)
			goto out;
	}
	/* The scope, once: each object with all its names, protection
	 * subtracted (plan/scope.c), exactly what the dry run counted. */
	if (scope_resolve(rq->sx, rq->a, rq->ds, rq->nds, &x.scope, e) != 0)
		goto out;
	note_refusals(&x);
	if (rq->nds == 0)
		snprintf(out->exceptions, sizeof(out->exceptions), "no dataset "
		    "in scope: the policy holds no non-exempt data of the "
		    "requested categories; nothing was destroyed");
	if (dispose_items(&x, &v, &n) != 0) {
		err_set(e, "out of memory");
		goto out;
	}
	if (rq->transfer_to != NULL && n > 0) {
		if (dispose_transfer(&x, v, n, e) != 0)
			goto out;	/* nothing destroyed without the copy */
		out->techniques |= DT_TRANSFER;
	}
	if (do_items(&x, v, n) != 0) {
		err_set(e, "stopped: %s", out->exceptions[0] ? out->exceptions :
		    "the journal could not be written");
		goto out;
	}
	dispose_archives(&x);
	dispose_dirs_remove(&x);
	purge_journals(&x);
	/* Totals and manifest over every run of this disposition, also when
	 * it failed: what was destroyed is certified all the same. */
	if (dispose_names_totals(&x, e) != 0)
		goto out;
	out->remaining = dispose_rescan(&x);
	out->completed = time(NULL);
	if (out->nexceptions > 0) {
		err_set(e, "%" PRIu64 " problem%s: %s", out->nexceptions,
		    out->nexceptions == 1 ? "" : "s", out->exceptions);
		goto out;
	}
	if (out->remaining != 0) {
		err_set(e, "the re-scan still finds %" PRIu64 " match%s",
		    out->remaining, out->remaining == 1 ? "" : "es");
		goto out;
	}
	rc = 0;
out:
	dispose_batch_free(&x);
	free(v);
	dctx_free(&x);
	diag_free(&scratch);
	return rc;
}
