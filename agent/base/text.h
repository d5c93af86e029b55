/*
 * text.h: the one rule for free text that lethe writes into certificates,
 * mails and journal lines (an LEA's name, the vendor's, a hold's reason).
 * Such text is checked where it enters (lethe check, lethe hold), so that
 * nothing is ever destroyed whose certificate could not then be written.
 */
#ifndef LETHE_TEXT_H
#define LETHE_TEXT_H

#include <stddef.h>

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

#endif
