/*
 * msglog.c: the journal's record of queued messages (see msglog.h).
 *
 * MUST rules:
 *  - a message's digest is taken from the bytes lethe built, before they
 *    are written to the outbox, and journaled before the file exists;
 *  - a message is checked by size and SHA-256 over every byte, and a
 *    checked copy is what is sent: the outbox file is not read again;
 *  - no message text reaches the journal: only the stem, the Message-ID,
 *    the digest, the size and whether the manifest is attached.
 */
#include "deliver/msglog.h"
#include "base/err.h"
#include "base/hex.h"
#include "base/num.h"
#include "base/strbuf.h"
#include "certify/cert.h"
#include "deliver/mime.h"
#include "state/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

struct replay {
	struct msglog *lg;
	size_t caprec, capacc, capsan;
	int oom;
};

/* Grows *v (n elements of sz, capacity *cap) so one more fits. */
static int
grow(void *vp, size_t n, size_t *cap, size_t sz)
{
	void **v = vp, *p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	if ((p = realloc(*v, c * sz)) == NULL)
		return -1;
	*v = p;
	*cap = c;
	return 0;
}

static void
rec_clear(struct msglog_rec *r)
{
	free(r->stem);
	free(r->msgid);
	memset(r, 0, sizeof(*r));
}

static int
on_queued(struct replay *rp, const struct jrec *r)
{
	struct msglog *lg = rp->lg;
	const char *id = jrec_get(r, "id"), *mid = jrec_get(r, "msgid");
	const char *sha = jrec_get(r, "sha256"), *b = jrec_get(r, "bytes");
	const char *m = jrec_get(r, "manifest");
	struct msglog_rec *x = (struct msglog_rec *)msglog_find(lg, id ? id :
	    "");
	int64_t n;

	/* A line lethe did not write whole is no record: its message is
	 * then unrecorded, and so never sent. */
	if (id == NULL || mid == NULL || sha == NULL || strlen(sha) != 64 ||
	    b == NULL || num_parse(b, 0, INT64_MAX, &n) != 0)
		return 0;
	if (x == NULL) {
		if (grow(&lg->rec, lg->nrec, &rp->caprec, sizeof(*lg->rec)) != 0) {
			rp->oom = 1;
			return 0;
		}
		x = &lg->rec[lg->nrec++];
	} else
		rec_clear(x);
	memset(x, 0, sizeof(*x));
	x->stem = strdup(id);
	x->msgid = strdup(mid);
	if (x->stem == NULL || x->msgid == NULL)
		rp->oom = 1;
	memcpy(x->sha256, sha, 65);
	x->bytes = (uint64_t)n;
	x->manifest = m != NULL && strcmp(m, "yes") == 0;
	x->queued = r->time;
	return 0;
}

static int
on_rec(const struct jrec *r, void *arg)
{
	struct replay *rp = arg;
	struct msglog *lg = rp->lg;
	const char *v;

	if (strcmp(r->event, "message-queued") == 0)
		return on_queued(rp, r);
	if (strcmp(r->event, "message-withdrawn") == 0) {
		struct msglog_rec *x = (struct msglog_rec *)msglog_find(lg,
		    (v = jrec_get(r, "id")) ? v : "");
		if (x != NULL)
			x->withdrawn = 1;
		return 0;
	}
	if (strcmp(r->event, "delivery-attempt") == 0) {
		const char *ok = jrec_get(r, "ok");
		if (ok == NULL || strcmp(ok, "yes") != 0 ||
		    (v = jrec_get(r, "msgid")) == NULL)
			return 0;
		if (grow(&lg->acc, lg->nacc, &rp->capacc, sizeof(*lg->acc)) != 0) {
			rp->oom = 1;
			return 0;
		}
		lg->acc[lg->nacc].at = r->time;
		if ((lg->acc[lg->nacc++].msgid = strdup(v)) == NULL)
			rp->oom = 1;
		return 0;
	}
	if (strcmp(r->event, "manifest-sanitized") == 0 &&
	    (v = jrec_get(r, "cert")) != NULL) {
		struct msglog_san *s;
		if (grow(&lg->san, lg->nsan, &rp->capsan, sizeof(*lg->san)) != 0) {
			rp->oom = 1;
			return 0;
		}
		s = &lg->san[lg->nsan++];
		s->at = r->time;
		s->cert = strdup(v);
		s->msg = jrec_get(r, "msg") ? strdup(jrec_get(r, "msg")) : NULL;
		if (s->cert == NULL || (jrec_get(r, "msg") && s->msg == NULL))
			rp->oom = 1;
	}
	return 0;
}

int
msglog_load(const char *state_dir, struct msglog *lg, struct err *e)
{
	struct replay rp = { .lg = lg };

	memset(lg, 0, sizeof(*lg));
	if (journal_read(state_dir, on_rec, &rp, e) != 0)
		return -1;
	if (rp.oom)
		return err_set(e, "journal: out of memory");
	return 0;
}

