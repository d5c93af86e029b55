/*
 * describe.h: what a certificate says about one disposition (SPEC §8),
 * built from its record (record.h): the method, technique, details and
 * verification, each saying only what was done and checked; the media;
 * what failed; the journal acceptances.  Internal to certify/ (certify.c
 * issues it, and asks it in the preflight).
 */
#ifndef LETHE_DESCRIBE_H
#define LETHE_DESCRIBE_H

#include <stddef.h>
#include <stdint.h>

#include "certify/outcome.h"

struct agreement;
struct cert;
struct config;
struct err;
struct events;
struct record;

/* The text a struct cert points into while it is written. */
struct certbuf {
	char tool[160], vendor[256], trigger[80], tz[64], performed[256];
	char method_type[512], technique[128], details[1600];
	char verification[256], destination[512], exceptions[2400];
	char categories[512], head[65], msha[65];
	char rot[DISPOSE_MAX_MEDIA][8];
	char accepted[4096];
};

/* Fills *ct (cert_init'ed here; pointing into *b, r, a and c) with the
 * certificate of the disposition in r of agreement a: issued now, the
 * manifest's totals and SHA-256, the journal at seq/head and every
 * acceptance in ev.  Returns 0, or -1 with *e set when the manifest is
 * malformed. */
int certify_describe(const struct config *c, const struct agreement *a,
    const struct record *r, const char *manifest, size_t mlen,
    const struct events *ev, uint64_t seq, const char *head, struct cert *ct,
    struct certbuf *b, struct err *e);

#endif
