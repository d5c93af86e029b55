/*
 * cmd_seal.c: `lethe seal` and `lethe unseal` (SPEC §4, §7).
 *
 *   lethe seal --agreement A [--category C] [IN [OUT]]
 *   lethe seal --agreement A [--category C] --replace FILE
 *   lethe unseal [IN [OUT]]
 *
 * MUST rules:
 *  - core dumps are off before any key is loaded (secmem_no_core);
 *  - keys are created only under the state lock; a seal checks after the
 *    stream that its key was not destroyed meanwhile, else its output is
 *    discarded (file) or the exit status says so (stdout);
 *  - sealed bytes never go to a terminal;
 *  - an OUT file appears only complete and authenticated (temporary name,
 *    rename on success, unlinked on failure);
 *  - --replace is dispose/seal_replace.h's, and follows its rules: the
 *    plaintext goes only after the sealed copy is durable, has unsealed
 *    cleanly, and the keystore says its key's data was once in the clear.
 */
#include "cmd/cmd.h"
#include "base/err.h"
#include "certify/certify.h"
#include "dispose/seal_replace.h"
#include "keys/keystore.h"
#include "keys/seal.h"
#include "base/secmem.h"
#include "state/lock.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


/* A name for messages: control characters shown as '?'. */
static const char *
shown(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	if (s == NULL)
		s = "stdin";
	for (; *s && i + 1 < len; s++)
		buf[i++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	buf[i] = '\0';
	return buf;
}

struct progress {
	const char *verb;
	struct timespec start, last;
	uint64_t bytes;		/* plaintext bytes so far */
	int show;		/* stderr is a terminal */
	int shown;
};

static double
secs(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}


static void
on_progress(uint64_t bytes, void *arg)
{
	struct progress *p = arg;
	struct timespec now;
	char b[32], r[32];
	double t;

	p->bytes = bytes;
	if (!p->show)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (secs(&p->last, &now) < 0.25)
		return;
	p->last = now;
	t = secs(&p->start, &now);
	cmd_human_bytes(bytes, b, sizeof(b));
	cmd_human_bytes(t > 0 ? (uint64_t)((double)bytes / t) : 0, r, sizeof(r));
	fprintf(stderr, "\rlethe: %s %s (%s/s)   ", p->verb, b, r);
	p->shown = 1;
}

static void
progress_init(struct progress *p, const char *verb, int show)
{
	memset(p, 0, sizeof(*p));
	p->verb = verb;
	p->show = show;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last = p->start;
}

static void
progress_end(struct progress *p)
{
	if (p->shown)
		fputc('\n', stderr);
}

/* The agreement's live DEK for category, created if missing, under the
 * state lock. */
static int
get_key(struct ctx *x, const char *agreement, const char *category,
    int plain_kept, struct dek *k, struct err *e)
{
	struct keystore ks;
	int lockfd = -1, rc = -1;

	if (lock_acquire(x->cfg.state_dir, 1, &lockfd, e) != 0)
		return -1;
	if (certify_gate_or_refuse(&x->cfg, NULL, e) != 0) {
		lock_release(lockfd);
		return -1;
	}
	/* Sealing a regular file leaves its plaintext where it was: the key
	 * says so before any ciphertext exists, so that no certificate ever
	 * calls this data's crypto-erase a Purge (SPEC §8). */
	if (keystore_open(x->cfg.state_dir, x->cfg.kek, KS_WRITE, &ks, e) == 0 &&
	    keystore_key_for(&ks, agreement, category, 1, k, e) == 0 &&
	    (!plain_kept || keystore_mark_plain_kept(&ks, k->id, e) == 0))
		rc = 0;
	keystore_close(&ks);
	lock_release(lockfd);
	return rc;
}

/* 0 when key id is still live (a destruction may have run meanwhile). */
static int
still_live(struct ctx *x, const char *id, struct err *e)
{
	struct keystore ks;
	const struct ks_entry *en;
	int rc = -1;

	if (keystore_open(x->cfg.state_dir, x->cfg.kek, KS_READ, &ks, e) == 0) {
		en = keystore_find(&ks, id);
		if (en == NULL)
			err_set(e, "key %s vanished from the keystore while "
			    "sealing", id);
		else if (en->destroyed)
			err_set(e, "key %s was destroyed on %s (certificate "
			    "%s) while sealing; the output is unusable", id,
			    en->destroyed_on, en->disp_id);
		else
			rc = 0;
	}
	keystore_close(&ks);
	return rc;
}

struct seal_args {
	const char *agreement, *category, *replace, *in, *out;
};

static int
parse_seal(int argc, char **argv, struct seal_args *a)
{
	int i, npos = 0;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		const char *s = argv[i], **dst = NULL;
		if (strcmp(s, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(s, "-a") == 0 || strcmp(s, "--agreement") == 0)
			dst = &a->agreement;
		else if (strcmp(s, "--category") == 0)
			dst = &a->category;
		else if (strcmp(s, "--replace") == 0)
			dst = &a->replace;
		else if (strncmp(s, "--agreement=", 12) == 0)
			a->agreement = s + 12;
		else if (strncmp(s, "--category=", 11) == 0)
			a->category = s + 11;
		else if (s[0] == '-' && s[1] != '\0')
			return -1;
		else {
			if (npos == 0)
				a->in = s;
			else if (npos == 1)
				a->out = s;
			else
				return -1;
			npos++;
			continue;
		}
		if (dst != NULL) {
			if (i + 1 >= argc)
				return -1;
			*dst = argv[++i];
		}
	}
	for (; i < argc; i++) {
		if (npos == 0)
			a->in = argv[i];
		else if (npos == 1)
			a->out = argv[i];
		else
			return -1;
		npos++;
	}
	if (a->agreement == NULL || (a->replace != NULL && npos > 0))
		return -1;
	if (a->in != NULL && strcmp(a->in, "-") == 0)
		a->in = NULL;
	if (a->out != NULL && strcmp(a->out, "-") == 0)
		a->out = NULL;
	return 0;
}

/* --replace: FILE -> FILE.lethe, checked, recorded, plaintext cleared
 * (dispose/seal_replace.h). */
static int
replace(struct ctx *x, const struct seal_args *a, struct dek *k)
{
	struct seal_replace_req rq;
	struct seal_replace_out out;
	struct progress pg;
	struct err e = { "" };
	char shownf[PATH_MAX];
	int rc;

	memset(&rq, 0, sizeof(rq));
	rq.cfg = &x->cfg;
	rq.path = a->replace;
	rq.shown = shown(a->replace, shownf, sizeof(shownf));
	rq.agreement = a->agreement;
	rq.category = a->category;
	rq.progress = on_progress;
	rq.arg = &pg;
	progress_init(&pg, "sealed", x->interactive);
	rc = seal_replace(&rq, k, &out, &e);
	progress_end(&pg);
	if (rc != 0) {
		warnx_("%s", e.msg);
		return rc == SEAL_REPLACE_REFUSED ? EXIT_USAGE : EXIT_FAIL;
	}
	if (out.journal_failed)
		warnx_("journal: %s", out.journal.msg);
	if (x->interactive)
		fprintf(stderr, "lethe: sealed %s under key %s; plaintext "
		    "overwritten and removed\n", out.sealed, k->id);
	return EXIT_OK;
}

/* IN and OUT of a stream command: stdin and stdout, or files (OUT under a
 * temporary name until it is committed whole). */
struct streams {
	int in, out;
	struct seal_out o;
	char sin[PATH_MAX];	/* IN as messages show it */
};

/* Opens IN (NULL: stdin).  Returns EXIT_OK, or an exit code after saying
 * why. */
static int
streams_in(struct streams *s, const char *in)
{
	memset(s, 0, sizeof(*s));
	s->in = STDIN_FILENO;
	s->out = STDOUT_FILENO;
	s->o.fd = s->o.dirfd = -1;
	shown(in, s->sin, sizeof(s->sin));
	if (in != NULL &&
	    (s->in = open(in, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		s->in = STDIN_FILENO;
		warnx_("%s: %s", s->sin, strerror(errno));
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Opens OUT's temporary file (NULL: stdout).  0, or -1 after saying why. */
static int
streams_out(struct streams *s, const char *out)
{
	struct err e;

	if (out == NULL)
		return 0;
	if (seal_out_open(out, 0600, &s->o, &e) != 0) {
		warnx_("%s", e.msg);
		return -1;
	}
	s->out = s->o.fd;
	return 0;
}

/* Puts OUT in place.  0, or -1 after saying why. */
static int
streams_commit(struct streams *s)
{
	struct err e;

	if (s->o.fd == -1)
		return 0;
	if (seal_out_commit(&s->o, &e) != 0) {
		warnx_("%s", e.msg);
		return -1;
	}
	return 0;
}

/* Closes both; an OUT never committed is removed. */
static void
streams_close(struct streams *s)
{
	if (s->o.fd != -1)
		seal_out_abort(&s->o);
	if (s->in != STDIN_FILENO)
		close(s->in);
}

/* IN -> OUT sealed (a.in, a.out; NULL for stdin and stdout).  Returns an
 * exit code. */
static int
seal_streams(struct ctx *x, const struct seal_args *a, struct dek *k)
{
	struct streams s;
	struct progress pg;
	struct err e = { "" };
	struct stat si, so;
	char sout[PATH_MAX];
	int rc;

	shown(a->out ? a->out : "stdout", sout, sizeof(sout));
	if (a->out == NULL && isatty(STDOUT_FILENO)) {
		warnx_("refusing to write sealed binary data to a terminal; "
		    "give OUT or redirect stdout");
		return EXIT_USAGE;
	}
	if ((rc = streams_in(&s, a->in)) != EXIT_OK)
		return rc;
	rc = EXIT_FAIL;
	if (a->out != NULL && fstat(s.in, &si) == 0 && stat(a->out, &so) == 0 &&
	    si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
		warnx_("%s: IN and OUT are the same file; use --replace to "
		    "seal a file in place and clear its plaintext", s.sin);
		rc = EXIT_USAGE;
		goto out;
	}
	if (get_key(x, a->agreement, a->category, fstat(s.in, &si) == 0 &&
	    S_ISREG(si.st_mode), k, &e) != 0) {
		warnx_("%s", e.msg);
		goto out;
	}
	if (streams_out(&s, a->out) != 0)
		goto out;
	progress_init(&pg, "sealed", x->interactive);
	if (seal_stream(s.in, s.out, k, on_progress, &pg, &e) != 0) {
		progress_end(&pg);
		warnx_("%s -> %s: %s", s.sin, sout, e.msg);
		goto out;
	}
	progress_end(&pg);
	if (still_live(x, k->id, &e) != 0) {
		warnx_("%s: %s", sout, e.msg);
		goto out;
	}
	if (streams_commit(&s) == 0)
		rc = EXIT_OK;
out:
	streams_close(&s);
	return rc;
}

int
cmd_seal(struct ctx *x, int argc, char **argv)
{
	struct seal_args a;
	struct dek *k = NULL;
	struct err e = { "" };
	int rc;

	if (parse_seal(argc, argv, &a) != 0)
		return cmd_usage("seal");
	if (ctx_load(x) != 0)
		return EXIT_USAGE;
	if (policy_find(&x->ps, a.agreement) == NULL) {
		const char *s = cmd_suggest_agreement(x, a.agreement);
		if (s != NULL)
			warnx_("unknown agreement '%s'; did you mean '%s'?",
			    a.agreement, s);
		else
			warnx_("unknown agreement '%s' (not in %s)",
			    a.agreement, x->cfg.policy_dir);
		return EXIT_USAGE;
	}
	if (keystore_category(a.category) == NULL) {
		const char *s = category_suggest(a.category);
		if (s != NULL)
			warnx_("unknown category '%s'; did you mean '%s'?",
			    a.category, s);
		else
			warnx_("unknown category '%s'", a.category);
		return EXIT_USAGE;
	}
	if (secmem_no_core(&e) != 0) {
		warnx_("%s", e.msg);
		return EXIT_FAIL;
	}
	if ((k = secmem_alloc(sizeof(*k), &e)) == NULL) {
		warnx_("%s", e.msg);
		return EXIT_FAIL;
	}
	rc = a.replace != NULL ? replace(x, &a, k) : seal_streams(x, &a, k);
	secmem_free(k, sizeof(*k));
	return rc;
}

/* The keystore, opened only once the stream's header has named a key: a
 * file that is not sealed at all is said to be so, whatever the state of
 * the keystore (there may be none on this host). */
struct lazy_ks {
	struct ctx *x;
	struct keystore ks;
	int open, failed;
};

static int
lazy_lookup(const char *id, struct dek *k, void *arg, struct err *e)
{
	struct lazy_ks *l = arg;

	if (!l->open) {
		l->open = 1;	/* closed by the caller, also after a failure */
		if (keystore_open(l->x->cfg.state_dir, l->x->cfg.kek, KS_READ,
		    &l->ks, e) != 0) {
			l->failed = 1;
			return -1;
		}
	}
	if (l->failed)
		return err_set(e, "the keystore could not be opened");
	return keystore_lookup(id, k, &l->ks, e);
}

int
cmd_unseal(struct ctx *x, int argc, char **argv)
{
	struct lazy_ks ks = { .x = x };
	struct streams s;
	struct progress pg;
	struct err e = { "" };
	const char *inp = NULL, *outp = NULL;
	int rc = EXIT_FAIL, i = 1;

	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	else
		for (int j = 1; j < argc; j++)
			if (argv[j][0] == '-' && argv[j][1] != '\0')
				return cmd_usage("unseal");
	if (argc - i > 2)
		return cmd_usage("unseal");
	if (i < argc)
		inp = strcmp(argv[i], "-") == 0 ? NULL : argv[i];
	if (i + 1 < argc)
		outp = strcmp(argv[i + 1], "-") == 0 ? NULL : argv[i + 1];
	if (ctx_load_config(x) != 0)
		return EXIT_USAGE;
	if (secmem_no_core(&e) != 0) {
		warnx_("%s", e.msg);
		return EXIT_FAIL;
	}
	if (streams_in(&s, inp) != EXIT_OK)
		return EXIT_USAGE;
	if (streams_out(&s, outp) != 0)
		goto out;
	progress_init(&pg, "unsealed", x->interactive);
	if (unseal_stream(s.in, s.out, lazy_lookup, &ks,
	    on_progress, &pg, &e) != 0) {
		progress_end(&pg);
		if (outp == NULL && pg.bytes > 0)
			warnx_("%s: %s; the %" PRIu64 " bytes written so far "
			    "are incomplete and must be discarded", s.sin, e.msg,
			    pg.bytes);
		else
			warnx_("%s: %s", s.sin, e.msg);
		goto out;
	}
	progress_end(&pg);
	if (streams_commit(&s) == 0)
		rc = EXIT_OK;
out:
	if (ks.open)
		keystore_close(&ks.ks);
	streams_close(&s);
	return rc;
}
