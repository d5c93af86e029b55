/*
 * archive_crc.c: CRC-32 (IEEE 802.3, as gzip and zip use it), slicing by
 * eight (archive_int.h): how archive_gzip.c checks each gzip member.  A
 * file of its own, below both the stream (archive_io.c) and the gzip
 * member finder it drives, so that neither calls back into the other.
 */
#include "sanitize/archive_int.h"

static uint32_t crc_tab[8][256];

static void
crc_init(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t v = n;
		for (int k = 0; k < 8; k++)
			v = v & 1 ? 0xedb88320u ^ (v >> 1) : v >> 1;
		crc_tab[0][n] = v;
	}
	for (uint32_t n = 0; n < 256; n++)
		for (int k = 1; k < 8; k++)
			crc_tab[k][n] = (crc_tab[k - 1][n] >> 8) ^
			    crc_tab[0][crc_tab[k - 1][n] & 0xff];
}

uint32_t
crc32_update(uint32_t crc, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	if (crc_tab[0][1] == 0)
		crc_init();
	crc = ~crc;
	while (n >= 8) {
		uint32_t a = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		uint32_t b = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
		    (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
		crc = crc_tab[7][a & 0xff] ^ crc_tab[6][(a >> 8) & 0xff] ^
		    crc_tab[5][(a >> 16) & 0xff] ^ crc_tab[4][a >> 24] ^
		    crc_tab[3][b & 0xff] ^ crc_tab[2][(b >> 8) & 0xff] ^
		    crc_tab[1][(b >> 16) & 0xff] ^ crc_tab[0][b >> 24];
		p += 8;
		n -= 8;
	}
	while (n-- > 0)
		crc = crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
