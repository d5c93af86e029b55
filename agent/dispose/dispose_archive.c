/*
 * dispose_archive.c: archive datasets inside a disposition: each matching
 * archive rewritten without the district's members (archive.h); their
 * manifest rows are made durable only when the new archive is committed.
 */
#include "dispose/dispose_int.h"

#include "base/err.h"
#include "certify/cert.h"
#include "certify/manifest.h"
#include "conf/policy.h"
#include "sanitize/archive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One archive being rewritten, handed to archive.h's hooks. */
struct rewrite {
	struct dctx *x;
	const char *label;		/* the archive's, for the manifest */
	struct cert_manifest pend;	/* its removed members, until committed */
};

/* A removed member's manifest row, held back until the new archive is
 * checked and about to replace the old one (archive.h on_commit).  Its
 * path is ARCHIVE//MEMBER: "//" never occurs in a resolved path.  Only a
 * member with content of its own has a digest: a link entry, directory,
 * symlink or special file, and a member whose content a kept hard link
 * still holds, get "-" (lethe-certificate(5)). */
static int
on_member(const struct archive_member *m, void *arg)
{
	struct rewrite *rw = arg;
	char sha[65], *label = NULL;
	struct err e;
	int rc;

	if (m->kind == 'f')
		cert_hex(m->sha256, sha);
	else
		snprintf(sha, sizeof(sha), "-");
	if (asprintf(&label, "%s//%s", rw->label, m->path) < 0)
		return -1;
	rc = cert_manifest_add(&rw->pend, label, m->size, sha, &e);
	free(label);
	return rc;
}

/* The new archive is good: make the rows durable before the swap. */
static int
on_commit(void *arg)
{
	struct rewrite *rw = arg;
	const struct cert_manifest *p = &rw->pend;
	size_t hdr = strlen(CERT_MANIFEST_HEADER);
	ssize_t w;

	if (p->len <= hdr)
		return 0;
	w = write(rw->x->manfd, p->text + hdr, p->len - hdr);
	if (w < 0 || (size_t)w != p->len - hdr || fdatasync(rw->x->manfd) != 0)
		return -1;
	return 0;
}

/* The archive module's message without its leading "LABEL: ", which
 * diag_add puts back. */
static const char *
unlabeled(const char *msg, const char *label)
{
	size_t n = strlen(label);

	if (strncmp(msg, label, n) == 0 && strncmp(msg + n, ": ", 2) == 0)
		return msg + n + 2;
	return msg;
}

/* Rewrites one archive without the members of dataset d. */
static void
rewrite_one(struct dctx *x, const struct scope_obj *o, const struct dataset *d)
{
	const struct agreement *a = x->rq->a;
	struct archive_opts ao;
	struct archive_result ar;
	struct rewrite rw;
	struct err e;
	char label[4200];
	const char *base;
	int dirfd, rc;

	dctx_obj_label(x, o, label, sizeof(label));
	if ((dirfd = dctx_open_parent(x, o->names[0].root, o->names[0].rel,
	    &base, &e)) < 0) {
		diag_add(x->problems, label, 0, "%s", e.msg);
		dctx_exception(x, "an archive of dataset %s could not be "
		    "opened", d->name);
		return;
	}
	memset(&ao, 0, sizeof(ao));
	ao.pattern = dataset_pattern(a, d);
	ao.verify = dataset_verify(a, d);
	ao.on_member = on_member;
	ao.on_commit = on_commit;
	ao.arg = &rw;
	rw.x = x;
	rw.label = label;
	if (cert_manifest_init(&rw.pend, &e) != 0) {
		close(dirfd);
		return;
	}
	memset(&ar, 0, sizeof(ar));
	rc = archive_remove_members(dirfd, base, label, d->members, &ao, &ar,
	    &e);
	if (rc == 0 && ar.members_removed > 0) {
		x->out->archives++;
		x->out->members += ar.members_removed;
		x->out->member_bytes += ar.bytes_removed;
		x->out->member_links += ar.materialized;
		x->out->techniques |= DT_ARCHIVE;
		x->out->verified_bytes += ar.old.verified;
		x->out->categories |= d->categories;
		(void)dctx_media_for(x, dirfd, d->name, &e);
	} else if (rc == ARCHIVE_IS_SEALED && dctx_covers_agreement(x->rq)) {
		/* Not opened: every key of the agreement was destroyed
		 * above, which is what erases it. */
	} else if (rc == ARCHIVE_IS_SEALED) {
		diag_add(x->problems, label, 0, "sealed archive: only a "
		    "disposition of the whole agreement (its keys) can destroy "
		    "it; not opened");
		dctx_exception(x, "a sealed archive of dataset %s needs "
		    "crypto-shred of the whole agreement", d->name);
	} else if (rc != 0) {
		diag_add(x->problems, label, 0, "%s", unlabeled(e.msg, label));
		dctx_exception(x, "an archive of dataset %s was refused or "
		    "failed", d->name);
	}
	cert_manifest_free(&rw.pend);
	close(dirfd);
}

/* Rewrites each archive of the scope without the district's members: once
 * per archive dataset that matched it, in policy order. */
void
dispose_archives(struct dctx *x)
{
	const struct agreement *a = x->rq->a;

	for (size_t k = 0; k < x->scope.n; k++) {
		const struct scope_obj *o = &x->scope.v[k];
		if (o->verdict != SV_DESTROY || o->kind != SK_ARCHIVE)
			continue;
		/* A hold recorded during the run keeps the whole archive. */
		if (dctx_sync(x) != 0)
			return;
		if (o->ndss > 0 && dctx_held(x, o, o->dss[0]))
			continue;
		for (size_t i = 0; i < o->ndss; i++) {
			const struct dataset *d = &a->ds[o->dss[i]];
			if (d->archive != NULL && d->members != NULL)
				rewrite_one(x, o, d);
		}
	}
}
