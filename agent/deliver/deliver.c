/*
 * deliver.c: the outbox and the sendmail hand-off (see deliver.h).
 *
 * MUST rules:
 *  - a queued message is never replaced: it is created under a temporary
 *    name and renamed into place with RENAME_NOREPLACE (or link(2));
 *  - sendmail runs through spawn.h, never through a shell; its arguments
 *    are the configured words (spawn_parse), then "-i -f FROM -- TO", with
 *    FROM and TO checked addr-specs read back from the message itself;
 *  - the acceptance is journaled (and fsync'd) before the message leaves
 *    the outbox, and a message whose Message-ID the journal already records
 *    as accepted is moved, never sent again;
 *  - an attempt that does not end within the time limit is killed (its
 *    whole process group: TERM, then KILL, spawn.h) and counts as failed;
 *  - nothing from a message body reaches the journal: only ids, the
 *    Message-ID and sendmail's exit status and first line of output.
 */
#include "deliver/deliver.h"
#include "conf/config.h"
#include "base/date.h"
#include "state/durable.h"
#include "base/err.h"
#include "state/journal.h"
#include "deliver/mime.h"
#include "base/num.h"
#include "base/spawn.h"
#include "base/strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OUTBOX		"outbox"
#define SENT		"sent"
#define MAX_ARGS	32

int
deliver_id_ok(const char *id)
{
	size_t n;

	if (id == NULL || (n = strlen(id)) == 0 || n > 128 || id[0] == '.' ||
	    id[0] == '-')
		return 0;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
		    *p == '_'))
			return 0;
	return 1;
}

int
deliver_notice_id(const char *agreement, const char *date, char *buf,
    size_t sz, struct err *e)
{
	day_t d;
	int n;

	if (date == NULL || date_parse(date, &d) != 0)
		return err_set(e, "notice for %s: invalid date", agreement);
	n = snprintf(buf, sz, "NOTICE-%s-%s", agreement, date);
	if (n < 0 || (size_t)n >= sz || !deliver_id_ok(buf))
		return err_set(e, "notice for %s: not a valid message id",
		    agreement);
	return 0;
}

/* A file stem is ID or ID+rN (a re-send); cert gets ID, *copy N or 0. */
static int
stem_parse(const char *stem, char *cert, size_t sz, int *copy)
{
	const char *plus = strchr(stem, '+');
	size_t n = plus ? (size_t)(plus - stem) : strlen(stem);
	int64_t v = 0;

	if (n + 1 > sz || n > 128)
		return -1;
	memcpy(cert, stem, n);
	cert[n] = '\0';
	if (plus && (plus[1] != 'r' || num_parse(plus + 2, 1, 9999, &v) != 0))
		return -1;
	*copy = (int)v;
	return deliver_id_ok(cert) ? 0 : -1;
}

static int
kind_of(const char *id)
{
	return strncmp(id, "NOTICE-", 7) == 0 ? DELIVER_NOTICE : DELIVER_CERT;
}

/* Opens state_dir/name as a directory (created 0700 when create is set).
 * Returns the fd, or -1 with *e set (errno kept). */
static int
open_box(const char *state_dir, const char *name, int create, struct err *e)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/%s", state_dir, name), fd;

	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return err_set(e, "%s: path too long", state_dir);
	}
	if (create && mkdirs(path, 0700, e) != 0)
		return -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return err_sys(e, "%s", path);
	return fd;
}

