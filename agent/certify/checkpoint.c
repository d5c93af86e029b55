/*
 * checkpoint.c: signed journal checkpoints and the trust gate (see
 * checkpoint.h).
 *
 * MUST rules:
 *  - a checkpoint is accepted only if its signature verifies against the
 *    given CAs as of its own (signed) time and its (seq, head) is exactly
 *    the journal's line seq, with the chain checked from line 1;
 *  - the text is parsed strictly: exactly three lines in order, nothing
 *    else, so the signed bytes have one meaning;
 *  - the new text goes to checkpoint.next first, then the signature over
 *    it to checkpoint.p7s, then the text is renamed into place: after a
 *    crash between the renames, checkpoint.p7s signs checkpoint.next, and
 *    that signed pair is the checkpoint (nothing unsigned is ever
 *    believed, and an honest crash never looks like tampering);
 *  - checkpoints are written and read under the journal lock, so no
 *    reader ever sees one half-written;
 *  - the gate trusts nothing it cannot tie to a signature, except a
 *    journal with no checkpoint that holds only the admin's own records
 *    and whose state_dir shows no run: a fresh host.
 */
#include "certify/checkpoint.h"
#include "base/date.h"
#include "state/durable.h"
#include "base/err.h"
#include "base/hex.h"
#include "state/journal.h"
#include "base/num.h"
#include "certify/sign.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CKPT_MAX 4096
#define P7S_MAX (1024 * 1024)

/* s[0..n) is 64 lowercase hex digits (a journal head). */
static int
is_hex64(const char *s, size_t n)
{
	unsigned char md[32];

	return hex_decode(s, n, md, sizeof(md)) == 0;
}

/* state_dir + "/" + name into buf. */
static int
path_of(char *buf, size_t len, const char *state_dir, const char *name,
    struct err *e)
{
	int n = snprintf(buf, len, "%s/%s", state_dir, name);

	if (n < 0 || (size_t)n >= len)
		return err_set(e, "%s: path too long", state_dir);
	return 0;
}

