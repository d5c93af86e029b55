/*
 * seal_replace.c: a file sealed in place, its plaintext cleared (see
 * seal_replace.h for the MUST rules this file follows).
 */
#include "dispose/seal_replace.h"

#include "base/err.h"
#include "certify/certify.h"
#include "conf/config.h"
#include "keys/keystore.h"
#include "keys/seal.h"
#include "locate/resolve.h"
#include "sanitize/overwrite.h"
#include "state/journal.h"
#include "state/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What one replacement holds open. */
struct job {
	const struct seal_replace_req *rq;
	struct seal_replace_out *out;
	char abs[PATH_MAX];	/* FILE's absolute path */
	struct rootdir root;
	int dirfd;		/* FILE's directory */
	const char *base;	/* FILE's name in it (in abs) */
	char outname[NAME_MAX + 1];	/* FILE.lethe's */
	int fd;			/* FILE, read-only */
	struct stat st;
	struct keystore ks;
	int lockfd;
};

/* FILE's directory beneath its allowed root, and FILE.lethe's name. */
static int
locate(struct job *jb, struct err *e)
{
	const struct config *c = jb->rq->cfg;
	const char *shown = jb->rq->shown, *rel;
	char *abs = jb->abs;
	int n, ri;

	if (jb->rq->path[0] == '/')
		n = snprintf(abs, sizeof(jb->abs), "%s", jb->rq->path);
	else {
		char cwd[PATH_MAX];
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return err_set(e, "%s: cannot get the current directory",
			    shown);
		n = snprintf(abs, sizeof(jb->abs), "%s/%s", cwd,
		    jb->rq->path);
	}
	if (n < 0 || (size_t)n >= sizeof(jb->abs))
		return err_set(e, "%s: path too long", shown),
		    SEAL_REPLACE_REFUSED;
	ri = resolve_which_root((const char *const *)c->roots, c->nroots, abs,
	    &rel);
	if (ri < 0 || *rel == '\0')
		return err_set(e, "%s: not inside allowed_roots; --replace "
		    "removes the plaintext, and lethe removes nothing outside "
		    "them", shown), SEAL_REPLACE_REFUSED;
	if (resolve_root(c->roots[ri], &jb->root, e) != 0 ||
	    (jb->dirfd = resolve_parent(&jb->root, rel, &jb->base, e)) < 0)
		return -1;
	n = snprintf(jb->outname, sizeof(jb->outname), "%s.lethe", jb->base);
	if (n < 0 || (size_t)n >= sizeof(jb->outname))
		return err_set(e, "%s: name too long for a .lethe beside it",
		    shown), SEAL_REPLACE_REFUSED;
	snprintf(jb->out->sealed, sizeof(jb->out->sealed), "%s.lethe", shown);
	return 0;
}

/* FILE itself: a regular file with no other name, not sealed yet, and no
 * FILE.lethe beside it. */
static int
check_file(struct job *jb, struct err *e)
{
	const char *shown = jb->rq->shown;
	struct stat ost;

	jb->fd = openat(jb->dirfd, jb->base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY);
	if (jb->fd == -1 || fstat(jb->fd, &jb->st) != 0) {
		int errsv = errno;
		err_set(e, "%s: %s", shown, errsv == ELOOP ? "a symbolic link; "
		    "refused" : strerror(errsv));
		return errsv == ELOOP || errsv == ENOENT ?
		    SEAL_REPLACE_REFUSED : -1;
	}
	if (!S_ISREG(jb->st.st_mode) || jb->st.st_nlink != 1)
		return err_set(e, "%s: %s; refused", shown,
		    !S_ISREG(jb->st.st_mode) ? "not a regular file" : "has "
		    "other hard links that would keep the plaintext"),
		    SEAL_REPLACE_REFUSED;
	if (seal_is_sealed(jb->fd) == 1)
		return err_set(e, "%s: already sealed", shown),
		    SEAL_REPLACE_REFUSED;
	if (fstatat(jb->dirfd, jb->outname, &ost, AT_SYMLINK_NOFOLLOW) == 0)
		return err_set(e, "%s already exists; refusing to replace it",
		    jb->out->sealed), SEAL_REPLACE_REFUSED;
	return 0;
}

/* seal_lookup that hands out the one key in arg (the read-back). */
static int
own_key(const char *id, struct dek *k, void *arg, struct err *e)
{
	const struct dek *mine = arg;

	if (strcmp(id, mine->id) != 0)
		return err_set(e, "sealed with key %s, not %s", id, mine->id);
	memcpy(k, mine, sizeof(*k));
	return 0;
}

/* FILE -> FILE.lethe, durable, then read back whole; a copy that does not
 * read back is removed. */
