/*
 * dispose_archive.c: archive datasets inside a disposition: each matching
 * archive rewritten without the district's members (archive.h); their
 * manifest rows are made durable only when the new archive is committed.
 */
#include "dispose/dispose_int.h"

#include "sanitize/archive.h"
#include "certify/cert.h"
#include "conf/config.h"
#include "state/durable.h"
#include "base/err.h"
#include "state/journal.h"
#include "keys/keystore.h"
#include "conf/policy.h"
#include "plan/sched.h"
#include "sanitize/transfer.h"

#include <openssl/crypto.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A removed member's manifest row, held back until the new archive is
 * checked and about to replace the old one (archive.h on_commit).  Its
 * path is ARCHIVE//MEMBER: "//" never occurs in a resolved path. */
static int
on_member(const struct archive_member *m, void *arg)
{
	struct dctx *x = arg;
	char sha[65], *label = NULL;
	struct err e;
	int rc;

	if (m->kind == 'f' || m->kind == 'h')
		cert_hex(m->sha256, sha);
	else
		snprintf(sha, sizeof(sha), "-");
	if (asprintf(&label, "%s//%s", x->archive, m->path) < 0)
		return -1;
	rc = cert_manifest_add(&x->pend, label, m->size, sha, &e);
	free(label);
	return rc;
}

/* The new archive is good: make the rows durable before the swap. */
static int
on_commit(void *arg)
{
	struct dctx *x = arg;
	size_t hdr = strlen(CERT_MANIFEST_HEADER);
	ssize_t w;

	if (x->pend.len <= hdr)
		return 0;
	w = write(x->manfd, x->pend.text + hdr, x->pend.len - hdr);
	if (w < 0 || (size_t)w != x->pend.len - hdr || fdatasync(x->manfd) != 0)
		return -1;
	return 0;
}

/* Rewrites each matching archive without the district's members. */
void
dispose_archives(struct dctx *x)
{
	const struct config *c = x->rq->cfg;
	const struct agreement *a = x->rq->a;

	for (size_t i = 0; i < x->rq->nds; i++) {
		const struct dataset *d = &a->ds[x->rq->ds[i]];
		struct foundlist fl = { 0 };
		struct err e;

		if (d->archive == NULL)
			continue;
		if (locate((const char *const *)c->roots, c->nroots, d->archive,
		    &fl, &e) != 0) {
			diag_add(x->problems, d->name, 0, "%s", e.msg);
			dispose_exception(x, "dataset %s: archives could not be located",
			    d->name);
			continue;
		}
		for (size_t k = 0; k < fl.n; k++) {
			struct archive_opts ao;
			struct archive_result ar;
			char label[4200];
			const char *base;
			int dirfd, rc;

			dispose_label(x, &fl.v[k], label, sizeof(label));
			if (fl.v[k].kind != FOUND_FILE)
				continue;
			if ((dirfd = dispose_open_parent(x, fl.v[k].root, fl.v[k].rel, &base, &e)) < 0) {
				diag_add(x->problems, label, 0, "%s", e.msg);
				dispose_exception(x, "an archive of dataset %s could "
				    "not be opened", d->name);
				continue;
			}
			memset(&ao, 0, sizeof(ao));
			ao.pattern = dataset_pattern(a, d);
			ao.verify = dataset_verify(a, d);
			ao.on_member = on_member;
			ao.on_commit = on_commit;
			ao.arg = x;
			x->archive = label;
			if (cert_manifest_init(&x->pend, &e) != 0) {
				close(dirfd);
				continue;
			}
			memset(&ar, 0, sizeof(ar));
			rc = archive_remove_members(dirfd, base, label,
			    d->members, &ao, &ar, &e);
			if (rc == 0 && ar.members_removed > 0) {
				struct dispose_media *m;
				x->out->archives++;
				x->out->members += ar.members_removed;
				x->out->member_bytes += ar.bytes_removed;
				x->out->techniques |= DT_ARCHIVE;
				x->out->verified_bytes += ar.old.verified;
				m = dispose_media_for(x, dirfd, d->name, &e);
				(void)m;
			} else if (rc == ARCHIVE_IS_SEALED &&
			    dispose_covers_agreement(x->rq)) {
				/* Not opened: every key of the agreement was
				 * destroyed above, which is what erases it. */
			} else if (rc == ARCHIVE_IS_SEALED) {
				diag_add(x->problems, label, 0, "sealed archive: "
				    "only a disposition of the whole agreement "
				    "(its keys) can destroy it; not opened");
				dispose_exception(x, "a sealed archive of dataset %s "
				    "needs crypto-shred of the whole agreement",
				    d->name);
			} else if (rc != 0) {
				diag_add(x->problems, label, 0, "%s", e.msg);
				dispose_exception(x, "an archive of dataset %s was "
				    "refused or failed", d->name);
			}
			cert_manifest_free(&x->pend);
			close(dirfd);
		}
		foundlist_free(&fl);
	}
}
