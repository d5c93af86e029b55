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
 *  - --replace clears the plaintext only after the sealed copy is durable
 *    and has unsealed cleanly, and records "sealed after the fact" in the
 *    keystore before the plaintext goes, so no certificate can claim a
 *    pure Purge for data that was once stored in the clear;
 *  - the journal gets key ids and counts, never a file name.
 */
#include "cmd/cmd.h"
#include "base/err.h"
#include "conf/iniread.h"
#include "state/journal.h"
#include "keys/keystore.h"
#include "state/lock.h"
#include "sanitize/overwrite.h"
#include "locate/resolve.h"
#include "keys/seal.h"
#include "base/secmem.h"

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

#define SEAL_SYNOPSIS "seal --agreement A [--category C] [IN [OUT]] | " \
    "seal --agreement A [--category C] --replace FILE"
#define UNSEAL_SYNOPSIS "unseal [IN [OUT]]"

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
	if (cmd_gate(x, e) != 0) {
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

/* seal_lookup that hands out the one key in arg (--replace's check). */
static int
own_key(const char *id, struct dek *k, void *arg, struct err *e)
{
	const struct dek *mine = arg;

	if (strcmp(id, mine->id) != 0)
		return err_set(e, "sealed with key %s, not %s", id, mine->id);
	memcpy(k, mine, sizeof(*k));
	return 0;
}

/* --replace: FILE -> FILE.lethe, checked, recorded, plaintext cleared. */
static int
seal_replace(struct ctx *x, const struct seal_args *a, struct dek *k)
{
	char abs[PATH_MAX], outname[NAME_MAX + 1], lab[PATH_MAX + 8];
	char shownf[PATH_MAX];
	const char *rel, *base;
	struct rootdir root = { .fd = -1 };
	struct seal_out o = { .fd = -1, .dirfd = -1 };
	struct progress pg;
	struct keystore ks = { 0 };
	struct journal j;
	struct ow_result res;
	struct ow_opts oo;
	struct stat st, ost;
	struct err e = { "" };
	int dirfd = -1, fd = -1, cfd = -1, nul = -1, lockfd = -1, ri, n;
	int rc = EXIT_FAIL;

	shown(a->replace, shownf, sizeof(shownf));
	if (a->replace[0] == '/')
		n = snprintf(abs, sizeof(abs), "%s", a->replace);
	else {
		char cwd[PATH_MAX];
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			warnx_("%s: cannot get the current directory", shownf);
			return EXIT_FAIL;
		}
		n = snprintf(abs, sizeof(abs), "%s/%s", cwd, a->replace);
	}
	if (n < 0 || (size_t)n >= sizeof(abs)) {
		warnx_("%s: path too long", shownf);
		return EXIT_USAGE;
	}
	ri = resolve_which_root((const char *const *)x->cfg.roots,
	    x->cfg.nroots, abs, &rel);
	if (ri < 0 || *rel == '\0') {
		warnx_("%s: not inside allowed_roots; --replace removes the "
		    "plaintext, and lethe removes nothing outside them", shownf);
		return EXIT_USAGE;
	}
	if (resolve_root(x->cfg.roots[ri], &root, &e) != 0 ||
	    (dirfd = resolve_parent(&root, rel, &base, &e)) < 0) {
		warnx_("%s", e.msg);
		goto out;
	}
	n = snprintf(outname, sizeof(outname), "%s.lethe", base);
	if (n < 0 || (size_t)n >= sizeof(outname)) {
		warnx_("%s: name too long for a .lethe beside it", shownf);
		rc = EXIT_USAGE;
		goto out;
	}
	snprintf(lab, sizeof(lab), "%s.lethe", shownf);
	fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd == -1 || fstat(fd, &st) != 0) {
		warnx_("%s: %s", shownf, errno == ELOOP ?
		    "a symbolic link; refused" : strerror(errno));
		if (errno == ELOOP || errno == ENOENT)
			rc = EXIT_USAGE;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		warnx_("%s: %s; refused", shownf, !S_ISREG(st.st_mode) ?
		    "not a regular file" : "has other hard links that would "
		    "keep the plaintext");
		rc = EXIT_USAGE;
		goto out;
	}
	if (seal_is_sealed(fd) == 1) {
		warnx_("%s: already sealed", shownf);
		rc = EXIT_USAGE;
		goto out;
	}
	if (fstatat(dirfd, outname, &ost, AT_SYMLINK_NOFOLLOW) == 0) {
		warnx_("%s already exists; refusing to replace it", lab);
		rc = EXIT_USAGE;
		goto out;
	}
	/* The whole operation records state: hold the lock throughout. */
	if (lock_acquire(x->cfg.state_dir, 1, &lockfd, &e) != 0 ||
	    cmd_gate(x, &e) != 0 ||
	    keystore_open(x->cfg.state_dir, x->cfg.kek, KS_WRITE, &ks, &e) != 0 ||
	    keystore_key_for(&ks, a->agreement, a->category, 1, k, &e) != 0) {
		warnx_("%s", e.msg);
		goto out;
	}
	progress_init(&pg, "sealed", x->interactive);
	if (seal_out_openat(dirfd, outname, lab, st.st_mode & 0666, &o,
	    &e) != 0 ||
	    seal_stream(fd, o.fd, k, on_progress, &pg,
	    &e) != 0 || seal_out_commit(&o, &e) != 0) {
		progress_end(&pg);
		seal_out_abort(&o);
		warnx_("%s: %s", shownf, e.msg);
		goto out;
	}
	progress_end(&pg);
	/* Read the sealed copy back before the plaintext goes. */
	cfd = openat(dirfd, outname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (cfd == -1 || nul == -1 ||
	    unseal_stream(cfd, nul, own_key, k, NULL, NULL, &e) != 0) {
		warnx_("%s: the sealed copy does not read back (%s); it was "
		    "removed and the plaintext kept", lab, cfd == -1 ||
		    nul == -1 ? strerror(errno) : e.msg);
		(void)unlinkat(dirfd, outname, 0);
		goto out;
	}
	if (keystore_mark_sealed_after(&ks, k->id, NULL, &e) != 0) {
		warnx_("%s; the plaintext %s was kept beside %s", e.msg,
		    shownf, lab);
		goto out;
	}
	memset(&oo, 0, sizeof(oo));
	oo.pattern = PATTERN_ZERO;
	oo.verify = VERIFY_FULL;
	oo.links_ok = 1;
	oo.dev = st.st_dev;
	oo.ino = st.st_ino;
	close(fd);
	fd = -1;
	if (ow_file(dirfd, base, shownf, &oo, &res, &e) != 0) {
		warnx_("%s: sealed to %s, but the plaintext could not be "
		    "cleared: %s", shownf, lab, e.msg);
		goto out;
	}
	if (journal_open(x->cfg.state_dir, &j, &e) == 0) {
		char bytes[24];
		snprintf(bytes, sizeof(bytes), "%" PRIu64, res.size);
		if (journal_appendv(&j, &e, "seal-replaced", "agreement",
		    a->agreement, "key", k->id, "bytes", bytes, NULL) != 0)
			warnx_("journal: %s", e.msg);
		journal_close(&j);
	}
	if (x->interactive)
		fprintf(stderr, "lethe: sealed %s under key %s; plaintext "
		    "overwritten and removed\n", lab, k->id);
	rc = EXIT_OK;
out:
	keystore_close(&ks);
	lock_release(lockfd);
	if (nul != -1)
		close(nul);
	if (cfd != -1)
		close(cfd);
	if (fd != -1)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	resolve_root_close(&root);
	return rc;
}