static int
seal_copy(struct job *jb, const struct dek *k, struct err *e)
{
	struct seal_out o = { .fd = -1, .dirfd = -1 };
	const char *lab = jb->out->sealed;
	char before[PATH_MAX + 64];
	int cfd, nul, rc = 0;

	if (seal_out_openat(jb->dirfd, jb->outname, lab, jb->st.st_mode & 0666,
	    &o, e) != 0 || seal_stream(jb->fd, o.fd, k, jb->rq->progress,
	    jb->rq->arg, e) != 0 || seal_out_commit(&o, e) != 0) {
		seal_out_abort(&o);
		return err_prefix(e, "%s", jb->rq->shown);
	}
	cfd = openat(jb->dirfd, jb->outname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (cfd == -1 || nul == -1)
		rc = err_set(e, "%s: the sealed copy does not read back (%s); "
		    "it was removed and the plaintext kept", lab,
		    strerror(errno));
	else if (unseal_stream(cfd, nul, own_key, (void *)k, NULL, NULL,
	    e) != 0) {
		snprintf(before, sizeof(before), "%s: the sealed copy does not "
		    "read back (", lab);
		rc = err_wrap(e, before, "); it was removed and the plaintext "
		    "kept");
	}
	if (rc != 0)
		(void)unlinkat(jb->dirfd, jb->outname, 0);
	if (nul != -1)
		close(nul);
	if (cfd != -1)
		close(cfd);
	return rc;
}

/* The plaintext overwritten (verified) and removed, through the fd-checked
 * overwrite: the name must still be the file that was sealed. */
static int
clear_plaintext(struct job *jb, struct ow_result *res, struct err *e)
{
	struct ow_opts oo;
	char before[2 * PATH_MAX + 64];

	memset(&oo, 0, sizeof(oo));
	oo.pattern = OW_PATTERN_ZERO;
	oo.verify = OW_VERIFY_FULL;
	oo.links_ok = 1;
	oo.dev = jb->st.st_dev;
	oo.ino = jb->st.st_ino;
	close(jb->fd);
	jb->fd = -1;
	if (ow_file(jb->dirfd, jb->base, jb->rq->shown, &oo, res, e) == 0)
		return 0;
	snprintf(before, sizeof(before), "%s: sealed to %s, but the plaintext "
	    "could not be cleared: ", jb->rq->shown, jb->out->sealed);
	return err_wrap(e, before, "");
}

/* seal-replaced, with the key and the bytes cleared (no name).  A journal
 * that cannot be opened is not written to (the state lock is held: it is
 * missing or unreadable, which `lethe run` reports). */
static void
journal_it(struct job *jb, const struct dek *k, uint64_t size)
{
	struct journal j;
	char bytes[24];

	if (journal_open(jb->rq->cfg->state_dir, &j, &jb->out->journal) != 0)
		return;
	snprintf(bytes, sizeof(bytes), "%" PRIu64, size);
	if (journal_appendv(&j, &jb->out->journal, "seal-replaced", "agreement",
	    jb->rq->agreement, "key", k->id, "bytes", bytes, NULL) != 0)
		jb->out->journal_failed = 1;
	journal_close(&j);
}

/* Under the state lock: the trust gate, then the key. */
static int
lock_and_key(struct job *jb, struct dek *k, struct err *e)
{
	const struct config *c = jb->rq->cfg;

	if (lock_acquire(c->state_dir, 1, &jb->lockfd, e) != 0 ||
	    certify_gate_or_refuse(c, NULL, e) != 0 ||
	    keystore_open(c->state_dir, c->kek, KS_WRITE, &jb->ks, e) != 0 ||
	    keystore_key_for(&jb->ks, jb->rq->agreement, jb->rq->category, 1, k,
	    e) != 0)
		return -1;
	return 0;
}

int
seal_replace(const struct seal_replace_req *rq, struct dek *k,
    struct seal_replace_out *out, struct err *e)
{
	struct job jb;
	struct ow_result res;
	int rc;

	memset(&jb, 0, sizeof(jb));
	memset(out, 0, sizeof(*out));
	jb.rq = rq;
	jb.out = out;
	jb.root.fd = -1;
	jb.dirfd = -1;
	jb.fd = -1;
	jb.lockfd = -1;
	if ((rc = locate(&jb, e)) != 0 || (rc = check_file(&jb, e)) != 0)
		goto out;
	/* The whole operation records state: the lock is held throughout. */
	if ((rc = lock_and_key(&jb, k, e)) != 0 ||
	    (rc = seal_copy(&jb, k, e)) != 0)
		goto out;
	if (keystore_mark_sealed_after(&jb.ks, k->id, NULL, e) != 0) {
		char after[2 * PATH_MAX + 64];
		snprintf(after, sizeof(after), "; the plaintext %s was kept "
		    "beside %s", rq->shown, out->sealed);
		rc = err_wrap(e, "", after);
		goto out;
	}
	if ((rc = clear_plaintext(&jb, &res, e)) != 0)
		goto out;
	journal_it(&jb, k, res.size);
out:
	keystore_close(&jb.ks);
	lock_release(jb.lockfd);
	if (jb.fd != -1)
		close(jb.fd);
	if (jb.dirfd >= 0)
		close(jb.dirfd);
	resolve_root_close(&jb.root);
	return rc;
}
