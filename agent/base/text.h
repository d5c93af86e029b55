/*
 * text.h: the one rule for free text that lethe writes into certificates,
 * mails and journal lines (an LEA's name, the vendor's, a hold's reason).
 * Such text is checked where it enters (lethe check, lethe hold, lethe
 * journal accept), so that nothing is ever destroyed whose certificate
 * could not then be written, and nothing typed is ever cut.
 */
#ifndef LETHE_TEXT_H
#define LETHE_TEXT_H

#include <stddef.h>

/* Bytes of a reason (a hold's, a journal acceptance's).  It goes whole
 * into a certificate value as "(REASON)", so it stays within the 160 bytes
 * a certificate line may hold without a blank. */
#define TEXT_REASON_MAX 150

/* Whether s may go into a certificate (INI, lines under 200 bytes), a MIME
 * header (encoded as RFC 2047 words) and a journal line: valid UTF-8 (no
 * overlong forms, surrogates or code points past U+10FFFF), no control
 * characters, at most max bytes, no leading or trailing blank, no blank
 * followed by ';' or '#' (an INI reader takes that for a comment), no run
 * of more than 160 bytes without a space (it could not be wrapped).
 * Returns NULL when it may, else a static phrase saying why not. */
const char *text_unsafe(const char *s, size_t max);

/* Whether s is valid UTF-8 (as above, control characters allowed). */
int text_utf8_valid(const char *s, size_t len);

/* Checks a reason an admin typed: text_unsafe(s, TEXT_REASON_MAX), saying
 * where an invalid byte or a control character is and how long a long
 * reason is.  Returns 0, or -1 with why filled ("the reason is not valid
 * UTF-8 (byte 13, 0xff); give it in UTF-8"). */
int text_reason_check(const char *s, char *why, size_t len);

/* Makes text that never passed text_unsafe (a reason an older lethe
 * recorded) safe as a certificate value, in place, never longer: each
 * byte of an invalid UTF-8 sequence becomes '?', each control character
 * blanks, and a ';' or '#' at the start or after a blank a ','.  Text that
 * passes text_unsafe comes out unchanged. */
void text_cert_safe(char *s);

/* Untrusted text (a file or member name) as it may be shown on a terminal
 * (STYLE §10): s written into buf (len bytes, always NUL-terminated) with
 * each control byte, DEL and backslash as \xNN, cut short at a whole
 * byte or escape when buf is full.  (A manifest row is escaped again by
 * the manifest's own rule, cert_manifest_add.) */
void text_shown(const char *s, char *buf, size_t len);

#endif