static int
exists_at(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Creates dirfd/name with buf, never replacing a file (durable.h).
 * Returns 0, 1 if name exists, or -1. */
static int
write_new_at(int dirfd, const char *name, const char *buf, size_t len,
    struct err *e)
{
	int rc = durable_create_at(dirfd, name, buf, len, 0600, e);

	if (rc == 1)
		err_set(e, "outbox: %s already exists", name);
	else if (rc < 0) {
		char inner[sizeof(e->msg)];
		snprintf(inner, sizeof(inner), "%s", e->msg);
		err_set(e, "outbox: %s", inner);
	}
	return rc;
}

static int
names_for(const char *stem, char *eml, char *receipt, struct err *e)
{
	int n = snprintf(eml, 200, "%s.eml", stem);
	int m = snprintf(receipt, 200, "%s.receipt", stem);

	if (n < 0 || n >= 200 || m < 0 || m >= 200)
		return err_set(e, "outbox: id too long");
	return 0;
}

int
deliver_enqueue(const char *state_dir, const char *id, const char *msg,
    size_t len, struct err *e)
{
	char eml[200], receipt[200];
	int out = -1, sent = -1, rc = -1;

	if (!deliver_id_ok(id))
		return err_set(e, "outbox: '%s' is not a valid message id", id);
	if (names_for(id, eml, receipt, e) != 0)
		return -1;
	if ((out = open_box(state_dir, OUTBOX, 1, e)) == -1 ||
	    (sent = open_box(state_dir, SENT, 1, e)) == -1)
		goto out;
	if (exists_at(sent, receipt) || exists_at(sent, eml)) {
		err_set(e, "outbox: %s was already sent", id);
		rc = 1;
		goto out;
	}
	if (exists_at(out, eml)) {
		err_set(e, "outbox: %s is already queued", id);
		rc = 1;
		goto out;
	}
	rc = write_new_at(out, eml, msg, len, e);
out:
	if (out != -1)
		close(out);
	if (sent != -1)
		close(sent);
	return rc;
}

int
deliver_enqueue_copy(const char *state_dir, const char *id, const char *msg,
    size_t len, struct err *e)
{
	char stem[200], eml[200], receipt[200];
	int out = -1, sent = -1, rc = -1, n;

	if (!deliver_id_ok(id))
		return err_set(e, "outbox: '%s' is not a valid message id", id);
	if (names_for(id, eml, receipt, e) != 0)
		return -1;
	if ((out = open_box(state_dir, OUTBOX, 1, e)) == -1 ||
	    (sent = open_box(state_dir, SENT, 1, e)) == -1)
		goto out;
	if (!exists_at(sent, receipt)) {
		err_set(e, "%s: %s", id, exists_at(out, eml) ?
		    "not sent yet; it is still in the outbox" :
		    "no such message was ever sent");
		goto out;
	}
	for (int k = 1; k <= 9999; k++) {
		n = snprintf(stem, sizeof(stem), "%s+r%d", id, k);
		if (n < 0 || (size_t)n >= sizeof(stem) ||
		    names_for(stem, eml, receipt, e) != 0) {
			err_set(e, "outbox: %s: id too long", id);
			goto out;
		}
		if (exists_at(out, eml) || exists_at(sent, receipt) ||
		    exists_at(sent, eml))
			continue;
		rc = write_new_at(out, eml, msg, len, e);
		if (rc != 1)
			goto out;
	}
	err_set(e, "outbox: %s: too many copies", id);
	rc = -1;
out:
	if (out != -1)
		close(out);
	if (sent != -1)
		close(sent);
	return rc;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted stems of *.eml in dirfd.  Returns 0, or -1 with *e set. */
static int
list_stems(int dirfd, const char *what, char ***ids, size_t *n, struct err *e)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;
	int fd = dup(dirfd), rc = -1;

	*ids = NULL;
	*n = 0;
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return err_sys(e, "%s: cannot list", what);
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		char cert[160], *s;
		int copy;
		if (de->d_name[0] == '.' || l <= 4 ||
		    strcmp(de->d_name + l - 4, ".eml") != 0)
			continue;
		if ((s = strndup(de->d_name, l - 4)) == NULL)
			goto oom;
		if (stem_parse(s, cert, sizeof(cert), &copy) != 0) {
			free(s);	/* not ours: left alone */
			continue;
		}
		if (*n == cap) {
			char **nv = realloc(v, (cap ? cap * 2 : 16) * sizeof(*v));
			if (nv == NULL) {
				free(s);
				goto oom;
			}
			v = nv;
			cap = cap ? cap * 2 : 16;
		}
		v[(*n)++] = s;
	}
	if (errno != 0) {
		err_sys(e, "%s: cannot list", what);
		goto out;
	}
	if (*n > 0)
		qsort(v, *n, sizeof(*v), cmp_str);
	*ids = v;
	v = NULL;
	rc = 0;
	goto out;
oom:
	err_set(e, "%s: out of memory", what);
out:
	if (v)
		deliver_ids_free(v, *n);
	if (rc != 0)
		*n = 0;
	closedir(d);
	return rc;
}

