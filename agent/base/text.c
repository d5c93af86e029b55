/* text.c: free text lethe writes out (see text.h). */
#include "base/text.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Length of the UTF-8 sequence at s (0: invalid), per RFC 3629; its code
 * point in *cp. */
static size_t
utf8_seq(const unsigned char *s, size_t left, uint32_t *cp)
{
	unsigned c = s[0];
	size_t n;
	uint32_t min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80, *cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800, *cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000, *cp = c & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

static int
is_control(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f);
}

/* Offset of the first byte that is not well-formed UTF-8, or len. */
static size_t
utf8_bad(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(p + i, len - i, &cp);
		if (n == 0)
			return i;
		i += n;
	}
	return len;
}

int
text_utf8_valid(const char *s, size_t len)
{
	return utf8_bad(s, len) == len;
}

const char *
text_unsafe(const char *s, size_t max)
{
	size_t len, run = 0;

	if (s == NULL || *s == '\0')
		return "it is empty";
	len = strlen(s);
	if (len > max)
		return "it is too long";
	if (!text_utf8_valid(s, len))
		return "it is not valid UTF-8";
	if (s[0] == ' ' || s[len - 1] == ' ')
		return "it begins or ends with a blank";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return "it holds a control character (a tab, a newline, "
			    "an escape)";
		if (c == 0xc2 && i + 1 < len &&
		    (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return "it holds a control character (U+0080..U+009F)";
		if (c == ' ' && i + 1 < len && (s[i + 1] == ';' ||
		    s[i + 1] == '#'))
			return "a blank is followed by ';' or '#', which INI "
			    "readers take for a comment";
		run = c == ' ' ? 0 : run + 1;
		if (run > 160)
			return "it has more than 160 bytes without a space";
	}
	return NULL;
}

int
text_reason_check(const char *s, char *why, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), bad = utf8_bad(s, n);
	const char *unsafe;
	uint32_t c;

	if (bad < n) {
		snprintf(why, len, "the reason is not valid UTF-8 (byte %zu, "
		    "0x%02x); give it in UTF-8", bad + 1, u[bad]);
		return -1;
	}
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(u + i, n - i, &c);
		if (is_control(c)) {
			snprintf(why, len, "the reason holds a control "
			    "character (U+%04X at byte %zu); give it on one "
			    "line", (unsigned)c, i + 1);
			return -1;
		}
		i += k;
	}
	if (n > TEXT_REASON_MAX) {
		snprintf(why, len, "the reason is %zu bytes long; at most %d "
		    "are kept (it goes whole onto every certificate that names "
		    "it): shorten it, or refer to a longer record", n,
		    TEXT_REASON_MAX);
		return -1;
	}
	if ((unsafe = text_unsafe(s, TEXT_REASON_MAX)) != NULL) {
		snprintf(why, len, "the reason cannot go onto a certificate as "
		    "it is: %s", unsafe);
		return -1;
	}
	return 0;
}

void
text_cert_safe(char *s)
{
	unsigned char *u = (unsigned char *)s;
	size_t n = strlen(s);
	uint32_t c;

	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(u + i, n - i, &c);
		if (k == 0) {
			u[i++] = '?';
			continue;
		}
		if (is_control(c))
			memset(u + i, ' ', k);	/* a C1 control: two blanks */
		i += k;
	}
	/* What an INI reader would take for a comment. */
	for (size_t i = 0; i < n; i++)
		if ((u[i] == ';' || u[i] == '#') && (i == 0 || u[i - 1] == ' '))
			u[i] = ',';
}

void
text_shown(const char *s, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return;
	for (const unsigned char *c = (const unsigned char *)s;
	    *c && off + 5 < len; c++) {
		if (*c < 0x20 || *c == 0x7f || *c == '\\')
			off += (size_t)snprintf(buf + off, len - off, "\\x%02x",
			    *c);
		else
			buf[off++] = (char)*c;
	}
	buf[off] = '\0';
}
