/*
 * transfer.c: the archive for an Exhibit D transfer (see transfer.h).
 *
 * MUST rules:
 *  - every source file is opened O_NOFOLLOW through its directory fd and
 *    checked on the fd (regular, expected dev/ino), and must yield exactly
 *    the size fstat gave: a file that changes while read fails the pack;
 *  - the archive is built under a temporary name in transfer_to, fsync'd,
 *    read back from the disk (page cache dropped) and checked against the
 *    manifest before it gets its name; it never replaces an existing file;
 *  - the read-back check compares in order, in constant memory: a running
 *    SHA-256 over (path, digest) of the members must equal the same over
 *    the manifest's lines and over what was packed;
 *  - a temporary that may hold student data is removed by overwrite (a
 *    killed run's leftover) or, when we just wrote it, also by overwrite:
 *    the originals still exist, but the vendor keeps no extra copy;
 *  - paths never appear in error messages (SPEC §8).
 */
#include "sanitize/transfer.h"

#include "base/err.h"
#include "base/fdio.h"
#include "base/hex.h"
#include "sanitize/overwrite.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TMP_SUFFIX ".lethe-tmp"
#define IOBUF (1024 * 1024)

struct out {
	int fd;
	int err;
};

struct in {
	int fd;
	unsigned char *buf;
	EVP_MD_CTX *raw;
	uint64_t bytes;
};

/* A growing text buffer for the manifest: O(files), never O(bytes). */
struct text {
	char *s;
	size_t len, cap;
};

static la_ssize_t
out_write(struct archive *a, void *arg, const void *buf, size_t len)
{
	struct out *o = arg;

	if (fdio_write_all(o->fd, buf, len) != 0) {
		o->err = errno;
		archive_set_error(a, errno, "%s", strerror(errno));
		return -1;
	}
	return (la_ssize_t)len;
}

static la_ssize_t
in_read(struct archive *a, void *arg, const void **out)
{
	struct in *s = arg;
	ssize_t n;

	do
		n = read(s->fd, s->buf, IOBUF);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "%s", strerror(errno));
		return -1;
	}
	EVP_DigestUpdate(s->raw, s->buf, (size_t)n);
	s->bytes += (uint64_t)n;
	*out = s->buf;
	return n;
}

static int
text_add(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t nc = t->cap ? t->cap : 4096;
		while (nc < t->len + n + 1)
			nc *= 2;
		char *p = realloc(t->s, nc);
		if (p == NULL)
			return -1;
		t->s = p;
		t->cap = nc;
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
	return 0;
}

/* One manifest line as sha256sum writes it: a name holding '\\' or '\n'
 * gets them escaped and the line a leading '\\'. */
static int
manifest_line(struct text *t, const unsigned char *sha, const char *path)
{
	char h[65];
	int esc = strpbrk(path, "\\\n") != NULL;

	hex_encode(sha, 32, h);
	if ((esc && text_add(t, "\\", 1) != 0) || text_add(t, h, 64) != 0 ||
	    text_add(t, "  ", 2) != 0)
		return -1;
	for (const char *p = path; *p != '\0'; p++) {
		const char *rep = *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" : NULL;
		if (text_add(t, rep != NULL ? rep : p, rep != NULL ? 2 : 1) != 0)
			return -1;
	}
	return text_add(t, "\n", 1);
}

/* The order-sensitive digest both sides of the check build. */
static void
chain_add(EVP_MD_CTX *c, const char *path, size_t len,
    const unsigned char *sha)
{
	EVP_DigestUpdate(c, path, len);
	EVP_DigestUpdate(c, "", 1);
	EVP_DigestUpdate(c, sha, 32);
}

static int
path_ok(const char *p)
{
	const char *c = p;

	if (*p == '\0' || *p == '/' || strcmp(p, TRANSFER_MANIFEST) == 0)
		return 0;
	for (;;) {
		const char *end = strchr(c, '/');
		size_t n = end ? (size_t)(end - c) : strlen(c);
		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (end == NULL)
			return 1;
		c = end + 1;
	}
}


/* Builds the chain from the manifest's text (count lines into *n). */
static int
chain_manifest(EVP_MD_CTX *c, const char *m, size_t len, uint64_t *n)
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
		chain_add(c, path, pl, sha);
		(*n)++;
		p = nl + 1;
	}
	free(path);
	return 0;
bad:
	free(path);
	return -1;
}