void
msglog_free(struct msglog *lg)
{
	for (size_t i = 0; i < lg->nrec; i++)
		rec_clear(&lg->rec[i]);
	for (size_t i = 0; i < lg->nacc; i++)
		free(lg->acc[i].msgid);
	for (size_t i = 0; i < lg->nsan; i++) {
		free(lg->san[i].cert);
		free(lg->san[i].msg);
	}
	free(lg->rec);
	free(lg->acc);
	free(lg->san);
	memset(lg, 0, sizeof(*lg));
}

const struct msglog_rec *
msglog_find(const struct msglog *lg, const char *stem)
{
	for (size_t i = 0; i < lg->nrec; i++)
		if (lg->rec[i].stem != NULL && strcmp(lg->rec[i].stem, stem) == 0)
			return &lg->rec[i];
	return NULL;
}

int
msglog_accepted(const struct msglog *lg, const char *msgid, time_t *at)
{
	for (size_t i = 0; i < lg->nacc; i++)
		if (lg->acc[i].msgid != NULL &&
		    strcmp(lg->acc[i].msgid, msgid) == 0) {
			if (at != NULL)
				*at = lg->acc[i].at;
			return 1;
		}
	return 0;
}

const struct msglog_san *
msglog_sanitized(const struct msglog *lg, const char *cert)
{
	const struct msglog_san *s = NULL;

	for (size_t i = 0; i < lg->nsan; i++)
		if (lg->san[i].cert != NULL && strcmp(lg->san[i].cert, cert) == 0)
			s = &lg->san[i];
	return s;
}

int
msglog_record(struct journal *j, const char *stem, const char *msg,
    size_t len, int manifest, struct err *e)
{
	char from[300], to[300], msgid[600], sha[65], bytes[24];

	if (mime_envelope(msg, len, from, sizeof(from), to, sizeof(to), msgid,
	    sizeof(msgid), e) != 0)
		return err_prefix(e, "outbox: %s", stem);
	cert_sha256_hex(msg, len, sha);
	snprintf(bytes, sizeof(bytes), "%zu", len);
	return journal_appendv(j, e, "message-queued", "id", stem, "msgid",
	    msgid, "sha256", sha, "bytes", bytes, "manifest",
	    manifest ? "yes" : "no", NULL);
}

int
msglog_withdraw(struct journal *j, const char *stem, const char *reason,
    struct err *e)
{
	return journal_appendv(j, e, "message-withdrawn", "id", stem,
	    "reason", reason, NULL);
}

/* Writes all of buf to fd.  Returns 0 or -1 (errno set). */
static int
write_all(int fd, const unsigned char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

int
msglog_check(int fd, const struct msglog_rec *rec, int *copy, char *why,
    size_t whysz, struct err *e)
{
	unsigned char buf[65536], md[32];
	char hex[65];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = NULL;
	struct stat st;
	uint64_t total = 0;
	int mfd = -1, rc = -1;

	if (copy != NULL)
		*copy = -1;
	if (fstat(fd, &st) == -1)
		return err_sys(e, "outbox: %s", rec->stem);
	if (!S_ISREG(st.st_mode)) {
		strbuf_fit(why, whysz, "%s", "not a regular file");
		return 0;
	}
	if ((uint64_t)st.st_size != rec->bytes) {
		strbuf_fit(why, whysz, "%s: %" PRIu64 " bytes, but %" PRIu64
		    " were queued", (uint64_t)st.st_size < rec->bytes ?
		    "truncated" : "grown", (uint64_t)st.st_size, rec->bytes);
		return 0;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		err_set(e, "outbox: SHA-256 unavailable");
		goto out;
	}
	if (copy != NULL && (mfd = memfd_create("lethe-message",
	    MFD_CLOEXEC | MFD_ALLOW_SEALING)) == -1) {
		err_sys(e, "outbox: %s: memfd_create", rec->stem);
		goto out;
	}
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), (off_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_sys(e, "outbox: %s: read", rec->stem);
			goto out;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1 ||
		    (mfd != -1 && write_all(mfd, buf, (size_t)n) != 0)) {
			err_sys(e, "outbox: %s: copy", rec->stem);
			goto out;
		}
		total += (uint64_t)n;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		err_set(e, "outbox: SHA-256 failed");
		goto out;
	}
	hex_encode(md, sizeof(md), hex);
	if (total != rec->bytes || strcmp(hex, rec->sha256) != 0) {
		strbuf_fit(why, whysz, "%s", total != rec->bytes ?
		    "its size changed while it was read" : "changed: its SHA-256 "
		    "is not the one journaled when it was queued");
		rc = 0;
		goto out;
	}
	if (mfd != -1) {
		if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
		    F_SEAL_WRITE | F_SEAL_SEAL) == -1 ||
		    lseek(mfd, 0, SEEK_SET) == -1) {
			err_sys(e, "outbox: %s: seal the checked copy",
			    rec->stem);
			goto out;
		}
		*copy = mfd;
		mfd = -1;
	}
	rc = 1;
out:
	EVP_MD_CTX_free(ctx);
	if (mfd != -1)
		close(mfd);
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}