int
cmd_seal(struct ctx *x, int argc, char **argv)
{
	struct seal_args a;
	struct seal_out o = { .fd = -1, .dirfd = -1 };
	struct progress pg;
	struct dek *k = NULL;
	struct err e = { "" };
	struct stat si, so;
	char sin[PATH_MAX], sout[PATH_MAX];
	int in = STDIN_FILENO, out = STDOUT_FILENO, rc = EXIT_FAIL;

	if (parse_seal(argc, argv, &a) != 0)
		return usage(SEAL_SYNOPSIS);
	if (ctx_load(x) != 0)
		return EXIT_USAGE;
	if (policy_find(&x->ps, a.agreement) == NULL) {
		const char **ids = calloc(x->ps.n + 1, sizeof(*ids));
		const char *s = NULL;
		for (size_t i = 0; ids != NULL && i < x->ps.n; i++)
			ids[i] = x->ps.a[i].id;
		if (ids != NULL)
			s = iniread_suggest(a.agreement, ids, x->ps.n);
		if (s != NULL)
			warnx_("unknown agreement '%s'; did you mean '%s'?",
			    a.agreement, s);
		else
			warnx_("unknown agreement '%s' (not in %s)",
			    a.agreement, x->cfg.policy_dir);
		free(ids);
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
	if (a.replace != NULL) {
		rc = seal_replace(x, &a, k);
		goto out;
	}
	shown(a.in, sin, sizeof(sin));
	shown(a.out ? a.out : "stdout", sout, sizeof(sout));
	if (a.out == NULL && isatty(STDOUT_FILENO)) {
		warnx_("refusing to write sealed binary data to a terminal; "
		    "give OUT or redirect stdout");
		rc = EXIT_USAGE;
		goto out;
	}
	if (a.in != NULL &&
	    (in = open(a.in, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		warnx_("%s: %s", sin, strerror(errno));
		rc = EXIT_USAGE;
		goto out;
	}
	if (a.out != NULL && fstat(in, &si) == 0 && stat(a.out, &so) == 0 &&
	    si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
		warnx_("%s: IN and OUT are the same file; use --replace to "
		    "seal a file in place and clear its plaintext", sin);
		rc = EXIT_USAGE;
		goto out;
	}
	if (get_key(x, a.agreement, a.category, fstat(in, &si) == 0 &&
	    S_ISREG(si.st_mode), k, &e) != 0) {
		warnx_("%s", e.msg);
		goto out;
	}
	if (a.out != NULL) {
		if (seal_out_open(a.out, 0600, &o, &e) != 0) {
			warnx_("%s", e.msg);
			goto out;
		}
		out = o.fd;
	}
	progress_init(&pg, "sealed", x->interactive);
	if (seal_stream(in, out, k, on_progress, &pg,
	    &e) != 0) {
		progress_end(&pg);
		warnx_("%s -> %s: %s", sin, sout, e.msg);
		goto out;
	}
	progress_end(&pg);
	if (still_live(x, k->id, &e) != 0) {
		warnx_("%s: %s", sout, e.msg);
		goto out;
	}
	if (a.out != NULL && seal_out_commit(&o, &e) != 0) {
		warnx_("%s", e.msg);
		goto out;
	}
	rc = EXIT_OK;
out:
	if (o.fd != -1)
		seal_out_abort(&o);
	if (in != STDIN_FILENO)
		close(in);
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
	struct seal_out o = { .fd = -1, .dirfd = -1 };
	struct lazy_ks ks = { .x = x };
	struct progress pg;
	struct err e = { "" };
	const char *inp = NULL, *outp = NULL;
	char sin[PATH_MAX];
	int in = STDIN_FILENO, out = STDOUT_FILENO, rc = EXIT_FAIL, i = 1;

	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	else
		for (int j = 1; j < argc; j++)
			if (argv[j][0] == '-' && argv[j][1] != '\0')
				return usage(UNSEAL_SYNOPSIS);
	if (argc - i > 2)
		return usage(UNSEAL_SYNOPSIS);
	if (i < argc)
		inp = strcmp(argv[i], "-") == 0 ? NULL : argv[i];
	if (i + 1 < argc)
		outp = strcmp(argv[i + 1], "-") == 0 ? NULL : argv[i + 1];
	if (ctx_load_config(x) != 0)
		return EXIT_USAGE;
	shown(inp, sin, sizeof(sin));
	if (secmem_no_core(&e) != 0) {
		warnx_("%s", e.msg);
		return EXIT_FAIL;
	}
	if (inp != NULL &&
	    (in = open(inp, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		warnx_("%s: %s", sin, strerror(errno));
		return EXIT_USAGE;
	}
	if (outp != NULL) {
		if (seal_out_open(outp, 0600, &o, &e) != 0) {
			warnx_("%s", e.msg);
			goto out;
		}
		out = o.fd;
	}
	progress_init(&pg, "unsealed", x->interactive);
	if (unseal_stream(in, out, lazy_lookup, &ks,
	    on_progress, &pg, &e) != 0) {
		progress_end(&pg);
		if (outp == NULL && pg.bytes > 0)
			warnx_("%s: %s; the %" PRIu64 " bytes written so far "
			    "are incomplete and must be discarded", sin, e.msg,
			    pg.bytes);
		else
			warnx_("%s: %s", sin, e.msg);
		goto out;
	}
	progress_end(&pg);
	if (outp != NULL && seal_out_commit(&o, &e) != 0) {
		warnx_("%s", e.msg);
		goto out;
	}
	rc = EXIT_OK;
out:
	if (o.fd != -1)
		seal_out_abort(&o);
	if (ks.open)
		keystore_close(&ks.ks);
	if (in != STDIN_FILENO)
		close(in);
	return rc;
}
