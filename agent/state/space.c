/*
 * space.c: free space in state_dir before a disposition (see space.h).
 */
#include "state/space.h"
#include "base/err.h"

#include <inttypes.h>
#include <sys/statvfs.h>

uint64_t
state_space_need(uint64_t nfiles)
{
	if (nfiles > (UINT64_MAX - STATE_SPACE_RESERVE) / STATE_SPACE_PER_FILE)
		return UINT64_MAX;
	return STATE_SPACE_RESERVE + nfiles * STATE_SPACE_PER_FILE;
}

int
state_space_ok(const char *state_dir, uint64_t need, struct err *e)
{
	struct statvfs v;
	uint64_t avail;

	if (statvfs(state_dir, &v) == -1)
		return err_sys(e, "%s: cannot tell the free space", state_dir);
	avail = (uint64_t)v.f_bavail * (uint64_t)v.f_frsize;
	if (avail < need)
		return err_set(e, "%s: only %" PRIu64 " KiB free, and a "
		    "disposition needs at least %" PRIu64 " KiB for its journal "
		    "lines, records and certificate: free space there; nothing "
		    "was destroyed", state_dir, avail / 1024,
		    (need + 1023) / 1024);
	return 0;
}
