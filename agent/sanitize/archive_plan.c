/*
 * archive_plan.c: pass 1 over a tar or cpio archive decides, member by
 * member, what the rewrite keeps and what it cuts (archive_int.h).
 *
 * Hard links.  A tar link entry names an earlier member and has no data
 * of its own.  A removed link to a kept member is simply left out.  A
 * kept link whose target is removed is written as a file holding the
 * target's content, since its name is outside the glob and what it names
 * must be kept; further kept links to the same target link to that file
 * (archive.h: r->materialized counts them, and the certificate says so).
 * A sparse target is refused: its holes would be lost.  cpio stores a
 * linked file's content with one of its names, so a cpio link set split
 * by the glob is refused.
 */
#include "sanitize/archive_int.h"
#include "sanitize/archive.h"

#include "base/array.h"
#include "base/err.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
aplan_free(struct aplan *p)
{
	for (size_t i = 0; i < p->nmat; i++) {
		free(p->mat[i].target);
		free(p->mat[i].self);
	}
	free(p->mat);
	free(p->cuts);
	free(p->gzm);
	for (size_t i = 0; i < p->nrow; i++)
		free(p->rows[i].path);
	free(p->rows);
	p->rows = NULL;
	p->nrow = 0;
	zip_free(p->zip);
	p->zip = NULL;
	p->mat = NULL;
	p->cuts = NULL;
	p->gzm = NULL;
	p->nmat = p->ncut = 0;
}

int
aplan_cut(struct aplan *p, uint64_t start, uint64_t end)
{
	struct cut *v;

	if (p->ncut > 0 && p->cuts[p->ncut - 1].end == start) {
		p->cuts[p->ncut - 1].end = end;
		return 0;
	}
	v = array_grow(p->cuts, p->ncut, &p->cutcap, sizeof(*v), 16);

	if (v == NULL)
		return -1;
	p->cuts = v;
	p->cuts[p->ncut++] = (struct cut){ start, end };
	return 0;
}

const char *
readback_members(const struct aplan *p, int same_count,
    const unsigned char chain[32])
{
	if (!same_count)
		return "it holds a different number of members";
	if (memcmp(chain, p->chain, 32) != 0)
		return "the kept members' names, metadata or content differ";
	return NULL;
}

static int
mat_add(struct aplan *p, uint64_t idx, const struct unit *u,
    const char *target, const char *self)
{
	struct mat *m = array_grow(p->mat, p->nmat, &p->matcap, sizeof(*m), 8);

	if (m == NULL)
		return -1;
	p->mat = m;
	m = &p->mat[p->nmat];
	memset(m, 0, sizeof(*m));
	m->link_idx = idx;
	m->target_idx = UINT64_MAX;
	m->new_idx = p->kept;
	m->start = u->start;
	m->end = u->end;
	m->target = strdup(target);
	m->self = strdup(self);
	if (m->target == NULL || m->self == NULL) {
		free(m->target);
		free(m->self);
		return -1;
	}
	p->nmat++;
	return aplan_cut(p, u->start, u->end);
}

/* cpio link sets: (dev, ino) -> removed and kept members seen. */
struct lsets {
	struct lset {
		uint64_t dev, ino, first;
		unsigned char used, removed, kept;
	} *v;
	size_t n, cap;
};

static int
lset_mark(struct lsets *s, const struct unit *u, int removed, uint64_t idx)
{
	if (s->n * 2 >= s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		struct lset *v = calloc(nc, sizeof(*v));
		if (v == NULL)
			return -1;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->v[i].used)
				continue;
			size_t h = (s->v[i].dev * 31 + s->v[i].ino) % nc;
			while (v[h].used)
				h = (h + 1) % nc;
			v[h] = s->v[i];
		}
		free(s->v);
		s->v = v;
		s->cap = nc;
	}
	size_t h = (u->dev * 31 + u->ino) % s->cap;
	while (s->v[h].used && !(s->v[h].dev == u->dev &&
	    s->v[h].ino == u->ino))
		h = (h + 1) % s->cap;
	if (!s->v[h].used) {
		s->v[h] = (struct lset){ u->dev, u->ino, idx, 1, 0, 0 };
		s->n++;
	}
	s->v[h].removed |= removed;
	s->v[h].kept |= !removed;
	return 0;
}

/* A tar archive is pax if any member needed pax headers, gnu if any used
 * GNU extensions. */