void
deliver_ids_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}


/* Runs `cmd -i -f from -- to` with msgfd as standard input, at most
 * timeout_s seconds (spawn.h: no shell, own process group, only its three
 * descriptors).  Returns 1 accepted (exit 0), 0 not; detail says how it
 * ended. */
static int
run_sendmail(const char *cmd, const char *from, const char *to, int msgfd,
    int timeout_s, char *detail, size_t dsz)
{
	char **words = NULL, *argv[MAX_ARGS + 6], how[256];
	struct spawn_io io;
	struct err e;
	size_t argc = 0;
	int ok = 0;

	if (cmd == NULL || spawn_parse(cmd, "sendmail", &words, &e) != 0) {
		strbuf_fit(detail, dsz, "%s", cmd ? e.msg : "no sendmail "
		    "command");
		return 0;
	}
	for (; words[argc] != NULL; argc++) {
		if (argc == MAX_ARGS) {
			strbuf_fit(detail, dsz, "%s", "sendmail command has too "
			    "many words");
			goto out;
		}
		argv[argc] = words[argc];
	}
	argv[argc++] = (char *)"-i";
	argv[argc++] = (char *)"-f";
	argv[argc++] = (char *)from;
	argv[argc++] = (char *)"--";
	argv[argc++] = (char *)to;
	argv[argc] = NULL;
	if (lseek(msgfd, 0, SEEK_SET) == -1) {
		strbuf_fit(detail, dsz, "cannot start sendmail: %s",
		    strerror(errno));
		goto out;
	}
	memset(&io, 0, sizeof(io));
	io.infd = msgfd;
	io.outmax = 512;
	io.timeout_s = timeout_s;
	if (spawn_run(argv, &io, &e) != 0) {
		strbuf_fit(detail, dsz, "cannot start sendmail: %s", e.msg);
		goto out;
	}
	/* Its first line of output, when it said nothing on stderr. */
	if (io.errline[0] == '\0' && io.outlen > 0) {
		size_t k = 0;

		for (size_t i = 0; i < io.outlen && k < SPAWN_ERRLINE; i++) {
			unsigned char ch = io.out[i];

			if (ch == '\n' || ch == '\r') {
				if (k > 0)
					break;
				continue;
			}
			io.errline[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch :
			    '?';
		}
		io.errline[k] = '\0';
	}
	free(io.out);
	if (WIFEXITED(io.status) && WEXITSTATUS(io.status) == 0) {
		/* even after a TERM: it says it has the message */
		strbuf_fit(detail, dsz, "%s", "sendmail exited 0");
		ok = 1;
	} else {
		spawn_describe(&io, how, sizeof(how));
		strbuf_fit(detail, dsz, "sendmail %s", how);
	}
out:
	spawn_argv_free(words);
	return ok;
}

/* Message-IDs the journal records as accepted, with when. */
struct accepted {
	char **msgid;
	time_t *at;
	size_t n, cap;
	int oom;
};

static int
collect_accepted(const struct jrec *r, void *arg)
{
	struct accepted *a = arg;
	const char *ok, *id;

	if (strcmp(r->event, "delivery-attempt") != 0 ||
	    (ok = jrec_get(r, "ok")) == NULL || strcmp(ok, "yes") != 0 ||
	    (id = jrec_get(r, "msgid")) == NULL)
		return 0;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		char **m = realloc(a->msgid, cap * sizeof(*m));
		time_t *t;
		if (m == NULL) {
			a->oom = 1;
			return 0;
		}
		a->msgid = m;
		if ((t = realloc(a->at, cap * sizeof(*t))) == NULL) {
			a->oom = 1;
			return 0;
		}
		a->at = t;
		a->cap = cap;
	}
	if ((a->msgid[a->n] = strdup(id)) == NULL) {
		a->oom = 1;
		return 0;
	}
	a->at[a->n++] = r->time;
	return 0;
}