int
checkpoint_write(const char *state_dir, uint64_t seq, const char *head,
    const struct signer *s, struct err *e)
{
	char txt[4096], next[4096], sig[4096], text[256], when[32];
	char *pem = NULL;
	size_t plen = 0;
	int n, rc = -1;

	if (head == NULL || !is_hex64(head, strlen(head)))
		return err_set(e, "checkpoint: head is not 64 lowercase hex "
		    "digits");
	if (path_of(txt, sizeof(txt), state_dir, "checkpoint", e) != 0 ||
	    path_of(next, sizeof(next), state_dir, "checkpoint.next", e) != 0 ||
	    path_of(sig, sizeof(sig), state_dir, "checkpoint.p7s", e) != 0)
		return -1;
	n = snprintf(text, sizeof(text), "seq %" PRIu64 "\nhead %s\ntime %s\n",
	    seq, head, time_format_utc(time(NULL), when));
	if (n < 0 || (size_t)n >= sizeof(text))
		return err_set(e, "checkpoint: text too long");
	if (sign_detached(s, text, (size_t)n, &pem, &plen, e) != 0)
		goto out;
	if (durable_write(next, text, (size_t)n, 0644, e) != 0 ||
	    durable_write(sig, pem, plen, 0644, e) != 0)
		goto out;
	if (rename(next, txt) == -1) {
		err_sys(e, "%s: rename to %s", next, txt);
		goto out;
	}
	if (fsync_dir(state_dir, e) != 0)
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

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

/* Parses text (read from name) and verifies pem over it. */
static int
check_pair(const char *name, const char *sigpath, const char *text,
    size_t tlen, const char *pem, size_t plen, const char *cafile,
    struct checkpoint_report *r, struct err *e)
{
	struct sign_info si;

	memset(r, 0, sizeof(*r));
	if (parse(name, text, tlen, r, e) != 0)
		return -1;
	if (sign_verify(text, tlen, pem, plen, cafile, r->time, &si, e) != 0)
		return err_prefix(e, "%s: forged or damaged checkpoint",
		    sigpath);
	snprintf(r->signer, sizeof(r->signer), "%s", si.subject);
	return 0;
}

/*
 * Reads the checkpoint and checks its signature.  Returns 1 when there is
 * none, 0 when good (*r filled), -1 when forged or damaged, -2 when it
 * cannot be read (*e says why in each case).
 */
static int
load_signed(const char *state_dir, const char *cafile,
    struct checkpoint_report *r, struct err *e)
{
	char txt[4096], next[4096], sig[4096], *text = NULL, *pem = NULL;
	size_t tlen = 0, plen = 0;
	struct err first;
	int rc = -2;

	memset(r, 0, sizeof(*r));
	if (path_of(txt, sizeof(txt), state_dir, "checkpoint", e) != 0 ||
	    path_of(next, sizeof(next), state_dir, "checkpoint.next", e) != 0 ||
	    path_of(sig, sizeof(sig), state_dir, "checkpoint.p7s", e) != 0)
		return -2;
	if (!exists(txt) && !exists(sig))
		return 1;
	if (!exists(sig))
		return err_set(e, "%s: missing beside %s: the checkpoint is "
		    "unsigned", sig, txt), -1;
	if (slurp(sig, P7S_MAX, &pem, &plen, e) != 0)
		goto out;
	if (exists(txt) && slurp(txt, CKPT_MAX, &text, &tlen, e) != 0)
		goto out;
	rc = -1;
	if (text != NULL && check_pair(txt, sig, text, tlen, pem, plen, cafile,
	    r, e) == 0) {
		rc = 0;
		goto out;
	}
	if (text == NULL)
		err_set(e, "%s: missing beside %s", txt, sig);
	/* A crash between writing the signature and renaming the text. */
	first = *e;
	free(text);
	text = NULL;
	if (exists(next) && slurp(next, CKPT_MAX, &text, &tlen, e) == 0 &&
	    check_pair(next, sig, text, tlen, pem, plen, cafile, r, e) == 0) {
		rc = 0;
		goto out;
	}
	*e = first;
out:
	free(text);
	free(pem);
	return rc;
}

struct scan {
	uint64_t want;
	char hash[65];
	int found;
	uint64_t last;
	uint64_t run_line;
	char run_event[32];
	uint64_t lift_line;	/* after want: see lifts() */
	char lift_event[32];
};

/* The admin's own records: everything else only a run (or an acceptance,
 * which writes a checkpoint) writes. */
static int
admin_event(const char *ev)
{
	static const char *const admin[] = {
		"terminate", "directive-add", "directive-cancel", "hold",
		"release", "journal-repair", "seal-replaced",
	};

	for (size_t i = 0; i < sizeof(admin) / sizeof(admin[0]); i++)
		if (strcmp(ev, admin[i]) == 0)
			return 1;
	return 0;
}

/* Records that lift protection or add a trigger: each is written by a
 * command that seals it at once with a signed checkpoint, so one found
 * after the last checkpoint was never sealed, and is not trusted (only a
 * hold, which adds protection, and a run's own lines, which a killed run
 * leaves, may stand there). */
static int
lifts(const char *ev)
{
	static const char *const lift[] = {
		"terminate", "directive-add", "directive-cancel", "release",
		"journal-accept",
	};

	for (size_t i = 0; i < sizeof(lift) / sizeof(lift[0]); i++)
		if (strcmp(ev, lift[i]) == 0)
			return 1;
	return 0;
}

static int
on_line(const struct jrec *rec, void *arg)
{
	struct scan *sc = arg;

	if (rec->seq > sc->want && sc->lift_line == 0 && lifts(rec->event)) {
		sc->lift_line = rec->seq;
		snprintf(sc->lift_event, sizeof(sc->lift_event), "%s",
		    rec->event);
	}

	if (sc->want != 0 && rec->seq == sc->want) {
		memcpy(sc->hash, rec->hash, 65);
		sc->found = 1;
	}
	if (sc->run_line == 0 && !admin_event(rec->event)) {
		sc->run_line = rec->seq;
		snprintf(sc->run_event, sizeof(sc->run_event), "%s", rec->event);
	}
	sc->last = rec->seq;
	return 0;
}

int
checkpoint_verify(const char *state_dir, const char *cafile,
    struct checkpoint_report *r, struct err *e)
{
	char txt[4096];
	struct scan sc;
	int rc;

	if (path_of(txt, sizeof(txt), state_dir, "checkpoint", e) != 0)
		return -1;
	rc = load_signed(state_dir, cafile, r, e);
	if (rc == 1)
		return 1;
	if (rc != 0)
		return -1;
	memset(&sc, 0, sizeof(sc));
	sc.want = r->seq;
	if (journal_read(state_dir, on_line, &sc, e) != 0)
		return -1;
	r->journal_seq = sc.last;
	if (r->seq == 0) {
		if (strspn(r->head, "0") != 64)
			return err_set(e, "%s: seq 0 with a head other than "
			    "zeros", txt);
	} else if (!sc.found) {
		return err_set(e, "%s: sealed line %" PRIu64 ", but the journal "
		    "has only %" PRIu64 " lines (lines were removed)", txt,
		    r->seq, sc.last);
	} else if (strcmp(sc.hash, r->head) != 0) {
		return err_set(e, "%s: the journal's line %" PRIu64 " is not the "
		    "one sealed (head %.16s..., checkpoint says %.16s...): the "
		    "journal was rewritten", txt, r->seq, sc.hash, r->head);
	}
	r->unsealed = sc.last - r->seq;
	return 0;
}

/* What in state_dir shows that runs happened: certificates or disposition
 * records.  Returns 1 with what filled, else 0. */
static int
evidence(const char *state_dir, char *what, size_t len)
{
	static const struct {
		const char *dir, *suffix, *says;
	} places[] = {
		{ "certificates", ".cert", "holds certificates" },
		{ "work", "", "holds disposition records" },
	};

	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		char path[4096];
		struct dirent *d;
		DIR *dp;
		int found = 0;

		if (snprintf(path, sizeof(path), "%s/%s", state_dir,
		    places[i].dir) >= (int)sizeof(path) ||
		    (dp = opendir(path)) == NULL)
			continue;
		while (!found && (d = readdir(dp)) != NULL) {
			size_t n = strlen(d->d_name), k = strlen(places[i].suffix);
			if (d->d_name[0] == '.' || n <= k)
				continue;
			found = strcmp(d->d_name + n - k, places[i].suffix) == 0;
		}
		closedir(dp);
		if (found) {
			snprintf(what, len, "%s %s", path, places[i].says);
			return 1;
		}
	}
	return 0;
}