static int
merge_format(int have, int fmt)
{
	if (have == 0 || !is_tar_format(have) || !is_tar_format(fmt))
		return have == 0 ? fmt : have;
	if (have == ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE ||
	    fmt == ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE)
		return ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE;
	if (have == ARCHIVE_FORMAT_TAR_GNUTAR || fmt == ARCHIVE_FORMAT_TAR_GNUTAR)
		return ARCHIVE_FORMAT_TAR_GNUTAR;
	if (have == ARCHIVE_FORMAT_TAR_USTAR || fmt == ARCHIVE_FORMAT_TAR_USTAR)
		return ARCHIVE_FORMAT_TAR_USTAR;
	return fmt;
}

static void
describe(struct aplan *p, const struct freader *f)
{
	const char *fmt = "tar";
	char extra[64] = "";

	if (f->kind == WK_CPIO)
		fmt = cpio_variant_name(f->wk.variant);
	else if (p->rformat == ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE)
		fmt = "pax";
	else if (p->rformat == ARCHIVE_FORMAT_TAR_GNUTAR)
		fmt = "gnu tar";
	else if (p->rformat == ARCHIVE_FORMAT_TAR_USTAR)
		fmt = "ustar";
	else if (p->rformat == ARCHIVE_FORMAT_TAR)
		fmt = "v7 tar";
	if (p->ngzm > 1)
		snprintf(extra, sizeof(extra), " (%zu members)", p->ngzm);
	snprintf(p->desc, sizeof(p->desc), "%s%s%s%s%s%s",
	    f->kind == WK_CPIO ? "cpio " : "", fmt,
	    f->wk.concat ? ", concatenated" : "",
	    f->ds.fname ? " + " : "", f->ds.fname ? f->ds.fname : "", extra);
}

/* One member of pass 1; out of line to keep scan_stream short. */
struct scanst {
	struct freader f;
	struct digests d;
	struct lsets ls;
	uint64_t dumpdir;	/* 1 + ordinal of a kept GNU listing */
	const char *glob;
	int full;
};

static int
one(struct scanst *s, struct aplan *p, struct archive_entry *ent,
    const struct unit *u, uint64_t i, struct actx *c)
{
	const char *path = archive_entry_pathname(ent), *why;
	const char *link = archive_entry_hardlink(ent);
	char *lnorm = NULL, kind = entry_kind(ent);
	unsigned char sha[32];
	uint64_t n = 0;
	int rc = -1, nr, m, lm = 0;

	if ((m = aname_member(s->glob, path, i, c)) < 0)
		goto out;
	if (link != NULL) {
		nr = aname_normalize(link, &lnorm, &why);
		if (nr < 0) {
			err_set(c->e, "%s: member #%ju is a hard link to a name "
			    "that %s; refused, archive untouched", c->label,
			    (uintmax_t)i + 1, why);
			goto out;
		}
		lm = nr == 1 && aname_matches(s->glob, lnorm);
	}
	if (member_sha(&s->d, s->f.rd, s->full, sparse_end(ent), &n, sha, c,
	    i) != 0) {
		fr_explain(&s->f, c);
		goto out;
	}
	int content = kind == 'f' || n > 0;
	if ((u->flags & U_LINKED) && lset_mark(&s->ls, u, m, i) != 0)
		goto oom;
	if (m) {
		p->matches++;
		p->match_bytes += n;
		p->removed_bytes += n;
		if (aplan_cut(p, u->start, u->end) != 0)
			goto oom;
		if (s->full && row_add(p, i, ent, content ? 'f' : kind, n,
		    content ? sha : NULL) != 0)
			goto oom;
	} else {
		if ((u->flags & U_DUMPDIR) && s->dumpdir == 0)
			s->dumpdir = i + 1;
		if (link != NULL && lm && s->f.kind == WK_TAR) {
			if (mat_add(p, i, u, link, path) != 0)
				goto oom;
		} else if (s->full)
			chain_add(s->d.chain, ent, kind, kind == 'l' ?
			    archive_entry_symlink(ent) : link, n,
			    content ? sha : NULL);
		p->kept++;
		p->kept_bytes += n;
	}
	rc = 0;
	goto out;
oom:
	err_set(c->e, "%s: out of memory", c->label);
out:
	free(lnorm);
	return rc;
}

static int
final_checks(struct scanst *s, struct aplan *p, struct actx *c)
{
	for (size_t i = 0; i < s->ls.cap; i++)
		if (s->ls.v[i].used && s->ls.v[i].removed && s->ls.v[i].kept)
			return err_set(c->e, "%s: member #%ju is hard-linked "
			    "across the members to remove, which a cpio "
			    "archive cannot split (its content is stored with "
			    "one name only); refused, archive untouched",
			    c->label, (uintmax_t)s->ls.v[i].first + 1);
	if (s->dumpdir != 0 && p->matches > 0)
		return err_set(c->e, "%s: member #%ju is a GNU incremental "
		    "directory listing, which names the members to remove; "
		    "refused, archive untouched", c->label,
		    (uintmax_t)s->dumpdir);
	return 0;
}