static int
accepted_at(const struct accepted *a, const char *msgid, time_t *at)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->msgid[i], msgid) == 0) {
			*at = a->at[i];
			return 1;
		}
	return 0;
}

/* Receipt, then outbox/STEM.eml -> sent/STEM.eml, then both dirs fsync'd. */
static int
move_to_sent(int out, int sent, const char *stem, const char *msgid,
    const char *to, time_t at, off_t size, struct err *e)
{
	char eml[200], receipt[200], text[1024], ts[32];
	int n;

	if (names_for(stem, eml, receipt, e) != 0)
		return -1;
	n = snprintf(text, sizeof(text), "[delivery]\nid = %s\nmsgid = %s\n"
	    "to = %s\naccepted = %s\nbytes = %lld\n", stem, msgid, to,
	    time_format_utc(at, ts), (long long)size);
	if (n < 0 || (size_t)n >= sizeof(text))
		return err_set(e, "outbox: %s: receipt too long", stem);
	if (durable_write_at(sent, receipt, text, (size_t)n, 0600, e) != 0)
		return -1;
	if (renameat(out, eml, sent, eml) == -1)
		return err_sys(e, "outbox: %s: move to sent", stem);
	if (fsync(sent) == -1 || fsync(out) == -1)
		return err_sys(e, "outbox: %s: fsync", stem);
	return 0;
}

/* One message.  Returns 0 (attempted and journaled, whatever the
 * outcome: see it->ok), or -1 with *e set on a journal or disk error. */
static int
deliver_one(const struct config *c, struct journal *j, int out, int sent,
    const struct accepted *acc, int timeout_s, struct deliver_item *it,
    struct err *e)
{
	char eml[200], receipt[200], from[300], to[300], msgid[600] = "";
	char head[65537], copy[16] = "";
	struct stat st;
	struct err why;
	ssize_t got = 0;
	time_t at;
	int fd = -1, rc = -1, copyn = 0;

