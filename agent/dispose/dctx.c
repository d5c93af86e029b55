/*
 * dctx.c: what every file of one disposition shares (see dctx.h): labels,
 * exceptions, the allowed roots and the [media] entries, manifest rows,
 * name removal, holds recorded during the run, and the work files'
 * fields.  It calls no part of the disposition.
 */
#include "dispose/dctx.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/num.h"
#include "base/text.h"
#include "certify/cert.h"
#include "certify/manifest.h"
#include "conf/config.h"
#include "conf/policy.h"
#include "state/durable.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
dctx_init(struct dctx *x, const struct dispose_req *rq,
    struct dispose_out *out, struct diags *scratch, struct err *e)
{
	memset(x, 0, sizeof(*x));
	x->rq = rq;
	x->out = out;
	x->manfd = x->namesfd = x->intentsfd = x->remfd = -1;
	x->problems = rq->problems ? rq->problems : scratch;
	x->roots = calloc(rq->cfg->nroots + 1, sizeof(*x->roots));
	if (x->roots == NULL)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < rq->cfg->nroots; i++)
		x->roots[i].fd = -1;
	return 0;
}

void
dctx_free(struct dctx *x)
{
	strmap_free(&x->keys_journaled);
	strmap_free(&x->keys_counted);
	free(x->gone);
	scope_free(&x->scope);
	free(x->open);
	if (x->manfd != -1)
		close(x->manfd);
	if (x->remfd != -1)
		close(x->remfd);
	if (x->namesfd != -1)
		close(x->namesfd);
	if (x->intentsfd != -1)
		close(x->intentsfd);
	for (size_t i = 0; x->roots != NULL && i < x->rq->cfg->nroots; i++)
		resolve_root_close(&x->roots[i]);
	free(x->roots);
	x->roots = NULL;
}

/* Untrusted names are data (STYLE §10): escaped before they reach a
 * terminal. */
void
dctx_label(const struct dctx *x, const struct found *f, char *buf,
    size_t len)
{
	int w = snprintf(buf, len, "%s/", x->rq->cfg->roots[f->root]);
	size_t off = (w > 0 && (size_t)w < len) ? (size_t)w : 0;

	text_shown(f->rel, buf + off, len - off);
}

void
dctx_obj_label(const struct dctx *x, const struct scope_obj *o, char *buf,
    size_t len)
{
	struct found f;

	memset(&f, 0, sizeof(f));
	f.root = o->names[0].root;
	f.rel = o->names[0].rel;
	dctx_label(x, &f, buf, len);
}

void
dctx_exception(struct dctx *x, const char *fmt, ...)
{
	struct dispose_out *o = x->out;
	size_t off = strlen(o->exceptions);
	va_list ap;

	o->nexceptions++;
	if (off + 3 >= sizeof(o->exceptions))
		return;
	if (off > 0) {
		memcpy(o->exceptions + off, "; ", 3);
		off += 2;
	}
	va_start(ap, fmt);
	vsnprintf(o->exceptions + off, sizeof(o->exceptions) - off, fmt, ap);
	va_end(ap);
}

void
dctx_failed(struct dctx *x, const char *label, size_t ds, const char *why)
{
	diag_add(x->problems, label, 0, "%s", why);
	dctx_exception(x, "a file of dataset %s could not be destroyed",
	    x->rq->a->ds[ds].name);
}

int
dctx_root(struct dctx *x, int root, struct err *e)
{
	struct rootdir *r = &x->roots[root];

	if (r->fd == -1 && resolve_root(x->rq->cfg->roots[root], r, e) != 0)
		return -1;
	return r->fd;
}

int
dctx_open_parent(struct dctx *x, int root, const char *rel,
    const char **base, struct err *e)
{
	if (dctx_root(x, root, e) < 0)
		return -1;
	return resolve_parent(&x->roots[root], rel, base, e);
}

/* Whether the ", "-separated list holds name. */
static int
list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ',' ||
		    p[n] == '\0'))
			return 1;
	return 0;
}

