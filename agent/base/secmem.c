/*
 * secmem.c: locked, wiped buffers for keys (see secmem.h).
 *
 * MUST rules:
 *  - every buffer is wiped with OPENSSL_cleanse before it is unmapped,
 *    whatever path the caller took to free it;
 *  - buffers are whole pages of their own, so locking one never pins
 *    unrelated heap data and MADV_DONTDUMP covers nothing else;
 *  - a failed mlock is counted, never fatal: keys are still wiped, and
 *    core dumps are off anyway (secmem_no_core) while keys are loaded.
 */
#include "base/secmem.h"
#include "base/err.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

static unsigned unlocked;

/* Kept in the last bytes of the mapping, after the caller's n bytes. */
struct tail {
	uint32_t locked;
};

/* Bytes actually mapped for a request of n (plus the tail), in whole
 * pages; 0 on overflow. */
static size_t
mapped_size(size_t n)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t page = pg > 0 ? (size_t)pg : 4096;

	if (n == 0 || n > SIZE_MAX - page - sizeof(struct tail))
		return 0;
	n += sizeof(struct tail);
	return (n + page - 1) / page * page;
}

static struct tail *
tail_of(void *p, size_t len)
{
	return (struct tail *)((unsigned char *)p + len - sizeof(struct tail));
}

void *
secmem_alloc(size_t n, struct err *e)
{
	size_t len = mapped_size(n);
	void *p;

	if (len == 0) {
		err_set(e, "secure memory: bad size %zu", n);
		return NULL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED) {
		err_sys(e, "secure memory: cannot map %zu bytes", len);
		return NULL;
	}
#ifdef MADV_DONTDUMP
	(void)madvise(p, len, MADV_DONTDUMP);
#endif
#ifdef MADV_WIPEONFORK
	(void)madvise(p, len, MADV_WIPEONFORK);
#endif
	if (mlock(p, len) == 0)
		tail_of(p, len)->locked = 1;
	else
		unlocked++;
	return p;
}

void
secmem_free(void *p, size_t n)
{
	size_t len = mapped_size(n);
	uint32_t locked;

	if (p == NULL || len == 0)
		return;
	locked = tail_of(p, len)->locked;
	/* Wipe while still locked, so no page goes to swap in between. */
	OPENSSL_cleanse(p, len);
	if (locked)
		(void)munlock(p, len);
	else if (unlocked > 0)
		unlocked--;
	(void)munmap(p, len);
}

unsigned
secmem_unlocked(void)
{
	return unlocked;
}

int
secmem_no_core(struct err *e)
{
	struct rlimit rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		return err_sys(e, "cannot disable core dumps (RLIMIT_CORE)");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return err_sys(e, "cannot make the process undumpable");
	return 0;
}