const char *
checkpoint_gate_name(int state)
{
	static const char *const names[] = {
		"ok", "no-checkpoint", "forged", "mismatch", "short",
		"unsealed", "broken", "error",
	};

	return state >= 0 && state <= GATE_ERROR ? names[state] : "?";
}

/* A journal with no signed checkpoint is trusted only as a fresh host's:
 * no run journaled (sc), no sign of one in state_dir, and, with a CA
 * configured (cafile), no record that lifts protection or adds a
 * trigger. */
static int
gate_unsigned(const char *state_dir, const char *cafile,
    const struct scan *sc, const struct journal_report *jr,
    struct gate_report *g, struct err *e)
{
	char what[4200];

	if (sc->run_line != 0) {
		g->state = GATE_NO_CHECKPOINT;
		return err_set(e, "%s/journal records a run (line %" PRIu64
		    ": %s) but there is no signed checkpoint (%s/checkpoint and "
		    "checkpoint.p7s): the checkpoint was removed or the journal "
		    "replaced", state_dir, sc->run_line, sc->run_event,
		    state_dir);
	}
	if (evidence(state_dir, what, sizeof(what))) {
		g->state = GATE_NO_CHECKPOINT;
		return err_set(e, "%s/journal has no signed checkpoint, but %s: "
		    "the checkpoint was removed or the journal replaced",
		    state_dir, what);
	}
	/* With [signing] set, every record is sealed as it is made:
	 * records without a checkpoint were never sealed, or their
	 * checkpoint was removed. */
	if (cafile != NULL && *cafile != '\0' && sc->lift_line != 0) {
		g->state = GATE_NO_CHECKPOINT;
		return err_set(e, "%s/journal has records (line %" PRIu64 ": %s) "
		    "but no signed checkpoint (%s/checkpoint and "
		    "checkpoint.p7s), although signing is configured: the "
		    "checkpoint was removed or the journal replaced", state_dir,
		    sc->lift_line, sc->lift_event, state_dir);
	}
	g->unsealed = jr->lines;
	g->state = GATE_OK;
	return 0;
}

/* The signed checkpoint cr against the journal as scanned (sc, jr): its
 * line must be there, with its hash, and no record after it may lift
 * protection or add a trigger unsealed. */
static int
gate_signed(const char *state_dir, const struct checkpoint_report *cr,
    const struct scan *sc, const struct journal_report *jr,
    struct gate_report *g, struct err *e)
{
	char when[32];