struct dispose_media *
dctx_media_for(struct dctx *x, int fd, const char *dsname, struct err *e)
{
	struct dispose_out *o = x->out;
	struct stat st;
	struct dispose_media *m = NULL;

	if (fstat(fd, &st) != 0) {
		err_sys(e, "fstat");
		return NULL;
	}
	for (size_t i = 0; i < o->nmedia; i++)
		if (o->media[i].m.dev == st.st_dev)
			m = &o->media[i];
	if (m == NULL) {
		if (o->nmedia == DISPOSE_MAX_MEDIA) {
			err_set(e, "more than %d filesystems in one disposition",
			    DISPOSE_MAX_MEDIA);
			return NULL;
		}
		m = &o->media[o->nmedia];
		memset(m, 0, sizeof(*m));
		if (media_probe(fd, &m->m, e) != 0)
			return NULL;
		m->purge = -2;	/* not tried yet */
		o->nmedia++;
	}
	if (!list_has(m->sources, dsname)) {
		size_t off = strlen(m->sources), n = strlen(dsname);
		/* Never a name cut in half: when the list is full, say so. */
		if (strstr(m->sources, " and more") != NULL)
			;
		else if (off + 2 + n + 10 < sizeof(m->sources))
			snprintf(m->sources + off, sizeof(m->sources) - off,
			    "%s%s", off ? ", " : "", dsname);
		else
			snprintf(m->sources + off, sizeof(m->sources) - off,
			    " and more");
	}
	return m;
}

int
dctx_manifest_row(struct dctx *x, const char *path, uint64_t size,
    const char *sha, struct err *e)
{
	struct cert_manifest m;
	size_t hdr;
	ssize_t w;
	int rc = -1;

	if (cert_manifest_init(&m, e) != 0)
		return -1;
	hdr = m.len;
	if (cert_manifest_add(&m, path, size, sha, e) != 0)
		goto out;
	w = write(x->manfd, m.text + hdr, m.len - hdr);
	if (w < 0 || (size_t)w != m.len - hdr) {
		err_sys(e, "%s/manifest: write", x->workdir);
		goto out;
	}
	if (fdatasync(x->manfd) != 0) {
		err_sys(e, "%s/manifest: fdatasync", x->workdir);
		goto out;
	}
	rc = 0;
out:
	cert_manifest_free(&m);
	return rc;
}

void
dctx_gone(struct dctx *x, const struct scope_name *n)
{
	struct scope_name *g = realloc(x->gone, (x->ngone + 1) * sizeof(*g));

	if (g != NULL) {
		x->gone = g;
		g[x->ngone++] = *n;	/* rel stays the scope's */
	}
}

/* Removes a name without opening what it names (symlink, FIFO, socket,
 * device, or a further hard link of an object already overwritten). */
void
dctx_kind_count(struct dispose_out *o, const char *kind)
{
	const char *date;

	if (strcmp(kind, "link") == 0) {
		o->links++;
		return;
	}
	if (strcmp(kind, "special") == 0) {
		o->specials++;
		return;
	}
	if (strncmp(kind, "sealed ", 7) != 0)
		return;
	o->sealed_files++;
	o->techniques |= DT_CRYPTO;
	if (strncmp(kind + 7, "kept ", 5) == 0) {
		date = kind + 12;
		o->sealed_kept++;
		if (strcmp(date, o->kept_on) > 0)
			snprintf(o->kept_on, sizeof(o->kept_on), "%.10s", date);
	} else if (strncmp(kind + 7, "cleared ", 8) == 0) {
		date = kind + 15;
		o->sealed_cleared++;
		if (strcmp(date, o->key_sealed_after) > 0)
			snprintf(o->key_sealed_after,
			    sizeof(o->key_sealed_after), "%.10s", date);
	} else
		o->sealed_clean++;
}

int
dctx_remove_name(struct dctx *x, const struct item *it,
    const struct scope_name *n, uint64_t size, const char *kind,
    struct err *e)
{
	char label[4200];
	const char *base;
	int dirfd = -1, rc = -1;
	struct ow_opts oo;
	struct found f = it->f;

