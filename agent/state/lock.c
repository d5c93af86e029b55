/*
 * lock.c: the state writer lock (see lock.h).
 *
 * MUST rules:
 *  - the lock file is opened O_NOFOLLOW and must be a regular file, so a
 *    planted symlink cannot make us truncate something else;
 *  - the pid is written only after the lock is held (the pid in the file
 *    is the holder's, never a waiter's);
 *  - the lock is flock(2): it dies with the process, so a killed run never
 *    leaves a stale lock behind.
 */
#include "state/lock.h"
#include "state/durable.h"
#include "base/err.h"
#include "base/num.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The holder's pid as text, or "?" when the file does not say. */
static void
holder_pid(int fd, char *buf, size_t len)
{
	char tmp[32];
	ssize_t n = pread(fd, tmp, sizeof(tmp) - 1, 0);
	int64_t pid;

	snprintf(buf, len, "?");
	if (n <= 0)
		return;
	tmp[n] = '\0';
	tmp[strcspn(tmp, "\n")] = '\0';
	if (num_parse(tmp, 1, INT32_MAX, &pid) == 0)
		snprintf(buf, len, "%lld", (long long)pid);
}

int
lock_acquire(const char *state_dir, int wait, int *fdp, struct err *e)
{
	char path[4096], pid[32];
	struct stat st;
	int fd = -1, rc = -1, n;

	*fdp = -1;
	n = snprintf(path, sizeof(path), "%s/lock", state_dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return err_set(e, "%s: path too long", state_dir);
	if (mkdirs(state_dir, 0700, e) != 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return err_sys(e, "%s: cannot open", path);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		err_set(e, "%s: not a regular file", path);
		goto out;
	}
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK) {
			holder_pid(fd, pid, sizeof(pid));
			err_set(e, "another lethe (pid %s) holds %s; try again "
			    "when it has finished", pid, path);
		} else {
			err_sys(e, "%s: lock", path);
		}
		goto out;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(pid) || ftruncate(fd, 0) == -1 ||
	    pwrite(fd, pid, (size_t)n, 0) != n) {
		err_sys(e, "%s: cannot record our pid", path);
		goto out;
	}
	*fdp = fd;
	fd = -1;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

void
lock_release(int fd)
{
	if (fd == -1)
		return;
	(void)flock(fd, LOCK_UN);
	close(fd);
}
