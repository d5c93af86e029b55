/*
 * ids.h: message ids (SPEC §8 "Delivery").  A message's id is a
 * certificate's id, or NOTICE-AGREEMENT-DATE for the prior notice of a
 * termination disposal (DATE the termination date); its file stem in
 * outbox/ and sent/ is ID, or ID+rN for the N-th copy an admin asked for.
 * Ids are checked before they name a file or reach a command line.
 */
#ifndef LETHE_IDS_H
#define LETHE_IDS_H

#include <stddef.h>

struct err;

enum deliver_kind { DELIVER_CERT, DELIVER_NOTICE };

/* Whether id is a valid message id: 1-128 bytes of [A-Za-z0-9._-], not
 * starting with '.' or '-' (and so never a path or an option). */
int deliver_id_ok(const char *id);

/* The notice id "NOTICE-AGREEMENT-YYYY-MM-DD" into buf.  Returns 0, or -1
 * with *e set when it would not be a valid id or does not fit. */
int deliver_notice_id(const char *agreement, const char *date, char *buf,
    size_t sz, struct err *e);

/* A file stem is ID or ID+rN (a re-send): ID into cert (sz bytes), N (or
 * 0) into *copy.  Returns 0, or -1 when stem is not one lethe makes. */
int outbox_stem(const char *stem, char *cert, size_t sz, int *copy);
/* DELIVER_NOTICE for a NOTICE-... id, else DELIVER_CERT. */
int outbox_kind(const char *id);

#endif