	g->have_ckpt = 1;
	g->seq = cr->seq;
	memcpy(g->expected, cr->head, 65);
	g->ckpt_time = cr->time;
	snprintf(g->signer, sizeof(g->signer), "%s", cr->signer);
	time_format_utc(cr->time, when);
	if (cr->seq == 0 && strspn(cr->head, "0") == 64) {
		/* Signed while the journal was empty: every line is unsealed. */
	} else if (cr->seq == 0) {
		g->state = GATE_FORGED;
		return err_set(e, "%s/checkpoint: seq 0 with a head other than "
		    "zeros", state_dir);
	} else if (!sc->found) {
		g->state = GATE_SHORT;
		return err_set(e, "%s/journal has %" PRIu64 " lines, but its "
		    "signed checkpoint of %s seals line %" PRIu64 " with hash "
		    "%s: lines were removed, or an older journal was put back",
		    state_dir, jr->lines, when, cr->seq, cr->head);
	} else if (memcpy(g->found, sc->hash, 65), strcmp(sc->hash,
	    cr->head) != 0) {
		g->state = GATE_MISMATCH;
		return err_set(e, "%s/journal does not match its signed "
		    "checkpoint: the checkpoint of %s seals line %" PRIu64 " with "
		    "hash %s, but the journal's line %" PRIu64 " has hash %s: "
		    "the journal was rewritten", state_dir, when, cr->seq,
		    cr->head, cr->seq, sc->hash);
	}
	g->unsealed = jr->lines - cr->seq;
	if (sc->lift_line != 0) {
		g->state = GATE_UNSEALED;
		return err_set(e, "%s/journal line %" PRIu64 " (%s) comes after "
		    "the signed checkpoint of %s (line %" PRIu64 ") and was "
		    "never sealed: a record that lifts protection or adds a "
		    "trigger is trusted only once sealed", state_dir,
		    sc->lift_line, sc->lift_event, when, cr->seq);
	}
	g->state = GATE_OK;
	return 0;
}

int
checkpoint_gate(const char *state_dir, const char *cafile, struct journal *j,
    struct gate_report *g, struct err *e)
{
	struct checkpoint_report cr;
	struct journal_report jr;
	struct scan sc;
	struct err ce = { "" };
	int fd = -1, ck = 1, rc = -1;

	(void)j;	/* its lock is what matters: held by the caller */
	memset(g, 0, sizeof(*g));
	g->ckpt_time = (time_t)-1;
	g->state = GATE_ERROR;
	if (j == NULL && journal_share(state_dir, &fd, e) != 0)
		return -1;
	memset(&cr, 0, sizeof(cr));
	if (cafile != NULL && *cafile != '\0') {
		ck = load_signed(state_dir, cafile, &cr, &ce);
	} else {
		char p[4096];
		if (path_of(p, sizeof(p), state_dir, "checkpoint.p7s", &ce) != 0)
			ck = -2;
		else if (exists(p))
			ck = -3;	/* there is one, and no CA to check it */
	}
	memset(&sc, 0, sizeof(sc));
	if (ck == 0)
		sc.want = cr.seq;
	if (journal_scan(state_dir, on_line, &sc, &jr, e) != 0) {
		g->state = jr.read_errno != 0 ? GATE_ERROR : GATE_BROKEN;
		goto out;
	}
	journal_unshare(fd);
	fd = -1;
	g->lines = jr.lines;
	memcpy(g->head, jr.head, 65);
	g->run_line = sc.run_line;
	snprintf(g->run_event, sizeof(g->run_event), "%s", sc.run_event);
	g->lift_line = sc.lift_line;
	snprintf(g->lift_event, sizeof(g->lift_event), "%s", sc.lift_event);
	switch (ck) {
	case -3:
		err_set(e, "%s/checkpoint: cannot check the journal's signed "
		    "checkpoint: no CA to verify it against ([signing] chain)",
		    state_dir);
		goto out;
	case -2:
		*e = ce;
		goto out;
	case -1:
		g->state = GATE_FORGED;
		*e = ce;
		goto out;
	case 1:
		rc = gate_unsigned(state_dir, cafile, &sc, &jr, g, e);
		goto out;
	}
	rc = gate_signed(state_dir, &cr, &sc, &jr, g, e);
out:
	journal_unshare(fd);
	return rc;
}
