/*
 * directive.h: an NDPA Exhibit D "Directive for Disposition of Data" as an
 * INI file (SPEC §3, lethe-directive(5)):
 *
 *     [directive]
 *     agreement = osde-2024
 *     received = 2026-11-02          ; starts the dispose_after_request clock
 *     extent = partial               ; partial | complete
 *     categories = Assessment        ; required when partial, else refused
 *     nature = destroy               ; destroy | transfer
 *     transfer_to = /srv/edtech/handoff/osde  ; transfer only, in allowed_roots
 *     schedule = asap                ; asap (the default) | YYYY-MM-DD
 *     requested_by = J. Smith, Data Privacy Officer
 */
#ifndef LETHE_DIRECTIVE_H
#define LETHE_DIRECTIVE_H

#include "conf/category.h"
#include "base/date.h"

#include <time.h>

struct agreement;
struct config;
struct diags;
struct err;
struct policyset;

struct directive {
	char *file;
	char *agreement;
	day_t received;
	int complete;		/* extent: 1 complete, 0 partial */
	catset_t categories;	/* partial only */
	int transfer;		/* nature: 1 transfer, 0 destroy */
	char *transfer_to;	/* transfer only */
	day_t schedule;		/* DAY_NONE = asap */
	char *requested_by;
	int received_line;	/* where received= was given, for messages */
};

/* Parses path into *out, adding every problem to *d as FILE:LINE: message
 * (unknown sections and keys with suggestions, missing or bad values, an
 * agreement not in ps, categories with "did you mean", a transfer_to that
 * is relative or outside c's allowed_roots).  Returns 0 when *d gained no
 * errors, else -1.  *out is always freeable.  Never writes anything. */
int directive_load(const char *path, const struct policyset *ps,
    const struct config *c, struct directive *out, struct diags *d);
void directive_free(struct directive *dv);
/* Whether transfer_to `to` is a place an Exhibit D transfer may go: inside
 * an allowed root, reached (as far as it exists) without a symbolic link
 * or a mount point, and reachable by no dataset of any agreement in ps
 * (the archive would be data to destroy).  Checked at `directive add` and
 * again before every transfer.  Returns 0, or -1 with *e saying why. */
int directive_check_transfer(const struct config *c, const struct policyset *ps,
    const char *to, struct err *e);
/* The rule that a directive cannot have been received later than today:
 * adds "FILE:LINE: received DATE is in the future ..." to *d and returns -1
 * when dv->received is after today's date (at instant now) in the time
 * zone of agreement a; today itself is allowed.  Returns 0 otherwise. */
int directive_check_received(const struct directive *dv,
    const struct agreement *a, time_t now, struct diags *d);
/* Formats the categories of a partial directive ("Assessment, Attendance")
 * or "" for a complete one, into buf. */
char *directive_categories(const struct directive *dv, char *buf, size_t len);

#endif