int
transfer_check(int todir, const char *name, const char *label,
    struct transfer_result *r, struct err *e)
{
	struct in s = { .fd = -1 };
	struct archive *a = NULL;
	struct archive_entry *ent;
	EVP_MD_CTX *chain = EVP_MD_CTX_new(), *mchain = EVP_MD_CTX_new(),
	    *md = EVP_MD_CTX_new();
	struct text man = { 0 };
	unsigned char c1[32], c2[32];
	uint64_t lines = 0;
	int rc = -1, seen_manifest = 0;

	memset(r, 0, sizeof(*r));
	s.raw = EVP_MD_CTX_new();
	s.buf = malloc(IOBUF);
	if (chain == NULL || mchain == NULL || md == NULL || s.raw == NULL ||
	    s.buf == NULL) {
		err_set(e, "%s: out of memory", label);
		goto out;
	}
	s.fd = openat(todir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (s.fd == -1) {
		err_sys(e, "%s", label);
		goto out;
	}
	/* Read what the disk holds, not what we just wrote to the cache. */
	(void)posix_fadvise(s.fd, 0, 0, POSIX_FADV_DONTNEED);
	EVP_DigestInit_ex(s.raw, EVP_sha256(), NULL);
	EVP_DigestInit_ex(chain, EVP_sha256(), NULL);
	EVP_DigestInit_ex(mchain, EVP_sha256(), NULL);
	a = archive_read_new();
	if (a == NULL) {
		err_set(e, "%s: out of memory", label);
		goto out;
	}
	archive_read_support_format_tar(a);
	archive_read_support_filter_gzip(a);
	if (archive_read_open(a, &s, NULL, in_read, NULL) != ARCHIVE_OK) {
		err_set(e, "%s: %s", label, archive_error_string(a));
		goto out;
	}
	for (uint64_t i = 0;; i++) {
		const void *buf;
		size_t len;
		la_int64_t off;
		unsigned char sha[32];
		uint64_t n = 0;
		int x = archive_read_next_header(a, &ent);

		if (x == ARCHIVE_EOF)
			break;
		if (x != ARCHIVE_OK || seen_manifest) {
			err_set(e, "%s: member #%ju: %s", label, (uintmax_t)i + 1,
			    x != ARCHIVE_OK ? archive_error_string(a) :
			    "after the manifest");
			goto out;
		}
		const char *p = archive_entry_pathname(ent);
		int is_man = p != NULL && strcmp(p, TRANSFER_MANIFEST) == 0;
		EVP_DigestInit_ex(md, EVP_sha256(), NULL);
		while ((x = archive_read_data_block(a, &buf, &len, &off)) ==
		    ARCHIVE_OK) {
			EVP_DigestUpdate(md, buf, len);
			if (is_man && text_add(&man, buf, len) != 0) {
				err_set(e, "%s: out of memory", label);
				goto out;
			}
			n += len;
		}
		if (x != ARCHIVE_EOF) {
			err_set(e, "%s: member #%ju: %s", label, (uintmax_t)i + 1,
			    archive_error_string(a));
			goto out;
		}
		EVP_DigestFinal_ex(md, sha, NULL);
		if (is_man) {
			seen_manifest = 1;
			continue;
		}
		chain_add(chain, p ? p : "", p ? strlen(p) : 0, sha);
		r->files++;
		r->bytes += n;
	}
	/* The rest of the file (end-of-archive blocks) for the file digest. */
	for (;;) {
		const void *b;
		la_ssize_t n = in_read(a, &s, &b);
		if (n < 0) {
			err_sys(e, "%s: read", label);
			goto out;
		}
		if (n == 0)
			break;
	}
	if (!seen_manifest) {
		err_set(e, "%s: no %s member", label, TRANSFER_MANIFEST);
		goto out;
	}
	if (chain_manifest(mchain, man.s ? man.s : "", man.len, &lines) != 0) {
		err_set(e, "%s: %s is malformed", label, TRANSFER_MANIFEST);
		goto out;
	}
	EVP_DigestFinal_ex(chain, c1, NULL);
	EVP_DigestFinal_ex(mchain, c2, NULL);
	if (lines != r->files || memcmp(c1, c2, 32) != 0) {
		err_set(e, "%s: members do not match %s (%ju members, %ju "
		    "lines)", label, TRANSFER_MANIFEST, (uintmax_t)r->files,
		    (uintmax_t)lines);
		goto out;
	}
	EVP_DigestFinal_ex(s.raw, r->sha256, NULL);
	r->size = s.bytes;
	rc = 0;
out:
	if (a != NULL)
		archive_read_free(a);
	if (s.fd != -1)
		close(s.fd);
	free(s.buf);
	free(man.s);
	EVP_MD_CTX_free(chain);
	EVP_MD_CTX_free(mchain);
	EVP_MD_CTX_free(md);
	EVP_MD_CTX_free(s.raw);
	return rc;
}

/* Packs one file: header from its fstat, content streamed and hashed. */
static int
pack_one(struct archive *w, const struct out *o,
    const struct transfer_file *f, size_t idx, unsigned char *buf,
    EVP_MD_CTX *md, unsigned char *sha, uint64_t *size, const char *label,
    struct err *e)
{
	struct archive_entry *ent = NULL;
	struct stat st;
	uint64_t got = 0;
	int fd, rc = -1;

