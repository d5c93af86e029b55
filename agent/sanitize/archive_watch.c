/*
 * archive_watch.c: the parent's side of archive_child.c: starts the
 * child, relays what it reports, and kills it when it hangs.
 */
#include "sanitize/archive_int.h"
#include "sanitize/archive.h"

#include "base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct watch {
	const struct job *j;
	row_fn row;
	void *row_arg;
	void (*progress)(uint64_t, uint64_t, void *);
	void *parg;
	struct jobres *r;
	struct err *e;
	unsigned char *buf;
	size_t len;
	uint64_t work;		/* the child's last report */
	int64_t last;		/* ms of the last message */
	int got;		/* MSG_OK or MSG_ERR seen */
	int bad;		/* the pipe said something it must not */
};

static int64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* One complete message: 0 to go on, -1 to stop the child. */
static int
handle(struct watch *w, int type, const unsigned char *p, uint32_t n)
{
	w->last = now_ms();
	switch (type) {
	case MSG_BEAT: {
		uint64_t v[2];
		if (n != sizeof(v))
			break;
		memcpy(v, p, sizeof(v));
		w->work = v[1];
		if (w->progress != NULL)
			w->progress(v[0] < w->j->size * 3 ? v[0] :
			    w->j->size * 3, w->j->size * 3, w->parg);
		return 0;
	}
	case MSG_ROW: {
		struct archive_member m;
		char *path;
		if (n < 41 || w->got)
			break;
		m.kind = (char)p[0];
		memcpy(&m.size, p + 1, 8);
		memcpy(m.sha256, p + 9, 32);
		path = strndup((const char *)p + 41, n - 41);
		if (path == NULL) {
			err_set(w->e, "%s: out of memory", w->j->label);
			return -1;
		}
		m.path = path;
		int rc = w->row != NULL ? w->row(&m, w->row_arg) : 0;
		free(path);
		if (rc != 0) {
			err_set(w->e, "%s: a manifest row was refused; the "
			    "archive is unchanged", w->j->label);
			return -1;
		}
		return 0;
	}
	case MSG_OK:
		if (n != sizeof(*w->r) || w->got)
			break;
		memcpy(w->r, p, n);
		w->got = MSG_OK;
		return 0;
	case MSG_ERR:
		if (n == 0 || n >= sizeof(w->e->msg) || w->got)
			break;
		memcpy(w->e->msg, p, n);
		w->e->msg[n] = '\0';
		w->got = MSG_ERR;
		return 0;
	}
	w->bad = 1;
	err_set(w->e, "%s: the archive reader sent a garbled report; refused, "
	    "archive untouched", w->j->label);
	return -1;
}

/* Reads what is there; 1 at the end of the pipe, 0 to go on, -1 stop. */
static int
drain(struct watch *w, int fd)
{
	ssize_t n;

	do
		n = read(fd, w->buf + w->len, MSG_MAX + 5 - w->len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		err_sys(w->e, "%s: reading the archive reader's report",
		    w->j->label);
		return -1;
	}
	if (n == 0)
		return 1;
	w->len += (size_t)n;
	while (w->len >= 5) {
		uint32_t ml;
		memcpy(&ml, w->buf + 1, 4);
		if (ml > MSG_MAX) {
			w->bad = 1;
			err_set(w->e, "%s: the archive reader sent a garbled "
			    "report; refused, archive untouched", w->j->label);
			return -1;
		}
		if (w->len < 5 + (size_t)ml)
			break;
		if (handle(w, w->buf[0], w->buf + 5, ml) != 0)
			return -1;
		memmove(w->buf, w->buf + 5 + ml, w->len - 5 - ml);
		w->len -= 5 + ml;
	}
	return 0;
}

/* Whether the child has outlived its limits: sets *e and returns 1. */
static int
overdue(struct watch *w, int64_t start)
{
	const struct job *j = w->j;
	int64_t t = now_ms();
	int64_t stall = j->stall_ms ? j->stall_ms : AR_STALL_SEC * 1000;
	int64_t base = j->base_ms ? j->base_ms : AR_TIME_BASE * 1000;
	uint64_t rate = j->rate ? j->rate : AR_TIME_RATE;

	if (t - w->last > stall) {
		err_set(w->e, "%s: reading it made no progress for %lld s "
		    "(a hostile or damaged archive?); stopped and refused, "
		    "archive untouched", j->label, (long long)(stall / 1000));
		return 1;
	}
	/* base, plus one second per rate bytes of work done */
	uint64_t allowed = (uint64_t)base + w->work / rate * 1000 +
	    w->work % rate * 1000 / rate;
	if ((uint64_t)(t - start) > allowed) {
		err_set(w->e, "%s: reading it took %lld s for %llu bytes of "
		    "work, more than the limit of %lld s plus 1 s per %llu "
		    "bytes (a hostile or damaged archive?); stopped and "
		    "refused, archive untouched", j->label,
		    (long long)((t - start) / 1000), (unsigned long long)w->work,
		    (long long)(base / 1000), (unsigned long long)rate);
		return 1;
	}
	return 0;
}

int
job_run(const struct job *j, row_fn row, void *row_arg,
    void (*progress)(uint64_t, uint64_t, void *), void *parg,
    struct jobres *r, struct err *e)
{
	struct watch w = { .j = j, .row = row, .row_arg = row_arg,
	    .progress = progress, .parg = parg, .r = r, .e = e };
	pid_t parent = getpid(), pid;
	int p[2], st = 0, stop = 0;
	int64_t start;

	memset(r, 0, sizeof(*r));
	e->msg[0] = '\0';
	w.buf = malloc(MSG_MAX + 5);
	if (w.buf == NULL)
		return err_set(e, "%s: out of memory", j->label);
	if (pipe2(p, O_CLOEXEC) != 0) {
		free(w.buf);
		return err_sys(e, "%s: pipe", j->label);
	}
	pid = fork();
	if (pid < 0) {
		err_sys(e, "%s: fork", j->label);
		close(p[0]);
		close(p[1]);
		free(w.buf);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		job_child(j, p[1], parent);
	}
	close(p[1]);
	start = w.last = now_ms();
	for (;;) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		int n = poll(&pf, 1, 250);
		if (n < 0 && errno != EINTR) {
			err_sys(e, "%s: poll", j->label);
			stop = 1;
			break;
		}
		if (n > 0) {
			int d = drain(&w, p[0]);
			if (d != 0) {
				stop = d < 0;
				break;
			}
		}
		if (overdue(&w, start)) {
			stop = 1;
			break;
		}
	}
	if (stop)
		kill(pid, SIGKILL);
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	free(w.buf);
	if (stop)
		return -1;
	if (w.got == MSG_OK && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (w.got == MSG_ERR)
		return -1;
	if (WIFSIGNALED(st))
		return err_set(e, "%s: the archive reader was stopped by signal "
		    "%d (a crash on a hostile or damaged archive?); refused, "
		    "archive untouched", j->label, WTERMSIG(st));
	return err_set(e, "%s: the archive reader ended without a result; "
	    "refused, archive untouched", j->label);
}