	if (names_for(it->id, eml, receipt, e) != 0 ||
	    stem_parse(it->id, it->cert, sizeof(it->cert), &copyn) != 0)
		return -1;
	if (copyn > 0 && snprintf(copy, sizeof(copy), "r%d", copyn) < 0)
		return err_set(e, "outbox: %s: bad copy number", it->id);
	it->kind = kind_of(it->cert);
	fd = openat(out, eml, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		strbuf_fit(it->detail, sizeof(it->detail), "%s",
		    "outbox entry is not a readable regular file");
	else if ((got = pread(fd, head, sizeof(head) - 1, 0)) < 0)
		strbuf_fit(it->detail, sizeof(it->detail), "cannot read: %s",
		    strerror(errno));
	else {
		head[got] = '\0';
		if (mime_envelope(head, (size_t)got, from, sizeof(from), to,
		    sizeof(to), msgid, sizeof(msgid), &why) != 0)
			strbuf_fit(it->detail, sizeof(it->detail), "malformed "
			    "message: %s", why.msg);
		else if (accepted_at(acc, msgid, &at)) {
			/* accepted by a run that died before moving it */
			if (move_to_sent(out, sent, it->id, msgid, to, at,
			    st.st_size, e) != 0)
				goto out;
			it->ok = it->recovered = 1;
			strbuf_fit(it->detail, sizeof(it->detail), "%s",
			    "accepted earlier; moved to sent");
			rc = 0;
			goto out;
		} else
			it->ok = run_sendmail(c->sendmail, from, to, fd,
			    timeout_s, it->detail, sizeof(it->detail));
	}
	if (journal_appendv(j, e, "delivery-attempt",
	    it->kind == DELIVER_NOTICE ? "notice" : "cert", it->cert,
	    "ok", it->ok ? "yes" : "no", "msgid", *msgid ? msgid : "-",
	    "detail", it->detail, copyn ? "copy" : NULL, copy, NULL) != 0)
		goto out;
	if (it->ok && move_to_sent(out, sent, it->id, msgid, to, time(NULL),
	    st.st_size, e) != 0)
		goto out;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

int
deliver_flush(const struct config *c, struct journal *j,
    const struct deliver_opts *o, struct deliver_report *r, struct err *e)
{
	struct accepted acc = { 0 };
	char **ids = NULL;
	size_t n = 0;
	int out = -1, sent = -1, rc = -1;
	int timeout_s = o && o->timeout_s > 0 ? o->timeout_s :
	    c->sendmail_timeout > 0 ? c->sendmail_timeout : 60;

	memset(r, 0, sizeof(*r));
	if ((out = open_box(c->state_dir, OUTBOX, 0, e)) == -1) {
		if (errno == ENOENT)
			rc = 0;		/* nothing was ever queued */
		goto out;
	}
	if ((sent = open_box(c->state_dir, SENT, 1, e)) == -1 ||
	    list_stems(out, "outbox", &ids, &n, e) != 0)
		goto out;
	if (n > 0 && journal_read(c->state_dir, collect_accepted, &acc, e) != 0)
		goto out;
	if (acc.oom) {
		err_set(e, "outbox: out of memory");
		goto out;
	}
	if (n > 0 && (r->v = calloc(n, sizeof(*r->v))) == NULL) {
		err_set(e, "outbox: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct deliver_item *it = &r->v[r->n];
		int copy;
		if (stem_parse(ids[i], it->cert, sizeof(it->cert), &copy) != 0 ||
		    (o && o->only && strcmp(it->cert, o->only) != 0))
			continue;
		if (strlen(ids[i]) >= sizeof(it->id))
			continue;	/* stem_parse bounds it: cannot happen */
		memcpy(it->id, ids[i], strlen(ids[i]) + 1);
		r->n++;
		if (deliver_one(c, j, out, sent, &acc, timeout_s, it, e) != 0)
			goto out;
		if (it->ok)
			r->accepted++;
		else
			r->failed++;
	}
	rc = 0;
out:
	for (size_t i = 0; i < acc.n; i++)
		free(acc.msgid[i]);
	free(acc.msgid);
	free(acc.at);
	deliver_ids_free(ids, n);
	if (out != -1)
		close(out);
	if (sent != -1)
		close(sent);
	return rc;
}

void
deliver_report_free(struct deliver_report *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

int
deliver_state(const char *state_dir, const char *id, time_t *at,
    struct err *e)
{
	char eml[200], receipt[200], cert[160], *text = NULL, *s;
	size_t len;
	int out = -1, sent = -1, rc = -1, copy;

	if (stem_parse(id, cert, sizeof(cert), &copy) != 0)
		return err_set(e, "'%s' is not a valid message id", id);
	if (names_for(id, eml, receipt, e) != 0)
		return -1;
	if ((sent = open_box(state_dir, SENT, 0, e)) == -1 && errno != ENOENT)
		goto out;
	if (sent != -1 && exists_at(sent, receipt)) {
		rc = DELIVER_SENT;
		if (at == NULL)
			goto out;
		*at = (time_t)-1;
		{
			char path[4096];
			int n = snprintf(path, sizeof(path), "%s/%s/%s",
			    state_dir, SENT, receipt);
			if (n < 0 || (size_t)n >= sizeof(path) ||
			    slurp(path, 65536, &text, &len, e) != 0) {
				rc = err_set(e, "%s: cannot read receipt", id);
				goto out;
			}
		}
		if ((s = strstr(text, "\naccepted = ")) != NULL) {
			s += 12;
			s[strcspn(s, "\n")] = '\0';
			(void)time_parse_utc(s, at);
		}
		goto out;
	}
	if ((out = open_box(state_dir, OUTBOX, 0, e)) == -1 && errno != ENOENT)
		goto out;
	rc = out != -1 && exists_at(out, eml) ? DELIVER_PENDING : DELIVER_NONE;
out:
	free(text);
	if (out != -1)
		close(out);
	if (sent != -1)
		close(sent);
	return rc;
}

int
deliver_list(const char *state_dir, int which, char ***ids, size_t *n,
    struct err *e)
{
	int fd, rc;

	*ids = NULL;
	*n = 0;
	fd = open_box(state_dir, which == DELIVER_SENT ? SENT : OUTBOX, 0, e);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	rc = list_stems(fd, which == DELIVER_SENT ? "sent" : "outbox", ids, n,
	    e);
	close(fd);
	return rc;
}