	if (!path_ok(f->path))
		return err_set(e, "%s: file #%zu: member path is not a plain "
		    "relative path", label, idx + 1);
	fd = openat(f->dirfd, f->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1)
		return err_sys(e, "%s: file #%zu", label, idx + 1);
	if (fstat(fd, &st) == -1) {
		err_sys(e, "%s: file #%zu: stat", label, idx + 1);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || ((f->dev != 0 || f->ino != 0) &&
	    (st.st_dev != f->dev || st.st_ino != f->ino))) {
		err_set(e, "%s: file #%zu is not the regular file that was "
		    "located", label, idx + 1);
		goto out;
	}
	ent = archive_entry_new();
	if (ent == NULL) {
		err_set(e, "%s: out of memory", label);
		goto out;
	}
	archive_entry_set_pathname(ent, f->path);
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_perm(ent, st.st_mode & 07777);
	archive_entry_set_uid(ent, st.st_uid);
	archive_entry_set_gid(ent, st.st_gid);
	archive_entry_set_mtime(ent, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	archive_entry_set_size(ent, st.st_size);
	if (archive_write_header(w, ent) != ARCHIVE_OK)
		goto werr;
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (;;) {
		ssize_t n = read(fd, buf, IOBUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_sys(e, "%s: file #%zu: read", label, idx + 1);
			goto out;
		}
		if (n == 0)
			break;
		if (got + (uint64_t)n > (uint64_t)st.st_size)
			break;	/* grew: caught below */
		EVP_DigestUpdate(md, buf, (size_t)n);
		if (archive_write_data(w, buf, (size_t)n) != n)
			goto werr;
		got += (uint64_t)n;
	}
	if (got != (uint64_t)st.st_size) {
		err_set(e, "%s: file #%zu changed while being packed", label,
		    idx + 1);
		goto out;
	}
	EVP_DigestFinal_ex(md, sha, NULL);
	if (archive_write_finish_entry(w) != ARCHIVE_OK)
		goto werr;
	*size = got;
	rc = 0;
	goto out;
werr:
	err_set(e, "%s: writing: %s", label, o->err ? strerror(o->err) :
	    archive_error_string(w));
out:
	archive_entry_free(ent);
	close(fd);
	return rc;
}

static int
write_manifest(struct archive *w, const struct out *o, const struct text *m,
    const char *label, struct err *e)
{
	struct archive_entry *ent = archive_entry_new();
	int rc = -1;

	if (ent == NULL)
		return err_set(e, "%s: out of memory", label);
	archive_entry_set_pathname(ent, TRANSFER_MANIFEST);
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_perm(ent, 0644);
	archive_entry_set_mtime(ent, time(NULL), 0);
	archive_entry_set_size(ent, (la_int64_t)m->len);
	if (archive_write_header(w, ent) != ARCHIVE_OK ||
	    (m->len > 0 && archive_write_data(w, m->s, m->len) !=
	    (la_ssize_t)m->len) || archive_write_finish_entry(w) != ARCHIVE_OK)
		err_set(e, "%s: writing: %s", label, o->err ?
		    strerror(o->err) : archive_error_string(w));
	else
		rc = 0;
	archive_entry_free(ent);
	return rc;
}

/* Overwrites and removes the temporary (it holds copies of student data). */
static void
drop_tmp(int todir, const char *tmp, const char *label)
{
	struct ow_opts owo = { .links_ok = 1 };
	struct err e2;

	if (ow_file(todir, tmp, label, &owo, NULL, &e2) != 0)
		(void)unlinkat(todir, tmp, 0);
}

int
transfer_pack(int todir, const char *name, const char *label,
    const struct transfer_file *files, size_t n, struct transfer_result *r,
    struct err *e)
{
	struct out o = { .fd = -1 };
	struct archive *w = NULL;
	struct text man = { 0 };
	struct transfer_result rb;
	struct stat st;
	EVP_MD_CTX *md = EVP_MD_CTX_new(), *chain = EVP_MD_CTX_new();
	unsigned char *buf = malloc(IOBUF), packed[32];
	char tmp[512];
	int rc = -1, have_tmp = 0, k;

