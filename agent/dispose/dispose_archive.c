/*
 * dispose_archive.c: archive datasets inside a disposition: each matching
 * archive rewritten without the district's members (archive.h); their
 * manifest rows are made durable only when the new archive is committed.
 *
 * MUST rules:
 *  - a committed archive's rows go to work/ID/archives as one block:
 *    "KEY<TAB>#begin", each row as "KEY<TAB>ROW", then "KEY<TAB>#end",
 *    KEY the old archive's device, inode, size and change time, in one
 *    write made durable before the swap; a block cut short (no #end
 *    before the next #begin, a row of another key, or the end) was never
 *    committed and counts for nothing;
 *  - a run killed between that commit and the swap leaves the old archive
 *    in place, and the resumed run commits it again under the same KEY:
 *    only the last whole block of a KEY counts, so no member is listed
 *    or counted twice (dispose_archive_rows);
 *  - the rows name students: the file is sanitized with the manifest.
 */
#include "dispose/dispose_int.h"

#include "base/err.h"
#include "base/strbuf.h"
#include "state/durable.h"
#include "certify/cert.h"
#include "certify/manifest.h"
#include "conf/policy.h"
#include "sanitize/archive.h"

#include <openssl/crypto.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROWS_FILE "archives"

/* One archive being rewritten, handed to archive.h's hooks. */
struct rewrite {
	struct dctx *x;
	const char *label;		/* the archive's, for the manifest */
	char key[96];			/* the old archive: "DEV-INO-SIZE-CTIME" */
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

/* The new archive is good: make the rows durable, as one block under the
 * old archive's key, before the swap. */
static int
on_commit(void *arg)
{
	struct rewrite *rw = arg;
	const struct cert_manifest *p = &rw->pend;
	size_t hdr = strlen(CERT_MANIFEST_HEADER);
	struct strbuf b = { 0 };
	char path[4200];
	ssize_t w = -1;
	int fd;

	if (p->len <= hdr)
		return 0;
	strbuf_printf(&b, "%s\t#begin\n", rw->key);
	for (const char *r = p->text + hdr; r < p->text + p->len; ) {
		const char *nl = memchr(r, '\n', (size_t)(p->text + p->len - r));
		size_t n = nl ? (size_t)(nl - r) + 1 : (size_t)(p->text + p->len - r);
		strbuf_printf(&b, "%s\t", rw->key);
		strbuf_add(&b, r, n);
		r += n;
	}
	strbuf_printf(&b, "%s\t#end\n", rw->key);
	snprintf(path, sizeof(path), "%s/" ROWS_FILE, rw->x->workdir);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd != -1 && !b.oom) {
		w = write(fd, b.p, b.len);
		if (w != (ssize_t)b.len || fdatasync(fd) != 0)
			w = -1;
	}
	if (fd != -1)
		close(fd);
	if (b.p != NULL)
		OPENSSL_cleanse(b.p, b.len);
	strbuf_free(&b);
	return w < 0 ? -1 : 0;
}

/* One committed block of work/ID/archives, while reading it back. */
struct block {
	char key[96];
	size_t start, end;	/* its rows, as offsets into the text */
};

int
dispose_archive_rows(struct dctx *x, struct strbuf *rows, struct err *e)
{
	char path[4200], *text = NULL;
	size_t len = 0, nb = 0, cur = 0;
	struct block *v = NULL;
	struct stat st;
	int rc = -1, inblock = 0;
	struct dispose_out *o = x->out;

	snprintf(path, sizeof(path), "%s/" ROWS_FILE, x->workdir);
	if (lstat(path, &st) != 0 && errno == ENOENT)
		return 0;	/* no archive committed (or a record from
				 * before this file: rows in the manifest) */
	if (slurp(path, SIZE_MAX / 4, &text, &len, e) != 0)
		return -1;
	/* Every whole block, in file order; a later block of the same key
	 * replaces an earlier one (the same old archive committed again). */
	for (size_t off = 0; off < len; ) {
		char *nl = memchr(text + off, '\n', len - off), *tab;
		size_t end = nl ? (size_t)(nl - text) + 1 : len;
		tab = memchr(text + off, '\t', end - off);
		if (nl == NULL || tab == NULL || (size_t)(tab - text - off) >=
		    sizeof(v->key))
			break;	/* torn: never acted on */
		if (strncmp(tab + 1, "#begin\n", 7) == 0) {
			/* A block starts; one still open was cut short (never
			 * committed) and counts for nothing. */
			struct block *g = realloc(v, (nb + 1 - inblock) *
			    sizeof(*v));
			if (g == NULL)
				goto oom;
			v = g;
			cur = inblock ? cur : nb++;
			snprintf(v[cur].key, sizeof(v[cur].key), "%.*s",
			    (int)(tab - text - off), text + off);
			v[cur].start = end;
			inblock = 1;
			off = end;
			continue;
		}
		if (!inblock || (size_t)(tab - text - off) !=
		    strlen(v[cur].key) || strncmp(text + off, v[cur].key,
		    strlen(v[cur].key)) != 0) {
			/* A row outside a block, or of another key: the block
			 * open was cut short; this row belongs to none. */
			if (inblock)
				nb--;
			inblock = 0;
			off = end;
			continue;
		}
		if (strncmp(tab + 1, "#end\n", 5) == 0) {
			v[cur].end = off;
			inblock = 0;
			for (size_t k = 0; k < cur; k++)
				if (strcmp(v[k].key, v[cur].key) == 0)
					v[k].key[0] = '\0';	/* replaced */
		}
		off = end;
	}
	if (inblock)
		nb--;	/* an unterminated block was never committed */
	o->archives = o->members = o->member_bytes = 0;
	for (size_t k = 0; k < nb; k++) {
		if (v[k].key[0] == '\0')
			continue;
		o->archives++;
		for (size_t off = v[k].start; off < v[k].end; ) {
			char *nl = memchr(text + off, '\n', v[k].end - off);
			char *row = memchr(text + off, '\t', v[k].end - off) + 1;
			char *sz = memchr(row, '\t', (size_t)(nl - row));
			strbuf_add(rows, row, (size_t)(nl - row) + 1);
			o->members++;
			if (sz != NULL)
				o->member_bytes += strtoull(sz + 1, NULL, 10);
			off = (size_t)(nl - text) + 1;
		}
	}
	if (o->members > 0)
		o->techniques |= DT_ARCHIVE;
	rc = rows->oom ? err_set(e, "out of memory") : 0;
	goto out;
oom:
	rc = err_set(e, "out of memory");
out:
	free(v);
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
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
	{
		struct stat st;
		if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0)
			memset(&st, 0, sizeof(st));
		/* The old archive as it was read: its inode, and its size
		 * and change time, so a later archive that reuses the inode
		 * is another key. */
		snprintf(rw.key, sizeof(rw.key), "%ju-%ju-%jd-%jd.%09ld",
		    (uintmax_t)st.st_dev, (uintmax_t)st.st_ino,
		    (intmax_t)st.st_size, (intmax_t)st.st_ctim.tv_sec,
		    (long)st.st_ctim.tv_nsec);
	}
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
