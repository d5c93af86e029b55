/*
 * letters.h: what lethe writes to an LEA (SPEC §8 "Delivery", NDPA IV.6):
 * the certificate's message and the prior notice of a termination
 * disposal.  Each is a plain-text letter, wrapped at 72 columns, sent from
 * [notify] from (display name: the vendor's), as a mime.h message.
 *
 * No file name or path of student data is ever put in a letter's text:
 * the certificate's message is written from the certificate's fields
 * (counts, sizes, digests, policy names), read with cert_parse, and only
 * its attachments (the manifest) name files.
 */
#ifndef LETHE_LETTERS_H
#define LETHE_LETTERS_H

#include <stddef.h>

struct config;
struct err;
struct journal;

/*
 * The certificate message: reads ID.cert, ID.cert.p7s, ID.manifest and,
 * when present, ID.cert.tsr from state_dir/certificates, and builds a
 * message to cm->to (the agreement's contact) from [notify] from (display
 * name: the vendor name), Subject "Certificate of data destruction ID — LEA",
 * whose text says what was destroyed (categories, counts, bytes; never file
 * names), when, by what method, whether the deadline was met, and how to
 * verify it with the stock openssl command line.  The files are attached
 * byte for byte; the manifest only when its SHA-256 is the certificate's
 * manifest_sha256 (else an error: it was changed after issue).  ID.cert
 * must parse (cert_parse); the text says "(not stated)" for a field it
 * lacks.
 */
struct cert_mail {
	const char *to;		/* the agreement's contact */
	const char *id;		/* the certificate id */
	const char *no_manifest;	/* NULL: ID.manifest is required.  Else
				 * the message may go without it when it is
				 * gone, and its text then says this, which
				 * must be the truth about where it went */
	int with_manifest;	/* out: 1 when the manifest is attached */
};
/* Returns 0, or -1 with *e set. */
int mime_cert_message(const struct config *c, struct cert_mail *cm,
    char **out, size_t *len, struct err *e);

/* Queues the message of certificate id for `to` (deliver_enqueue), unless
 * it was already sent: a resumed run that finds it queued and intact
 * changes nothing, and one damaged or lost meanwhile is rebuilt.  The
 * step between certify() and certify_issued() (certify.h).  Returns 0, or
 * -1 with *e set. */
int deliver_cert(const struct config *c, struct journal *j, const char *id,
    const char *to, struct err *e);

/* What the prior notice before a termination disposal says (NDPA IV.6). */
struct notice {
	const char *agreement;	/* agreement id */
	const char *lea;	/* the LEA's name */
	const char *to;		/* the agreement's contact */
	const char *terminated;	/* YYYY-MM-DD, the service agreement's end */
	const char *disposal;	/* YYYY-MM-DD, the planned disposal date */
	const char *deadline;	/* YYYY-MM-DD, the agreement's disposal deadline */
	const char *categories;	/* "Assessment, Student Identifiers" */
	size_t ndatasets;	/* datasets to be disposed of */
	const char *retained;	/* exempt datasets and why, or NULL */
};

/* Builds the plain-text notice: the termination date it is for (a notice
 * announces one termination date; another date needs a new notice), the
 * planned disposal date, the agreement, the LEA, the data's categories,
 * and how to respond (a transfer request under Exhibit D, a legal hold,
 * questions) before that date.  Returns 0, or -1 with *e set (also when
 * agreement, terminated, disposal or to is NULL). */
int mime_notice_message(const struct config *c, const struct notice *n,
    char **out, size_t *len, struct err *e);

#endif
