/* hex.c: hexadecimal (see hex.h). */
#include "base/hex.h"

char
hex_digit(unsigned v, int upper)
{
	return (upper ? "0123456789ABCDEF" : "0123456789abcdef")[v & 15];
}

int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void
hex_encode(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex_digit(b[i] >> 4, 0);
		out[2 * i + 1] = hex_digit(b[i], 0);
	}
	out[2 * n] = '\0';
}

int
hex_decode(const char *s, size_t slen, unsigned char *b, size_t n)
{
	if (slen != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c1 = s[2 * i], c2 = s[2 * i + 1];
		int hi, lo;
		/* lowercase only: one spelling of each digest */
		if ((c1 >= 'A' && c1 <= 'F') || (c2 >= 'A' && c2 <= 'F'))
			return -1;
		hi = hex_value(c1);
		lo = hex_value(c2);
		if (hi < 0 || lo < 0)
			return -1;
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}
