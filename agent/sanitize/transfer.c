/*
 * transfer.c: the archive for an Exhibit D transfer (see transfer.h);
 * transfer_check.c reads it back.
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
#include "sanitize/transfer_int.h"

#include "base/err.h"
#include "base/fdio.h"
#include "base/strbuf.h"
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

/* One pack: the temporary, its writer, and the manifest and chain taken
 * while packing. */
struct pk {
	int todir;
	const char *name, *label;
	char tmp[512];
	int fd, err;		/* the temporary; errno of a failed write */
	int have_tmp;
	struct archive *w;
	struct strbuf man;
	EVP_MD_CTX *md, *chain;
	unsigned char *buf;
	unsigned char packed[32];	/* the chain of what was packed */
	struct err *e;
};

static la_ssize_t
out_write(struct archive *a, void *arg, const void *buf, size_t len)
{
	struct pk *x = arg;

	if (fdio_write_all(x->fd, buf, len) != 0) {
		x->err = errno;
		archive_set_error(a, errno, "%s", strerror(errno));
		return -1;
	}
	return (la_ssize_t)len;
}

/* The writer's error, or the write(2) error under it. */
static int
werr(struct pk *x)
{
	return err_set(x->e, "%s: writing: %s", x->label, x->err ?
	    strerror(x->err) : archive_error_string(x->w));
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

/* The header of file idx, from its fstat. */
static int
pack_header(struct pk *x, const struct transfer_file *f, const struct stat *st)
{
	struct archive_entry *ent = archive_entry_new();
	int r;

	if (ent == NULL)
		return err_set(x->e, "%s: out of memory", x->label);
	archive_entry_set_pathname(ent, f->path);
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_perm(ent, st->st_mode & 07777);
	archive_entry_set_uid(ent, st->st_uid);
	archive_entry_set_gid(ent, st->st_gid);
	archive_entry_set_mtime(ent, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	archive_entry_set_size(ent, st->st_size);
	r = archive_write_header(x->w, ent);
	archive_entry_free(ent);
	return r == ARCHIVE_OK ? 0 : werr(x);
}

/* Packs file idx: header from its fstat, content streamed and hashed into
 * sha; *size gets its length. */
static int
pack_one(struct pk *x, const struct transfer_file *f, size_t idx,
    unsigned char sha[32], uint64_t *size)
{
	struct stat st;
	uint64_t got = 0;
	int fd, rc = -1;

	if (!path_ok(f->path))
		return err_set(x->e, "%s: file #%zu: member path is not a plain "
		    "relative path", x->label, idx + 1);
	fd = openat(f->dirfd, f->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1)
		return err_sys(x->e, "%s: file #%zu", x->label, idx + 1);
	if (fstat(fd, &st) == -1) {
		err_sys(x->e, "%s: file #%zu: stat", x->label, idx + 1);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || ((f->dev != 0 || f->ino != 0) &&
	    (st.st_dev != f->dev || st.st_ino != f->ino))) {
		err_set(x->e, "%s: file #%zu is not the regular file that was "
		    "located", x->label, idx + 1);
		goto out;
	}
	if (pack_header(x, f, &st) != 0)
		goto out;
	EVP_DigestInit_ex(x->md, EVP_sha256(), NULL);
	for (;;) {
		ssize_t n = read(fd, x->buf, TR_IOBUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_sys(x->e, "%s: file #%zu: read", x->label, idx + 1);
			goto out;
		}
		if (n == 0)
			break;
		if (got + (uint64_t)n > (uint64_t)st.st_size)
			break;	/* grew: caught below */
		EVP_DigestUpdate(x->md, x->buf, (size_t)n);
		if (archive_write_data(x->w, x->buf, (size_t)n) != n) {
			werr(x);
			goto out;
		}
		got += (uint64_t)n;
	}
	if (got != (uint64_t)st.st_size) {
		err_set(x->e, "%s: file #%zu changed while being packed",
		    x->label, idx + 1);
		goto out;
	}
	EVP_DigestFinal_ex(x->md, sha, NULL);
	if (archive_write_finish_entry(x->w) != ARCHIVE_OK) {
		werr(x);
		goto out;
	}
	*size = got;
	rc = 0;
out:
	close(fd);
	return rc;
}

static int
write_manifest(struct pk *x)
{
	struct archive_entry *ent = archive_entry_new();
	int rc = -1;

	if (ent == NULL)
		return err_set(x->e, "%s: out of memory", x->label);
	archive_entry_set_pathname(ent, TRANSFER_MANIFEST);
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_perm(ent, 0644);
	archive_entry_set_mtime(ent, time(NULL), 0);
	archive_entry_set_size(ent, (la_int64_t)x->man.len);
	if (archive_write_header(x->w, ent) != ARCHIVE_OK || (x->man.len > 0 &&
	    archive_write_data(x->w, x->man.p, x->man.len) !=
	    (la_ssize_t)x->man.len) || archive_write_finish_entry(x->w) !=
	    ARCHIVE_OK)
		werr(x);
	else
		rc = 0;
	archive_entry_free(ent);
	return rc;
}

/* The temporary's name, after the checks on name: a new plain name, and a
 * killed run's partial archive (it holds student data) overwritten. */
static int
pk_prepare(struct pk *x)
{
	struct stat st;
	int k;

	if (strchr(x->name, '/') != NULL || x->name[0] == '.' ||
	    x->name[0] == '\0')
		return err_set(x->e, "%s: not a plain file name", x->label);
	k = snprintf(x->tmp, sizeof(x->tmp), ".%s%s", x->name, TMP_SUFFIX);
	if (k < 0 || (size_t)k >= sizeof(x->tmp) || k > 255)
		return err_set(x->e, "%s: name too long", x->label);
	if (fstatat(x->todir, x->name, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	    errno != ENOENT)
		return err_set(x->e, "%s: already exists; refusing to replace "
		    "it", x->label);
	if (fstatat(x->todir, x->tmp, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		struct ow_opts owo = { .links_ok = 1 };
		if (ow_file(x->todir, x->tmp, x->label, &owo, NULL, x->e) != 0)
			return -1;
	}
	return 0;
}

/* The temporary, created, and a gzip'd pax writer into it. */
static int
pk_open(struct pk *x)
{
	x->fd = openat(x->todir, x->tmp, O_RDWR | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (x->fd == -1)
		return err_sys(x->e, "%s: cannot create", x->label);
	x->have_tmp = 1;
	x->w = archive_write_new();
	if (x->w == NULL || archive_write_set_format_pax(x->w) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(x->w) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(x->w, 1) != ARCHIVE_OK ||
	    archive_write_open2(x->w, x, NULL, out_write, NULL, NULL) !=
	    ARCHIVE_OK)
		return err_set(x->e, "%s: %s", x->label, x->w ?
		    archive_error_string(x->w) : "out of memory");
	return 0;
}

/* Every file, then the manifest; the archive closed and fsync'd. */
static int
pk_write(struct pk *x, const struct transfer_file *files, size_t n,
    struct transfer_result *r)
{
	EVP_DigestInit_ex(x->chain, EVP_sha256(), NULL);
	for (size_t i = 0; i < n; i++) {
		unsigned char sha[32];
		uint64_t size = 0;
		if (pack_one(x, &files[i], i, sha, &size) != 0)
			return -1;
		tr_manifest_line(&x->man, sha, files[i].path);
		if (x->man.oom)
			return err_set(x->e, "%s: out of memory", x->label);
		tr_chain_add(x->chain, files[i].path, strlen(files[i].path),
		    sha);
		r->files++;
		r->bytes += size;
	}
	EVP_DigestFinal_ex(x->chain, x->packed, NULL);
	if (write_manifest(x) != 0)
		return -1;
	if (archive_write_close(x->w) != ARCHIVE_OK)
		return werr(x);
	if (fsync(x->fd) == -1)
		return err_sys(x->e, "%s: fsync", x->label);
	return 0;
}

/* The temporary read back from the disk: it must match its manifest
 * (transfer_check), and the manifest what was packed. */
static int
pk_check(struct pk *x, const struct transfer_result *r,
    struct transfer_result *rb)
{
	uint64_t lines = 0;
	unsigned char fromman[32];
	int cm;

	if (transfer_check(x->todir, x->tmp, x->label, rb, x->e) != 0)
		return -1;
	EVP_DigestInit_ex(x->chain, EVP_sha256(), NULL);
	cm = tr_chain_manifest(x->chain, x->man.p ? x->man.p : "", x->man.len,
	    &lines);
	EVP_DigestFinal_ex(x->chain, fromman, NULL);
	if (cm != 0 || memcmp(fromman, x->packed, 32) != 0 ||
	    lines != r->files || rb->files != r->files ||
	    rb->bytes != r->bytes)
		return err_set(x->e, "%s: read back does not match what was "
		    "packed", x->label);
	return 0;
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
	struct pk x = { .todir = todir, .name = name, .label = label,
	    .fd = -1, .e = e };
	struct transfer_result rb;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	x.md = EVP_MD_CTX_new();
	x.chain = EVP_MD_CTX_new();
	x.buf = malloc(TR_IOBUF);
	if (x.md == NULL || x.chain == NULL || x.buf == NULL) {
		err_set(e, "%s: out of memory", label);
		goto out;
	}
	if (pk_prepare(&x) != 0 || pk_open(&x) != 0 ||
	    pk_write(&x, files, n, r) != 0 || pk_check(&x, r, &rb) != 0)
		goto out;
	if (renameat2(todir, x.tmp, todir, name, RENAME_NOREPLACE) == -1) {
		err_sys(e, "%s: rename into place", label);
		goto out;
	}
	x.have_tmp = 0;
	if (fsync(todir) == -1) {
		err_sys(e, "%s: fsync of its directory", label);
		goto out;
	}
	r->size = rb.size;
	memcpy(r->sha256, rb.sha256, 32);
	rc = 0;
out:
	if (x.w != NULL)
		archive_write_free(x.w);
	if (x.fd != -1)
		close(x.fd);
	if (x.have_tmp)
		drop_tmp(todir, x.tmp, label);
	strbuf_free(&x.man);
	free(x.buf);
	EVP_MD_CTX_free(x.md);
	EVP_MD_CTX_free(x.chain);
	return rc;
}