	memset(r, 0, sizeof(*r));
	if (md == NULL || chain == NULL || buf == NULL) {
		err_set(e, "%s: out of memory", label);
		goto out;
	}
	if (strchr(name, '/') != NULL || name[0] == '.' || name[0] == '\0') {
		err_set(e, "%s: not a plain file name", label);
		goto out;
	}
	k = snprintf(tmp, sizeof(tmp), ".%s%s", name, TMP_SUFFIX);
	if (k < 0 || (size_t)k >= sizeof(tmp) || k > 255) {
		err_set(e, "%s: name too long", label);
		goto out;
	}
	if (fstatat(todir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	    errno != ENOENT) {
		err_set(e, "%s: already exists; refusing to replace it", label);
		goto out;
	}
	/* A killed run's partial archive holds student data: overwrite it. */
	if (fstatat(todir, tmp, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		struct ow_opts owo = { .links_ok = 1 };
		if (ow_file(todir, tmp, label, &owo, NULL, e) != 0)
			goto out;
	}
	o.fd = openat(todir, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (o.fd == -1) {
		err_sys(e, "%s: cannot create", label);
		goto out;
	}
	have_tmp = 1;
	w = archive_write_new();
	if (w == NULL || archive_write_set_format_pax(w) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(w) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w, 1) != ARCHIVE_OK ||
	    archive_write_open2(w, &o, NULL, out_write, NULL, NULL) !=
	    ARCHIVE_OK) {
		err_set(e, "%s: %s", label, w ? archive_error_string(w) :
		    "out of memory");
		goto out;
	}
	EVP_DigestInit_ex(chain, EVP_sha256(), NULL);
	for (size_t i = 0; i < n; i++) {
		unsigned char sha[32];
		uint64_t size = 0;
		if (pack_one(w, &o, &files[i], i, buf, md, sha, &size, label,
		    e) != 0)
			goto out;
		if (manifest_line(&man, sha, files[i].path) != 0) {
			err_set(e, "%s: out of memory", label);
			goto out;
		}
		chain_add(chain, files[i].path, strlen(files[i].path), sha);
		r->files++;
		r->bytes += size;
	}
	EVP_DigestFinal_ex(chain, packed, NULL);
	if (write_manifest(w, &o, &man, label, e) != 0)
		goto out;
	if (archive_write_close(w) != ARCHIVE_OK) {
		err_set(e, "%s: writing: %s", label, o.err ? strerror(o.err) :
		    archive_error_string(w));
		goto out;
	}
	if (fsync(o.fd) == -1) {
		err_sys(e, "%s: fsync", label);
		goto out;
	}
	if (transfer_check(todir, tmp, label, &rb, e) != 0)
		goto out;
	/* The read-back must also match what was packed, not only itself. */
	uint64_t lines = 0;
	unsigned char fromman[32];
	int cm;
	EVP_DigestInit_ex(chain, EVP_sha256(), NULL);
	cm = chain_manifest(chain, man.s ? man.s : "", man.len, &lines);
	EVP_DigestFinal_ex(chain, fromman, NULL);
	if (cm != 0 || memcmp(fromman, packed, 32) != 0 ||
	    lines != r->files || rb.files != r->files || rb.bytes != r->bytes) {
		err_set(e, "%s: read back does not match what was packed", label);
		goto out;
	}
	if (renameat2(todir, tmp, todir, name, RENAME_NOREPLACE) == -1) {
		err_sys(e, "%s: rename into place", label);
		goto out;
	}
	have_tmp = 0;
	if (fsync(todir) == -1) {
		err_sys(e, "%s: fsync of its directory", label);
		goto out;
	}
	r->size = rb.size;
	memcpy(r->sha256, rb.sha256, 32);
	rc = 0;
out:
	if (w != NULL)
		archive_write_free(w);
	if (o.fd != -1)
		close(o.fd);
	if (have_tmp)
		drop_tmp(todir, tmp, label);
	free(man.s);
	free(buf);
	EVP_MD_CTX_free(md);
	EVP_MD_CTX_free(chain);
	return rc;
}
