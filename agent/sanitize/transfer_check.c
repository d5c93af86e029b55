/*
 * transfer_check.c: reading a transfer archive back (transfer.h), and the
 * manifest's format, which packing (transfer.c) writes and this file
 * reads.
 *
 * MUST rules (with transfer.c's):
 *  - the archive is read from the disk (page cache dropped), never
 *    following a symlink at its name;
 *  - the check compares in order, in constant memory but for the
 *    manifest's text: a running SHA-256 over (path, digest) of the members
 *    must equal the same over the manifest's lines;
 *  - the manifest is the last member, and nothing follows it;
 *  - paths never appear in error messages (SPEC §8).
 */
#include "sanitize/transfer.h"
#include "sanitize/transfer_int.h"

#include "base/err.h"
#include "base/fdio.h"
#include "base/hex.h"
#include "base/strbuf.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
tr_manifest_line(struct strbuf *t, const unsigned char sha[32],
    const char *path)
{
	char h[65];

	hex_encode(sha, 32, h);
	if (strpbrk(path, "\\\n") != NULL)
		strbuf_add(t, "\\", 1);
	strbuf_add(t, h, 64);
	strbuf_add(t, "  ", 2);
	for (const char *p = path; *p != '\0'; p++) {
		const char *rep = *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" : NULL;
		strbuf_add(t, rep != NULL ? rep : p, rep != NULL ? 2 : 1);
	}
	strbuf_add(t, "\n", 1);
}

void
tr_chain_add(EVP_MD_CTX *chain, const char *path, size_t len,
    const unsigned char sha[32])
{
	EVP_DigestUpdate(chain, path, len);
	EVP_DigestUpdate(chain, "", 1);
	EVP_DigestUpdate(chain, sha, 32);
}

int
tr_chain_manifest(EVP_MD_CTX *chain, const char *m, size_t len, uint64_t *n)
{
	const char *p = m, *end = m + len;
	char *path = malloc(len + 1);

	if (path == NULL)
		return -1;
	*n = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		unsigned char sha[32];
		size_t pl = 0;
		int esc = *p == '\\';

		if (nl == NULL)
			goto bad;
		p += esc;
		if (nl - p < 67 || hex_decode(p, 64, sha, 32) != 0 || p[64] != ' ' ||
		    p[65] != ' ')
			goto bad;
		for (const char *q = p + 66; q < nl; q++) {
			if (esc && *q == '\\') {
				if (q + 1 >= nl || (q[1] != '\\' && q[1] != 'n'))
					goto bad;
				path[pl++] = q[1] == 'n' ? '\n' : '\\';
				q++;
			} else
				path[pl++] = *q;
		}
		tr_chain_add(chain, path, pl, sha);
		(*n)++;
		p = nl + 1;
	}
	free(path);
	return 0;
bad:
	free(path);
	return -1;
}

/* One read-back: the archive file, hashed as read, through libarchive. */
struct rb {
	int fd;
	unsigned char *buf;
	EVP_MD_CTX *raw;	/* of the file's bytes */
	uint64_t bytes;
	struct archive *a;
	EVP_MD_CTX *chain, *md;	/* the members' chain; one member */
	struct strbuf man;	/* the manifest's text */
	int seen_manifest;
	const char *label;
	struct err *e;
};

static la_ssize_t
rb_read(struct archive *a, void *arg, const void **out)
{
	struct rb *x = arg;
	ssize_t n = fdio_pread_full(x->fd, x->buf, TR_IOBUF, (off_t)x->bytes,
	    NULL);

	if (n < 0) {
		archive_set_error(a, errno, "%s", strerror(errno));
		return -1;
	}
	EVP_DigestUpdate(x->raw, x->buf, (size_t)n);
	x->bytes += (uint64_t)n;
	*out = x->buf;
	return n;
}

