/*
 * lint.h: what `lethe check` reports beyond the syntax of each file: how
 * the datasets of all the policies meet each other and the filesystem.
 * Each finding is a diagnostic FILE:LINE: message saying what overlaps
 * what and which rule wins (SPEC §5 "Scope"):
 *   - two datasets of one agreement that can match the same files
 *     (warning: an object both match is destroyed once, with the first's
 *     settings; if one is exempt, the exempt one wins and it is kept);
 *   - datasets of two agreements that can match the same files (warning:
 *     such a file is refused, naming both agreements, unless both are due);
 *   - a dataset path that names an existing directory (error: it would
 *     match nothing; everything below it was meant);
 *   - a glob whose fixed directory does not exist (warning).
 */
#ifndef LETHE_LINT_H
#define LETHE_LINT_H

struct config;
struct diags;
struct policyset;

/* Adds every finding above to *d. */
void lint_datasets(const struct config *c, const struct policyset *ps,
    struct diags *d);

#endif
