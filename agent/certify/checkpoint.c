/*
 * checkpoint.c: signed journal checkpoints (see checkpoint.h).
 *
 * MUST rules:
 *  - a checkpoint is accepted only if its signature verifies against the
 *    given CAs as of its own (signed) time and its (seq, head) is exactly
 *    the journal's line seq, with the chain checked from line 1;
 *  - the text is parsed strictly: exactly three lines in order, nothing
 *    else, so the signed bytes have one meaning;
 *  - the signature is written before the text; a crash between the two
 *    renames leaves a pair that does not verify, which the next run
 *    replaces (and `lethe journal verify` reports, never ignores).
 */
#include "certify/checkpoint.h"
#include "base/date.h"
#include "state/durable.h"
#include "base/err.h"
#include "state/journal.h"
#include "base/num.h"
#include "certify/sign.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CKPT_MAX 4096
#define P7S_MAX (1024 * 1024)

static int
is_hex64(const char *s, size_t n)
{
	if (n != 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
paths(const char *state_dir, char *txt, char *sig, size_t len, struct err *e)
{
	int a = snprintf(txt, len, "%s/checkpoint", state_dir);
	int b = snprintf(sig, len, "%s/checkpoint.p7s", state_dir);

	if (a < 0 || b < 0 || (size_t)a >= len || (size_t)b >= len)
		return err_set(e, "%s: path too long", state_dir);
	return 0;
}

int
checkpoint_write(const char *state_dir, uint64_t seq, const char *head,
    const struct signer *s, struct err *e)
{
	char txt[4096], sig[4096], text[256], when[32], *pem = NULL;
	size_t plen = 0;
	int n, rc = -1;

	if (head == NULL || !is_hex64(head, strlen(head)))
		return err_set(e, "checkpoint: head is not 64 lowercase hex "
		    "digits");
	if (paths(state_dir, txt, sig, sizeof(txt), e) != 0)
		return -1;
	n = snprintf(text, sizeof(text), "seq %" PRIu64 "\nhead %s\ntime %s\n",
	    seq, head, time_format_utc(time(NULL), when));
	if (n < 0 || (size_t)n >= sizeof(text))
		return err_set(e, "checkpoint: text too long");
	if (sign_detached(s, text, (size_t)n, &pem, &plen, e) != 0)
		goto out;
	if (durable_write(sig, pem, plen, 0644, e) != 0 ||
	    durable_write(txt, text, (size_t)n, 0644, e) != 0)
		goto out;
	rc = 0;
out:
	free(pem);
	return rc;
}

/* "seq N\nhead HEX\ntime T\n" and nothing else. */
static int
parse(const char *name, const char *t, size_t len,
    struct checkpoint_report *r, struct err *e)
{
	char buf[CKPT_MAX], *l1, *l2, *l3, *end;
	int64_t v;

	if (len == 0 || len >= sizeof(buf) || t[len - 1] != '\n' ||
	    memchr(t, '\0', len) != NULL)
		return err_set(e, "%s: not a checkpoint", name);
	memcpy(buf, t, len);
	buf[len] = '\0';
	l1 = buf;
	if ((l2 = strchr(l1, '\n')) == NULL || (l3 = strchr(l2 + 1, '\n')) ==
	    NULL || (end = strchr(l3 + 1, '\n')) == NULL || end[1] != '\0')
		return err_set(e, "%s: expected exactly three lines", name);
	*l2++ = '\0';
	*l3++ = '\0';
	*end = '\0';
	if (strncmp(l1, "seq ", 4) != 0 ||
	    num_parse(l1 + 4, 0, INT64_MAX, &v) != 0)
		return err_set(e, "%s:1: expected 'seq N'", name);
	r->seq = (uint64_t)v;
	if (strncmp(l2, "head ", 5) != 0 || !is_hex64(l2 + 5, strlen(l2 + 5)))
		return err_set(e, "%s:2: expected 'head' and 64 hex digits", name);
	memcpy(r->head, l2 + 5, 65);
	if (strncmp(l3, "time ", 5) != 0 || time_parse_utc(l3 + 5, &r->time) != 0)
		return err_set(e, "%s:3: expected 'time' and a UTC time", name);
	return 0;
}

struct scan {
	uint64_t want;
	char hash[65];
	int found;
	uint64_t last;
};

static int
on_line(const struct jrec *rec, void *arg)
{
	struct scan *sc = arg;

	if (rec->seq == sc->want) {
		memcpy(sc->hash, rec->hash, 65);
		sc->found = 1;
	}
	sc->last = rec->seq;
	return 0;
}

int
checkpoint_verify(const char *state_dir, const char *cafile,
    struct checkpoint_report *r, struct err *e)
{
	char txt[4096], sig[4096], *text = NULL, *pem = NULL;
	size_t tlen = 0, plen = 0;
	struct sign_info si;
	struct scan sc;
	struct stat st;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (paths(state_dir, txt, sig, sizeof(txt), e) != 0)
		return -1;
	if (lstat(txt, &st) == -1 && errno == ENOENT &&
	    lstat(sig, &st) == -1 && errno == ENOENT)
		return 1;
	if (slurp(txt, CKPT_MAX, &text, &tlen, e) != 0 ||
	    slurp(sig, P7S_MAX, &pem, &plen, e) != 0)
		goto out;
	if (parse(txt, text, tlen, r, e) != 0)
		goto out;
	if (sign_verify(text, tlen, pem, plen, cafile, r->time, &si, e) != 0) {
		char inner[sizeof(e->msg)];
		snprintf(inner, sizeof(inner), "%s", e->msg);
		err_set(e, "%s: forged or damaged checkpoint: %s", sig, inner);
		goto out;
	}
	snprintf(r->signer, sizeof(r->signer), "%s", si.subject);
	memset(&sc, 0, sizeof(sc));
	sc.want = r->seq;
	if (journal_read(state_dir, on_line, &sc, e) != 0)
		goto out;
	r->journal_seq = sc.last;
	if (r->seq == 0) {
		if (strspn(r->head, "0") != 64) {
			err_set(e, "%s: seq 0 with a head other than zeros", txt);
			goto out;
		}
	} else if (!sc.found) {
		err_set(e, "%s: sealed line %" PRIu64 ", but the journal has only "
		    "%" PRIu64 " lines (lines were removed)", txt, r->seq,
		    sc.last);
		goto out;
	} else if (strcmp(sc.hash, r->head) != 0) {
		err_set(e, "%s: the journal's line %" PRIu64 " is not the one "
		    "sealed (head %.16s..., checkpoint says %.16s...): the "
		    "journal was rewritten", txt, r->seq, sc.hash, r->head);
		goto out;
	}
	r->unsealed = sc.last - r->seq;
	rc = 0;
out:
	free(text);
	free(pem);
	return rc;
}
