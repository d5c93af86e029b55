/*
 * archive_zip.h: the layout of a zip as archive_zip.c reads it and
 * archive_zipwrite.c writes it again; not for other files, which see
 * struct zipinfo only through the zip_* functions of archive_int.h.
 */
#ifndef LETHE_ARCHIVE_ZIP_H
#define LETHE_ARCHIVE_ZIP_H

#include <stddef.h>
#include <stdint.h>

struct zent {
	uint64_t cd_off;	/* its central record in the file */
	uint32_t cd_len;
	uint64_t local, end;	/* its bytes: local header .. descriptor */
	uint64_t csize, usize;
	uint32_t crc;
	uint16_t flags, method;
	int z64off;		/* offset field in its zip64 extra, or -1 */
	int removed;
};

struct zipinfo {
	struct zent *e;		/* central directory order */
	size_t n;
	size_t *order;		/* indices by local header offset */
	uint64_t base;		/* what offsets are relative to */
	uint64_t first;		/* the first local header (prefix ends) */
	uint64_t cd_start, cd_end;
	uint64_t z64, z64loc;	/* zip64 end record and locator, or 0 */
	uint64_t eocd, size;
};

#endif
