/*
 * mime.h: RFC 5322 messages with MIME, the form of everything lethe mails
 * (SPEC §8 "Delivery").  What a message says is the letters' (letters.h).
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
 * The text body is never put in a header.
 */
#ifndef LETHE_MIME_H
#define LETHE_MIME_H

#include <stddef.h>
#include <time.h>

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

#endif
