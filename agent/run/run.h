/*
 * run.h: `lethe run`, the daily pass cron makes (SPEC §4, §5): finish what
 * a killed run left, send due notices, carry out due dispositions, find
 * data that reappeared, certify, deliver, and seal the journal with a
 * signed checkpoint.  Dry runs select through the same code and write
 * nothing at all.
 */
#ifndef LETHE_RUN_H
#define LETHE_RUN_H

#include <stdint.h>

#include "base/date.h"
#include "base/err.h"

struct config;
struct policyset;

struct run_opts {
	int dry_run;		/* select and report; open nothing for writing */
	int list;		/* dry run: list every object, and why kept */
	day_t today;		/* --now for dry runs; DAY_NONE = the clock */
	/* Progress on a terminal (may be NULL). */
	void (*progress)(const char *what, uint64_t files, uint64_t nfiles,
	    uint64_t bytes, uint64_t nbytes, void *arg);
	void *arg;
};

struct run_report {
	struct diags msgs;	/* one line per thing done, for people */
	struct diags errors;	/* one line per failure, naming what */
	struct diags overdue_msgs;	/* what is still overdue after the run */
	unsigned notices, dispositions, failed, certified, delivered;
	unsigned reappeared, resumed;
	int overdue;		/* something is still overdue after the run */
};

/* Does what is due.  Returns 0 when the run went through (failures of single
 * dispositions are counted in r->failed and listed in r->errors; the rest
 * was still done), or -1 with *e set when it could not run at all (lock held
 * by another run, journal unwritable).  r is always freeable. */
int run_all(const struct config *c, const struct policyset *ps,
    const struct run_opts *o, struct run_report *r, struct err *e);
/* Frees r's lists; r may be used again. */
void run_report_free(struct run_report *r);

#endif
