/* text.c: free text lethe writes out (see text.h). */
#include "base/text.h"

#include <string.h>

/* Length of the UTF-8 sequence at s (0: invalid), per RFC 3629. */
static size_t
utf8_seq(const unsigned char *s, size_t left)
{
	unsigned c = s[0];
	size_t n;
	unsigned min, cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int
text_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(p + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
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
