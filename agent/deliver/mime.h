/*
 * mime.h: the messages lethe mails (SPEC §8 "Delivery", NDPA IV.6 notice).
 *
 * mime_build writes an RFC 5322 message with MIME (RFC 2045-2049): a
 * text/plain UTF-8 part (7bit when it is short plain ASCII, otherwise
 * quoted-printable) and base64 attachments in 76-character lines.  Lines
 * end in '\n' alone, as sendmail(8) expects on its standard input.
 *
 * Header values are untrusted: CR, LF and other control characters are
 * refused, addresses must be a plain addr-spec (local@domain, no blanks,
 * quotes, brackets or a leading '-'), and non-ASCII text in the Subject and
 * display name is RFC 2047 encoded (B, UTF-8), so no value can add a header.
 * The text body is never put in a header.  No file name or path of student
 * data is ever put in a message body; attachments carry them (SPEC §8).
 */
#ifndef LETHE_MIME_H
#define LETHE_MIME_H

#include <stddef.h>
#include <time.h>

struct config;
struct err;

struct mail_attachment {
	const char *filename;	/* [A-Za-z0-9._-] or UTF-8 (RFC 2231 then) */
	const char *ctype;	/* "text/plain", "application/pkcs7-signature" */
	const void *data;
	size_t len;
};

struct mail {
	const char *from;	/* addr-spec */
	const char *from_name;	/* display name, UTF-8; NULL or "" for none */
	const char *to;		/* addr-spec */
	const char *reply_to;	/* addr-spec, or NULL */
	const char *subject;	/* UTF-8, one line */
	const char *body;	/* UTF-8 text, '\n' line ends */
	const char *host;	/* right side of Message-ID; NULL = "localhost" */
	const char *tag;	/* in the Message-ID's left side (a cert id), or NULL */
	time_t date;		/* the Date header; 0 = now */
	const struct mail_attachment *att;
	size_t natt;
};

/* Builds the message into *out (malloc'd, NUL-terminated, *len bytes
 * without the NUL).  The Message-ID is new and random on every call, so a
 * message stored once and retried keeps one Message-ID (the LEA's mail
 * system can drop duplicates by it).  Returns 0, or -1 with *e set and
 * *out NULL; refuses invalid addresses, control characters in any header
 * value, and text that is not UTF-8. */
int mime_build(const struct mail *m, char **out, size_t *len, struct err *e);

/* Whether s is an addr-spec mime_build accepts (and that is safe as a
 * sendmail argument: it never starts with '-'). */
int mime_addr_ok(const char *s);

/* Reads the envelope back from a message mime_build made: the addr-spec of
 * From and To, and the Message-ID (with its angle brackets).  Looks only at
 * the header (the text before the first empty line, at most len bytes).
 * Each output buffer gets a NUL-terminated string.  Returns 0, or -1 with
 * *e set when a header is missing, repeated, too long or invalid. */
int mime_envelope(const char *msg, size_t len, char *from, size_t fromsz,
    char *to, size_t tosz, char *msgid, size_t msgidsz, struct err *e);

/*
 * The certificate message: reads ID.cert, ID.cert.p7s, ID.manifest and,
 * when present, ID.cert.tsr from state_dir/certificates, and builds a
 * message to cm->to (the agreement's contact) from [notify] from (display
 * name: the vendor name), Subject "Certificate of data destruction ID — LEA",
 * whose text says what was destroyed (categories, counts, bytes; never file
 * names), when, by what method, whether the deadline was met, and how to
 * verify it with the stock openssl command line.  The files are attached
 * byte for byte; the manifest only when its SHA-256 is the certificate's
 * manifest_sha256 (else an error: it was changed after issue).
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
