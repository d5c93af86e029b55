/*
 * iniread.h: libinih with line numbers and honest over-long lines.
 * Debian's libinih stops lines at 200 bytes and gives the handler no line
 * number; iniread feeds ini_parse_stream through its own reader that counts
 * lines and reports a line that does not fit as an error at FILE:LINE
 * instead of letting it be truncated.
 */
#ifndef LETHE_INIREAD_H
#define LETHE_INIREAD_H

#define INIREAD_MAX_LINE 199	/* bytes of text per line, newline excluded */
#define INIREAD_MAX_SECTION 49	/* bytes of a section name (inih's limit) */

#include <stddef.h>

struct diags;

/* Called for each name=value pair; line is the pair's line.  Returns 0 to
 * go on or -1 after adding a diagnostic (parsing still continues, so every
 * problem in a file is reported). */
typedef int (*iniread_fn)(void *arg, const char *file, int line,
    const char *section, const char *name, const char *value);
/* Called when a new section starts (so empty sections are seen too). */
typedef int (*iniread_section_fn)(void *arg, const char *file, int line,
    const char *section);

/* Parses path, adding problems to *d (missing file, over-long line, syntax
 * error).  Returns 0 if no diagnostic was added by it or the callbacks,
 * INIREAD_UNREAD when the file could not be read at all, else -1. */
int iniread_file(const char *path, iniread_fn fn, iniread_section_fn sfn,
    void *arg, struct diags *d);
/* Same for an in-memory text named `name` in messages. */
int iniread_text(const char *name, const char *text, iniread_fn fn,
    iniread_section_fn sfn, void *arg, struct diags *d);
/* Same for an open descriptor (read to its end, not closed), so a caller
 * can check the file it opened (fstat: owner, mode) and parse that very
 * file.  A file over INIREAD_MAX_FILE bytes gets the one error
 * "NAME: larger than 1 MiB" and is not parsed at all.  Returns 0 parsed
 * cleanly, -1 parsed with problems, INIREAD_UNREAD when nothing of it was
 * parsed (too large, unreadable, a directory): the caller must then add no
 * follow-on errors ("no [agreement] section") about its content. */
int iniread_fd(const char *name, int fd, iniread_fn fn,
    iniread_section_fn sfn, void *arg, struct diags *d);
#define INIREAD_MAX_FILE (1024 * 1024)
#define INIREAD_UNREAD (-2)

/* Puts the diagnostics d->v[from..] about `file` in line order (stable;
 * ones without a line first), so checks done after parsing read in place. */
void iniread_sort_diags(struct diags *d, size_t from, const char *file);

/* The name among names[0..n) nearest to s by edit distance (ignoring
 * case), for "did you mean" hints; NULL when none is within
 * max(2, strlen(s) / 3) edits. */
const char *iniread_suggest(const char *s, const char *const *names,
    size_t n);

#endif
