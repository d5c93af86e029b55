/*
 * category.h: the NDPA Exhibit B schedule of data, as a bit set.  Names
 * match case-insensitively; an unknown one gets the nearest suggestion.
 */
#ifndef LETHE_CATEGORY_H
#define LETHE_CATEGORY_H

#include <stddef.h>
#include <stdint.h>

typedef uint32_t catset_t;	/* bit i = category i of category_name(i) */
#define CATEGORY_COUNT 23

/* Canonical name of category i (0 <= i < CATEGORY_COUNT), else NULL. */
const char *category_name(int i);
/* Index of the category named s (case-insensitive, surrounding blanks
 * ignored), or -1. */
int category_find(const char *s);
/* The canonical name nearest to s by edit distance, or NULL when nothing
 * is reasonably close. */
const char *category_suggest(const char *s);
/* Parses a comma-separated list.  Returns 0 with *out set; or -1 with a
 * message in msg ("unknown category 'Atendance'; did you mean
 * 'Attendance'?").  An empty list is an error. */
int category_parse_list(const char *s, catset_t *out, char *msg, size_t msglen);
/* The category a data-encryption key is for: NULL or "all" (any case)
 * -> "all", the agreement-wide key; else the canonical Exhibit B name
 * matched case-insensitively.  Returns it (static), or NULL when unknown. */
const char *category_of_key(const char *category);
/* "Assessment, Student Identifiers" into buf; returns buf. */
char *category_format(catset_t set, char *buf, size_t len);

#endif
