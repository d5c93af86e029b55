/*
 * reappear.c: the same data, found again (see reappear.h).
 *
 * MUST rules:
 *  - new data of a continuing agreement is never destroyed as reappeared;
 *  - a file is read only when its size is one a disposition destroyed, and
 *    only for reading, through the allowed root, never following a link.
 */
#include "plan/reappear.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/num.h"
#include "conf/config.h"
#include "locate/resolve.h"
#include "plan/events.h"
#include "plan/scope.h"
#include "state/durable.h"

#include <openssl/evp.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
cmp_digest(const void *pa, const void *pb)
{
	const struct rdigest *a = pa, *b = pb;

	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	return memcmp(a->sha, b->sha, sizeof(a->sha));
}

/* Parses "SIZE SHA256" lines of text into r (appending). */
static int
parse(struct reappear *r, char *text)
{
	for (char *line = text, *next; line != NULL && *line; line = next) {
		struct rdigest d, *v;
		int64_t size;
		char *sp;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp = '\0';
		/* A line that does not parse names no data: skipped, so it
		 * can never make new data look like data destroyed before. */
		if (num_parse(line, 0, INT64_MAX, &size) != 0 ||
		    hex_decode(sp + 1, strlen(sp + 1), d.sha, 32) != 0)
			continue;
		d.size = (uint64_t)size;
		v = realloc(r->v, (r->n + 1) * sizeof(*v));
		if (v == NULL)
			return -1;
		r->v = v;
		v[r->n++] = d;
	}
	return 0;
}

int
reappear_load(const char *state_dir, const struct events *ev,
    const char *agreement, const char *trigger, struct reappear *r,
    struct err *e)
{
	memset(r, 0, sizeof(*r));
	if (strcmp(trigger, "termination") == 0) {
		r->any = 1;
		return 0;
	}
	for (size_t i = 0; i < ev->ndisp; i++) {
		const struct ev_disposition *d = &ev->disp[i];
		char path[PATH_MAX], *text = NULL;
		size_t len;
		struct err ie;

		if (strcmp(d->agreement, agreement) != 0 ||
		    (d->completed == 0 && !d->partial) ||
		    (strcmp(d->trigger, trigger) != 0 &&
		    (d->of == NULL || strcmp(d->of, trigger) != 0)))
			continue;
		if (strcmp(d->trigger, trigger) == 0 && d->started > r->before)
			r->before = d->started;
		if (snprintf(path, sizeof(path), "%s/work/%s/digests", state_dir,
		    d->id) >= (int)sizeof(path))
			continue;
		if (slurp(path, SIZE_MAX / 4, &text, &len, &ie) != 0)
			continue;	/* from before digests were kept */
		if (parse(r, text) != 0) {
			free(text);
			reappear_free(r);
			return err_set(e, "out of memory");
		}
		free(text);
	}
	if (r->n > 0)
		qsort(r->v, r->n, sizeof(*r->v), cmp_digest);
	return 0;
}

void
reappear_free(struct reappear *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Whether some digest has this size. */
static int
size_known(const struct reappear *r, uint64_t size)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->v[mid].size < size)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->n && r->v[lo].size == size;
}

/* SHA-256 of the file (root, rel) with this (dev, ino): 0, or -1. */
static int
digest_of(const struct config *c, const struct scope_obj *o,
    unsigned char md[32])
{
	struct rootdir root;
	struct stat st;
	struct err e;
	const char *base;
	unsigned char buf[65536];
	EVP_MD_CTX *ctx = NULL;
	unsigned len = 0;
	ssize_t n;
	int dirfd, fd = -1, rc = -1;

	if (resolve_root(c->roots[o->names[0].root], &root, &e) != 0)
		return -1;
	dirfd = resolve_parent(&root, o->names[0].rel, &base, &e);
	resolve_root_close(&root);
	if (dirfd < 0)
		return -1;
	fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	close(dirfd);
	if (fd == -1 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_dev != o->dev || st.st_ino != o->ino)
		goto out;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			goto out;
	if (n == 0 && EVP_DigestFinal_ex(ctx, md, &len) == 1 && len == 32)
		rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	if (fd != -1)
		close(fd);
	return rc;
}

int
reappear_same(const struct scope_ctx *x, const struct scope_obj *o,
    void *arg)
{
	const struct reappear *r = arg;
	struct rdigest d;

	if (r->any || o->mtime < r->before)
		return 1;
	if (o->kind != SK_FILE || !size_known(r, (uint64_t)o->size))
		return 0;
	d.size = (uint64_t)o->size;
	if (digest_of(x->cfg, o, d.sha) != 0)
		return 0;
	return bsearch(&d, r->v, r->n, sizeof(d), cmp_digest) != NULL;
}

int
reappear_save(const char *workdir, const char *text, size_t len,
    struct err *e)
{
	struct reappear r = { 0 };
	char path[PATH_MAX], *copy, *out = NULL;
	size_t olen = 0;
	int rc;

	if ((copy = malloc(len + 1)) == NULL)
		return err_set(e, "out of memory");
	memcpy(copy, text, len);
	copy[len] = '\0';
	rc = parse(&r, copy);
	free(copy);
	if (rc != 0)
		return err_set(e, "out of memory");
	if (r.n > 0)
		qsort(r.v, r.n, sizeof(*r.v), cmp_digest);
	if ((out = malloc(r.n * 86 + 1)) == NULL) {
		reappear_free(&r);
		return err_set(e, "out of memory");
	}
	out[0] = '\0';
	for (size_t i = 0; i < r.n; i++) {
		if (i > 0 && cmp_digest(&r.v[i], &r.v[i - 1]) == 0)
			continue;
		olen += (size_t)sprintf(out + olen, "%" PRIu64 " ", r.v[i].size);
		hex_encode(r.v[i].sha, 32, out + olen);
		olen += 64;
		out[olen++] = '\n';
		out[olen] = '\0';
	}
	reappear_free(&r);
	if (snprintf(path, sizeof(path), "%s/digests", workdir) >=
	    (int)sizeof(path)) {
		free(out);
		return err_set(e, "%s/digests: path too long", workdir);
	}
	rc = durable_write(path, out, olen, 0600, e);
	free(out);
	return rc;
}
