/*
 * lock.h: one state writer at a time.  Every command that changes
 * state_dir (terminate, directive, hold, release, run, seal's key creation,
 * cert resend) holds an exclusive flock on state_dir/lock while it works
 * (SPEC §5: "two runs at once: the second waits on a lock or exits with a
 * clear message").
 */
#ifndef LETHE_LOCK_H
#define LETHE_LOCK_H

struct err;

/* Creates state_dir (0700) if missing, opens state_dir/lock (O_CREAT 0600,
 * O_NOFOLLOW) and takes an exclusive flock on it: waiting for it when wait
 * is nonzero, else failing at once with "another lethe (pid N) holds
 * STATE_DIR/lock".  Once locked, writes our pid into the file.  Returns 0
 * with *fd set (keep it open while working), or -1 with *e set. */
int lock_acquire(const char *state_dir, int wait, int *fd, struct err *e);
/* Releases the lock and closes fd (which may be -1: then does nothing). */
void lock_release(int fd);

#endif
