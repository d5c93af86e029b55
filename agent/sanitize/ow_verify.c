/*
 * ow_verify.c: the read-back of a verified overwrite (SPEC §6 step 4; see
 * overwrite.h for the contract and overwrite.c for the MUST rules):
 * exactly the bytes the pass wrote (ow_pass.c), read from the device and
 * compared with the pattern, all of them or a stratified sample.
 */
#include "sanitize/ow_int.h"

#include "base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* Reads [off, off+n) back (n <= bufsz) and compares it with the pattern. */
static int
check_range(struct pass *p, uint64_t off, size_t n, int *direct)
{
	size_t want = n, req = (n + ALIGN - 1) / ALIGN * ALIGN;
	ssize_t got;

	if (req > p->bufsz)
		req = n;
	got = ow_pread(p->fd, p->rbuf[0], *direct ? req : n, (off_t)off);
	if (got < 0 && *direct && errno == EINVAL) {
		/* The filesystem refused this O_DIRECT read: fall back to
		 * buffered reads of the range just dropped from the cache. */
		int fl = fcntl(p->fd, F_GETFL);
		if (fl != -1)
			(void)fcntl(p->fd, F_SETFL, fl & ~O_DIRECT);
		*direct = 0;
		(void)posix_fadvise(p->fd, (off_t)off, (off_t)n,
		    POSIX_FADV_DONTNEED);
		got = ow_pread(p->fd, p->rbuf[0], n, (off_t)off);
	}
	if (got < 0)
		return err_sys(p->e, "%s: read-back at offset %llu", p->label,
		    (unsigned long long)off);
	if ((size_t)got < want)
		return err_set(p->e, "%s: read-back: the file is shorter than "
		    "what was written (offset %llu)", p->label,
		    (unsigned long long)(off + (uint64_t)got));
	if (ow_pattern_at(p, off, want) == -1)
		return -1;
	if (memcmp(p->rbuf[0], p->pbuf, want) != 0)
		return err_set(p->e, "%s: verification failed: the bytes read "
		    "back at offset %llu are not the pattern written",
		    p->label, (unsigned long long)off);
	p->r->verified += want;
	return 0;
}

/* Reads back the bytes at virtual offsets [v, v+n) of sp (counting only
 * bytes inside spans), which may cross from one span to the next. */
static int
check_virtual(struct pass *p, const struct spans *sp, uint64_t v, uint64_t n,
    int *direct)
{
	while (n > 0) {
		uint64_t run, off = span_at(sp, v, &run);
		size_t k = (size_t)(n < run ? n : run);

		if (k > p->bufsz)
			k = p->bufsz;
		if (check_range(p, off, k, direct) == -1)
			return -1;
		v += k;
		n -= k;
	}
	return 0;
}

/* Verification of exactly the bytes written (the spans of sp): all of
 * them (VERIFY_FULL), or a NIST SP 800-88 style sample (VERIFY_SAMPLE) of
 * 1 MiB units of those bytes: the first and the last, and one random unit
 * in each of k-2 equal strata between them, where k is 10% of the units but
 * at least VMIN; at most VMIN units are read whole.  Stratifying spreads
 * the sample over the whole file; holes, never written, are never read. */
static int
verify(struct pass *p, const struct spans *sp)
{
	uint64_t total = sp->total, units = (total + VUNIT - 1) / VUNIT;
	uint64_t k, strata, lo, hi;
	int direct = 0, fl, rc = -1;

	if (total == 0)
		return 0;
	(void)posix_fadvise(p->fd, 0, 0, POSIX_FADV_DONTNEED);
	fl = fcntl(p->fd, F_GETFL);
	if (fl != -1 && fcntl(p->fd, F_SETFL, fl | O_DIRECT) == 0)
		direct = 1;
	if (p->o->verify != OW_VERIFY_SAMPLE || units <= VMIN) {
		struct span_cursor c = { 0, 0 };
		uint64_t off;
		size_t n;

		while (span_next(sp, &c, p->bufsz, &off, &n))
			if (check_range(p, off, n, &direct) == -1)
				goto out;
		rc = 0;
		goto out;
	}
	k = units / 10 > VMIN ? units / 10 : VMIN;
	strata = k - 2;
	if (check_virtual(p, sp, 0, VUNIT, &direct) == -1)
		goto out;
	for (uint64_t s = 0; s < strata; s++) {
		lo = 1 + s * (units - 2) / strata;
		hi = 1 + (s + 1) * (units - 2) / strata;
		if (hi > lo && check_virtual(p, sp, (lo + ow_rand_below(hi - lo)) *
		    VUNIT, VUNIT, &direct) == -1)
			goto out;
	}
	lo = (units - 1) * VUNIT;
	rc = check_virtual(p, sp, lo, total - lo, &direct);
out:
	/* The fd may be the caller's (ow_fd): give it back as it came. */
	if (direct && fl != -1)
		(void)fcntl(p->fd, F_SETFL, fl);
	return rc;
}

int
ow_work_verify(struct ow_work *w)
{
	struct pass *p = &w->p;
	int rc;

	if (ow_bufs_alloc(p, w->sp.total) != 0)
		return -1;
	rc = verify(p, &w->sp);
	ow_bufs_free(p);
	if (rc == 0 && p->o->phase != NULL)
		p->o->phase(OW_PHASE_VERIFIED, p->o->arg);
	return rc;
}