int
scan_stream(int fd, uint64_t size, const char *glob, int full,
    struct aplan *p, struct actx *c)
{
	struct scanst s = { .glob = glob, .full = full };
	struct archive_entry *ent;
	struct unit u;
	int rc = -1, r;

	if (digests_open(&s.d, c) != 0 ||
	    fr_open(&s.f, fd, size, DS_CHECK, c) != 0)
		goto out;
	p->kind = s.f.kind;
	p->filter = s.f.ds.filter;
	for (uint64_t i = 0; (r = fr_next(&s.f, &ent, &u, i, c)) != 0; i++) {
		if (r < 0)
			goto out;
		p->entries++;
		p->rformat = merge_format(p->rformat, archive_format(s.f.rd));
		if (one(&s, p, ent, &u, i, c) != 0)
			goto out;
	}
	if (fr_finish(&s.f, NULL, c) != 0 || final_checks(&s, p, c) != 0)
		goto out;
	p->dlen = s.f.ds.pos;
	p->raw_zero_tail = s.f.ds.zero_tail;
	p->block = p->kind ? walk_block(&s.f.wk, p->dlen) : 0;
	if (s.f.ds.gz != NULL) {
		size_t n;
		const struct gzmember *m = gz_members(s.f.ds.gz, &n);
		p->gzm = malloc(n * sizeof(*p->gzm));
		if (p->gzm == NULL) {
			err_set(c->e, "%s: out of memory", c->label);
			goto out;
		}
		memcpy(p->gzm, m, n * sizeof(*m));
		p->ngzm = n;
	}
	EVP_DigestFinal_ex(s.d.chain, p->chain, NULL);
	describe(p, &s.f);
	rc = 0;
out:
	fr_close(&s.f);
	free(s.ls.v);
	digests_close(&s.d);
	return rc;
}

/* Finds each materialized link's target: the last member before it with
 * that name, which must hold content and have no holes. */
int
resolve_mats(int fd, uint64_t size, struct aplan *p, struct actx *c)
{
	struct freader f;
	struct archive_entry *ent;
	struct unit u;
	int rc = -1, r;
	uint64_t n;

	if (p->nmat == 0)
		return 0;
	if (fr_open(&f, fd, size, 0, c) != 0)
		goto out;
	for (uint64_t i = 0; (r = fr_next(&f, &ent, &u, i, c)) != 0; i++) {
		const char *path = archive_entry_pathname(ent);
		if (r < 0)
			goto out;
		for (size_t k = 0; path != NULL && k < p->nmat; k++) {
			struct mat *m = &p->mat[k];
			if (m->link_idx <= i || strcmp(m->target, path) != 0)
				continue;
			if (entry_kind(ent) != 'f' || (u.flags & U_SPARSE)) {
				err_set(c->e, "%s: kept member #%ju is a hard "
				    "link to removed member #%ju, which %s; "
				    "refused, archive untouched", c->label,
				    (uintmax_t)m->link_idx + 1, (uintmax_t)i + 1,
				    entry_kind(ent) != 'f' ? "is not a regular "
				    "file" : "is sparse: writing its content "
				    "under the kept name would lose its holes");
				goto out;
			}
			m->target_idx = i;
		}
		if (copy_content(f.rd, NULL, NULL, 0, &n, c, i) != 0) {
			fr_explain(&f, c);
			goto out;
		}
	}
	for (size_t k = 0; k < p->nmat; k++) {
		if (p->mat[k].target_idx == UINT64_MAX) {
			err_set(c->e, "%s: kept member #%ju is a hard link to a "
			    "removed name that no earlier member has; refused, "
			    "archive untouched", c->label,
			    (uintmax_t)p->mat[k].link_idx + 1);
			goto out;
		}
		/* The target's content stays, under the kept name. */
		for (size_t q = 0; q < p->nrow; q++)
			if (p->rows[q].idx == p->mat[k].target_idx) {
				p->rows[q].kind = 'k';
				memset(p->rows[q].sha, 0, 32);
			}
		/* The first kept link of a target gets the content; later
		 * ones link to it. */
		for (size_t j = 0; j < k; j++)
			if (p->mat[j].target_idx == p->mat[k].target_idx &&
			    p->mat[j].relink == NULL) {
				p->mat[k].relink = p->mat[j].self;
				break;
			}
	}
	rc = 0;
out:
	fr_close(&f);
	return rc;
}