	f.root = n->root;
	f.rel = n->rel;
	dctx_label(x, &f, label, sizeof(label));
	if ((dirfd = dctx_open_parent(x, n->root, n->rel, &base, e)) < 0)
		return -1;
	if (dctx_media_for(x, dirfd, x->rq->a->ds[n->ds].name, e) == NULL)
		goto out;
	memset(&oo, 0, sizeof(oo));
	oo.dev = it->f.dev;	/* a name swapped since the walk is refused */
	oo.ino = it->f.ino;
	if (ow_unlink_name(dirfd, base, label, &oo, e) != 0)
		goto out;
	/* No content read: "-" in the manifest (SPEC §8 via cert.h). */
	if (dctx_manifest_row(x, label, size, "-", e) != 0)
		goto out;
	{
		char line[64];
		int len = snprintf(line, sizeof(line), "%s\n", kind);
		/* No sync of its own: a kill keeps what was written, and
		 * the recount syncs it (dispose_names.c); only a power loss
		 * could cost a count, never a manifest row (synced above). */
		if (x->remfd != -1 && write(x->remfd, line, (size_t)len) !=
		    len) {
			err_sys(e, "%s/removed: write", x->workdir);
			goto out;
		}
	}
	dctx_kind_count(x->out, kind);
	dctx_gone(x, n);
	rc = 0;
out:
	close(dirfd);
	return rc;
}

int
dctx_sync(struct dctx *x)
{
	struct err e;

	if (x->rq->sync == NULL || x->rq->sync(x->rq->sync_arg, &e) == 0)
		return 0;
	diag_add(x->problems, x->rq->a->id, 0, "cannot learn of holds recorded "
	    "during the run: %s", e.msg);
	dctx_exception(x, "stopped: the journal could not be read for holds "
	    "recorded during the run");
	x->stop = 1;
	return -1;
}

int
dctx_held(struct dctx *x, const struct scope_obj *o, size_t ds)
{
	const struct agreement *a = x->rq->a;
	const char *held;
	char label[4200];

	if ((held = scope_held_now(x->rq->sx, a, o)) == NULL)
		return 0;
	dctx_obj_label(x, o, label, sizeof(label));
	diag_add(x->problems, label, 0, "kept: held by %s, recorded while this "
	    "run went on", held);
	dctx_exception(x, "an object of dataset %s was kept: held by %s "
	    "during the run", a->ds[ds].name, held);
	return 1;
}

void
dctx_categories(struct dctx *x, const struct scope_obj *o)
{
	for (size_t i = 0; i < o->ndss; i++)
		x->out->categories |= x->rq->a->ds[o->dss[i]].categories;
}

int
dctx_covers_agreement(const struct dispose_req *rq)
{
	for (size_t i = 0; i < rq->a->nds; i++) {
		int in = 0;
		if (dataset_exempt(rq->a, i))
			continue;
		for (size_t k = 0; k < rq->nds; k++)
			in |= rq->ds[k] == i;
		if (!in)
			return 0;
	}
	return 1;
}

int
dctx_u64(const char *s, uint64_t *out)
{
	int64_t v;

	if (num_parse(s, 0, INT64_MAX, &v) != 0)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

void
dctx_enc(const char *s, char *out, size_t len)
{
	size_t o = 0;

	for (; *s && o + 4 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c == '%' || c == 0x7f)
			o += (size_t)snprintf(out + o, len - o, "%%%02X", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

void
dctx_enc_parent(const char *rel, char *out, size_t len)
{
	const char *slash = strrchr(rel, '/');
	char tmp[4200];

	if (slash == NULL) {
		snprintf(out, len, "%%2E");	/* "." */
		return;
	}
	snprintf(tmp, sizeof(tmp), "%.*s", (int)(slash - rel), rel);
	dctx_enc(tmp, out, len);
}

void
dctx_dec(char *s)
{
	char *w = s;

	for (; *s; s++) {
		char h[2];
		unsigned char b;
		if (s[0] == '%' && s[1] != '\0' && s[2] != '\0') {
			h[0] = (char)tolower((unsigned char)s[1]);
			h[1] = (char)tolower((unsigned char)s[2]);
			if (hex_decode(h, 2, &b, 1) == 0) {
				*w++ = (char)b;
				s += 2;
				continue;
			}
		}
		*w++ = *s;
	}
	*w = '\0';
}

int
dctx_work_lines(struct dctx *x, const char *name, size_t max,
    int (*fn)(struct dctx *, char *, void *), void *arg)
{
	char path[4200], *buf = NULL;
	size_t len;
	struct err e;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", x->workdir, name);
	if (slurp(path, max, &buf, &len, &e) != 0)
		return 0;	/* none yet */
	for (char *line = buf, *next; rc == 0 && *line; line = next) {
		next = strchr(line, '\n');
		if (next == NULL)
			break;		/* a torn last line: never acted on */
		*next++ = '\0';
		rc = fn(x, line, arg);
	}
	free(buf);
	return rc;
}
