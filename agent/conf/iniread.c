/*
 * iniread.c: libinih with line numbers and honest over-long lines (see
 * iniread.h).
 *
 * inih reads through our reader, one call per physical line, and calls
 * its handler for that line before asking for the next; so the reader's
 * line count is the handler's line.  The reader also does everything inih
 * would do silently or report only once:
 *   - a line longer than INIREAD_MAX_LINE is reported at its line and
 *     handed to inih as an empty line (never truncated, never split);
 *   - a NUL byte, a section header without ']', a section name inih would
 *     cut at 49 bytes, and a line that is neither "name = value", "[section]"
 *     nor a comment are each reported at their line, and blanked;
 *   - leading blanks are removed, so an indented key is a key and never an
 *     inih "continuation line" of the previous value.
 * Keys under a section header that was refused are not passed on, so they
 * are not blamed on the previous section.
 */
#include "conf/iniread.h"

#include "base/err.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct rd {
	const char *name;	/* the file, for messages */
	const char *buf;
	size_t len, pos;
	int line;
	int bad_section;	/* the current section header was refused */
	char section[INIREAD_MAX_SECTION + 1];
	iniread_fn fn;
	iniread_section_fn sfn;
	void *arg;
	struct diags *d;
};

/* inih's own rule for where a name, section or value ends: at one of
 * chars, or at an inline ';' comment that follows a blank. */