static int
rb_open(struct rb *x, int todir, const char *name)
{
	x->raw = EVP_MD_CTX_new();
	x->chain = EVP_MD_CTX_new();
	x->md = EVP_MD_CTX_new();
	x->buf = malloc(TR_IOBUF);
	if (x->raw == NULL || x->chain == NULL || x->md == NULL ||
	    x->buf == NULL)
		return err_set(x->e, "%s: out of memory", x->label);
	x->fd = openat(todir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (x->fd == -1)
		return err_sys(x->e, "%s", x->label);
	/* Read what the disk holds, not what we just wrote to the cache. */
	(void)posix_fadvise(x->fd, 0, 0, POSIX_FADV_DONTNEED);
	EVP_DigestInit_ex(x->raw, EVP_sha256(), NULL);
	EVP_DigestInit_ex(x->chain, EVP_sha256(), NULL);
	x->a = archive_read_new();
	if (x->a == NULL)
		return err_set(x->e, "%s: out of memory", x->label);
	archive_read_support_format_tar(x->a);
	archive_read_support_filter_gzip(x->a);
	if (archive_read_open(x->a, x, NULL, rb_read, NULL) != ARCHIVE_OK)
		return err_set(x->e, "%s: %s", x->label,
		    archive_error_string(x->a));
	return 0;
}

static void
rb_close(struct rb *x)
{
	if (x->a != NULL)
		archive_read_free(x->a);
	if (x->fd != -1)
		close(x->fd);
	free(x->buf);
	strbuf_free(&x->man);
	EVP_MD_CTX_free(x->raw);
	EVP_MD_CTX_free(x->chain);
	EVP_MD_CTX_free(x->md);
}

/* The content of member i (*ent): its digest into the chain, or, for the
 * manifest, its text.  1 at the end of the archive, 0, or -1. */
static int
rb_member(struct rb *x, uint64_t i, struct transfer_result *r)
{
	struct archive_entry *ent;
	const void *buf;
	size_t len;
	la_int64_t off;
	unsigned char sha[32];
	uint64_t n = 0;
	int k = archive_read_next_header(x->a, &ent);

	if (k == ARCHIVE_EOF)
		return 1;
	if (k != ARCHIVE_OK || x->seen_manifest)
		return err_set(x->e, "%s: member #%ju: %s", x->label,
		    (uintmax_t)i + 1, k != ARCHIVE_OK ?
		    archive_error_string(x->a) : "after the manifest");
	const char *p = archive_entry_pathname(ent);
	int is_man = p != NULL && strcmp(p, TRANSFER_MANIFEST) == 0;
	EVP_DigestInit_ex(x->md, EVP_sha256(), NULL);
	while ((k = archive_read_data_block(x->a, &buf, &len, &off)) ==
	    ARCHIVE_OK) {
		EVP_DigestUpdate(x->md, buf, len);
		if (is_man)
			strbuf_add(&x->man, buf, len);
		if (x->man.oom)
			return err_set(x->e, "%s: out of memory", x->label);
		n += len;
	}
	if (k != ARCHIVE_EOF)
		return err_set(x->e, "%s: member #%ju: %s", x->label,
		    (uintmax_t)i + 1, archive_error_string(x->a));
	EVP_DigestFinal_ex(x->md, sha, NULL);
	if (is_man) {
		x->seen_manifest = 1;
		return 0;
	}
	tr_chain_add(x->chain, p ? p : "", p ? strlen(p) : 0, sha);
	r->files++;
	r->bytes += n;
	return 0;
}

/* Every member, then the rest of the file (end-of-archive blocks) for the
 * file's digest. */
static int
rb_all(struct rb *x, struct transfer_result *r)
{
	int k;

	for (uint64_t i = 0; (k = rb_member(x, i, r)) != 1; i++)
		if (k != 0)
			return -1;
	for (;;) {
		const void *b;
		la_ssize_t n = rb_read(x->a, x, &b);
		if (n < 0)
			return err_sys(x->e, "%s: read", x->label);
		if (n == 0)
			return 0;
	}
}

/* The members against the manifest's lines. */
static int
rb_compare(struct rb *x, const struct transfer_result *r)
{
	EVP_MD_CTX *mchain = EVP_MD_CTX_new();
	unsigned char c1[32], c2[32];
	uint64_t lines = 0;
	int rc = -1;

	if (mchain == NULL)
		return err_set(x->e, "%s: out of memory", x->label);
	if (!x->seen_manifest) {
		err_set(x->e, "%s: no %s member", x->label, TRANSFER_MANIFEST);
		goto out;
	}
	EVP_DigestInit_ex(mchain, EVP_sha256(), NULL);
	if (tr_chain_manifest(mchain, x->man.p ? x->man.p : "", x->man.len,
	    &lines) != 0) {
		err_set(x->e, "%s: %s is malformed", x->label,
		    TRANSFER_MANIFEST);
		goto out;
	}
	EVP_DigestFinal_ex(x->chain, c1, NULL);
	EVP_DigestFinal_ex(mchain, c2, NULL);
	if (lines != r->files || memcmp(c1, c2, 32) != 0) {
		err_set(x->e, "%s: members do not match %s (%ju members, %ju "
		    "lines)", x->label, TRANSFER_MANIFEST, (uintmax_t)r->files,
		    (uintmax_t)lines);
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(mchain);
	return rc;
}

int
transfer_check(int todir, const char *name, const char *label,
    struct transfer_result *r, struct err *e)
{
	struct rb x = { .fd = -1, .label = label, .e = e };
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (rb_open(&x, todir, name) != 0 || rb_all(&x, r) != 0 ||
	    rb_compare(&x, r) != 0)
		goto out;
	EVP_DigestFinal_ex(x.raw, r->sha256, NULL);
	r->size = x.bytes;
	rc = 0;
out:
	rb_close(&x);
	return rc;
}
