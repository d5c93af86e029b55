/*
 * archive_child.c: one archive's work, and the watchdog around it
 * (archive_int.h).
 *
 * Why a child process: the work runs libarchive over hostile input, and
 * a loop inside one libarchive call (Debian's 3.6.2 has had several)
 * cannot be interrupted from the same process: no callback of ours runs,
 * and a signal handler cannot unwind libarchive safely.  So the passes
 * run in a forked child, and the parent only reads a pipe: progress,
 * manifest rows, then a result or an error.  A child that stops making
 * progress, or runs too long for the work it has done, is killed; one
 * that crashes is reported; either way the archive is untouched and the
 * caller's state lock was never in the child's hands (the child closes
 * every descriptor but the archive's, the new file's and the pipe, and
 * dies with its parent).
 *
 * MUST rules: the parent trusts nothing from the pipe beyond its framing
 * (lengths are bounded, a short or unknown message is a failure); rows
 * reach the caller's on_member in order, before the result; the parent
 * always reaps the child.
 */
#include "sanitize/archive_int.h"
#include "sanitize/archive.h"

#include "base/err.h"
#include "base/fdio.h"

#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int
classify(int fd, uint64_t size)
{
	unsigned char m[8] = { 0 };
	const char *name;
	ssize_t n = pread(fd, m, sizeof(m), 0);

	if (n > 0 && filter_detect(m, (size_t)n, &name) != ARCHIVE_FILTER_NONE)
		return WK_TAR;	/* a compressed stream: tar or cpio */
	return zip_looks(fd, size) ? 0 : WK_TAR;
}

int
job_work(const struct job *j, row_fn row, void *row_arg,
    void (*beat)(uint64_t, uint64_t, void *), void *beat_arg,
    struct jobres *r, struct err *e)
{
	struct actx c = { .label = j->label, .e = e, .beat = beat,
	    .beat_arg = beat_arg };
	struct aplan p;
	struct sink k = { .fd = j->tmpfd };
	unsigned char emitted[32];
	int zip = classify(j->fd, j->size) == 0, full = j->tmpfd >= 0;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	memset(r, 0, sizeof(*r));
	p.level = -1;
	if ((zip ? zip_scan : scan_stream)(j->fd, j->size, j->glob, full, &p,
	    &c) != 0)
		goto out;
	r->entries = p.entries;
	r->matches = p.matches;
	r->match_bytes = p.match_bytes;
	r->kept = p.kept;
	r->kept_bytes = p.kept_bytes;
	snprintf(r->format, sizeof(r->format), "%s", p.desc);
	if (!full || p.matches == 0) {
		rc = 0;
		goto out;
	}
	if (j->refuse != NULL) {
		err_set(e, "%s: %s", j->label, j->refuse);
		goto out;
	}
	r->removed = p.matches;
	r->removed_bytes = p.removed_bytes;
	if (!zip && resolve_mats(j->fd, j->size, &p, &c) != 0)
		goto out;
	for (size_t i = 0; i < p.nmat; i++)
		r->materialized += p.mat[i].relink == NULL;
	uint64_t bad;
	if (rows_flush(&p, row, row_arg, &bad) != 0) {
		err_set(e, "%s: the manifest row of member #%ju was refused; "
		    "the archive is unchanged", j->label, (uintmax_t)bad + 1);
		goto out;
	}
	/* A zip is checked by the digest of the file written; a tar or cpio
	 * by the digest of its decompressed stream (archive_verify.c). */
	if (zip && ((k.md = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(k.md, EVP_sha256(), NULL))) {
		err_set(e, "%s: out of memory", j->label);
		goto out;
	}
	if ((zip ? zip_write(j->fd, j->size, &p, &k, &c) :
	    write_stream(j->fd, j->size, &p, &k, emitted, &c)) != 0)
		goto out;
	if (zip)
		EVP_DigestFinal_ex(k.md, r->new_sha256, NULL);
	r->new_size = k.bytes;
	if (fsync(j->tmpfd) != 0) {
		err_set(e, "%s: writing the new archive failed: %s; the archive "
		    "is unchanged", j->label, strerror(errno));
		goto out;
	}
	if ((zip ? zip_verify(j->tmpfd, k.bytes, &p, r->new_sha256, &c) :
	    verify_stream(j->tmpfd, k.bytes, &p, emitted, &c)) != 0)
		goto out;
	rc = 0;
out:
	EVP_MD_CTX_free(k.md);
	aplan_free(&p);
	return rc;
}

/* ---- the child's side of the pipe ---- */

struct pipe_out {
	int fd;
	struct timespec last;
};

static int
send_msg(int fd, int type, const void *a, size_t an, const void *b,
    size_t bn)
{
	unsigned char h[5];
	uint32_t len = (uint32_t)(an + bn);
	struct part {
		const void *p;
		size_t n;
	} v[3] = { { h, 5 }, { a, an }, { b, bn } };

	h[0] = (unsigned char)type;
	memcpy(h + 1, &len, 4);
	for (int i = 0; i < 3; i++)
		if (fdio_write_all(fd, v[i].p, v[i].n) != 0)
			return -1;
	return 0;
}

static void
child_beat(uint64_t done, uint64_t work, void *arg)
{
	struct pipe_out *o = arg;
	struct timespec now;
	uint64_t v[2] = { done, work };

	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - o->last.tv_sec) * 1000 + (now.tv_nsec -
	    o->last.tv_nsec) / 1000000 < 200)
		return;
	o->last = now;
	(void)send_msg(o->fd, MSG_BEAT, v, sizeof(v), NULL, 0);
}

static int
child_row(const struct archive_member *m, void *arg)
{
	struct pipe_out *o = arg;
	unsigned char h[1 + 8 + 32];
	size_t pl = strlen(m->path);

	if (pl > AR_HDR_MAX)
		return -1;
	h[0] = (unsigned char)m->kind;
	memcpy(h + 1, &m->size, 8);
	memcpy(h + 9, m->sha256, 32);
	return send_msg(o->fd, MSG_ROW, h, sizeof(h), m->path, pl);
}

static void
close_others(int a, int b, int c)
{
	int keep[3] = { a, b, c }, lo = 3;

	for (int i = 0; i < 3; i++)	/* sort */
		for (int k = i + 1; k < 3; k++)
			if (keep[k] < keep[i]) {
				int t = keep[i];
				keep[i] = keep[k];
				keep[k] = t;
			}
	for (int i = 0; i < 3; i++) {
		if (keep[i] < lo)
			continue;
		if (keep[i] > lo)
			close_range((unsigned)lo, (unsigned)keep[i] - 1, 0);
		lo = keep[i] + 1;
	}
	close_range((unsigned)lo, ~0U, 0);
}

void __attribute__((noreturn))
job_child(const struct job *j, int out, pid_t parent)
{
	struct pipe_out o = { .fd = out };
	struct jobres r;
	struct err e = { { 0 } };

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	signal(SIGPIPE, SIG_DFL);
	close_others(j->fd, j->tmpfd, out);
	if (job_work(j, child_row, &o, child_beat, &o, &r, &e) == 0)
		(void)send_msg(out, MSG_OK, &r, sizeof(r), NULL, 0);
	else
		(void)send_msg(out, MSG_ERR, e.msg, strlen(e.msg), NULL, 0);
	_exit(0);
}