static char *
find_chars_or_comment(char *s, const char *chars)
{
	int was_space = 0;

	while (*s != '\0' && (chars == NULL || strchr(chars, *s) == NULL) &&
	    !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

/* Checks one line (already copied into str, leading blanks removed) the
 * way inih will read it; blanks it after reporting a problem. */
static void
check_line(struct rd *r, char *str)
{
	char *e;

	if (*str == '\0' || *str == ';' || *str == '#')
		return;
	if (*str == '[') {
		size_t n;

		r->bad_section = 1;
		e = find_chars_or_comment(str + 1, "]");
		if (*e != ']') {
			diag_add(r->d, r->name, r->line,
			    "section header has no closing ']'");
			*str = '\0';
			return;
		}
		n = (size_t)(e - (str + 1));
		if (n > INIREAD_MAX_SECTION) {
			diag_add(r->d, r->name, r->line, "section name is %zu "
			    "bytes; the limit is %d", n, INIREAD_MAX_SECTION);
			*str = '\0';
			return;
		}
		e++;
		while (*e == ' ' || *e == '\t')
			e++;
		if (*e != '\0' && *e != ';' && *e != '#') {
			diag_add(r->d, r->name, r->line,
			    "unexpected text after ']'");
			*str = '\0';
			return;
		}
		memcpy(r->section, str + 1, n);
		r->section[n] = '\0';
		r->bad_section = 0;
		if (r->sfn != NULL)
			(void)r->sfn(r->arg, r->name, r->line, r->section);
		return;
	}
	e = find_chars_or_comment(str, "=:");
	if (*e != '=' && *e != ':') {
		diag_add(r->d, r->name, r->line,
		    "expected 'name = value', '[section]' or a comment");
		*str = '\0';
	} else if (e == str) {
		diag_add(r->d, r->name, r->line, "missing name before '%c'", *e);
		*str = '\0';
	}
}

/* The ini_reader: hands inih exactly one physical line per call. */
static char *
reader(char *str, int num, void *stream)
{
	struct rd *r = stream;
	const char *line, *nl;
	size_t len, raw, limit, skip;

	if (r->pos >= r->len || num < 2)
		return NULL;
	line = r->buf + r->pos;
	nl = memchr(line, '\n', r->len - r->pos);
	raw = nl != NULL ? (size_t)(nl - line) : r->len - r->pos;
	r->pos += raw + (nl != NULL ? 1 : 0);
	r->line++;
	len = raw;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	str[0] = '\0';
	limit = (size_t)num - 1;
	if (limit > INIREAD_MAX_LINE)
		limit = INIREAD_MAX_LINE;
	skip = 0;
	if (r->line == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
		skip = 3;	/* a UTF-8 byte order mark */
	if (memchr(line, '\0', len) != NULL) {
		diag_add(r->d, r->name, r->line, "NUL byte in line");
		return str;
	}
	if (len > limit) {
		size_t i = skip;

		diag_add(r->d, r->name, r->line,
		    "line is %zu bytes; the limit is %zu", len, limit);
		while (i < len && isspace((unsigned char)line[i]))
			i++;
		if (i < len && line[i] == '[')
			r->bad_section = 1;
		return str;
	}
	while (skip < len && isspace((unsigned char)line[skip]))
		skip++;
	memcpy(str, line + skip, len - skip);
	str[len - skip] = '\0';
	check_line(r, str);
	return str;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct rd *r = user;

	(void)section;	/* r->section is the same, checked */
	if (name == NULL || r->bad_section || r->fn == NULL)
		return 1;
	(void)r->fn(r->arg, r->name, r->line, r->section, name,
	    value != NULL ? value : "");
	return 1;	/* the callback reported any problem itself */
}

static int
parse_buf(const char *name, const char *buf, size_t len, iniread_fn fn,
    iniread_section_fn sfn, void *arg, struct diags *d)
{
	struct rd r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.name = name;
	r.buf = buf;
	r.len = len;
	r.fn = fn;
	r.sfn = sfn;
	r.arg = arg;
	r.d = d;
	rc = ini_parse_stream(reader, &r, handler, &r);
	if (rc == -2)
		diag_add(d, name, 0, "out of memory while parsing");
	else if (rc > 0)	/* a case check_line did not foresee */
		diag_add(d, name, rc, "syntax error");
	return 0;
}

int
iniread_text(const char *name, const char *text, iniread_fn fn,
    iniread_section_fn sfn, void *arg, struct diags *d)
{
	size_t before = diag_errors(d);

	parse_buf(name, text, strlen(text), fn, sfn, arg, d);
	return diag_errors(d) == before ? 0 : -1;
}

int
iniread_fd(const char *name, int fd, iniread_fn fn, iniread_section_fn sfn,
    void *arg, struct diags *d)
{
	size_t before = diag_errors(d), len = 0, cap = 8192;
	struct stat st = { 0 };
	char *buf = NULL;
	int rc = INIREAD_UNREAD;

	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		diag_add(d, name, 0, "is a directory, not a file");
		goto out;
	}
	/* One clear error, and no guessing at what a cut file meant. */
	if (S_ISREG(st.st_mode) && st.st_size > INIREAD_MAX_FILE)
		goto too_large;
	if ((buf = malloc(cap)) == NULL) {
		diag_add(d, name, 0, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb;

			if (cap > INIREAD_MAX_FILE)
				goto too_large;
			cap *= 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				diag_add(d, name, 0, "out of memory");
				goto out;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			diag_add(d, name, 0, "cannot read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > INIREAD_MAX_FILE)
		goto too_large;
	parse_buf(name, buf, len, fn, sfn, arg, d);
	rc = diag_errors(d) == before ? 0 : -1;
	goto out;
too_large:
	diag_add(d, name, 0, "larger than 1 MiB; not a plausible "
	    "configuration, so nothing in it was read");
out:
	free(buf);
	return rc;
}

int
iniread_file(const char *path, iniread_fn fn, iniread_section_fn sfn,
    void *arg, struct diags *d)
{
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1) {
		diag_add(d, path, 0, "cannot open: %s", strerror(errno));
		return INIREAD_UNREAD;
	}
	rc = iniread_fd(path, fd, fn, sfn, arg, d);
	close(fd);
	return rc;
}

/* Edit distance ignoring case; strings longer than 255 bytes are never
 * near anything (returns a large number). */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[256], cur[256];

	if (la > 255 || lb > 255)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] +
			    (tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]));
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			size_t m = sub < del ? sub : del;

			cur[j] = m < ins ? m : ins;
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

const char *
iniread_suggest(const char *s, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t bestd = (size_t)-1, limit;

	if (s == NULL)
		return NULL;
	limit = strlen(s) / 3;
	if (limit < 2)
		limit = 2;
	for (size_t i = 0; i < n; i++) {
		size_t dd = distance(s, names[i]);

		if (dd < bestd) {
			bestd = dd;
			best = names[i];
		}
	}
	return bestd <= limit ? best : NULL;
}

/* The line of "FILE:LINE: ..." when it is about file, else 0. */
static long
diag_line(const char *msg, const char *file, size_t flen)
{
	long line = 0;

	if (strncmp(msg, file, flen) != 0 || msg[flen] != ':')
		return 0;
	for (msg += flen + 1; *msg >= '0' && *msg <= '9'; msg++) {
		if (line > 100000000)
			return 0;
		line = line * 10 + (*msg - '0');
	}
	return *msg == ':' ? line : 0;
}

void
iniread_sort_diags(struct diags *d, size_t from, const char *file)
{
	size_t flen = strlen(file);

	/* Insertion sort: stable, and the lists are short. */
	for (size_t i = from + 1; i < d->n; i++) {
		char *cur = d->v[i];
		long l = diag_line(cur, file, flen);
		size_t j = i;

		while (j > from && diag_line(d->v[j - 1], file, flen) > l) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = cur;
	}
}
