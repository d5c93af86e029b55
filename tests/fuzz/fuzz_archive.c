/*
 * fuzz_archive.c: archive_count_members (agent/sanitize/archive_*.c,
 * libarchive underneath) on arbitrary bytes written as a file, in this
 * process (archive_count_inproc): the real function reads in a child
 * process, where a crash would be reported instead of found.
 *
 * Invariants besides "no crash, no leak, no UB":
 *   - a file starting with the sealed magic is reported as sealed, and
 *     nothing else is;
 *   - whether the archive reads does not depend on the glob (except that
 *     a glob may split a hard-link group a format cannot split, or remove
 *     members a GNU incremental listing names, which are refused), and a
 *     narrower glob never matches more members than "**";
 *   - an error message never quotes a member name (SPEC §8): the input's
 *     member names are not known here, so the check is that the message
 *     holds no byte outside printable ASCII.
 */
#include "fuzz_util.h"

#include "sanitize/archive.h"
#include "sanitize/archive_int.h"
#include "base/err.h"
#include "keys/seal.h"

static int dirfd_ = -1;
static char apath[4096];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dirfd_ = open(fz_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FZ_SETUP(dirfd_ != -1);
	fz_path(apath, "backup.tar");
	return 0;
}

static struct err e;

static int
count(const char *glob, uint64_t *n)
{
	int rc;

	e.msg[0] = '\0';
	rc = archive_count_inproc(dirfd_, "backup.tar", "backup.tar", glob,
	    n, &e);
	if (rc == -1) {
		FZ_CHECK(e.msg[0] != '\0', "failed without a message");
		for (const unsigned char *p = (const unsigned char *)e.msg; *p;
		    p++)
			FZ_CHECK(*p >= 0x20 && *p < 0x7f, "unprintable byte "
			    "%#x in the message: %s", *p, e.msg);
	}
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t all = 0, some = 0;
	int rc1, rc2, sealed;

	fz_write(apath, data, size);
	sealed = size >= 8 && memcmp(data, SEAL_MAGIC, 8) == 0;
	char msg1[sizeof(e.msg)];

	rc1 = count("**", &all);
	snprintf(msg1, sizeof(msg1), "%s", e.msg);
	FZ_CHECK((rc1 == ARCHIVE_IS_SEALED) == sealed, "sealed %d, rc %d",
	    sealed, rc1);
	rc2 = count("osde/**", &some);
	/* A cpio hard-link set that the glob splits is refused, and so is
	 * removing members that a kept GNU incremental listing names
	 * (archive_plan.c); a member whose name is nothing (the root) never
	 * matches, so even "**" can split a set.  Either way the archive is
	 * left untouched. */
#define GLOB_DEPENDENT(m) (strstr(m, "hard-linked") != NULL || \
	    strstr(m, "incremental") != NULL)
	FZ_CHECK(rc1 == rc2 || (rc1 == 0 && rc2 == -1 && GLOB_DEPENDENT(e.msg)) ||
	    (rc1 == -1 && rc2 == 0 && GLOB_DEPENDENT(msg1)),
	    "the glob changed the verdict: %d, %d: %s", rc1, rc2, e.msg);
	if (rc1 == 0)
		FZ_CHECK(some <= all, "osde/** matched %llu, ** only %llu",
		    (unsigned long long)some, (unsigned long long)all);
	return 0;
}
